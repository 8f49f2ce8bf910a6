"""Anytime certificates (seq_len 4 to 7): a certified interval for the error from a subset of the cells.

Distinct cells are disjoint (root, pattern and decision signs are functions of the point), so the wrong cells
measured so far have total measure at most the error and the right ones at most the accuracy:

    error in [sum of measured wrong cells, 1 - sum of measured right cells]

with no coverage argument at all.  We measure cells by estimated mass per unit of cost, most first (the mass
comes from a seeded float64 sample, an estimate used only to choose the order), each as the sum of its simplicial cones' orthant
probabilities, until the interval is at most `width` wide or the deadline passes.  The certificate lists the
measured cells only, each with its full evidence and triangulation; the kernel re-checks every listed cell
and recomputes both sums (proofs/FORMAT.md, "Partial certificates").

The order, and so the certificate, is the same for any number of worker processes when `width` stops the
run; a deadline stops it wherever the clock says (the interval written is then still certified).
"""

from __future__ import annotations

import contextlib
import time
from fractions import Fraction

ESTIMATE_SAMPLES = 1 << 16


def sampled_masses(lm, tr, cells, samples: int = ESTIMATE_SAMPLES, seed: int = 0) -> list[int]:
    """Per cell, how many of `samples` seeded float64 Gaussian inputs fall in it (an estimate for the order
    only: a point on the wrong side of a near-boundary in float64 merely moves a cell in the queue)."""
    import numpy as np

    n = lm.seq_len
    W_hi, W_hh, W_oh = lm.float_arrays()
    x = np.random.default_rng(seed).standard_normal((samples, n))
    h = np.zeros((samples, W_hh.shape[0]))
    bits = []
    for t in range(n):
        pre = h @ W_hh.T + x[:, t:t + 1] @ W_hi.T
        bits.append(pre > 0)
        h = np.maximum(pre, 0)
    logits = h @ W_oh.T
    order = np.argsort(-x, axis=1, kind="stable")
    root_of = {(r.ranking, r.sign): r.index for r in tr.roots}
    prefix = len(tr.roots[0].ranking)
    where = {(c.root, c.sigma, c.tau): i for i, c in enumerate(cells)}
    counts = [0] * len(cells)
    for s in range(samples):
        ranking = tuple(int(v) for v in order[s, :prefix])  # a root's ranking may be a prefix (top-two roots)
        root = root_of.get((ranking, 1 if x[s, 0] > 0 else -1))
        if root is None:
            continue
        k = tr.roots[root].label
        sigma = tuple(tuple(int(b) for b in bits[t][s]) for t in range(n))
        tau = "".join("." if j == k else ("+" if logits[s, k] > logits[s, j] else "-" if logits[s, k] < logits[s, j]
                                           else "0") for j in range(logits.shape[1]))
        i = where.get((root, sigma, tau))
        if i is not None:
            counts[i] += 1
    return counts


def measure_until(cells, n: int, width: Fraction, deadline: float | None = None, workers: int = 1,
                  order: list[int] | None = None, progress: bool = False, mass: list | None = None):
    """Triangulate and measure cells in `order` until 1 - (measured wrong + measured right) <= width, i.e. the
    interval [W, 1 - R] is at most `width` wide (lower ends of the exact dyadic bounds). With `mass` (an
    estimate per cell), the order is instead most estimated mass per unit of cost first, ties by index: a cell
    costs about one integral per simplicial cone, and it has at least (rays - n + 1) of them (the largest cells
    of top-two roots have a hundred or more).

    Cells are triangulated as they come up, in batches of about 32 cones per worker measured on one process
    pool for the whole run (triangulating every cell first took the whole budget when there are tens of
    thousands: M(8,5) measured 51 of 48,008 cells in 225 s); the deadline is looked at between batches.

    Returns (measured cell indices in measurement order, W lower bound, R lower bound, reached).
    """
    from .cones import triangulate
    from .kernel.measure import _quiet_worker
    from .measure import ANYTIME_PREC, ORTHANT_PREC, each_cone_bounds

    order = list(range(len(cells))) if order is None else order
    prec = ANYTIME_PREC if width >= Fraction(1, 1 << 30) else ORTHANT_PREC
    if mass is not None:
        order = sorted(order, key=lambda i: (-Fraction(mass[i], max(1, len(cells[i].rays) - n + 1)), i))
    wrong_lo = right_lo = Fraction(0)
    done: list[int] = []
    reached = 1 <= width
    local = isinstance(workers, int)
    batch_cones = 32 * (workers if local else 8)
    with contextlib.ExitStack() as stack:
        mapper = workers
        if local and workers > 1:  # one pool for every batch (an object with .map: kernel each_cone_bounds uses it)
            import multiprocessing

            mapper = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers, initializer=_quiet_worker))
        bar = None
        if progress:
            from tqdm import tqdm

            bar = stack.enter_context(tqdm(total=len(order), desc="measuring cells (anytime)", unit="cell",
                                           leave=False))
        pos = 0
        while not reached and pos < len(order) and not (deadline is not None and time.monotonic() > deadline):
            batch, cones = [], 0
            while pos < len(order) and cones < batch_cones:
                c = cells[order[pos]]
                if not c.simplices:
                    c.simplices = triangulate(c.rays, c.masks, n, len(c.constraints))
                batch.append(order[pos])
                cones += len(c.simplices)
                pos += 1
            tasks = [[cells[i].rays[r] for r in sx] for i in batch for sx in cells[i].simplices]
            results = iter(each_cone_bounds(tasks, mapper, stack, prec))
            for i in batch:
                lo = sum((next(results)[0] for _ in cells[i].simplices), Fraction(0))
                done.append(i)
                if cells[i].wrong:
                    wrong_lo += lo
                else:
                    right_lo += lo
                reached = 1 - wrong_lo - right_lo <= width
                if reached:
                    break
            if bar is not None:
                bar.update(len(batch))
    return done, wrong_lo, right_lo, reached
