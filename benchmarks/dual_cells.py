"""A negative result kept measurable: a cell's Gaussian measure from a triangulation of its *dual* cone, against
the triangulation of the cell itself (what certificates use), on the most sampled cells of a model.

Duality K -> K* = {x : y . x >= 0 for y in K} is a valuation on closed polyhedral cones (Lawrence; Barvinok,
Integer Points in Polyhedra, Thm 2.7).  Triangulate C* = cone(facet normals of the cell C) and write
[C*] = sum over the faces F of the triangulation not inside the boundary of C* of (-1)^(n - dim F) [F]; then
[C] = sum of (-1)^(n - dim F) [F*], and the measure of F* is the orthant probability P_|F| of F's normals.  A cell
with many extreme rays but few facets (M(4,6)'s largest: 146 rays, 20 facets; 1,240 simplicial cones) needs far
fewer terms this way (100 P_6, 227 P_5, 176 P_4 and closed forms).  Measured on 2026-11-29: the identity holds
(every pair of enclosures overlaps) but the terms F* are *wide* cones, each containing C, whose pencil integrals
are slow (P_5: 10-230 ms against ~4 ms for the thin cones of the cell's own triangulation), so the dual measure
was 1.5-8x slower at n = 5 and no faster at n = 6 (one P_6 term did not enclose at all).  Not used by certify;
a faster P_k for wide cones (e.g. P_5 by the odd-n identity over the 4-faces' P_4, shared between dual
simplices) would be needed first.

Usage: python benchmarks/dual_cells.py [--model models/2nd_argmax_16_5.pth] [--cells 4] [--prec 53]
Prints per cell: both enclosures, their widths, seconds and term counts, and whether they overlap; the baseline
in the same run is the primal triangulation.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
import time
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)


def dual_terms(cell, n):
    """(sign, normals) per face F of the dual cone's pulling triangulation not inside its boundary."""
    from verifier.cells.triangulate import triangulate

    facets = [j for j, e in enumerate(cell.evidence) if e[0] == "facet"]
    masks = [sum(1 << r for r, m in enumerate(cell.masks) if m >> j & 1) for j in facets]
    simplices = triangulate([cell.constraints[j] for j in facets], masks, n, len(cell.rays))
    out, seen = [], set()
    for sx in simplices:
        for k in range(1, n + 1):
            for F in itertools.combinations(sorted(sx), k):
                if F in seen:
                    continue
                seen.add(F)
                common = -1
                for i in F:
                    common &= masks[i]
                if common == 0:  # no ray of the cell is on every facet of F: F is not on the boundary of C*
                    out.append(((-1) ** (n - k), [cell.constraints[facets[i]] for i in F]))
    return out


def polar_bounds(normals, prec):
    """Rational bounds of P(g . x >= 0 for g in normals): 1/2, the closed forms P_2, P_3, else the kernel's P_k."""
    from verifier.kernel.geometry import dot
    from verifier.kernel.measure import arb_module, bounds
    from verifier.kernel.orthant import _asin_r, _p3_closed, orthant

    k = len(normals)
    if k == 1:
        return Fraction(1, 2), Fraction(1, 2)
    flint = arb_module()
    G = [[dot(a, b) for b in normals] for a in normals]
    with flint.ctx.workprec(prec):
        if k == 2:
            ball = flint.arb(1) / 4 + _asin_r(G, 0, 1, flint) / (2 * flint.arb.pi())
        elif k == 3:
            ball = _p3_closed(G, (0, 1, 2), flint)
        else:
            ball = orthant(normals, flint, prec)
        return bounds(ball) if ball.is_finite() else (Fraction(0), Fraction(1, 2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "2nd_argmax_16_5.pth"))
    ap.add_argument("--cells", type=int, default=4)
    ap.add_argument("--prec", type=int, default=53)
    a = ap.parse_args()
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.cells.cones import Traversal
    from verifier.cells.triangulate import triangulate
    from verifier.kernel.orthant import each_cone_bounds
    from verifier.loading.loader import load

    lm = load(a.model)
    tr = Traversal(lm.rnn, lm.task)
    n = tr.n
    x, hits = sampled_keys(lm, tr, samples=1 << 16)
    for count, i in hits[:a.cells]:
        key = exact_key(tr, x[i])
        if key is None:
            continue
        c = tr.process(tr.roots[key[0]], key[1], key[2])
        t0 = time.perf_counter()
        cones = [[c.rays[r] for r in sx] for sx in triangulate(c.rays, c.masks, n, len(c.constraints))]
        with contextlib.ExitStack() as stack:
            b = list(each_cone_bounds(cones, a.prec, 1, stack))
        p_lo, p_hi, p_s = sum(x for x, _ in b), sum(y for _, y in b), time.perf_counter() - t0
        t0 = time.perf_counter()
        terms = dual_terms(c, n)
        d_lo = d_hi = Fraction(0)
        for sign, normals in terms:
            lo, hi = polar_bounds(normals, a.prec)
            d_lo, d_hi = (d_lo + lo, d_hi + hi) if sign > 0 else (d_lo - hi, d_hi - lo)
        d_s = time.perf_counter() - t0
        by_k = {}
        for _, normals in terms:
            by_k[len(normals)] = by_k.get(len(normals), 0) + 1
        ok = p_lo <= d_hi and d_lo <= p_hi
        print(f"cell hit {count}x: primal {float(p_lo):.12f} (width {float(p_hi - p_lo):.1e}, {len(cones)} cones, "
              f"{p_s:.2f} s) | dual {float(d_lo):.12f} (width {float(d_hi - d_lo):.1e}, terms by size "
              f"{dict(sorted(by_k.items()))}, {d_s:.2f} s) | dual/primal time {d_s / p_s:.2f} | "
              f"{'overlap' if ok else 'DISJOINT'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
