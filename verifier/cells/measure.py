"""Rigorous enclosures (python-flint's arb ball arithmetic) and their outward rounding to rationals.

Every bound here comes from a ball that contains the true value; rounding to decimal rationals is
directed (lower bounds down, upper bounds up).  Nothing here uses a Python float.
"""

from __future__ import annotations

import contextlib
import math
from fractions import Fraction

from ..errors import past

from .exact import cross2, dot

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
    with flint.ctx.workprec(prec):
        total = flint.arb(0)
        for a, b in wedges:
            total += flint.arb.atan2(flint.arb(cross2(a, b)), flint.arb(dot(a, b)))
        return total / (2 * flint.arb.pi())


def enclose(ball_fn, digits: int, exact_zero: bool = False, deadline: float | None = None
            ) -> tuple[Fraction, Fraction, int]:
    """Evaluate ball_fn(prec) at rising precision until [lo, hi] has `digits` correct digits.

    Returns (lower, upper, precision used).  exact_zero short-cuts the empty sum to [0, 0].
    """
    if exact_zero:
        return Fraction(0), Fraction(0), 0
    prec = BASE_PREC
    while True:
        past(deadline, "the measure")
        lo, hi = arb_to_bounds(ball_fn(prec))
        rlo, rhi = round_outward(lo, hi, digits + 2)
        if correct_digits(rlo, rhi) >= digits or prec > 1 << 14:
            return rlo, rhi, prec
        prec *= 2


def closed_form_wedges(wedges) -> str:
    """Canonical closed form of the wedge-angle sum: "(atan2(c1, d1) + ...)/(2*pi)", or "0"."""
    if not wedges:
        return "0"
    return "(" + " + ".join(f"atan2({cross2(a, b)}, {dot(a, b)})" for a, b in wedges) + ")/(2*pi)"


def sympy_form(closed_form: str, max_terms: int = 6) -> str:
    """A human-friendly simplification of a canonical closed form (sympy); long sums are summarised."""
    if closed_form == "0" or closed_form.count("atan2") > max_terms or not closed_form.startswith("("):
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
    with flint.ctx.workprec(prec):
        total = flint.arb(0)
        for N, A, B, C, ab, ac, bc in terms:
            sA, sB, sC = flint.arb(A).sqrt(), flint.arb(B).sqrt(), flint.arb(C).sqrt()
            den = flint.arb(A * B * C).sqrt() + ab * sC + ac * sB + bc * sA
            total += flint.arb.atan2(flint.arb(N), den)
        return total / (2 * flint.arb.pi())


# ------------------------------------------------------------------------------------------------
# n >= 4: orthant probabilities of simplicial cones (the kernel's pencil formula, rigorous quadrature)


def orthant_ball(normals, prec: int):
    """arb ball of P(g_i . x >= 0 for all i), x ~ N(0, I_n), for n = 4 to 7 independent integer normals.

    The generator uses the kernel's own enclosure (verifier/kernel/orthant.py: the pencil formula, one
    one-dimensional integral per cone for P_4 and for P_5, the odd-n identity as P_5's fallback): the kernel
    recomputes every cone's ball when it checks a certificate, so a second copy here would add no evidence,
    only a second place to mend."""
    from ..kernel.orthant import orthant

    flint = _flint()
    if not 4 <= len(normals) <= 7:
        raise ValueError(f"orthant probabilities for n = {len(normals)} are not implemented")
    with flint.ctx.workprec(prec):
        return orthant(normals, flint, prec)


ORTHANT_PREC = 80  # per-integral tolerance 2^-61: ~1e-19 radius per cone (64 bits gave ~1e-14, too wide for
# 3e4 cones); costs ~25% more time than 64 bits. The checker starts at the same precision.


def orthant_closed_form(measured: str, count: int, n: int, cells: int | None = None, whole: int = 0) -> str:
    """The canonical description of an n >= 4 error (no elementary closed form exists): the kernel's sentence."""
    from ..kernel.measure import orthant_form

    return orthant_form(measured, count, n, cells, whole)


ANYTIME_PREC = 53  # anytime (partial) certificates: per-integral tolerance 2^-34, ~2e-10 radius per P_5 cone, 2.2x
# faster than 80 bits with the odd-n identity (timing on 40 cones of M(2,5): 27 vs 60 ms under load), 1.4x with the
# P_5 pencil (4.2 vs 5.8 ms, benchmarks/p5_pencil.py); their intervals are
# rarely asked narrower than 1e-6. The kernel's partial rule starts at the same precision (kernel/cones.py), so
# certify's self-check finds these cones in the per-process memo. Widths under 2^-30 use ORTHANT_PREC.


def each_cone_bounds(cones, workers, stack: contextlib.ExitStack, prec: int = ORTHANT_PREC):
    """Exact dyadic bounds of each cone's orthant probability, in the cones' order: the kernel's `cone_bounds`
    at ORTHANT_PREC bits (twice that for a cone too thin for it; [0, 1/2] if still not finite), through the
    kernel's own per-cone map (the caller's ordered map such as a Ray cluster, a local process pool entered
    into `stack`, or this process; memoized in this process, so the built-in self-check does not integrate the
    cones again)."""
    from ..kernel.orthant import each_cone_bounds as kernel_each

    yield from kernel_each(cones, prec, workers, stack)


def orthant_sum_bounds(cones, progress: bool = False, deadline: float | None = None, workers: int = 1):
    """Exact rational bounds of the sum of the cones' orthant probabilities: each cone's ball becomes exact
    dyadic bounds, added exactly, so the result is the same for any number of worker processes."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(cones), desc="orthant integrals", unit="cone", leave=False)
    lo = hi = Fraction(0)
    past(deadline, "the orthant integrals")
    with contextlib.ExitStack() as stack:
        if bar is not None:
            stack.callback(bar.close)
        for a, b in each_cone_bounds(cones, workers, stack):  # the deadline is checked between cones
            past(deadline, "the orthant integrals")
            lo, hi = lo + a, hi + b
            if bar is not None:
                bar.update(1)
    return lo, hi


def enclose_cells(items, complement: bool, progress: bool = False, deadline: float | None = None,
                  workers: int = 1):
    """Seq_len 5: rational [lower, upper] of the error from the measured cells' Gaussian measures, each cell
    (rays, facet normals, its simplices' rays) at once by the kernel's conic.cells_bounds at ORTHANT_PREC bits
    (1 - their sum when complement)."""
    from ..errors import LimitReached
    from ..kernel.conic import cells_bounds

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="cell measures (Gauss-Bonnet)", unit="cell", leave=False)
    try:
        lo, hi = cells_bounds(items, complement, deadline, workers, bar.update if bar else None)(ORTHANT_PREC)
    except TimeoutError:
        raise LimitReached("timeout (--timeout) during the cell measures; stopped, nothing written") from None
    finally:
        if bar is not None:
            bar.close()
    lo, hi = max(lo, Fraction(0)), min(hi, Fraction(1))
    digits = max(1, int(correct_digits(lo, hi)) - 1) if lo != hi else 30
    rlo, rhi = round_outward(lo, hi, digits + 3)
    return rlo, rhi, digits


def enclose_orthants(cones, complement: bool, progress: bool = False, deadline: float | None = None,
                     workers: int = 1):
    """Rational [lower, upper] of the error from the cones' measure (1 - measure when complement)."""
    lo, hi = orthant_sum_bounds(cones, progress, deadline, workers)
    if complement:
        lo, hi = 1 - hi, 1 - lo
    lo, hi = max(lo, Fraction(0)), min(hi, Fraction(1))
    digits = max(1, int(correct_digits(lo, hi)) - 1) if lo != hi else 30
    rlo, rhi = round_outward(lo, hi, digits + 3)
    return rlo, rhi, digits
