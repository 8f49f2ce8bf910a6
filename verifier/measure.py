"""Rigorous enclosures (python-flint's arb ball arithmetic) and their outward rounding to rationals.

Every bound here comes from a ball that contains the true value; rounding to decimal rationals is
directed (lower bounds down, upper bounds up).  Nothing here uses a Python float.
"""

from __future__ import annotations

import math
from fractions import Fraction

BASE_PREC = 256


def _flint():
    import flint

    return flint


def arb_to_bounds(x) -> tuple[Fraction, Fraction]:
    """Exact rational endpoints [mid - rad, mid + rad] of an arb ball."""
    m, e = x.mid().man_exp()
    r, f = x.rad().man_exp()
    mid = Fraction(int(m)) * (Fraction(2) ** int(e))
    rad = Fraction(int(r)) * (Fraction(2) ** int(f))
    return mid - rad, mid + rad


def round_outward(lo: Fraction, hi: Fraction, digits: int) -> tuple[Fraction, Fraction]:
    """Round [lo, hi] outward to decimals with about `digits` significant digits (lo down, hi up)."""
    if lo == hi and lo.denominator == 1:
        return lo, hi
    mag = max(abs(lo), abs(hi))
    if mag == 0:
        return Fraction(0), Fraction(0)
    e = math.floor(math.log10(mag.numerator) - math.log10(mag.denominator))
    scale = Fraction(10) ** (digits - 1 - e)
    return (Fraction(math.floor(lo * scale)) / scale, Fraction(math.ceil(hi * scale)) / scale)


def correct_digits(lo: Fraction, hi: Fraction) -> float:
    """How many significant digits [lo, hi] pins down (inf for a point)."""
    if lo == hi:
        return math.inf
    mag = max(abs(lo), abs(hi))
    width = hi - lo
    if mag == 0:
        return 0.0
    return math.log10(mag.numerator * width.denominator) - math.log10(mag.denominator * width.numerator)


def wedge_angle_sum_ball(wedges, prec: int):
    """arb ball of (sum of atan2(cross, dot) over integer wedges (a, b)) / (2 pi)."""
    flint = _flint()
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        total = flint.arb(0)
        for a, b in wedges:
            c = a[0] * b[1] - a[1] * b[0]
            d = a[0] * b[0] + a[1] * b[1]
            total += flint.arb.atan2(flint.arb(c), flint.arb(d))
        return total / (2 * flint.arb.pi())
    finally:
        flint.ctx.prec = old


def enclose(ball_fn, digits: int, exact_zero: bool = False) -> tuple[Fraction, Fraction, int]:
    """Evaluate ball_fn(prec) at rising precision until [lo, hi] has `digits` correct digits.

    Returns (lower, upper, precision used).  exact_zero short-cuts the empty sum to [0, 0].
    """
    if exact_zero:
        return Fraction(0), Fraction(0), 0
    prec = BASE_PREC
    while True:
        lo, hi = arb_to_bounds(ball_fn(prec))
        rlo, rhi = round_outward(lo, hi, digits + 2)
        if correct_digits(rlo, rhi) >= digits or prec > 1 << 14:
            return rlo, rhi, prec
        prec *= 2


def closed_form_wedges(wedges) -> str:
    """Canonical closed form of the wedge-angle sum: "(atan2(c1, d1) + ...)/(2*pi)", or "0"."""
    if not wedges:
        return "0"
    terms = []
    for a, b in wedges:
        c = a[0] * b[1] - a[1] * b[0]
        d = a[0] * b[0] + a[1] * b[1]
        terms.append(f"atan2({c}, {d})")
    return "(" + " + ".join(terms) + ")/(2*pi)"


def sympy_form(closed_form: str, max_terms: int = 6) -> str:
    """A human-friendly simplification of a canonical closed form (sympy); long sums are summarised."""
    if closed_form == "0" or closed_form.count("atan2") > max_terms:
        return closed_form
    import sympy

    expr = sympy.sympify(closed_form, locals={"atan2": sympy.atan2, "pi": sympy.pi})
    return sympy.sstr(sympy.simplify(expr))


def spherical_terms(polygons):
    """Per fan triangle (a, b, c) of each convex spherical polygon: the integers of Van Oosterom-Strackee.

    tan(Omega/2) = |det(a,b,c)| / (|a||b||c| + (a.b)|c| + (a.c)|b| + (b.c)|a|); the measure is Omega/(4 pi).
    """
    out = []
    for verts in polygons:
        a = verts[0]
        for i in range(1, len(verts) - 1):
            b, c = verts[i], verts[i + 1]
            det = (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                   + a[2] * (b[0] * c[1] - b[1] * c[0]))
            A, B, C = (sum(x * x for x in v) for v in (a, b, c))
            ab, ac, bc = (sum(x * y for x, y in zip(p, q)) for p, q in ((a, b), (a, c), (b, c)))
            out.append((abs(det), A, B, C, ab, ac, bc))
    return out


def closed_form_spherical(terms) -> str:
    """Canonical closed form: (sum of atan2(N, sqrt(A*B*C) + ab*sqrt(C) + ac*sqrt(B) + bc*sqrt(A)))/(2*pi)."""
    if not terms:
        return "0"
    parts = [f"atan2({N}, sqrt({A * B * C}) + {ab}*sqrt({C}) + {ac}*sqrt({B}) + {bc}*sqrt({A}))"
             for N, A, B, C, ab, ac, bc in terms]
    return "(" + " + ".join(parts) + ")/(2*pi)"


def spherical_sum_ball(terms, prec: int):
    """arb ball of the spherical closed form (each fan triangle contributes Omega/(4 pi))."""
    flint = _flint()
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        total = flint.arb(0)
        for N, A, B, C, ab, ac, bc in terms:
            sA, sB, sC = flint.arb(A).sqrt(), flint.arb(B).sqrt(), flint.arb(C).sqrt()
            den = flint.arb(A * B * C).sqrt() + ab * sC + ac * sB + bc * sA
            total += flint.arb.atan2(flint.arb(N), den)
        return total / (2 * flint.arb.pi())
    finally:
        flint.ctx.prec = old
