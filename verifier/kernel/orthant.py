"""Orthant probabilities of simplicial cones as arb balls: the Gaussian measure P_n of a cone given by n normals,
n = 4 to 7, each by a pencil of half-hyperplanes through a face of the cone (an edge for P_4, a 3-face for P_5, a
4- or 5-face integrated by parts for P_6 and P_7), which leaves one rigorous one-dimensional integral
(`acb.integral`); the odd-n identity over the marginals is the fallback for n = 5 and 7.  `cone_bounds` turns a
cone's rays into exact rational bounds on its measure, retrying a cone too thin for the precision.  The argument
for each formula is in proofs/FORMAT.md ("Measure")."""

from __future__ import annotations

import contextlib
import itertools
import math
from fractions import Fraction

from .geometry import det, dot, null, primitive
from .measure import arb_module, bounds
from .work import check_deadline, memoized_map


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


def _balanced(V):
    """V_ij 2^(k_i + k_j) with the k_i >= 0 making the diagonal entries about the same size: the Gram matrix of
    the rays scaled by powers of two (exact), so that no quantity below cancels hundreds of bits."""
    n = len(V)
    top = max(V[i][i].bit_length() for i in range(n))
    k = [(top - V[i][i].bit_length()) // 2 for i in range(n)]
    return [[V[i][j] << (k[i] + k[j]) for j in range(n)] for i in range(n)]


def _edge_terms(V, edge):
    """The exact integers of the pencil formula for the edge (i, j) of the rays' Gram matrix V (see p4)."""
    i, j = edge
    k, l = (x for x in range(4) if x not in edge)
    W = [[V[a][b] for b in (i, j, k, l)] for a in (i, j, k, l)]
    b = W[0][0] * W[1][1] - W[0][1] ** 2

    def pi(p, q):  # b times the inner product of the projections of rays p, q off span(r_i, r_j)
        return b * W[p][q] - (W[p][0] * (W[1][1] * W[q][0] - W[0][1] * W[q][1])
                              + W[p][1] * (W[0][0] * W[q][1] - W[0][1] * W[q][0]))

    g1 = tuple(W[1][1] * W[0][q] - W[0][1] * W[1][q] for q in (2, 3))
    g2 = tuple(W[0][0] * W[1][q] - W[0][1] * W[0][q] for q in (2, 3))
    return W, b, (pi(2, 2), pi(2, 3), pi(3, 3)), g1, g2


def _float_gram(V):
    """V scaled into float range (for choosing an edge only)."""
    shift = max(abs(x).bit_length() for row in V for x in row) - 60
    return [[x / 2 ** shift if shift > 0 else float(x) for x in row] for row in V]


def _edge_score(F, edge) -> float:
    """How far the integrand's complex singularities stay from [0, 1]: the smallest sum of distances to 0 and 1
    (an ellipse with those foci) over the roots of H, S_1, S_2 and the atan branch points N_i^2 + b S_i, from
    the float Gram matrix F.  It only chooses among equally valid formulas, so floats are harmless here (+, -,
    *, / and math.sqrt are correctly rounded: the choice is the same on every IEEE machine)."""
    i, j = edge
    k, l = (x for x in range(4) if x not in edge)
    try:
        v00, v11, v01 = F[i][i], F[j][j], F[i][j]
        b = v00 * v11 - v01 * v01

        def pi(p, q):
            return b * F[p][q] - (F[p][i] * (v11 * F[q][i] - v01 * F[q][j]) + F[p][j] * (v00 * F[q][j] - v01 * F[q][i]))

        p33, p34, p44 = pi(k, k), pi(k, l), pi(l, l)
        a0, a1 = v11 * F[i][k] - v01 * F[j][k], v11 * F[i][l] - v01 * F[j][l]
        c0, c1 = v00 * F[j][k] - v01 * F[i][k], v00 * F[j][l] - v01 * F[i][l]
        H = (p33, 2 * (p34 - p33), p33 - 2 * p34 + p44)
        e1, e2 = (a0, a1 - a0), (c0, c1 - c0)
        S1 = (v11 * H[0] + e1[0] ** 2, v11 * H[1] + 2 * e1[0] * e1[1], v11 * H[2] + e1[1] ** 2)
        S2 = (v00 * H[0] + e2[0] ** 2, v00 * H[1] + 2 * e2[0] * e2[1], v00 * H[2] + e2[1] ** 2)
        n1 = (v01 * e1[0] + v11 * e2[0], v01 * e1[1] + v11 * e2[1])
        n2 = (v01 * e2[0] + v00 * e1[0], v01 * e2[1] + v00 * e1[1])
        A1 = (n1[0] ** 2 + b * S1[0], 2 * n1[0] * n1[1] + b * S1[1], n1[1] ** 2 + b * S1[2])
        A2 = (n2[0] ** 2 + b * S2[0], 2 * n2[0] * n2[1] + b * S2[1], n2[1] ** 2 + b * S2[2])
        best = math.inf
        for c0_, c1_, c2_ in (H, S1, S2, A1, A2):  # each positive on the real line: complex roots x +- iy
            if c2_ <= 0:
                return 0.0
            x = -c1_ / (2 * c2_)
            y = math.sqrt(max(4 * c2_ * c0_ - c1_ * c1_, 0.0)) / (2 * c2_)
            best = min(best, math.sqrt(x * x + y * y) + math.sqrt((x - 1) ** 2 + y * y))
        return best if best == best else 0.0
    except (ArithmeticError, ValueError):
        return 0.0


def _edge_order(V):
    """The six edges, smoothest integrand first: the ellipse score, lowered for an edge whose rays are within
    ~6 degrees of each other (there the integrand's two terms nearly cancel, and box enclosures widen)."""
    F = _float_gram(V)

    def key(e):
        i, j = e
        s12 = (F[i][i] * F[j][j] - F[i][j] ** 2) / (F[i][i] * F[j][j])
        return -_edge_score(F, e) * min(1.0, math.sqrt(max(s12, 0.0)) / 0.1)

    return sorted(itertools.combinations(range(4), 2), key=key)


def _guarded_integral(integrand, flint, prec, eval_limit=None):
    """int_0^1 integrand(t, analytic) dt by acb.integral, tolerance 2^-(prec - 19).  An exception raised in the
    integrand (Ctrl-C) is kept and re-raised once acb.integral returns: acb.integral swallows it and returns a
    value computed without the callback, which must never be used."""
    acb = flint.acb
    pending = []

    def f(t, analytic):
        if pending:
            return acb(0)  # end the integration quickly; its value is discarded below
        try:
            return integrand(t, analytic)
        except BaseException as exc:  # noqa: B036 - re-raised once acb.integral returns
            pending.append(exc)
            return acb(0)

    tol = flint.arb(2) ** (-(prec - 19))
    value = acb.integral(f, 0, 1, rel_tol=tol, abs_tol=tol, eval_limit=eval_limit)
    if pending:
        raise pending[0]
    return value


def _atan_logs(z, I_):
    """atan(z) = (i/2)(log(1 - iz) - log(1 + iz)), analyticity checked (for complex boxes)."""
    return I_ / 2 * ((1 - I_ * z).log(analytic=True) - (1 + I_ * z).log(analytic=True))


def _narrower(best, ball):
    """Of two balls of the same measure, the narrower finite one (`ball` when there is no `best` yet)."""
    if best is None or (ball.is_finite() and (not best.is_finite() or ball.rad() < best.rad())):
        return ball
    return best


def p4(G, flint, prec, edge=None, rays=None):
    """P(g_i . x >= 0, i = 1..4) for normals with the 4 x 4 integer Gram matrix G (positive definite): the
    Gaussian measure of the simplicial cone whose rays r_i have Gram matrix V = adj(G) (up to a positive
    factor), by the pencil formula of proofs/FORMAT.md: slice the cone by the half-hyperplanes through the
    plane P of an edge (r_i, r_j); the slices are 3-dimensional cones whose measure, under the Gaussian in P
    times the Rayleigh law across it, is elementary; one rigorous integral over the slices remains.  Every edge
    gives the same measure; unless `edge` names one, the edges are tried smoothest first until a ball is as
    narrow as the quadrature's tolerance allows (the narrowest one found is returned).  Given the cone's `rays`,
    their own Gram matrix is used instead of adj(G) (the same up to positive factors on the rays; smaller
    integers)."""
    V = _balanced([[dot(a, b) for b in rays] for a in rays] if rays is not None else _adjugate(G))
    if edge is not None:
        return _p4_edge(V, edge, flint, prec)
    return _p4_gram(V, flint, prec)


def _p4_gram(V, flint, prec):
    """P_4 of the cone whose rays have the (balanced) Gram matrix V: the edges smoothest first (see p4)."""
    best = None
    for tries, e in enumerate(_edge_order(V)):
        ball = _p4_edge(V, e, flint, prec, eval_limit=4000 if tries < 5 else None)
        best = _narrower(best, ball)
        if best.is_finite() and best.rad() < flint.arb(2) ** (-(prec - 30)):
            break
    return best


def _p4_edge(V, edge, flint, prec, eval_limit=None):
    """The pencil formula through the edge `edge` of the rays' (balanced) Gram matrix V."""
    arb, acb = flint.arb, flint.acb
    W, b, (p33, p34, p44), g1, g2 = _edge_terms(V, edge)
    dp = p33 * p44 - p34 ** 2
    pi = arb.pi()
    wedge = arb.atan2(arb(dp).sqrt(), arb(p34))  # the angle between the projections of r_k and r_l
    rho = -arb(W[0][1]) / arb(W[0][0] * W[1][1]).sqrt()
    const = wedge / (2 * pi) * (arb(1) / 4 + rho.asin() / (2 * pi))
    # the three quadratics of the integrand, positive on the whole real line, in vertex form c (t - t0)^2 + k:
    # H = b |projection of (1 - t) r_k + t r_l|^2 and S_i = W_ii H + e_i^2 with e_i = g_i . ((1 - t) r_k + t r_l)
    # (linear); evaluated so on complex boxes, t occurs once and the enclosures stay tight
    H = [p33, 2 * (p34 - p33), p33 - 2 * p34 + p44]
    e1, e2 = (g1[0], g1[1] - g1[0]), (g2[0], g2[1] - g2[0])
    S1 = [W[1][1] * H[0] + e1[0] ** 2, W[1][1] * H[1] + 2 * e1[0] * e1[1], W[1][1] * H[2] + e1[1] ** 2]
    S2 = [W[0][0] * H[0] + e2[0] ** 2, W[0][0] * H[1] + 2 * e2[0] * e2[1], W[0][0] * H[2] + e2[1] ** 2]

    def vertex(q):
        c0, c1, c2 = q
        return (arb(c2), arb(-c1) / (2 * c2), (arb(4 * c2 * c0 - c1 * c1) / (4 * c2)))

    quads = [vertex(q) for q in (H, S1, S2)]
    n1 = (W[0][1] * e1[0] + W[1][1] * e2[0], W[0][1] * e1[1] + W[1][1] * e2[1])  # m_i's numerators, linear
    n2 = (W[0][1] * e2[0] + W[0][0] * e1[0], W[0][1] * e2[1] + W[0][0] * e1[1])
    lin = [arb(x) for x in (e1[0], e1[1], e2[0], e2[1], n1[0], n1[1], n2[0], n2[1])]
    sb, sd = arb(b).sqrt(), arb(dp).sqrt()
    quarter, two_pi, I_ = arb(1) / 4, 2 * pi, acb(0, 1)

    def integrand(t, analytic):
        if not analytic and t.imag.is_zero():  # a quadrature point on the segment: real arithmetic there
            t = t.real
        else:
            analytic = True  # (a complex point is evaluated as on a box: its value, analyticity checked)
        (hc, ht, hk), (pc, pt, pk), (qc, qt, qk) = quads
        Hv, S1v, S2v = hc * (t - ht) ** 2 + hk, pc * (t - pt) ** 2 + pk, qc * (t - qt) ** 2 + qk
        a0, a1, c0, c1, k0, k1, l0, l1 = lin
        e1v, e2v = a0 + a1 * t, c0 + c1 * t
        s1 = S1v.sqrt(analytic=True) if analytic else S1v.sqrt()
        s2 = S2v.sqrt(analytic=True) if analytic else S2v.sqrt()
        m1 = -(k0 + k1 * t) / (sb * s1)
        m2 = -(l0 + l1 * t) / (sb * s2)
        if analytic:  # on a box acb.integral needs analyticity checked: atan(m) = (i/2)(log(1 - im) - log(1 + im))
            at1, at2 = _atan_logs(m1, I_), _atan_logs(m2, I_)
        else:
            at1, at2 = m1.atan(), m2.atan()
        v = sd / Hv * (e1v / s1 * (quarter + at1 / two_pi) + e2v / s2 * (quarter + at2 / two_pi))
        return v if analytic else acb(v)

    value = _guarded_integral(integrand, flint, prec, eval_limit)
    return const - value.real / (2 * pi)


def _adjugate(G):
    """The adjugate of a square integer matrix (exact)."""
    n = len(G)
    return [[(-1) ** (i + j) * det([[G[r][c] for c in range(n) if c != i] for r in range(n) if r != j])
             for j in range(n)] for i in range(n)]


def _quadratic(values):
    """The coefficients (c0, c1, c2) of the polynomial of degree <= 2 with values q(0), q(1), q(2): exact
    rationals from integers, floats from floats."""
    q0, q1, q2 = values
    if isinstance(q0, float):
        return q0, (-3 * q0 + 4 * q1 - q2) / 2, (q0 - 2 * q1 + q2) / 2
    return Fraction(q0), Fraction(-3 * q0 + 4 * q1 - q2, 2), Fraction(q0 - 2 * q1 + q2, 2)


def _float_det(rows):
    """Determinant of a float matrix of size <= 4 (explicit 3 x 3 formula; 4 x 4 along the first row)."""
    if len(rows) <= 3:
        return det(rows)  # the explicit formula of geometry.det (no division below 4 x 4)
    (a, b, c, d), *rest = rows
    return (a * det([r[1:] for r in rest]) - b * det([[r[0], r[2], r[3]] for r in rest])
            + c * det([[r[0], r[1], r[3]] for r in rest]) - d * det([r[:3] for r in rest]))


def _ball_of(flint, x: Fraction):
    return flint.arb(x.numerator) / x.denominator


class _Quad:
    """c0 + c1 t + c2 t^2 (exact rationals) evaluated with t occurring once: c2 (t - t0)^2 + k (vertex form)
    when c2 != 0, so that the enclosure on a complex box stays tight."""

    def __init__(self, flint, c):
        c0, c1, c2 = c
        self.c = c
        if c2:
            self.form = (_ball_of(flint, c2), _ball_of(flint, -c1 / (2 * c2)), _ball_of(flint, c0 - c1 * c1 / (4 * c2)))
        else:
            self.form = (None, _ball_of(flint, c0), _ball_of(flint, c1))

    def __call__(self, t):
        a, b, k = self.form
        return a * (t - b) ** 2 + k if a is not None else b + k * t


def _ellipse_score(c) -> float:
    """The smallest sum of distances to 0 and 1 over the complex roots of c0 + c1 t + c2 t^2 (inf if none), in
    floats: it only chooses among equally valid formulas."""
    top = max(abs(x) for x in c)
    if top == 0:
        return math.inf
    c0, c1, c2 = (x / top for x in c)
    if c2 == 0:
        if c1 == 0:
            return math.inf
        r = -c0 / c1
        return abs(r) + abs(r - 1)
    x = -c1 / (2 * c2)
    disc = 4 * c2 * c0 - c1 * c1
    y = math.sqrt(abs(disc)) / (2 * abs(c2))
    if disc < 0:  # two real roots x +- y
        return min(abs(r) + abs(r - 1) for r in (x - y, x + y))
    return math.sqrt(x * x + y * y) + math.sqrt((x - 1) ** 2 + y * y)  # (correctly rounded: same choice everywhere)


def _p5_pencil_terms(V, face, det_=det, exact=True):
    """The data of the pencil formula for P_5 through the 3-face `face` of the rays' Gram matrix V (5 x 5; exact
    integers, or floats to choose a face): b0 = det V_FF, the bordered determinants p_kk, p_kl, p_ll of the
    opposite edge (k, l) and the quadratic H(t) from them, and per ray f_m of the face the quadratics in t of the
    facet F_m(t) = cone(face - f_m, w(t)), w(t) = (1 - t) r_k + t r_l: det Gram(a, b, w) (N_m^2), a.w, b.w, and
    the adjugate entries A_4m, A_mm of Gram(face, w(t)) (from their values at t = 0, 1, 2; A_mm = N_m^2);
    floats and exact=False leave out A_4m (the score does not need it)."""
    F = list(face)
    k, l = (x for x in range(5) if x not in face)

    def bordered(x, y):
        return det_([[V[a][c] for c in F + [y]] for a in F + [x]])

    def gram(t):  # Gram(face, w(t)) at t = 0, 1, 2
        col = [(1 - t) * V[a][k] + t * V[a][l] for a in F]
        ww = (1 - t) ** 2 * V[k][k] + 2 * t * (1 - t) * V[k][l] + t * t * V[l][l]
        return [[V[a][c] for c in F] + [col[i]] for i, a in enumerate(F)] + [col + [ww]]

    def minor(g, r, c):
        return det_([[g[i][j] for j in range(4) if j != c] for i in range(4) if i != r])

    grams = [gram(t) for t in (0, 1, 2)]
    facets = []
    for m in range(3):
        i, j = (x for x in range(3) if x != m)
        facets.append({
            "ab": V[F[i]][F[j]], "aa": V[F[i]][F[i]], "bb": V[F[j]][F[j]],
            "N2": _quadratic([det_([[g[r][c] for c in (i, j, 3)] for r in (i, j, 3)]) for g in grams]),
            "aw": _quadratic([g[i][3] for g in grams]), "bw": _quadratic([g[j][3] for g in grams]),
            "A4m": _quadratic([(-1) ** (3 + m) * minor(g, m, 3) for g in grams]) if exact else None,
        })  # (A_mm, the minor of Gram(face, w) without f_m, is det Gram(a, b, w) = N_m^2 itself)
    pkk, pkl, pll = bordered(k, k), bordered(k, l), bordered(l, l)
    return {"b0": det_([[V[a][c] for c in F] for a in F]), "F": [[V[a][c] for c in F] for a in F],
            "p": (pkk, pkl, pll), "H": (pkk, 2 * (pkl - pkk), pkk - 2 * pkl + pll),
            "ww": _quadratic([g[3][3] for g in grams]), "facets": facets}


def vos_half_angle(flint, W):
    """Half the solid angle of the cone on three rays with Gram matrix W (integers), in any dimension:
    atan2(sqrt(det W), |a||b||c| + (a.b)|c| + (a.c)|b| + (b.c)|a|) (Van Oosterom-Strackee, with the triple
    product's absolute value written as the square root of the Gram determinant)."""
    arb = flint.arb
    na, nb, nc = (arb(W[i][i]).sqrt() for i in range(3))
    den = na * nb * nc + W[0][1] * nc + W[0][2] * nb + W[1][2] * na
    return arb.atan2(arb(det(W)).sqrt(), den)


def _vos3(flint, W):
    """The Gaussian measure of the 3-dimensional cone on three rays with Gram matrix W (integers) inside its own
    span: vos_half_angle / (2 pi)."""
    return vos_half_angle(flint, W) / (2 * flint.arb.pi())


def _p5_score(T) -> float:
    """How far the pencil integrand's complex singularities stay from [0, 1]: the smallest ellipse score of the
    quadratics H, |w|^2, N_m^2 = A_mm and of atan2's branch points (floats, only to choose among equally valid
    formulas)."""
    quads = [T["H"], T["ww"]]
    c0, c1, c2 = T["ww"]
    for f in T["facets"]:
        quads.append(f["N2"])
        for norm2, lin in ((f["aa"], f["aw"]), (f["bb"], f["bw"])):  # atan2's branch points: w(t) along +-a, +-b
            l0, l1, _ = lin
            quads.append((norm2 * c0 - l0 * l0, norm2 * c1 - 2 * l0 * l1, norm2 * c2 - l1 * l1))
    try:
        return min(_ellipse_score(c) for c in quads)
    except (ArithmeticError, ValueError):
        return 0.0


def p5(G, flint, prec, rays=None):
    """P(g_i . x >= 0, i = 1..5) for normals with the 5 x 5 integer Gram matrix G (positive definite), by the
    pencil formula through a 3-face (proofs/FORMAT.md): slice the simplicial cone by the half-hyperplanes through
    the span P of three of its rays; the slice through w(t) = (1 - t) r_k + t r_l is the 4-dimensional cone on
    the face and w(t), and its first moment across P is a sum of 3-dimensional solid angles (Van
    Oosterom-Strackee), so one rigorous one-dimensional integral of elementary functions remains:

        P_5 = alpha/(2 pi) gamma_3(face) + 1/(2 pi) int_0^1 sqrt(d)/H(t) sum_m gamma_3(F_m(t)) u.n_m(t) dt

    with alpha the angle between the projections of r_k and r_l off P, H(t) = |projection of w(t)|^2 (times
    det V_FF), and u.n_m = A_4m / sqrt(det V_FF A_mm) (adjugate entries of Gram(face, w(t)); A_mm = N_m^2).
    Faces are tried smoothest first until a ball is as narrow as the quadrature allows; if none is, the odd-n
    identity over five P_4 (`p5_identity`) decides.  The rays' Gram matrix is adj(G) up to positive factors on
    the rays (which do not change the cone); when the caller has the rays, their own Gram matrix is used (far
    smaller integers)."""
    V = _balanced([[dot(a, b) for b in rays] for a in rays] if rays is not None else _adjugate(G))
    return _p5_gram(V, flint, prec, G)


def _p5_gram(V, flint, prec, G=None):
    """P_5 of the cone whose rays have the (balanced) Gram matrix V (see p5); the identity's fallback uses the
    normals' Gram matrix G, adj(V) when not given (the same up to positive factors on the normals)."""
    Vf = [[x / 2 ** 60 for x in row] for row in _float_gram(V)]  # entries below 1 in size
    faces = sorted(itertools.combinations(range(5), 3),
                   key=lambda f: -_p5_score(_p5_pencil_terms(Vf, f, _float_det, exact=False)))
    best = None
    for face in faces[:3]:
        ball = _p5_face(_p5_pencil_terms(V, face), flint, prec, eval_limit=4000)
        best = _narrower(best, ball)
        if best.is_finite() and best.rad() < flint.arb(2) ** (-(prec - 30)):
            return best
    return _narrower(best, p5_identity(G if G is not None else _adjugate(V), flint, prec))


def _p5_face(T, flint, prec, eval_limit=None):
    """The pencil formula of `p5` for one face's exact data T (`_p5_pencil_terms`)."""
    arb, acb = flint.arb, flint.acb
    pi = arb.pi()
    b0 = T["b0"]
    pkk, pkl, pll = T["p"]
    dp = pkk * pll - pkl * pkl
    const = arb.atan2(arb(dp).sqrt(), arb(pkl)) / (2 * pi) * _vos3(flint, T["F"])
    H = _Quad(flint, tuple(map(Fraction, T["H"])))
    ww = _Quad(flint, T["ww"])
    facets = []
    for f in T["facets"]:
        na, nb = arb(f["aa"]).sqrt(), arb(f["bb"]).sqrt()
        facets.append((na * nb + f["ab"], na, nb, _Quad(flint, f["N2"]), _Quad(flint, f["aw"]), _Quad(flint, f["bw"]),
                       _Quad(flint, f["A4m"])))
    sd, sb0 = arb(dp).sqrt(), arb(b0).sqrt()
    half_pi, I_ = pi / 2, acb(0, 1)

    def integrand(t, analytic):
        if not analytic and t.imag.is_zero():  # a quadrature point on the segment: real arithmetic there
            t = t.real
        else:
            analytic = True
        sq = (lambda z: z.sqrt(analytic=True)) if analytic else (lambda z: z.sqrt())
        w = sq(ww(t))
        tot = 0
        for nab, na, nb, N2, aw, bw, A4m in facets:
            N = sq(N2(t))
            D = w * nab + nb * aw(t) + na * bw(t)
            if analytic:  # atan2(N, D) = pi/2 - atan(D/N) (N > 0 on the segment), atan by logarithms
                z = D / N
                ang = half_pi - _atan_logs(z, I_)
            else:
                ang = arb.atan2(N, D)
            tot += ang * A4m(t) / N  # u . n_m = A_4m / sqrt(b A_mm), A_mm = N^2 (the 1/sqrt(b) is outside)
        v = sd / (sb0 * H(t)) * tot
        return v if analytic else acb(v)

    value = _guarded_integral(integrand, flint, prec, eval_limit)
    return const + value.real / (4 * pi * pi)


def p5_identity(G, flint, prec):
    """P_5 by the odd-n identity over the marginals: (1 - 5/2 + sum P_2 - sum P_3 + sum P_4) / 2 (five P_4)."""
    return odd_identity(G, flint, prec)


def _asin_r(G, i, j, flint):
    """asin of the correlation of normals i and j (Gram matrix G)."""
    arb = flint.arb
    return (arb(G[i][j]) / (arb(G[i][i]) * arb(G[j][j])).sqrt()).asin()


def _p3_closed(G, c, flint):
    """The orthant probability of the three normals c: 1/8 + (asin r_ij + asin r_ik + asin r_jk) / (4 pi)."""
    i, j, k = c
    return flint.arb(1) / 8 + (_asin_r(G, i, j, flint) + _asin_r(G, i, k, flint) + _asin_r(G, j, k, flint)) / (
        4 * flint.arb.pi())


def odd_identity(G, flint, prec):
    """P_n for odd n (5 or 7) by the odd-n identity: P(all X_i > 0) = P(all X_i < 0) (symmetry) = sum over the
    subsets S of (-1)^|S| P(X_S > 0) (inclusion-exclusion), whose S = all term is -P_n, so
    P_n = (1 - n/2 + sum P_2 - sum P_3 + sum P_4 - sum P_5 + ...) / 2 over the marginals (sub-Gram matrices) of
    each size below n: P_2, P_3 in closed form (asin), P_4, P_5, P_6 by the pencil formulas."""
    arb = flint.arb
    n = len(G)

    def marginal(c):
        if len(c) == 2:
            return arb(1) / 4 + _asin_r(G, *c, flint) / (2 * arb.pi())
        if len(c) == 3:
            return _p3_closed(G, c, flint)
        sub = [[G[a][b] for b in c] for a in c]
        return {4: p4, 5: p5, 6: p6}[len(c)](sub, flint, prec)

    total = 1 - arb(n) / 2
    for size in range(2, n):
        part = sum((marginal(c) for c in itertools.combinations(range(n), size)), arb(0))
        total = total + part if size % 2 == 0 else total - part
    return total / 2


def _pencil_gram(V, order, t):
    """Gram matrix of (the n - 2 face rays, r_k, w(t)) with w(t) = (1 - t) r_k + t r_l, `order` = face + [k, l]
    (indices 0..n-3 the face, n-2 r_k, n-1 w(t))."""
    n = len(order)
    rows = [[V[a][c] for c in order] for a in order]
    col = [(1 - t) * rows[i][n - 2] + t * rows[i][n - 1] for i in range(n)]
    return [rows[i][:n - 1] + [col[i]] for i in range(n - 1)] + [col[:n - 1] + [(1 - t) * col[n - 2] + t * col[n - 1]]]


def _sub(g, rows, cols=None):
    return [[g[r][c] for c in (rows if cols is None else cols)] for r in rows]


def _rest_weight_data(rest, quad):
    """The exact data of P_{|rest|}(rho_rest.ij) / sqrt(det V_rest) for the rays `rest` (2 or 3 indices into the
    pencil Gram matrix; quadratics in t via `quad`): the conditional orthant probability of
    the other normals given the pair's, whose correlations are those of adj(V_rest) (the rest's normals given the
    pair have precision matrix proportional to V_rest)."""
    if len(rest) == 2:
        x, y = rest
        return ("2", quad(lambda g: g[x][x] * g[y][y] - g[x][y] ** 2), quad(lambda g: g[x][y]))
    x, y, z = rest  # B_ab = V_ab V_cc - V_ac V_bc = -adj(V_rest)_ab; asin(rho_ab) = -atan(B_ab / sqrt(det V_cc))
    return ("3", quad(lambda g: det(_sub(g, rest))),
            [(quad(lambda g, a=a, b=b, c=c: g[a][b] * g[c][c] - g[a][c] * g[b][c]), quad(lambda g, c=c: g[c][c]))
             for a, b, c in ((x, y, z), (x, z, y), (y, z, x))])


def _pencil_terms(V, face):
    """The exact data of the pencil formula for P_n (n = 6, 7) through the (n - 2)-face `face` of the (balanced)
    n x n rays' Gram matrix V (see p6): per face ray f_m, the quadratics in t of the facet cone
    F_m(t) = cone(face - f_m, w(t)) (its Gram determinant N_m^2 and adjugate C; per pair of its normals the data
    of the other normals' conditional P_{n-4}, constant when w(t) is in the pair, else shared by the facets and
    keyed by the face rays involved), the Van Oosterom-Strackee data of the triangle (f_m, r_k, w(t)) projected
    off span(face - f_m), and the Gram matrix of the end facet cone(face - f_m, r_l); every quadratic from its
    values at t = 0, 1, 2."""
    n = len(V)
    s, kk, ww = n - 2, n - 2, n - 1  # the face's size; r_k's and w's indices in the pencil Gram matrix
    order = list(face) + [x for x in range(n) if x not in face]
    gs = [_pencil_gram(V, order, t) for t in (0, 1, 2)]

    def quad(f):
        return _quadratic([f(g) for g in gs])

    facets, shared = [], {}
    for m in range(s):
        L = [x for x in range(s) if x != m]
        idx = L + [ww]
        d = {"N2": quad(lambda g: det(_sub(g, idx))), "C": {}, "pairs": {}}
        for i, j in itertools.combinations_with_replacement(range(s), 2):
            rr, cc = [idx[x] for x in range(s) if x != j], [idx[x] for x in range(s) if x != i]
            d["C"][i, j] = quad(lambda g: (-1) ** (i + j) * det(_sub(g, rr, cc)))
        for i, j in itertools.combinations(range(s), 2):
            rest = [idx[x] for x in range(s) if x not in (i, j)]
            if ww in rest:  # shared by every facet whose pair leaves these face rays and w(t)
                key = tuple(x for x in rest if x != ww)
                if key not in shared:
                    shared[key] = _rest_weight_data(rest, quad)
                d["pairs"][i, j] = ("shared", key)
            else:  # the other normals' rays are face rays: a constant
                d["pairs"][i, j] = ("const", _sub(gs[0], rest))

        def bordered(x, y):
            return lambda g: det(_sub(g, L + [x], L + [y]))

        d["vos"] = (bordered(m, m)(gs[0]), bordered(kk, kk)(gs[0]), bordered(m, kk)(gs[0]), quad(bordered(ww, ww)),
                    quad(bordered(m, ww)), quad(bordered(kk, ww)), det(_sub(gs[0], L)))
        d["end"] = _sub(gs[1], idx)  # w(1) = r_l
        facets.append(d)
    g0, g1 = gs[0], gs[1]
    face_idx, fk, fl = list(range(s)), list(range(s)) + [kk], list(range(s)) + [ww]
    return {"shared": shared, "F": _sub(g0, face_idx), "detV": det(V),
            "p": (det(_sub(g0, fk)), det(_sub(g1, fk, fl)), det(_sub(g1, fl))), "facets": facets}


def _float_det_n(rows) -> float:
    """Determinant of a small float matrix by elimination with partial pivoting (to choose a face only)."""
    m = [list(r) for r in rows]
    n, out = len(m), 1.0
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(m[i][k]))
        if m[p][k] == 0:
            return 0.0
        if p != k:
            m[k], m[p], out = m[p], m[k], -out
        out *= m[k][k]
        for i in range(k + 1, n):
            f = m[i][k] / m[k][k]
            for j in range(k + 1, n):
                m[i][j] -= f * m[k][j]
    return out


def _pencil_scores(Vf) -> dict:
    """Per (n - 2)-face, how far the pencil integrand's complex singularities stay from [0, 1] (floats, only to
    choose among equally valid formulas): the smallest ellipse score of the quadratics det Gram(S, w(t)) for
    the subsets S of the face with n - 5 to n - 2 rays (S = the face: H(t); n - 3: N_m^2; smaller: the C_ii and
    the pairs' conditional minors), each (1 - t)^2 det Gram(S + k) + 2 t (1 - t) det Gram(S + k, S + l) +
    t^2 det Gram(S + l)."""
    n = len(Vf)
    principal: dict = {}

    def pdet(T):
        if T not in principal:
            principal[T] = _float_det_n(_sub(Vf, T))
        return principal[T]

    out = {}
    for face in itertools.combinations(range(n), n - 2):
        k, l = (x for x in range(n) if x not in face)
        quads = []
        for size in range(max(1, n - 5), n - 1):
            for S in itertools.combinations(face, size):
                a, c = pdet(tuple(sorted(S + (k,)))), pdet(tuple(sorted(S + (l,))))
                b = _float_det_n(_sub(Vf, list(S) + [k], list(S) + [l]))
                quads.append((a, 2 * (b - a), a - 2 * b + c))
        try:
            out[face] = min(_ellipse_score(q) for q in quads)
        except (ArithmeticError, ValueError):
            out[face] = 0.0
    return out


def p6(G, flint, prec, rays=None):
    """P(g_i . x >= 0, i = 1..6) for normals with the 6 x 6 integer Gram matrix G (positive definite), by the
    pencil through a 4-face F (proofs/FORMAT.md, n = 6): as for n = 5 the slice through w(t) is the cone on F
    and w(t), whose first moment across F's span is a sum over its facets F_m(t) = cone(F - f_m, w(t)) of
    gamma_4(F_m(t)) u.n_m, now four P_4 that depend on t.  Integrating by parts against the closed-form
    antiderivative U_m of (1/2 pi) u.n_m d beta (a spherical-triangle area minus the azimuth:
    U_m(t) = (Omega_m(t) - beta(t)) / (2 pi)) leaves

        P_6 = theta/(2 pi) P_4(F) + sum_m [U_m(1) P_4(F_m(1)) - int_0^1 U_m(t) dP_4(F_m(t))/dt dt]

    where dP_4/dt is elementary by Plackett's identity (the derivative of an orthant probability in a
    correlation is phi_2 times a 2-dimensional orthant probability): five P_4 and one integral of elementary
    functions.  Faces are tried smoothest first; the narrowest ball found is returned."""
    if len(G) != 6:
        raise ValueError(f"p6 measures a 6-dimensional cone, not {len(G)}")
    return _pencil(G, flint, prec, rays)


def p7(G, flint, prec, rays=None):
    """P_7 by the same pencil through a 5-face (proofs/FORMAT.md, n = 7): six P_5 and one integral whose
    integrand is elementary because dP_5/dt is, by Plackett's identity, a sum of phi_2 times conditional P_3
    (closed form).  If no face gives a narrow ball, the odd-n identity over the marginals (`odd_identity`)
    decides; the narrowest ball is returned."""
    if len(G) != 7:
        raise ValueError(f"p7 measures a 7-dimensional cone, not {len(G)}")
    best = _pencil(G, flint, prec, rays)
    if best.is_finite() and best.rad() < flint.arb(2) ** (-(prec - 30)):
        return best
    return _narrower(best, odd_identity(G, flint, prec))


def _pencil(G, flint, prec, rays=None):
    """P_n (n = 6, 7) by the pencil through an (n - 2)-face: the four faces that score best, smoothest first,
    until a ball is narrower than 2^-(prec - 30); the narrowest ball found."""
    V = _balanced([[dot(a, b) for b in rays] for a in rays] if rays is not None else _adjugate(G))
    scores = _pencil_scores([[x / 2 ** 60 for x in row] for row in _float_gram(V)])
    faces = sorted(scores, key=lambda f: -scores[f])
    best = None
    for tries, face in enumerate(faces):  # four faces, then (a very thin cone) the others with an evaluation limit
        ball = _pencil_face(_pencil_terms(V, face), flint, prec, eval_limit=None if tries == 3 else 3000)
        best = _narrower(best, ball)
        if best.is_finite() and best.rad() < flint.arb(2) ** (-(prec - 30)):
            break
        if tries >= 3 and best.is_finite() and best.rad() < flint.arb(2) ** (-(prec - 40)):
            break
    return best


def _orthant_gram(V, flint, prec):
    """P_4 or P_5 of the cone whose rays have the Gram matrix V (the face and end facets of the pencil)."""
    return (_p4_gram if len(V) == 4 else _p5_gram)(_balanced(V), flint, prec)


def _pencil_face(T, flint, prec, eval_limit=None):
    """The pencil formula of `p6` / `p7` for one face's exact data T (`_pencil_terms`)."""
    arb, acb = flint.arb, flint.acb
    pi = arb.pi()
    two_pi, half_pi, I_ = 2 * pi, pi / 2, acb(0, 1)
    quarter, eighth, four_pi = arb(1) / 4, arb(1) / 8, 4 * pi
    pkk, pkl, pll = T["p"]
    sd = arb(pkk * pll - pkl * pkl).sqrt()
    theta = arb.atan2(sd, arb(pkl))  # the angle between the projections of r_k and r_l off the face's span
    value = theta / two_pi * _orthant_gram(T["F"], flint, prec)
    cvol = arb(T["detV"]).sqrt()

    def q(c):
        return _Quad(flint, tuple(map(Fraction, c)))

    def atan2_(N, D, analytic):
        """atan2(N, D) for N = (positive) * t: real, or on a box the analytic continuation from the segment."""
        if not analytic:
            return arb.atan2(N, D)
        if D.real.lower() > 0:
            return _atan_logs(N / D, I_)
        return half_pi - _atan_logs(D / N, I_)  # N > 0 on the box's part of the segment (not t = 0)

    def sqrt_(z, analytic):
        return z.sqrt(analytic=True) if analytic else z.sqrt()

    def atan_(z, analytic):
        return _atan_logs(z, I_) if analytic else z.atan()

    def weight(data, t, analytic):
        """P_{|rest|}(the other normals given the pair) / sqrt(det V_rest), from exact quadratics."""
        if data[0] == "2":  # P_2 = 1/4 - atan(V_xy / sqrt(M)) / (2 pi)
            _, mq, vq = data
            sm = sqrt_(mq(t), analytic)
            return (quarter - atan_(vq(t) / sm, analytic) / two_pi) / sm
        _, dq, parts = data  # P_3 = 1/8 - sum atan(B_ab / sqrt(det V_cc)) / (4 pi)
        sdet = sqrt_(dq(t), analytic)
        tot = 0
        for bq, cq in parts:
            tot += atan_(bq(t) / (sdet * sqrt_(cq(t), analytic)), analytic)
        return (eighth - tot / four_pi) / sdet

    def const_data(g):
        """The same data with constant entries (the other normals' rays are face rays)."""
        if len(g) == 2:
            return ("2", q((g[0][0] * g[1][1] - g[0][1] ** 2, 0, 0)), q((g[0][1], 0, 0)))
        return ("3", q((det(g), 0, 0)), [(q((g[a][b] * g[c][c] - g[a][c] * g[b][c], 0, 0)), q((g[c][c], 0, 0)))
                                         for a, b, c in ((0, 1, 2), (0, 2, 1), (1, 2, 0))])

    def shared_data(data):
        if data[0] == "2":
            return ("2", q(data[1]), q(data[2]))
        return ("3", q(data[1]), [(q(b), q(c)) for b, c in data[2]])

    shared_keys = sorted(T["shared"])
    shared = [shared_data(T["shared"][key]) for key in shared_keys]
    slot = {key: x for x, key in enumerate(shared_keys)}
    facets = []
    for d in T["facets"]:
        keys = sorted(d["C"])  # the adjugate's entries (i <= j), in a fixed order
        pos = {key: x for x, key in enumerate(keys)}
        size = max(i for i, _ in keys) + 1
        C = ([(q(d["C"][key]), _ball_of(flint, Fraction(d["C"][key][1])), _ball_of(flint, 2 * Fraction(d["C"][key][2])))
              for key in keys], [pos[i, i] for i in range(size)])
        pairs = []
        for (i, j), other in d["pairs"].items():
            if other[0] == "shared":  # computed once per point for all facets
                pairs.append((pos[i, j], i, j, slot[other[1]], None))
            else:
                pairs.append((pos[i, j], i, j, None, weight(const_data(other[1]), arb(0), False)))
        baa, bbb, bab, bcc, bac, bbc, bl = d["vos"]
        vos = (arb(baa).sqrt(), arb(bbb).sqrt(), arb(bab), q(bcc), q(bac), q(bbc), cvol * bl)
        facets.append((C, q(d["N2"]), pairs, vos))

    def U(vos, t, beta, analytic):
        """(Omega_m(t) - beta(t)) / (2 pi): Omega_m the area of the spherical triangle (f_m, r_k, w(t)) off
        span(face - f_m) by Van Oosterom-Strackee, 2 atan2(t sqrt(det V) b_L, den)."""
        sa, sb, bab, bcc, bac, bbc, c = vos
        scc = sqrt_(bcc(t), analytic)
        den = sa * sb * scc + bab * scc + bac(t) * sb + bbc(t) * sa
        return (2 * atan2_(c * t, den, analytic) - beta) / two_pi

    def dP(C, N2, pairs, t, analytic, weights):
        """dP(F_m(t))/dt = sum over pairs (i, j) of its normals of R_ij' phi_2(R_ij) P(others | pair), with
        R_ij = C_ij / sqrt(C_ii C_jj), 1 - R_ij^2 = N^2 det V_rest / (C_ii C_jj) (Jacobi); sqrt(N^2 det V_rest)
        = N sqrt(det V_rest) (on a box both factors continue the positive roots)."""
        quads, diag = C
        val = [c(t) for c, _, _ in quads]
        der = [c1 + c2 * t for _, c1, c2 in quads]
        ratio = [der[x] / val[x] for x in diag]  # C_ii' / C_ii
        tot = 0
        for x, i, j, f, const in pairs:
            tot += (der[x] - val[x] * (ratio[i] + ratio[j]) / 2) * (const if f is None else weights[f])
        return tot / (two_pi * sqrt_(N2(t), analytic))

    def integrand(t, analytic):
        if not analytic and t.imag.is_zero():  # a quadrature point on the segment: real arithmetic there
            t = t.real
        else:
            analytic = True
        beta = atan2_(t * sd, (1 - t) * pkk + t * pkl, analytic)
        weights = [weight(data, t, analytic) for data in shared]
        tot = 0
        for C, N2, pairs, vos in facets:
            tot += U(vos, t, beta, analytic) * dP(C, N2, pairs, t, analytic, weights)
        return tot if analytic else acb(tot)

    one = arb(1)
    for (C, N2, pairs, vos), d in zip(facets, T["facets"]):
        value += U(vos, one, theta, False) * _orthant_gram(d["end"], flint, prec)
    return value - _guarded_integral(integrand, flint, prec, eval_limit).real


def orthant(normals, flint, prec, rays=None):
    """P(g_i . x >= 0 for all i) for n = 4 (the pencil formula through an edge, `p4`), n = 5 (the pencil
    formula through a 3-face, `p5`), n = 6 (through a 4-face, integrated by parts, `p6`) or n = 7 (the odd-n
    identity over the marginals, `odd_identity`); `rays`, if given, are the cone's rays (g_i . r_j = 0 for i != j,
    g_i . r_i > 0)."""
    G = [[dot(a, b) for b in normals] for a in normals]
    if len(normals) == 4:
        return p4(G, flint, prec, rays=rays)
    if len(normals) == 5:
        return p5(G, flint, prec, rays)
    if len(normals) == 6:
        return p6(G, flint, prec, rays)
    if len(normals) == 7:
        return p7(G, flint, prec, rays)
    raise ValueError(f"no orthant measure for n = {len(normals)}")  # the method rule admits n = 4 to 7 only


def cone_bounds(rays, prec: int, normals=None) -> tuple[Fraction, Fraction]:
    """Exact rational bounds of one simplicial cone's Gaussian measure, from its arb ball at prec bits, or also at
    2 prec when the ball at prec is not finite or wider than 2^-(prec - 40) (a very thin cone can defeat the
    quadrature at prec: retrying that one cone is far cheaper than re-integrating every cone at the next
    precision; the two enclosures are intersected).  When even that is wide, the bounds are also intersected
    with [0, the smallest orthant probability of three or of n - 1 of its normals] (the cone lies inside the
    half-spaces of any subset of its normals), which is the whole answer when neither ball is finite.  `normals`:
    simplex_normals(rays), when the caller has them already."""
    flint = arb_module()
    normals = simplex_normals(rays) if normals is None else normals
    lo, hi = Fraction(0), Fraction(1, 2)  # a pointed cone lies in an open half-space
    for p in (prec, 2 * prec):
        with flint.ctx.workprec(p):
            ball = orthant(normals, flint, p, rays)
            if ball.is_finite():
                a, b = bounds(ball)
                if ball.rad() < flint.arb(2) ** (-(p - 40)):
                    return (a, b) if p == prec else (max(lo, a), min(hi, b))
                lo, hi = max(lo, a), min(hi, b)
    with flint.ctx.workprec(prec):
        cap = _marginal_cap(normals, flint, prec)
    return lo, max(lo, min(hi, cap))


def _marginal_cap(normals, flint, prec) -> Fraction:
    """An exact upper bound of the cone's measure from its marginals: the cone lies inside the half-spaces of
    any subset of its normals, so its measure is at most the smallest orthant probability of three of them
    (P_3 = 1/8 + (asin r_ij + asin r_ik + asin r_jk) / (4 pi), closed form) or of n - 1 of them (P_{n-1} by the
    formulas above, n >= 5)."""
    G = [[dot(a, b) for b in normals] for a in normals]
    best = Fraction(1, 2)
    n = len(normals)
    for c in itertools.combinations(range(n), 3):
        ball = _p3_closed(G, c, flint)
        if ball.is_finite():
            best = min(best, bounds(ball)[1])
    if n >= 5:
        for S in itertools.combinations(range(n), n - 1):
            ball = orthant([normals[i] for i in S], flint, prec)
            if ball.is_finite():
                best = min(best, bounds(ball)[1])
    return best


def _cone_task(args):
    return cone_bounds(*args)


_MEMO: dict = {}  # (rays, prec) -> cone_bounds(rays, prec), for this process


def each_cone_bounds(cones, prec: int, workers, stack: contextlib.ExitStack):
    """cone_bounds(rays, prec) of each cone, in the cones' order, computed on the caller's ordered map (e.g. a
    Ray cluster: the work is ours), on a local process pool entered into `stack` (work.mapper), or here.  Memoized per
    process (work.memoized_map): cone_bounds is a pure function of the rays and the precision, so a cone measured
    once in this process (by the generator, say, moments before its built-in self-check) is not integrated again;
    `check` in a fresh process recomputes every cone.  The key is the primitive rays: cone_bounds depends on the
    rays' directions only (simplex_normals returns primitive normals)."""
    keys = [(tuple(primitive(r) for r in rays), prec) for rays in cones]  # a ray's scale does not matter
    yield from memoized_map(_MEMO, keys, _cone_task, workers, stack)


def orthant_bounds(cones, complement: bool, deadline=None, workers: int = 1):
    """fn(prec): exact rational bounds of the sum of the cones' orthant probabilities (or of 1 minus it).
    Each cone's ball becomes exact dyadic bounds and the bounds are added as exact rationals, so the result
    is the same whatever the number of worker processes (and no rounding enters the sum)."""
    def fn(prec):
        lo = hi = Fraction(0)
        check_deadline(deadline)
        with contextlib.ExitStack() as stack:
            for a, b in each_cone_bounds(cones, prec, workers, stack):  # the deadline is checked between cones
                check_deadline(deadline)
                lo, hi = lo + a, hi + b
        return (1 - hi, 1 - lo) if complement else (lo, hi)

    return fn
