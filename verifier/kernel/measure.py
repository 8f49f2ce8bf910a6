"""Gaussian measures as arb balls (python-flint): wedge angles (n = 2), Van Oosterom-Strackee solid angles
(n = 3), orthant probabilities of simplicial cones by a pencil of half-hyperplanes through an edge (n = 4) or
through a 3-face (n = 5), each leaving one rigorous one-dimensional integral, with the odd-n identity as the n = 5
fallback.  Every function returns an arb ball computed at the precision of the caller's context; `bounds` turns a
ball into exact rational bounds."""

from __future__ import annotations

from fractions import Fraction

from .work import check_deadline
from .geometry import cross2, det, dot
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


# ---- n = 4 to 7: orthant probabilities -------------------------------------------------------------------


def orthant_form(measured: str, count: int, n: int, cells: int | None = None, whole: int = 0) -> str:
    """The canonical sentence of an n >= 4 error (no elementary closed form exists); at n = 5, `cells` measured
    cells, each at once by the conic Gauss-Bonnet identity (kernel/conic.py), `whole` of them whole (their rays
    proven complete by their edges, no simplices listed)."""
    head = "1 - " if measured == "right" else ""
    if n == 5 and whole:
        tail = ("the rays listed of each are all its extreme rays, by its edges" if whole == cells else
                f"the rays listed of {whole} of them are all their extreme rays, by their edges; the {count} "
                f"simplicial cones listed tile the other {cells - whole}")
        return (f"{head}sum of the Gaussian measures P_5 of the {cells} {measured} cells (the conic Gauss-Bonnet "
                f"identity 1/2 - v_3 - v_1: one-dimensional integrals P_4 in ball arithmetic and closed forms; {tail})")
    if n == 5:
        return (f"{head}sum of the Gaussian measures P_5 of the {cells} {measured} cells (the conic Gauss-Bonnet "
                "identity 1/2 - v_3 - v_1: one-dimensional integrals P_4 in ball arithmetic and closed forms; the "
                f"{count} simplicial cones listed tile them)")
    return (f"{head}sum of Gaussian orthant probabilities P_{n} of the {count} simplicial cones triangulating the "
            f"{measured} cells (pencil formula; one-dimensional integrals in ball arithmetic)")


def partial_form(wrong_cells: int, wrong_cones: int, right_cells: int, right_cones: int, n: int,
                 wrong_whole: int = 0, right_whole: int = 0) -> str:
    """The canonical sentence of a partial (anytime) certificate's interval; at n = 5 some listed cells may be
    whole (measured at once by the conic Gauss-Bonnet identity, their rays proven complete by their edges)."""
    if wrong_whole or right_whole:
        return (f"at least the sum of the Gaussian measures of the {wrong_cones} simplicial cones (P_{n}) and of the "
                f"{wrong_whole} whole cells (the conic Gauss-Bonnet identity) of the {wrong_cells} wrong cells "
                f"listed, at most 1 minus that of the {right_cones} simplicial cones and the {right_whole} whole "
                f"cells of the {right_cells} right cells listed (a partial certificate: cells not listed are not "
                "measured)")
    return (f"at least the sum of Gaussian orthant probabilities P_{n} of the {wrong_cones} simplicial cones of "
            f"the {wrong_cells} wrong cells listed, at most 1 minus that of the {right_cones} simplicial cones of "
            f"the {right_cells} right cells listed (a partial certificate: cells not listed are not measured)")
