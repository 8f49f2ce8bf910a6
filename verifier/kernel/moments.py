"""Version 3, moments (median, seq_len 2 and 3): the exact mean squared error of a one-output RNN.

The cells are those of version 2 without decisions: a root (ordering chamber x sign of x_0, on which the
median is one linear form) and an activation pattern (on which the output is one linear form), with the
same coverage evidence (facets for n = 2, polygon for n = 3).  On a cell K, f - median = c . x, and
Gaussian integration by parts gives E[(c . x)^2 1_K] from K's angle and its facets' and ridges' normals:

    2 pi E[(c.x)^2 1_K] = |c|^2 A_K + gamma_{n-2} sum over ordered facet pairs (g, h) meeting in a ridge
                          of (c.u)(c.g) / (|g|^2 sqrt(|g|^2 |h|^2 - (g.h)^2)),  u = |g|^2 h - (g.h) g

with A_K the sector's angle (n = 2) or half the polygon's solid angle (n = 3), gamma_0 = 1, gamma_1 = 1/2
(see proofs/FORMAT.md, "Version 3", for the derivation).  Computed here on its own, from the kernel's
own constraints, vertices and facets."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from .certificate import Certificate
from .claim import Work, counts, enclosure, method_is, rule, subject
from .cones import GEOMETRY_FACETS, GEOMETRY_N3, cover, pattern
from .geometry import cross2, dot
from .measure import arb_module, bounds, vos_terms
from .work import check_deadline
from .rules import Reject


def median_form(ranking, n: int) -> tuple:
    """The median on the chamber `ranking` (largest first): the middle coordinate, or the mean of the two."""
    c = [Fraction(0)] * n
    if n % 2:
        c[ranking[n // 2]] = Fraction(1)
    else:
        c[ranking[n // 2 - 1]] = c[ranking[n // 2]] = Fraction(1, 2)
    return tuple(c)


@rule("roots")
def roots(c: Certificate, w: Work):
    """roots are the 2 n! pairs (ranking, sign of x_0): permutations of 0..n-1 in lexicographic order, each
    with +1 then -1; on a root the median is the coordinate ranked (n-1)/2 (n odd) or the mean of the two
    ranked n/2 - 1 and n/2 (n even)."""
    expected = [(p, s) for p in itertools.permutations(range(c.n)) for s in (1, -1)]
    if list(c.roots) != expected:
        raise Reject("roots", "roots must be every ordering chamber times both signs of x_0, in canonical order")
    w.roots = [(rk, s, median_form(rk, c.n)) for rk, s in c.roots]


def residual(c: Certificate, w: Work, cell) -> tuple:
    """c = (exact output form) - (median form): the integer output form over its positive scale."""
    m = w.m
    co = 1
    for row in m.W_oh:
        for v in row:
            co = math.lcm(co, v.denominator)
    scale = co * m.c ** c.n
    out = w.forms.output(cell.pattern)[0]
    med = w.roots[cell.root][2]
    return tuple(Fraction(a, scale) - b for a, b in zip(out, med))


def _angles_2(where, facets) -> list:
    """n = 2: the sector {g1.x > 0, g2.x > 0}: its edge rays r1 (on g1 = 0) and r2, and (|r1 x r2|, r1.r2)."""
    if len(facets) != 2:
        raise Reject("closed-form", f"{where}: a pointed cone in the plane has exactly two facets, not {len(facets)}")
    g1, g2 = facets
    r1, r2 = (-g1[1], g1[0]), (-g2[1], g2[0])
    if dot(g2, r1) < 0:
        r1 = (-r1[0], -r1[1])
    if dot(g1, r2) < 0:
        r2 = (-r2[0], -r2[1])
    if cross2(r1, r2) == 0:
        raise Reject("closed-form", f"{where}: the two facets are parallel")
    return [(abs(cross2(r1, r2)), dot(r1, r2))]


def cell_terms(c: Certificate, w: Work, ci: int):
    """(angle terms, ordered ridge pairs (g, h)) of cell ci from the kernel's derived geometry."""
    cons, shape, where = w.cons[ci], w.shapes[ci], f"cell {ci}"
    if c.n == 3:
        gs = [cons[j] for j in c.cells[ci].edges]
        k = len(gs)
        return vos_terms([shape["verts"]]), [(gs[i], gs[(i + s) % k]) for i in range(k) for s in (1, -1)]
    facets = []
    for _, h, _, _ in shape["facets"]:
        if h not in facets:
            facets.append(h)
    angles = _angles_2(where, facets)
    g1, g2 = facets
    return angles, [(g1, g2), (g2, g1)]


def rational_text(x: Fraction) -> str:
    """p/q (or p) as the closed forms write a rational."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def angle_text(t) -> str:
    """atan2 text of an angle term: a wedge (cross, dot) or a Van Oosterom-Strackee triangle."""
    if len(t) == 2:
        return f"atan2({t[0]}, {t[1]})"
    N, A, B, C, ab, ac, bc = t
    return f"atan2({N}, sqrt({A * B * C}) + {ab}*sqrt({C}) + {ac}*sqrt({B}) + {bc}*sqrt({A}))"


def angle_ball(arb, t):
    if len(t) == 2:
        return arb.atan2(arb(t[0]), arb(t[1]))
    N, A, B, C, ab, ac, bc = t
    return arb.atan2(arb(N), arb(A * B * C).sqrt() + ab * arb(C).sqrt() + ac * arb(B).sqrt() + bc * arb(A).sqrt())


@rule("closed-form")
def closed_form(c: Certificate, w: Work):
    """mse.closed_form is exactly "(w_1*(A_1) + ... + b_1/sqrt(D_1) + ...)/(2*pi)" ("0" if every residual is
    zero): per cell in order with residual c != 0, w = |c|^2 times the sum of its angle terms (n = 2: atan2 of
    the sector's edge rays; n = 3: the Van Oosterom-Strackee atan2 of each fan triangle of its vertices);
    then, radicands ascending, the nonzero sums b_D over all cells and ridges of gamma (c.u)(c.g)/|g|^2."""
    gamma = Fraction(1) if c.n == 2 else Fraction(1, 2)
    angle_parts, roots_ = [], {}
    for ci, cell in enumerate(c.cells):
        res = residual(c, w, cell)
        wt = sum(x * x for x in res)
        if wt == 0:
            continue
        angles, pairs = cell_terms(c, w, ci)
        angle_parts.append((wt, angles))
        for g, h in pairs:
            gg, hh, gh = dot(g, g), dot(h, h), dot(g, h)
            u = tuple(gg * b - gh * a for a, b in zip(g, h))
            coef = gamma * dot(res, u) * dot(res, g) / gg
            if coef:
                D = gg * hh - gh * gh
                roots_[D] = roots_.get(D, Fraction(0)) + coef
    radicals = sorted((D, b) for D, b in roots_.items() if b)
    if not angle_parts and not radicals:
        form = "0"
    else:
        parts = [f"{rational_text(wt)}*({' + '.join(angle_text(t) for t in angles)})" for wt, angles in angle_parts]
        parts += [f"{rational_text(b)}/sqrt({D})" for D, b in radicals]
        form = "(" + " + ".join(parts) + ")/(2*pi)"
    deadline = w.deadline

    def fn(prec):
        flint = arb_module()
        arb = flint.arb
        with flint.ctx.workprec(prec):
            tot = arb(0)
            for wt, angles in angle_parts:
                check_deadline(deadline)
                s = arb(0)
                for t in angles:
                    s += angle_ball(arb, t)
                tot += arb(wt.numerator) / wt.denominator * s
            for D, b in radicals:
                tot += arb(b.numerator) / b.denominator / arb(D).sqrt()
            return bounds(tot / (2 * arb.pi()))

    w.form, w.bounds, w.empty = form, fn, form == "0"
    if c.error.closed_form != form:
        raise Reject("closed-form", "mse.closed_form is not the second-moment sum of the cells' residuals")


@rule("rmse")
def rmse(c: Certificate, w: Work):
    """0 <= rmse.lower <= rmse.upper, rmse.lower^2 <= mse.lower and mse.upper <= rmse.upper^2, exactly: the
    square root of every value in the MSE enclosure lies in the RMSE enclosure."""
    lo, hi = c.rmse
    if not 0 <= lo <= hi or lo * lo > max(c.error.lower, Fraction(0)) or hi * hi < c.error.upper:
        raise Reject("rmse", "[rmse.lower, rmse.upper] does not contain the square root of the mse enclosure")


@rule("method")
def method(c: Certificate, w: Work):
    """Version 3 uses method 'moments', for seq_len 2 (facets evidence) and 3 (polygon evidence)."""
    method_is(c, 3, "moments")
    if c.n not in (2, 3):
        raise Reject("method", f"method moments has a measure rule for seq_len 2 and 3, not {c.n}")
    if (c.evidence == "polygon") != (c.n == 3):
        raise Reject("method", f"evidence {c.evidence!r} does not fit seq_len {c.n} (facets for 2, polygon for 3)")


def rules_v3(n: int) -> tuple:
    """The ordered rules of a version-3 certificate of seq_len n (the method rule has checked n in (2, 3))."""
    geometry = GEOMETRY_N3 if n == 3 else GEOMETRY_FACETS
    return subject(method) + (roots, pattern) + geometry + (cover, counts, closed_form, enclosure, rmse)

