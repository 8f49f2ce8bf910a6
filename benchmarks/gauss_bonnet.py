"""A cell's Gaussian measure at seq_len 5 or 7 two ways, on the same cells (issue 30, item 3: a cheaper rigorous
measure): the pulling triangulation with one P_n integral per simplicial cone (`cells/triangulate.py`,
`kernel/orthant.py: cone_bounds`), against the conic Gauss-Bonnet identity (`kernel/conic.py`): at seq_len 5
P = 1/2 - v_3 - v_1, one P_4 integral per extreme ray and closed forms per ridge; at seq_len 7
P = 1/2 - v_5 - v_3 - v_1 (`odd_measure`), one P_6 per extreme ray, one P_4 per 3-face, and each 5-face measured
by the seq_len-5 identity inside its span.  No triangulation of the cell.  At seq_len 4 and 6 (`even_measure`; partial
certificates at seq_len 6 use it): P = 1/2 - v_2 (- v_4) - P(polar cone), the polar cone tiled by pulling from the
normal on the most extreme rays, one P_n per extreme ray off that facet.

At seq_len 7 a large cell has thousands of simplicial cones (P_7 ~0.1-0.3 s each): --sample-cones K integrates a
seeded random K of them and scales the time by the cell's count (an estimate, said so in the output; the
enclosures are then not compared).

Usage: python benchmarks/gauss_bonnet.py [--model models/2nd_argmax_16_5.pth] [--task 2nd_argmax] [--cells 40]
                                         [--prec 80] [--samples 65536] [--seed 0] [--sample-cones K]
Cells: the ones seeded float64 samples hit most (what an anytime certificate processes first), processed exactly
by `Traversal.process` (not timed).  Prints ms per cell both ways, the ratio, how many cells are simple (every
extreme ray on exactly 4 facets: one P_4 per ray; a degenerate ray's normal cone is triangulated), whether every pair of enclosures overlaps (it
must), the widest ball of each, and the baseline measured in the same run: float64 sampling of the same model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from benchmarks.common import sampling_throughput  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/2nd_argmax_16_5.pth")
    ap.add_argument("--task", default="2nd_argmax")
    ap.add_argument("--cells", type=int, default=40, help="cells to measure: the most hit first")
    ap.add_argument("--prec", type=int, default=80, help="bits (80: full certificates, 53: anytime)")
    ap.add_argument("--samples", type=int, default=1 << 16, help="samples that choose the cells")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample-cones", type=int, default=None,
                    help="time the triangulation's P_n on a seeded random K cones per cell and scale by the count")
    a = ap.parse_args()

    from fractions import Fraction

    from verifier.cells.cones import Traversal
    from verifier.cells.triangulate import facet_cuts, triangulate
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.kernel.conic import even_measure, faces, measure
    from verifier.kernel.measure import arb_module

    flint = arb_module()
    from verifier.kernel.measure import bounds
    from verifier.kernel.orthant import cone_bounds
    from verifier.loading.loader import load

    lm = load(a.model, task=a.task, seq_len=5) if a.task == "median" else load(a.model, task=a.task)
    tr = Traversal(lm.rnn, lm.task)
    if tr.n not in (4, 5, 6, 7):
        raise SystemExit(f"{a.model}: seq_len {tr.n}; the identity here is for seq_len 4 to 7")
    import random

    from verifier.kernel.geometry import dot
    x, ranked = sampled_keys(lm, tr, a.samples, a.seed)
    keys, seen = [], set()
    for _, i in ranked:
        k = exact_key(tr, x[i])
        if k is not None and k not in seen:
            seen.add(k)
            keys.append(k)
        if len(keys) == a.cells:
            break
    cells = [tr.process(tr.roots[r], sigma, tau) for r, sigma, tau in keys]

    t_tri = t_gb = 0.0
    cones = simple = measured = overlap = 0
    estimated = False
    wide_tri = wide_gb = Fraction(0)
    for c in cells:
        t0 = time.perf_counter()
        lo = hi = Fraction(0)
        sims = triangulate(c.rays, c.masks, tr.n, len(c.constraints), cuts=facet_cuts(c))
        some = sims
        if a.sample_cones is not None and len(sims) > a.sample_cones:
            some = random.Random(a.seed).sample(sims, a.sample_cones)
        for sx in some:
            p, q = cone_bounds([c.rays[r] for r in sx], a.prec)
            lo, hi = lo + p, hi + q
        t_tri += (time.perf_counter() - t0) * len(sims) / len(some)
        estimated = estimated or some is not sims
        cones += len(sims)
        wide_tri = max(wide_tri, hi - lo)
        t0 = time.perf_counter()
        normals = [tuple(c.constraints[j]) for j in facet_cuts(c)]
        data = faces(c.rays, normals) if tr.n == 5 else True
        if tr.n in (4, 6):  # even_measure (seq_len 6: partial certificates' whole cells; seq_len 4: no rule yet)
            with flint.ctx.workprec(a.prec):
                ball = even_measure(c.rays, normals, tr.n, [], flint, a.prec)
        else:
            ball = None if data is None else measure(c.rays, normals, a.prec, data if tr.n == 5 else None)
        t_gb += time.perf_counter() - t0
        if ball is None or not ball.is_finite():
            continue
        measured += 1
        simple += all(sum(dot(g, r) == 0 for g in normals) == tr.n - 1 for r in c.rays)
        glo, ghi = bounds(ball)
        wide_gb = max(wide_gb, ghi - glo)
        overlap += some is not sims or (glo <= hi and lo <= ghi)
    k = len(cells)
    rate = sampling_throughput(lm, dtype="float64")
    print(f"{a.model}: {k} cells (the most hit by {a.samples:,} samples, seed {a.seed}), "
          f"{sum(len(c.rays) for c in cells) / k:.1f} rays and {cones / k:.1f} simplicial cones per cell, {a.prec} bits")
    est = f" (ESTIMATED from {a.sample_cones} sampled cones per cell)" if estimated else ""
    print(f"  triangulation + P_{tr.n} per cone: {1000 * t_tri / k:8.1f} ms per cell{est}"
          + ("" if estimated else f" (widest enclosure {float(wide_tri):.2e})"))
    print(f"  Gauss-Bonnet:                 {1000 * t_gb / k:8.1f} ms per cell (widest enclosure {float(wide_gb):.2e}); "
          f"{measured} of {k} cells measured so ({simple} simple: every extreme ray on {tr.n - 1} facets), their "
          f"enclosures overlap the triangulation's: {'yes' if overlap == measured else 'NO'} ({overlap}"
          f"{', not compared where sampled' if estimated else ''})")
    print(f"  ratio {t_tri / t_gb:.1f}x; baseline, same run: float64 sampling {rate:,.0f} samples/s, so one cell costs "
          f"{t_tri / k * rate:,.0f} samples today and {t_gb / k * rate:,.0f} by Gauss-Bonnet")
    return 0 if overlap == measured else 1


if __name__ == "__main__":
    sys.exit(main())
