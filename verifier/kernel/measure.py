"""Gaussian measures as arb balls (python-flint): wedge angles (n = 2), Van Oosterom-Strackee solid angles
(n = 3), orthant probabilities of simplicial cones by Plackett's reduction to rigorous one-dimensional
integrals (n = 4) and the odd-n identity (n = 5).  Every function returns an arb ball computed at the
precision of the caller's context; `bounds` turns a ball into exact rational bounds."""

from __future__ import annotations

import contextlib
import itertools
import time
from fractions import Fraction

from .geometry import cross2, det, dot, null, primitive
from .rules import Unreadable


def arb_module():
    try:
        import flint
    except ImportError:
        raise Unreadable("python-flint is needed to check enclosures (pip install python-flint)") from None
    return flint


def bounds(x) -> tuple[Fraction, Fraction]:
    """The exact rational endpoints of an arb ball (mid and radius are dyadic)."""
    m, e = x.mid().man_exp()
    r, f = x.rad().man_exp()
    mid = Fraction(int(m)) * Fraction(2) ** int(e)
    rad = Fraction(int(r)) * Fraction(2) ** int(f)
    return mid - rad, mid + rad


def check_deadline(deadline) -> None:
    """TimeoutError once `deadline` (time.monotonic()) has passed: the caller asked for a time limit, which
    is no verdict on the certificate."""
    if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError("the time limit passed while the kernel was measuring")


def ball_sum(terms, term_ball, scale=None, complement=False, deadline=None):
    """fn(prec): the ball of S = sum(term_ball(flint, t)) (times scale(flint)), or of 1 - S when
    complement, every operation at prec bits.  Past `deadline` (time.monotonic()) it raises TimeoutError:
    the caller asked for a time limit, which is no verdict on the certificate."""
    flint = arb_module()

    def fn(prec):
        with flint.ctx.workprec(prec):
            tot = flint.arb(0)
            for t in terms:
                check_deadline(deadline)
                tot += term_ball(flint, t)
            tot = tot * scale(flint) if scale else tot
            return 1 - tot if complement else tot

    return fn


def over_two_pi(flint):
    return 1 / (2 * flint.arb.pi())


# ---- n = 2: wedges ------------------------------------------------------------------------------------


def wedge_form(wedges) -> str:
    """(atan2(c1, d1) + ...)/(2*pi) with c = cross(a, b), d = dot(a, b) per wedge, or "0"."""
    if not wedges:
        return "0"
    return "(" + " + ".join(f"atan2({cross2(a, b)}, {dot(a, b)})" for a, b in wedges) + ")/(2*pi)"


def wedge_ball(wedges):
    return ball_sum(wedges, lambda flint, w: flint.arb.atan2(flint.arb(cross2(*w)), flint.arb(dot(*w))),
                    over_two_pi)


# ---- n = 3: spherical polygons ------------------------------------------------------------------------


def vos_terms(polygons):
    """Per fan triangle (a, b, c) of each polygon: (|det|, |a|^2, |b|^2, |c|^2, a.b, a.c, b.c)."""
    out = []
    for verts in polygons:
        a = verts[0]
        for i in range(1, len(verts) - 1):
            b, c = verts[i], verts[i + 1]
            out.append((abs(det([a, b, c])), dot(a, a), dot(b, b), dot(c, c), dot(a, b), dot(a, c), dot(b, c)))
    return out


def vos_form(terms) -> str:
    if not terms:
        return "0"
    return "(" + " + ".join(f"atan2({N}, sqrt({A * B * C}) + {ab}*sqrt({C}) + {ac}*sqrt({B}) + {bc}*sqrt({A}))"
                            for N, A, B, C, ab, ac, bc in terms) + ")/(2*pi)"


def _vos_term(flint, t):
    N, A, B, C, ab, ac, bc = t
    arb = flint.arb
    den = arb(A * B * C).sqrt() + ab * arb(C).sqrt() + ac * arb(B).sqrt() + bc * arb(A).sqrt()
    return arb.atan2(arb(N), den)


def vos_ball(terms, deadline=None):
    """Solid angle Omega = 2 atan2(...) per triangle, measure Omega / (4 pi): the sum over 2 pi."""
    return ball_sum(terms, _vos_term, over_two_pi, deadline=deadline)


# ---- n = 4, 5: orthant probabilities -------------------------------------------------------------------


def orthant_form(measured: str, count: int, n: int) -> str:
    head = "1 - " if measured == "right" else ""
    return (f"{head}sum of Gaussian orthant probabilities P_{n} of the {count} simplicial cones triangulating the "
            f"{measured} cells (Plackett reduction; one-dimensional integrals in ball arithmetic)")


def partial_form(wrong_cells: int, wrong_cones: int, right_cells: int, right_cones: int, n: int) -> str:
    """The canonical sentence of a partial (anytime) certificate's interval."""
    return (f"at least the sum of Gaussian orthant probabilities P_{n} of the {wrong_cones} simplicial cones of "
            f"the {wrong_cells} wrong cells listed, at most 1 minus that of the {right_cones} simplicial cones of "
            f"the {right_cells} right cells listed (a partial certificate: cells not listed are not measured)")


def simplex_normals(rays):
    """Facet normals g_i of the simplicial cone on rays r_1..r_n, oriented so that g_i . r_i > 0."""
    n = len(rays)
    out = []
    for i in range(n):
        g = null([r for j, r in enumerate(rays) if j != i], n)
        if dot(g, rays[i]) < 0:
            g = tuple(-c for c in g)
        out.append(primitive(g))
    return out


def _pmul(a, b):
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def _pdet(M):
    """Determinant of a matrix of integer polynomials (coefficient lists), by cofactor expansion."""
    if len(M) == 1:
        return M[0][0]
    out = [0]
    for c in range(len(M)):
        term = _pmul(M[0][c], _pdet([row[:c] + row[c + 1:] for row in M[1:]]))
        sign = 1 if c % 2 == 0 else -1
        out = [(out[i] if i < len(out) else 0) + sign * (term[i] if i < len(term) else 0)
               for i in range(max(len(out), len(term)))]
    return out


def orthant(normals, flint, prec):
    """P(g_i . x >= 0 for all i) for n = 4 (Plackett's reduction: six one-dimensional integrals, written
    with integer polynomials in u = 1 - t, see FORMAT.md) or n = 5 (odd-n identity over marginals)."""
    n = len(normals)
    G = [[dot(a, b) for b in normals] for a in normals]
    arb, acb = flint.arb, flint.acb
    pi = arb.pi()
    tol = arb(2) ** (-(prec - 19))
    I_ = acb(0, 1)

    def asin_r(i, j):
        return (arb(G[i][j]) / (arb(G[i][i]) * arb(G[j][j])).sqrt()).asin()

    def p4(idx):
        A = [[[G[a][a]] if a == b else [G[a][b], -G[a][b]] for b in idx] for a in idx]
        detA = _pdet(A)
        total, quad = arb(1) / 16, arb(0)
        for a, b in itertools.combinations(range(4), 2):
            c, e = [x for x in range(4) if x not in (a, b)]
            total += asin_r(idx[a], idx[b]) / (8 * pi)
            if G[idx[a]][idx[b]] == 0:
                continue
            Q = _pdet([[A[a][a], A[a][b]], [A[b][a], A[b][b]]])
            M = _pdet([[A[c][e], A[c][a], A[c][b]], [A[a][e], A[a][a], A[a][b]], [A[b][e], A[b][a], A[b][b]]])
            Qp, QDp, Mp = flint.acb_poly(Q), flint.acb_poly(_pmul(Q, detA)), flint.acb_poly(M)
            g = arb(G[idx[a]][idx[b]])

            def f(u, analytic, Qp=Qp, QDp=QDp, Mp=Mp, g=g):
                if not analytic:  # a point evaluation: acb's principal atan and sqrt are the integrand's
                    return g * (Mp(u) / QDp(u).sqrt()).atan() / Qp(u).sqrt()
                # on a box acb.integral needs analyticity checked: atan(w) = (i/2)(log(1 - iw) - log(1 + iw))
                w = Mp(u) / QDp(u).sqrt(analytic=True)
                iw = I_ * w
                return g * (I_ / 2 * ((1 - iw).log(analytic=True) - (1 + iw).log(analytic=True))) \
                    / Qp(u).sqrt(analytic=True)

            quad += acb.integral(f, 0, 1, rel_tol=tol, abs_tol=tol).real
        return total + quad / (4 * pi * pi)

    if n == 4:
        return p4((0, 1, 2, 3))
    # n == 5 (the method rule admits no other n)
    s2 = sum((arb(1) / 4 + asin_r(i, j) / (2 * pi) for i, j in itertools.combinations(range(5), 2)), arb(0))
    s3 = sum((arb(1) / 8 + (asin_r(i, j) + asin_r(i, k) + asin_r(j, k)) / (4 * pi)
              for i, j, k in itertools.combinations(range(5), 3)), arb(0))
    s4 = sum((p4(c) for c in itertools.combinations(range(5), 4)), arb(0))
    return (1 - arb(5) / 2 + s2 - s3 + s4) / 2


def cone_bounds(rays, prec: int) -> tuple[Fraction, Fraction]:
    """Exact rational bounds of one simplicial cone's Gaussian measure, from its arb ball at prec bits; when the
    quadrature gives no finite ball at this precision (a very thin cone), [0, 1/2]: a pointed cone lies in an
    open half-space, so its measure is at most 1/2."""
    flint = arb_module()
    with flint.ctx.workprec(prec):
        ball = orthant(simplex_normals(rays), flint, prec)
        if not ball.is_finite():
            return Fraction(0), Fraction(1, 2)
        return bounds(ball)


def _quiet_worker():
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _cone_task(args):
    return cone_bounds(*args)


def orthant_bounds(cones, complement: bool, deadline=None, workers: int = 1):
    """fn(prec): exact rational bounds of the sum of the cones' orthant probabilities (or of 1 minus it).
    Each cone's ball becomes exact dyadic bounds and the bounds are added as exact rationals, so the result
    is the same whatever the number of worker processes (and no rounding enters the sum)."""
    def fn(prec):
        lo = hi = Fraction(0)
        tasks = [(rays, prec) for rays in cones]
        check_deadline(deadline)
        with contextlib.ExitStack() as stack:
            if hasattr(workers, "map"):  # the caller's ordered map (e.g. a Ray cluster); the work is ours
                results = workers.map(_cone_task, tasks)
            elif workers > 1 and len(tasks) > 1:
                import multiprocessing

                pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers,
                                                                                      initializer=_quiet_worker))
                results = pool.imap(_cone_task, tasks, chunksize=max(1, min(16, len(tasks) // (4 * workers))))
            else:
                results = (cone_bounds(*t) for t in tasks)
            for a, b in results:  # the deadline is checked between cones
                check_deadline(deadline)
                lo, hi = lo + a, hi + b
        return (1 - hi, 1 - lo) if complement else (lo, hi)

    return fn
