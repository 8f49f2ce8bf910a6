"""Anytime certificates (seq_len 4 to 7): a certified interval for the error from a subset of the cells.

Distinct cells are disjoint (root, pattern and decision signs are functions of the point), so the wrong cells
measured so far have total measure at most the error and the right ones at most the accuracy:

    error in [sum of measured wrong cells, 1 - sum of measured right cells]

with no coverage argument at all.  So the cells need not be found by a traversal of everything first (M(16,5)
has about two million; the largest ten thousand hold ~80% of the mass): we *discover* them.  Seeded float64
Gaussian samples are run through the network; their distinct (root, pattern, decisions) keys, most hit first,
are the cells to process (each key re-derived exactly from the sample scaled to an integer point,
`Traversal.signs_at`; a sample on a boundary is skipped).  When the sampled keys run out, the cells' facet
neighbours and every root's start cell follow breadth-first, so that in the end every cell is found, as the
full traversal would (every root's cells are connected through their facets).  The sample counts are an
estimate that only chooses the order.  The unit measured is a simplicial cone of a cell's triangulation, largest
float estimate first (`cone_estimates`): a cell's few largest cones hold most of its mass, so the small cones of a
large cell wait behind the large cones of the next cells (a cone's measure is >= 0, so any subset of a cell's
cones bounds it from below).  Measuring stops when the interval is at most `width` wide, when every cone is
measured, or at the deadline (looked at after every cone: a P_7 cone can take a second).  The certificate lists
the cells with at least one cone measured, each with its full evidence and the cones measured, given by their
paths in the cell's pulling triangulation (`pulled`); the kernel re-checks every listed cell, re-derives each cone
from its path (distinct paths give interior-disjoint cones, so no tiling of the rest is needed) and recomputes both
sums (proofs/FORMAT.md, "Partial certificates").  At seq_len 5 (and 6, 7 under a cell budget) the unit measured is a whole cell instead, most hit
first, not triangulated: the kernel's conic Gauss-Bonnet measure (kernel/conic.py), its rays proven complete by
rule edges; the budget is then a number of cells (`--max-cells`).

Every batch size here is fixed (not a function of the number of workers), so the order, and so the
certificate, is the same for any number of worker processes or a Ray cluster when `width` (or the end of the
cells) stops the run; a deadline stops it wherever the clock says (the interval written is then still
certified).
"""

from __future__ import annotations

import contextlib
import heapq
import time
from collections import deque
from fractions import Fraction

DISCOVERY_SAMPLES = 1 << 19  # ~2.5 s of float64 at d = 16, n = 5; the unhit cells then hold ~3% of the mass there
SCALE_BITS = 40  # a sample x becomes the integer point round(x * 2^40): its exact cell is the key
PROCESS_CHUNK = 32  # cells processed per round (on the workers)
BATCH_CONES = 256  # simplicial cones per measuring round; also the least stock of cones to choose from
BATCH_CELLS = 32  # seq_len 5: whole cells per measuring round (a cell costs about a dozen cones' integrals)
BATCH_CELLS_7 = 4  # seq_len 6 and 7: a whole cell costs a P_6 per extreme ray (of C or off a facet of its polar), seconds
SHARE = 1 / 16  # a cell's largest cone estimate over its sampled hit frequency: 0.02-0.09 on M(16,5)'s cells (the
# largest cone holds 10-25% of a cell; the flat estimate is 1.3-4x under a fat cone's measure); only decides when
# to process more cells
ROUND_CHUNKS = 4  # at most this many chunks of cells processed between two measuring batches


def sampled_keys(lm, tr, samples: int = DISCOVERY_SAMPLES, seed: int = 0):
    """(x, hits): `samples` seeded float64 Gaussian inputs and, per distinct float64 key (root, pattern,
    decision signs), (count, index of its first sample), most hit first, ties by first sample.  An estimate:
    a sample near a boundary may get a key its exact point does not have (`exact_key` decides)."""
    import numpy as np

    n = lm.seq_len
    W_hi, W_hh, W_oh = lm.float_arrays()
    x = np.random.default_rng(seed).standard_normal((samples, n))
    prefix = len(tr.roots[0].ranking)  # a root's ranking may be a prefix (top-two roots)
    root_code = {}
    for r in tr.roots:
        code = 0
        for i in r.ranking:
            code = code * n + i
        root_code[2 * code + (r.sign > 0)] = r.index
    labels = np.array([-1 if r.label is None else r.label for r in tr.roots] + [-1])
    parts = []
    for lo in range(0, samples, 1 << 16):
        xs = x[lo:lo + (1 << 16)]
        m = len(xs)
        h = np.zeros((m, W_hh.shape[0]))
        bits = []
        for t in range(n):
            pre = h @ W_hh.T + xs[:, t:t + 1] @ W_hi.T
            bits.append(pre > 0)
            h = np.maximum(pre, 0)
        logits = h @ W_oh.T
        order = np.argsort(-xs, axis=1, kind="stable")[:, :prefix]
        code = np.zeros(m, dtype=np.int64)
        for i in range(prefix):
            code = code * n + order[:, i]
        code = 2 * code + (xs[:, 0] > 0)
        root = np.array([root_code.get(int(c), len(tr.roots)) for c in code])
        k = labels[root]
        lk = logits[np.arange(m), np.maximum(k, 0)][:, None]
        dec = np.where(k[:, None] >= 0, np.sign(lk - logits), 0).astype(np.int8)
        flat = np.concatenate(bits + [dec > 0, dec < 0], axis=1)
        parts.append(np.concatenate([np.packbits(flat, axis=1),
                                     root.astype(">u2").view(np.uint8).reshape(m, 2)], axis=1))
    keys = np.concatenate(parts)
    _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
    ranked = sorted(zip((-counts).tolist(), first.tolist()))
    return x, [(-c, i) for c, i in ranked]


FIRST_LOOK_SAMPLES = 1 << 16  # ~0.2-0.5 s at d <= 32, n <= 7
LONG_RUN_CELLS = 4000  # cells hit by the first look beyond which a full certificate is long (M(16,4): 6,208 hit,
# 56,558 cells, 9 minutes on 2 cores; M(2,6): 4,037 hit, 28.7 minutes; M(16,5): 19,737 hit, ~2 million cells)


def cells_hit(lm, samples: int = FIRST_LOOK_SAMPLES, seed: int = 0) -> int:
    """How many distinct cells (float64 keys: root, pattern, decisions) `samples` seeded Gaussian inputs hit:
    an estimate, and a floor on the cell count in all but name (most cells are tiny and never hit), used only
    to warn that a full certificate will be long."""
    from ..cells.cones import Traversal

    return len(sampled_keys(lm, Traversal(lm.rnn, lm.task), samples, seed)[1])


def long_run_note(lm, hit: int) -> str | None:
    """The note printed before a full certificate whose first look hit at least LONG_RUN_CELLS cells."""
    if hit < LONG_RUN_CELLS:
        return None
    return (f"{hit:,} distinct cells hit by {FIRST_LOOK_SAMPLES:,} samples (an estimate; a full certificate "
            f"measures every cell, usually several times as many): this can take an hour or more at seq_len "
            f"{lm.seq_len}; `--width 0.01 --timeout 600` writes a certified interval sooner (README: anytime certificate)")


def exact_key(tr, x_float):
    """(root index, sigma, tau) of the integer point round(x * 2^SCALE_BITS), exactly; None when that point
    ties two coordinates, has x_0 = 0 or lies on a neuron or decision hyperplane."""
    n = tr.n
    xi = tuple(int(round(float(v) * (1 << SCALE_BITS))) for v in x_float)
    if len(set(xi)) < n or xi[0] == 0:
        return None
    ranking = tuple(sorted(range(n), key=lambda i: -xi[i])[:len(tr.roots[0].ranking)])
    root = tr.root_of.get((ranking, 1 if xi[0] > 0 else -1))
    if root is None:
        return None
    key = tr.signs_at(root, xi)
    return None if key is None else (root.index, *key)


_TRAVERSALS: dict = {}  # per worker process: token -> Traversal (its caches of forms are reused across chunks)


def _process_chunk(args):
    """Process and triangulate a chunk of cells on a worker: [(root, sigma, tau)] -> [Cell], each with
    `estimates`, a float estimate of each simplicial cone's measure (`cone_estimates`); with `whole` (seq_len 5)
    processed only: each is measured at once."""
    from ..cells.cones import Traversal
    from ..cells.triangulate import facet_cuts, triangulate

    token, rnn, task, keys, whole = args
    tr = _TRAVERSALS.get(token)
    if tr is None:
        _TRAVERSALS.clear()
        tr = _TRAVERSALS[token] = Traversal(rnn, task)
    out = []
    for root, sigma, tau in keys:
        c = tr.process(tr.roots[root], sigma, tau)
        if whole:
            c.whole = True
            out.append(c)
            continue
        c.simplices = triangulate(c.rays, c.masks, tr.n, len(c.constraints), c.paths, facet_cuts(c))
        c.estimates = cone_estimates(c.rays, c.simplices, tr.n)
        out.append(c)
    return out


def cone_estimates(rays, simplices, n: int) -> list[float]:
    """A float estimate of each simplicial cone's Gaussian measure, only to choose the order of measuring: the area
    of the flat simplex on its unit rays over the sphere's, |det U| / ((n - 1)! |S^(n-1)|) (exact in the limit of
    thin cones; a cell's largest cones hold most of its mass: on M(16,5)'s most hit cells the top 10% of the cones
    by this estimate hold 55-90% of the cell's measure, the same share as the top 10% by the exact measure)."""
    import math

    import numpy as np

    if not simplices:
        return []
    U = np.array([[v / (1 << max(0, max(abs(u) for u in r).bit_length() - 60)) for v in r] for r in rays])  # no
    U /= np.linalg.norm(U, axis=1, keepdims=True)  # overflow: an exact ray's entries can have hundreds of digits
    sphere = 2 * math.pi ** (n / 2) / math.gamma(n / 2)
    dets = np.abs(np.linalg.det(U[np.array(simplices)]))
    return (dets / (math.factorial(n - 1) * sphere)).tolist()


def discover_and_measure(lm, width: Fraction, deadline: float | None = None, workers=1, progress: bool = False,
                         samples: int = DISCOVERY_SAMPLES, seed: int = 0, max_cells: int | None = None,
                         max_cones: int | None = None, max_whole: int | None = None):
    """Discover cells by samples (then breadth-first) and measure their simplicial cones, largest estimate first,
    until error in [W, 1 - R] is at most `width` wide (lower ends of the exact dyadic bounds), every cone is
    measured, `max_cones` cones are measured (a budget that, unlike the deadline, gives the same certificate on
    any machine: the order is a function of the model), or `deadline` passes.

    The unit measured is a simplicial cone, not a cell: a cell's largest cones hold most of its mass
    (`cone_estimates`), so its small cones wait behind the large cones of other cells.  A cell is processed (on
    the workers) when the stock of cones to measure runs below one batch or its best estimate falls below SHARE
    times the next sampled cell's hit frequency, at most ROUND_CHUNKS chunks between two batches.  Each measured
    cell lists the cones measured by their pulling paths (`pulled`): the kernel re-derives each of those cones from
    its path, which proves them interior-disjoint without the rest of the triangulation, and sums them.

    At seq_len 5, and at 6 and 7 when `max_whole` is given, the unit measured is a whole cell instead (no
    triangulation; at seq_len 6 P = 1/2 - v_2 - v_4 - P(polar), kernel/conic.even_measure): the kernel's Gauss-Bonnet
    measure (kernel/conic.py: at seq_len 5 one P_4 per ray, about a dozen P_5 cones' cost; at seq_len 7 one P_6 per
    ray and P_4s per 3-face and per 5-face's ray, from 2x to over 30x cheaper than the P_7s of the triangulation)
    once its rays are proven complete (rule edges), cells most hit first; `max_whole` is then the budget (cells measured) and `max_cones` is not used.

    Returns (tr, cells with at least one cone measured, in order of their first, W lower bound, R lower bound,
    reached, stats) where stats has "found" (cells processed), "complete" (every cone of every cell measured),
    "samples", "cones" (measured; at seq_len 5 whole cells measured), "cones_total" (of the processed cells; at
    seq_len 5 cells processed) and "whole" (whether the units were whole cells).
    """
    import hashlib
    import itertools

    from ..cells.cones import Traversal
    from ..errors import LimitReached
    from ..cells.measure import ANYTIME_PREC, ORTHANT_PREC, each_cone_bounds
    from ..cells.triangulate import facet_cuts
    from ..kernel.conic import each_cell_bounds
    from ..kernel.work import IN_PROCESS, mapper

    n = lm.seq_len
    # seq_len 5: whole cells; 6 and 7: whole cells only under a cell budget (max_whole), else the largest cones
    # first, which reach narrower intervals in a short run (120 s: M(2,6) 0.657 by cones against 0.805 whole,
    # 2nd_argmax_2_7 0.945 against 0.962)
    whole = n == 5 or (n in (6, 7) and max_whole is not None)
    if whole:
        max_cones = max_whole
    tr = Traversal(lm.rnn, lm.task)
    prec = ANYTIME_PREC if width >= Fraction(1, 1 << 30) else ORTHANT_PREC
    x, hits = sampled_keys(lm, tr, samples, seed)
    token = hashlib.sha256(repr((lm.task, lm.rnn.W_hi, lm.rnn.W_hh, lm.rnn.W_oh, n)).encode()).hexdigest()

    seen: set = set()
    frontier: deque = deque()  # (root, sigma, tau) of cells to find after the sampled ones
    sampled = iter(hits)
    sampled_done = False
    upcoming: list = []  # the next (hits, key) to process, fetched ahead to read its hits

    def fetch():
        """(hits, key) of the next cell to process, or None when every cell has been found."""
        nonlocal sampled_done
        if not sampled_done:
            for count, i in sampled:
                key = exact_key(tr, x[i])
                if key is not None and key not in seen:
                    seen.add(key)
                    return count, key
            sampled_done = True
            for root in tr.roots:  # every root seeded: its cells are connected through their facets
                _, (sigma, tau) = tr.start_point(root)
                frontier.append((root.index, sigma, tau))
        while frontier:
            key = frontier.popleft()
            if key not in seen:
                seen.add(key)
                return 0, key
        return None

    def peek():
        if not upcoming:
            got = fetch()
            if got is None:
                return None
            upcoming.append(got)
        return upcoming[0]

    wrong_lo = right_lo = Fraction(0)
    cells: list = []  # processed cells; per cell its measured cone indices (and lower bound)
    measured: list = []
    order: list = []  # cells in order of their first measured cone
    found = cones_done = cones_total = 0
    reached = 1 <= width
    heap: list = []  # (-estimate, seq, cell index, simplex index; None for a whole cell)
    seq = itertools.count()
    local = isinstance(workers, int)

    def past():
        return (max_cones is not None and cones_done >= max_cones) or (deadline is not None and
                                                                       time.monotonic() > deadline)

    def want_cells():
        nxt = peek()
        if nxt is None:
            return False
        if whole:  # the cells come most hit first: keep one batch in stock
            return len(heap) < BATCH_CELLS
        return len(heap) < BATCH_CONES or -heap[0][0] < SHARE * nxt[0] / samples

    with contextlib.ExitStack() as stack:
        pool = mapper(workers, stack)  # one pool for every round: processing and measuring
        bar = None
        if progress:
            from tqdm import tqdm

            bar = stack.enter_context(tqdm(desc=f"measuring {'cells' if whole else 'cones'} (anytime)",
                                           unit="cell" if whole else "cone", leave=False,
                                           mininterval=0.5))
        while not reached and not past():
            for _ in range(ROUND_CHUNKS if cells else 1):  # find and process more cells (one chunk first: a first
                # interval comes soon under a short --timeout)
                if not want_cells() or past():
                    break
                chunk = []
                while len(chunk) < PROCESS_CHUNK and peek() is not None:
                    chunk.append(upcoming.pop())
                keys = [k for _, k in chunk]
                if pool is IN_PROCESS or len(keys) == 1:
                    new = _process_chunk((token, lm.rnn, lm.task, keys, whole))
                else:  # consecutive parts, two per worker; the ordered map gives them back in order
                    size = -(-len(keys) // (2 * (workers if local else 4)))
                    parts = [(token, lm.rnn, lm.task, keys[i:i + size], whole) for i in range(0, len(keys), size)]
                    new = [c for cs in pool.map(_process_chunk, parts) for c in cs]
                for (hits, _), c in zip(chunk, new):
                    ci = len(cells)
                    cells.append(c)
                    measured.append([])
                    if whole:
                        heapq.heappush(heap, (-hits / samples, next(seq), ci, None))
                        cones_total += 1
                    for si, est in enumerate(c.estimates):
                        heapq.heappush(heap, (-est, next(seq), ci, si))
                    cones_total += len(c.simplices)
                    for e in c.evidence:
                        if e[0] == "facet" and e[2] is not None:
                            frontier.append((c.root, *e[2]))
                found += len(new)
                if max_cells is not None and found > max_cells:
                    raise LimitReached(f"more than {max_cells} cells (--max-regions); stopped, nothing written")
            if not heap or past():
                break
            unit = (BATCH_CELLS if n == 5 else BATCH_CELLS_7) if whole else BATCH_CONES  # 6 and 7: 4 cells
            size = unit if max_cones is None else min(unit, max_cones - cones_done)
            batch = [heapq.heappop(heap) for _ in range(min(size, len(heap)))]
            if whole:
                tasks = [(cells[ci].rays, [cells[ci].constraints[j] for j in facet_cuts(cells[ci])], None)
                         for _, _, ci, _ in batch]
                results = each_cell_bounds(tasks, prec, pool, stack)
            else:
                tasks = [[cells[ci].rays[r] for r in cells[ci].simplices[si]] for _, _, ci, si in batch]
                results = each_cone_bounds(tasks, pool, stack, prec)
            for _, _, ci, si in batch:
                lo = next(results)[0]
                if not measured[ci] and (lo > 0 or not whole):  # a whole cell bounded below by 0 (its faces did
                    # not close: never seen) adds nothing: not listed
                    order.append(ci)
                measured[ci].append(si)
                cones_done += 1
                if cells[ci].wrong:
                    wrong_lo += lo
                else:
                    right_lo += lo
                reached = 1 - wrong_lo - right_lo <= width
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(width=f"{float(1 - wrong_lo - right_lo):.3g}", cells=found, refresh=False)
                if reached or past():
                    break
    done = []
    for ci in order:
        c = cells[ci]
        if not whole:
            c.pulled = [c.paths[i] for i in sorted(measured[ci])]
        done.append(c)
    return tr, done, wrong_lo, right_lo, reached, {"found": found, "complete": peek() is None and not heap,
                                                   "samples": samples, "cones": cones_done,
                                                   "cones_total": cones_total, "whole": whole}
