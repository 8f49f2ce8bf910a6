"""Anytime MSE intervals for median models at seq_len 5 (version 3, coverage "partial").

A partial median certificate lists some cells, each whole (rule edges), and a tail proof (intervals/sup.py,
kernel/tail.py) that |model - median| <= S |x| everywhere.  Distinct cells are disjoint, the second moment of
each is exact (the kernel's Gauss-Bonnet measure and the cell's ridges), and the cells not listed (a union of
cones U) add at most n S^2 P(U) <= n S^2 (1 - the listed cells' measure):

    MSE in [sum of the listed cells' second moments, that sum + n S^2 (1 - sum of their measures)].

The cells are discovered as for the error's anytime certificates (intervals/anytime.py): seeded float64
samples' distinct cells, most hit first, each re-derived exactly at an integer point, then their facet
neighbours breadth-first; processed on the workers in fixed chunks and measured in fixed batches, so the
certificate is the same for any number of workers when the width, the cells or the budget stop it.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import deque
from fractions import Fraction

BATCH_CELLS = 32  # whole cells per measuring round
PROCESS_CHUNK = 32


def discover_and_measure(lm, width: Fraction, tail_S2: Fraction, deadline=None, workers=1, progress: bool = False,
                         samples: int | None = None, seed: int = 0, max_cells: int | None = None):
    """Measure cells, most hit first, until the interval is at most `width` wide, every cell is measured,
    `max_cells` cells are measured or `deadline` passes (the interval is then still certified).

    Returns (tr, cells listed in order, lower, upper, mass, reached, stats); lower and upper are the exact sums
    at ANYTIME_PREC bits (the upper with the tail n S^2 (1 - mass) added)."""
    import time

    from ..cells.cones import Traversal
    from ..cells.measure import ANYTIME_PREC
    from ..cells.triangulate import facet_cuts
    from ..families.median import output_scale, residual
    from ..kernel.moments import each_cell_moment_mass_bounds
    from ..kernel.work import IN_PROCESS, mapper
    from .anytime import DISCOVERY_SAMPLES, _process_chunk, exact_key, sampled_keys

    n = lm.seq_len
    samples = DISCOVERY_SAMPLES if samples is None else samples
    tr = Traversal(lm.rnn, lm.task)
    scale = output_scale(lm.rnn)
    x, hits = sampled_keys(lm, tr, samples, seed)
    token = hashlib.sha256(repr((lm.task, lm.rnn.W_hi, lm.rnn.W_hh, lm.rnn.W_oh, n)).encode()).hexdigest()
    seen: set = set()
    frontier: deque = deque()
    sampled = iter(hits)
    state = {"sampled_done": False}

    def fetch():
        if not state["sampled_done"]:
            for _, i in sampled:
                key = exact_key(tr, x[i])
                if key is not None and key not in seen:
                    seen.add(key)
                    return key
            state["sampled_done"] = True
            for root in tr.roots:
                _, (sigma, tau) = tr.start_point(root)
                frontier.append((root.index, sigma, tau))
        while frontier:
            key = frontier.popleft()
            if key not in seen:
                seen.add(key)
                return key
        return None

    tail = n * tail_S2
    lo = hi = mass = Fraction(0)
    listed: list = []
    measured = 0
    reached = width >= tail
    exhausted = False

    def past():
        return (max_cells is not None and measured >= max_cells) or (deadline is not None and
                                                                      time.monotonic() > deadline)

    with contextlib.ExitStack() as stack:
        pool = mapper(workers, stack)
        local = isinstance(workers, int)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = stack.enter_context(tqdm(desc="measuring cells (MSE interval)", unit="cell", leave=False,
                                           mininterval=0.5))
        while not reached and not exhausted and not past():
            want = BATCH_CELLS if max_cells is None else min(BATCH_CELLS, max_cells - measured)
            keys = []
            while len(keys) < want:
                k = fetch()
                if k is None:
                    exhausted = True
                    break
                keys.append(k)
            if not keys:
                break
            if pool is IN_PROCESS or len(keys) == 1:
                new = _process_chunk((token, lm.rnn, lm.task, keys, True))
            else:
                size = -(-len(keys) // (2 * (workers if local else 4)))
                parts = [(token, lm.rnn, lm.task, keys[i:i + size], True) for i in range(0, len(keys), size)]
                new = [c for cs in pool.map(_process_chunk, parts) for c in cs]
            items = []
            for c in new:
                for e in c.evidence:
                    if e[0] == "facet" and e[2] is not None:
                        frontier.append((c.root, *e[2]))
                res = residual(tr.output_forms(c.sigma)[0], scale, tr.roots[c.root].ranking, n)
                items.append((res, c.rays, [c.constraints[j] for j in facet_cuts(c)], None))
            for c, (a, b, p, _) in zip(new, each_cell_moment_mass_bounds(items, ANYTIME_PREC, pool, stack)):
                measured += 1
                if p <= 0:  # its faces did not close (never seen): adds no mass, so not listed
                    continue
                listed.append(c)
                lo, hi, mass = lo + a, hi + b, mass + p
            upper = hi + tail * max(Fraction(0), 1 - mass)
            reached = upper - lo <= width
            if bar is not None:
                bar.update(len(new))
                bar.set_postfix(width=f"{float(upper - lo):.3g}", refresh=False)
    upper = hi + tail * max(Fraction(0), 1 - mass)
    return tr, listed, max(lo, Fraction(0)), upper, mass, reached, {
        "measured": measured, "complete": exhausted, "samples": samples}
