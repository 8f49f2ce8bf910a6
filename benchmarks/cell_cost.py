"""Where a cell's exact cost goes (issue 30, item 1: profile first): per-cell seconds split by step, and per-cone
measure seconds, on the cells that seeded Gaussian samples hit most (the cells an anytime certificate processes
first), beside float64 sampling measured in the same run.

Steps (`Traversal.process`, timed through its `step_seconds`): constraints (the pattern's exact forms), extreme
rays (double description), facets (ranks of the tight rays), ray evidence (independent constraints per ray),
neighbours (crossing each facet), Farkas supports (implied constraints); then the pulling triangulation
(`cells/triangulate.py`) and each simplicial cone's orthant probability (`kernel/orthant.py: cone_bounds`, at the
anytime precision and at the full certificates' precision), all on one process.

Usage: python benchmarks/cell_cost.py [--model models/2nd_argmax_16_5.pth] [--task 2nd_argmax] [--cells 40]
                                      [--cones 60] [--samples 65536] [--seed 0]
Prints ms per cell for each step (mean over the cells), ms per cone at each precision, and the baseline:
float64 samples per second of the same model on this machine, so each cost is also given in samples.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from benchmarks.common import sampling_throughput  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/2nd_argmax_16_5.pth")
    ap.add_argument("--task", default="2nd_argmax")
    ap.add_argument("--cells", type=int, default=40, help="cells to process: the most hit first")
    ap.add_argument("--cones", type=int, default=60, help="simplicial cones to measure (a seeded sample)")
    ap.add_argument("--samples", type=int, default=1 << 16, help="samples that choose the cells")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    from verifier.cells.cones import Traversal
    from verifier.cells.measure import ANYTIME_PREC, ORTHANT_PREC
    from verifier.cells.triangulate import facet_cuts, triangulate
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.kernel.orthant import cone_bounds
    from verifier.loading.loader import load

    lm = load(a.model, task=a.task)
    tr = Traversal(lm.rnn, lm.task)
    x, ranked = sampled_keys(lm, tr, a.samples, a.seed)
    keys, seen = [], set()
    for _, i in ranked:
        k = exact_key(tr, x[i])
        if k is not None and k not in seen:
            seen.add(k)
            keys.append(k)
        if len(keys) == a.cells:
            break
    tr.step_seconds = {}
    t0 = time.perf_counter()
    cells = [tr.process(tr.roots[r], sigma, tau) for r, sigma, tau in keys]
    processed = time.perf_counter() - t0
    t0 = time.perf_counter()
    cones = []
    for c in cells:
        cones.extend([c.rays[r] for r in sx] for sx in triangulate(c.rays, c.masks, tr.n, len(c.constraints),
                                                                     cuts=facet_cuts(c)))
    tri = time.perf_counter() - t0
    rng = random.Random(a.seed)
    sample = rng.sample(cones, min(a.cones, len(cones)))
    per_cone = {}
    for prec in (ANYTIME_PREC, ORTHANT_PREC):
        t0 = time.perf_counter()
        for rays in sample:
            cone_bounds(rays, prec)
        per_cone[prec] = (time.perf_counter() - t0) / max(len(sample), 1)
    rate = sampling_throughput(lm, dtype="float64")

    k = len(cells)
    print(f"{a.model}: {k} cells (the most hit by {a.samples:,} samples, seed {a.seed}), "
          f"{sum(len(c.rays) for c in cells) / k:.1f} rays and {sum(len(c.constraints) for c in cells) / k:.1f} "
          f"constraints per cell, {len(cones) / k:.1f} simplicial cones per cell")
    print(f"{'step':44s} {'ms per cell':>12s} {'share':>7s}")
    total = processed + tri
    for step, sec in sorted(tr.step_seconds.items(), key=lambda kv: -kv[1]):
        print(f"{step:44s} {1000 * sec / k:12.2f} {sec / total:7.1%}")
    rest = processed - sum(tr.step_seconds.values())
    print(f"{'other (bookkeeping in process)':44s} {1000 * rest / k:12.2f} {rest / total:7.1%}")
    print(f"{'pulling triangulation':44s} {1000 * tri / k:12.2f} {tri / total:7.1%}")
    print(f"{'all geometry, per cell':44s} {1000 * total / k:12.2f}")
    for prec, sec in per_cone.items():
        print(f"P_{tr.n} per simplicial cone at {prec} bits: {1000 * sec:.2f} ms "
              f"({len(sample)} cones; {1000 * sec * len(cones) / k:.1f} ms per cell)")
    print(f"baseline, same run: float64 sampling {rate:,.0f} samples/s; one cell's geometry costs "
          f"{total / k * rate:,.0f} samples, one cone's P_{tr.n} at {ANYTIME_PREC} bits "
          f"{per_cone[ANYTIME_PREC] * rate:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
