"""Rigorous enclosures (python-flint's arb ball arithmetic) and their outward rounding to rationals.

Every bound here comes from a ball that contains the true value; rounding to decimal rationals is
directed (lower bounds down, upper bounds up).  Nothing here uses a Python float.
"""

from __future__ import annotations

import contextlib
import math
import time
from fractions import Fraction

from .exact import cross2, dot, null_vector, primitive

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


def past(deadline: float | None, what: str) -> None:
    """Raise LimitReached when a --timeout deadline (time.monotonic()) has passed."""
    if deadline is not None and time.monotonic() > deadline:
        from .errors import LimitReached

        raise LimitReached(f"timeout (--timeout) during {what}; stopped, nothing written")


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
# n >= 4: orthant probabilities of simplicial cones (Plackett's reduction, rigorous quadrature)


def simplex_normals(rays):
    """Facet normals g_i of the simplicial cone spanned by n integer rays: g_i . r_j = 0 (j != i), g_i . r_i > 0."""

    n = len(rays)
    out = []
    for i in range(n):
        g = null_vector([r for j, r in enumerate(rays) if j != i], n)
        if sum(a * b for a, b in zip(g, rays[i])) < 0:
            g = tuple(-c for c in g)
        out.append(primitive(g))
    return out


def _pmul(a, b):
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[i + j] += x * y
    return out


def _padd(a, b, sign=1):
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else 0) + sign * (b[i] if i < len(b) else 0) for i in range(n)]


def _pdet(M):
    """Determinant of a small matrix of integer polynomials (coefficient lists), by cofactors."""
    if len(M) == 1:
        return M[0][0]
    out = [0]
    for c in range(len(M)):
        minor = [row[:c] + row[c + 1:] for row in M[1:]]
        out = _padd(out, _pmul(M[0][c], _pdet(minor)), 1 if c % 2 == 0 else -1)
    return out


def _p4(G, flint, prec):
    """P_4 of the cone {g_i . x >= 0} from the integer Gram matrix G of its four normals.

    Plackett: P_4 = 1/16 + sum_{i<j} asin(r_ij)/(8 pi) + 1/(4 pi^2) sum_{i<j} r_ij int_0^1
    asin(r_kl.ij(t)) / sqrt(1 - t^2 r_ij^2) dt along R(t) = (1 - t) I + t R.  With u = 1 - t and
    A(u) = diag(G) + (1 - u) offdiag(G) (a rescaling of R(t), which leaves partial correlations
    unchanged), r_ij / sqrt(1 - t^2 r_ij^2) = G_ij / sqrt(Q(u)) and asin(r_kl.ij) =
    atan(M_kl(u) / sqrt(Q(u) det A(u))), where Q = det A_{ij,ij} and M_kl = det A_{kij,lij} are
    polynomials in u with exact integer coefficients (Sylvester: M_kk M_ll - M_kl^2 = Q det A).
    Expanding at u = 0 (t = 1, where thin cones are nearly singular) keeps the evaluation well
    conditioned.  Branch cuts are guarded with analytic=True (sqrt, log), as acb.integral requires.
    """
    import itertools

    acb, arb = flint.acb, flint.arb
    pi = arb.pi()
    tol = arb(2) ** (-(prec - 19))
    A = [[[G[a][a]] if a == b else [G[a][b], -G[a][b]] for b in range(4)] for a in range(4)]
    detA = _pdet(A)
    total = arb(1) / 16
    quad = arb(0)
    I_ = acb(0, 1)
    for i, j in itertools.combinations(range(4), 2):
        k, l = [c for c in range(4) if c not in (i, j)]
        total += (arb(G[i][j]) / (arb(G[i][i]) * arb(G[j][j])).sqrt()).asin() / (8 * pi)
        if G[i][j] == 0:
            continue  # the term is r_ij times the integral: exactly 0
        Q = _pdet([[A[i][i], A[i][j]], [A[j][i], A[j][j]]])
        M = _pdet([[A[k][l], A[k][i], A[k][j]], [A[i][l], A[i][i], A[i][j]], [A[j][l], A[j][i], A[j][j]]])
        Qp, QDp, Mp = flint.acb_poly(Q), flint.acb_poly(_pmul(Q, detA)), flint.acb_poly(M)
        gij = arb(G[i][j])

        def f(u, analytic, Qp=Qp, QDp=QDp, Mp=Mp, gij=gij):
            w = Mp(u) / QDp(u).sqrt(analytic=analytic)
            iw = I_ * w
            at = I_ / 2 * ((1 - iw).log(analytic=analytic) - (1 + iw).log(analytic=analytic))  # atan(w)
            return gij * at / Qp(u).sqrt(analytic=analytic)

        integral = acb.integral(f, 0, 1, rel_tol=tol, abs_tol=tol)
        if not integral.real.is_finite():
            raise ArithmeticError("orthant integral did not converge")
        quad += integral.real
    return total + quad / (4 * pi * pi)


def orthant_ball(normals, prec: int):
    """arb ball of P(g_i . x >= 0 for all i), x ~ N(0, I_n), for n = 4 or 5 independent integer normals."""
    import itertools

    flint = _flint()
    with flint.ctx.workprec(prec):
        n = len(normals)
        G = [[sum(a * b for a, b in zip(gi, gj)) for gj in normals] for gi in normals]
        if n == 4:
            return _p4(G, flint, prec)
        if n == 5:
            arb, pi = flint.arb, flint.arb.pi()

            def asin_r(i, j):
                return (arb(G[i][j]) / (arb(G[i][i]) * arb(G[j][j])).sqrt()).asin()

            # odd n: P_5 = 1/2 (1 - 5/2 + sum P_2 - sum P_3 + sum P_4) over the marginals of each size
            s2 = sum((arb(1) / 4 + asin_r(i, j) / (2 * pi) for i, j in itertools.combinations(range(5), 2)), arb(0))
            s3 = sum((arb(1) / 8 + (asin_r(i, j) + asin_r(i, k) + asin_r(j, k)) / (4 * pi)
                      for i, j, k in itertools.combinations(range(5), 3)), arb(0))
            s4 = sum((_p4([[G[a][b] for b in c] for a in c], flint, prec)
                      for c in itertools.combinations(range(5), 4)), arb(0))
            return (1 - arb(5) / 2 + s2 - s3 + s4) / 2
        raise ValueError(f"orthant probabilities for n = {n} are not implemented")


ORTHANT_PREC = 80  # per-integral tolerance 2^-61: ~3e-19 radius per cone (64 bits gave ~1e-14, too wide for
# 3e4 cones); costs ~25% more time than 64 bits. The checker starts at the same precision.


def orthant_closed_form(measured: str, count: int, n: int) -> str:
    """The canonical description of an n >= 4 error (no elementary closed form exists)."""
    head = "1 - " if measured == "right" else ""
    return (f"{head}sum of Gaussian orthant probabilities P_{n} of the {count} simplicial cones triangulating the "
            f"{measured} cells (Plackett reduction; one-dimensional integrals in ball arithmetic)")


def _cone_bounds(rays) -> tuple[Fraction, Fraction]:
    """Exact dyadic bounds of one simplicial cone's orthant probability (a worker's unit of work).  A very thin
    cone can defeat the quadrature at ORTHANT_PREC bits: then twice that (the kernel's second precision), and
    if the ball is still not finite, [0, 1/2] (a pointed cone lies in a half-space), as the kernel does."""
    normals = simplex_normals(rays)
    for prec in (ORTHANT_PREC, 2 * ORTHANT_PREC):
        ball = orthant_ball(normals, prec)
        if ball.is_finite():
            return arb_to_bounds(ball)
    return Fraction(0), Fraction(1, 2)


def _ignore_sigint():
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


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
        if workers > 1 and len(cones) > 1:
            import multiprocessing

            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers, initializer=_ignore_sigint))
            results = pool.imap(_cone_bounds, cones, chunksize=max(1, min(16, len(cones) // (4 * workers))))
        else:
            results = (_cone_bounds(rays) for rays in cones)
        for a, b in results:  # the deadline is checked between cones
            past(deadline, "the orthant integrals")
            lo, hi = lo + a, hi + b
            if bar is not None:
                bar.update(1)
    return lo, hi


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
