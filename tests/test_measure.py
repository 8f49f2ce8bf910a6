"""Measures: rounding direction, closed forms with known values, orthant probabilities against
independent closed forms (block-diagonal correlations factor into lower-dimensional orthants)."""

from __future__ import annotations

import copy
import itertools
import math
import random
from fractions import Fraction

import pytest

import verifier
from verifier.cells.measure import (arb_to_bounds, orthant_ball, round_outward, spherical_sum_ball, spherical_terms,
                              wedge_angle_sum_ball)


def test_round_outward_directions():
    lo, hi = Fraction(1, 3), Fraction(1, 3)
    rlo, rhi = round_outward(lo - Fraction(1, 10 ** 40), hi + Fraction(1, 10 ** 40), 10)
    assert rlo <= Fraction(1, 3) <= rhi and rhi - rlo <= Fraction(2, 10 ** 10)
    rlo, rhi = round_outward(Fraction(-2, 7), Fraction(-2, 7), 12)
    assert rlo <= Fraction(-2, 7) <= rhi


def contains(ball, value: Fraction) -> bool:
    lo, hi = arb_to_bounds(ball)
    return lo <= value <= hi


def test_quarter_wedge_and_octant():
    assert contains(wedge_angle_sum_ball([((1, 0), (0, 1))], 128), Fraction(1, 4))
    assert contains(wedge_angle_sum_ball([((1, 0), (-1, 0))], 128), Fraction(1, 2))  # angle exactly pi
    terms = spherical_terms([[(1, 0, 0), (0, 1, 0), (0, 0, 1)]])
    assert contains(spherical_sum_ball(terms, 128), Fraction(1, 8))
    # the octant as a quadrilateral fan (split by the ray (1, 1, 0)): still 1/8
    terms = spherical_terms([[(1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1)]])
    assert contains(spherical_sum_ball(terms, 128), Fraction(1, 8))


def _p2(r):
    return 0.25 + math.asin(r) / (2 * math.pi)


def _p3(r12, r13, r23):
    return 0.125 + (math.asin(r12) + math.asin(r13) + math.asin(r23)) / (4 * math.pi)


def _rho(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(x * x for x in b))


def test_orthant_identity_is_one_sixteenth():
    e = [tuple(int(i == j) for j in range(4)) for i in range(4)]
    assert contains(orthant_ball(e, 64), Fraction(1, 16))
    e5 = [tuple(int(i == j) for j in range(5)) for i in range(5)]
    assert contains(orthant_ball(e5, 64), Fraction(1, 32))


@pytest.mark.parametrize("seed", range(6))
def test_p4_block_diagonal_factorises(seed):
    rng = random.Random(seed)

    def vec2():
        while True:
            v = (rng.randint(-9, 9), rng.randint(-9, 9))
            if any(v):
                return v

    a, b, c, d = vec2(), vec2(), vec2(), vec2()
    if a[0] * b[1] == a[1] * b[0] or c[0] * d[1] == c[1] * d[0]:
        pytest.skip("dependent normals drawn")
    normals = [(a[0], a[1], 0, 0), (b[0], b[1], 0, 0), (0, 0, c[0], c[1]), (0, 0, d[0], d[1])]
    expected = _p2(_rho(a, b)) * _p2(_rho(c, d))
    lo, hi = arb_to_bounds(orthant_ball(normals, 64))
    assert hi - lo < Fraction(1, 10 ** 12)
    assert abs(float((lo + hi) / 2) - expected) < 1e-12


def test_p5_block_factorises():
    g = [(2, 1, 0, 0, 0), (1, 2, 0, 0, 0), (0, 0, 1, 1, 0), (0, 0, 0, 1, 2), (0, 0, 1, -1, 1)]
    expected = _p2(_rho(g[0], g[1])) * _p3(_rho(g[2], g[3]), _rho(g[2], g[4]), _rho(g[3], g[4]))
    lo, hi = arb_to_bounds(orthant_ball(g, 64))
    assert abs(float((lo + hi) / 2) - expected) < 1e-12 and hi - lo < Fraction(1, 10 ** 12)


def test_p4_against_monte_carlo_on_a_thin_cone():
    """A thin (nearly singular) cone, as cells of trained models are: compare with sampling (5 sigma)."""
    import numpy as np

    normals = [(1000, 999, 3, 1), (-999, -1000, 2, 3), (1, 2, 1000, -7), (3, -1, 5, 900)]
    lo, hi = arb_to_bounds(orthant_ball(normals, 64))
    p = float((lo + hi) / 2)
    rng = np.random.default_rng(0)
    N = 4_000_000
    x = rng.standard_normal((N, 4))
    inside = np.all(x @ np.array(normals, dtype=float).T >= 0, axis=1).mean()
    assert abs(inside - p) <= 5 * math.sqrt(p * (1 - p) / N)


def _n4_model():
    from verifier.loading.model import RNN

    return RNN.make([[1]], [[Fraction(1, 2)]], [[1], [2], [3], [4]], seq_len=4)


def test_n4_model_certified_checked_and_sampled():
    from test_cones import assert_matches_sampling, consistency_at_random_points

    rnn = _n4_model()
    res = verifier.certify(rnn)
    assert res.error_upper - res.error_lower < Fraction(1, 10 ** 9)
    assert verifier.check(res.certificate).accepted
    consistency_at_random_points(rnn, "2nd_argmax", res.certificate, points=100)
    assert_matches_sampling(res, rnn, "2nd_argmax")


def test_n4_triangulation_tampering_rejected():
    res = verifier.certify(_n4_model())
    doc = res.certificate
    cell = next(c for c in doc["cells"] if len(c.get("simplices", [])) > 1)
    d = copy.deepcopy(doc)
    c = next(x for x in d["cells"] if x == cell)
    del c["simplices"][0]
    v = verifier.check(d)
    assert not v.accepted and v.rule == "triangulation"
    d = copy.deepcopy(doc)
    c = next(x for x in d["cells"] if x == cell)
    c["simplices"].append(list(c["simplices"][0]))
    v = verifier.check(d)
    assert not v.accepted and v.rule == "triangulation"
    d = copy.deepcopy(doc)
    d["measured"] = "wrong" if d["measured"] == "right" else "right"
    assert not verifier.check(d).accepted


# Known answers derived by hand for the d = 1 model h_t = relu(x_t) with readout l_k = (k + 1) h_{n-1}:
# if x_{n-1} > 0 the model predicts position n - 1 (largest coefficient), otherwise all logits are 0 and
# torch's rule predicts position 0.  With u = Phi(t) and i.i.d. N(0, 1) inputs:
#   argmax, right = P(x_{n-1} max, x_{n-1} > 0) + P(x_0 max, x_{n-1} <= 0)
#     n = 4: (1/4 - 1/64) + (1/64 + 1/2 int_{1/2}^1 u^2 du = 7/48) = 19/48     -> error 29/48
#     n = 5: (1/5 - 1/160) + (1/160 + 1/2 int_{1/2}^1 u^3 du = 15/128)          -> error 437/640
#   2nd argmax, right = P(x_{n-1} 2nd, x_{n-1} > 0) + P(x_0 2nd, x_{n-1} <= 0)
#     n = 4: (1/4 - 3 int_0^{1/2} (1-u) u^2 du) + (int_0^{1/2} u^2 (1/2 - u) du
#            + 2 int_0^{1/2} (1-u) u^2 du + int_{1/2}^1 (1-u) u du) = 11/64 + 9/64    -> error 11/16
#     n = 5: (1/5 - 3/80) + (1/640 + 9/320 + 11/128) = 13/80 + 37/320               -> error 231/320
# The no-input model (all logits 0, always position 0) errs with probability (n - 1)/n for both tasks.
@pytest.mark.parametrize("n,task,expected", [
    (4, "argmax", Fraction(29, 48)), (4, "2nd_argmax", Fraction(11, 16)),
    (5, "argmax", Fraction(437, 640)), (5, "2nd_argmax", Fraction(231, 320)),
])
def test_orthant_measure_known_answers_n4_n5(n, task, expected):
    from verifier.loading.model import RNN

    rnn = RNN.make([[1]], [[0]], [[k + 1] for k in range(n)], seq_len=n)
    res = verifier.certify(rnn, task=task)
    assert res.error_lower <= expected <= res.error_upper
    assert res.error_upper - res.error_lower < Fraction(1, 10 ** 9)
    assert verifier.check(res.certificate).accepted


@pytest.mark.parametrize("n", [4, 5])
def test_no_input_model_errs_n_minus_one_over_n(n):
    from verifier.loading.model import RNN

    res = verifier.certify(RNN.make([[0]], [[1]], [[0]] * n, seq_len=n))
    assert res.error_lower <= Fraction(n - 1, n) <= res.error_upper
    assert res.error_upper - res.error_lower < Fraction(1, 10 ** 9)


# A thin cone found by the fuzz campaign (d = 1, W_hh = 2^20, seq_len 4): at 80 bits Plackett's quadrature gave
# no finite ball, which crashed the generator (ValueError from man_exp) before; the pencil formula encloses it.
THIN_CONE = [(0, 0, 0, -1), (1, -1048576, -1048576, -1048576), (1048577, -1099511627776, -1099511627776,
             -1099511627776), (0, 0, -1, -1)]


def test_a_thin_cone_gets_sound_bounds_in_generator_and_kernel(monkeypatch):
    from verifier.kernel import orthant as KM

    lo, hi = KM.cone_bounds(THIN_CONE, 80)
    assert 0 < lo <= hi < Fraction(1, 10 ** 14) and hi - lo < Fraction(1, 10 ** 16)
    klo, khi = KM.cone_bounds(THIN_CONE, 160)
    assert max(lo, klo) <= min(hi, khi)  # the 80- and 160-bit enclosures overlap
    assert khi - klo < Fraction(1, 10 ** 28)
    # a ball that is not finite at the precision asked for is retried, for that cone alone, at twice it
    real = KM.orthant
    monkeypatch.setattr(KM, "orthant", lambda normals, flint, prec, rays=None: flint.arb("nan") if prec == 80
                        else real(normals, flint, prec, rays))
    assert KM.cone_bounds(THIN_CONE, 80) == (klo, khi)
    # finite but wide at 80 bits: retried at 160, and the two enclosures intersected
    monkeypatch.setattr(KM, "orthant", lambda normals, flint, prec, rays=None: flint.arb(0, 1) if prec == 80
                        else real(normals, flint, prec, rays))
    assert KM.cone_bounds(THIN_CONE, 80) == (klo, khi)
    # not finite at either: [0, the smallest closed-form P_3 of three normals] (at most 1/2: a pointed cone lies
    # in a half-space), which contains the measure
    monkeypatch.setattr(KM, "orthant", lambda normals, flint, prec, rays=None: flint.arb("nan"))
    zlo, zhi = KM.cone_bounds(THIN_CONE, 80)
    assert zlo == 0 and khi <= zhi <= Fraction(1, 2)


def _random_simplex(rng, n):
    """n random integer rays in general position (a simplicial cone)."""
    from verifier.kernel.geometry import det

    while True:
        rays = [tuple(rng.randint(-12, 12) for _ in range(n)) for _ in range(n)]
        if det([list(r) for r in rays]):
            return rays


@pytest.mark.parametrize("seed", range(4))
def test_p4_is_the_same_through_every_edge(seed):
    """The pencil formula slices the cone through one of its six edges; each edge gives a different integrand
    and constant term but the same measure, so a slip in the formula would show as disagreeing balls."""
    import flint

    from verifier.kernel.geometry import dot
    from verifier.kernel.orthant import p4, simplex_normals

    rays = _random_simplex(random.Random(100 + seed), 4)
    normals = simplex_normals(rays)
    G = [[dot(a, b) for b in normals] for a in normals]
    with flint.ctx.workprec(80):
        balls = [p4(G, flint, 80, edge) for edge in itertools.combinations(range(4), 2)]
    for ball in balls:
        assert ball.is_finite() and float(ball.rad()) < 1e-15
        assert all(ball.overlaps(other) for other in balls)
    assert 0 < float(balls[0].mid()) < 0.5


@pytest.mark.parametrize("seed", range(4))
def test_p5_pencil_agrees_with_the_odd_n_identity_through_every_face(seed):
    """P_5 by the pencil through a 3-face (ten faces: ten different integrands and constant terms) and by the
    odd-n identity over five P_4 (a different formula altogether) are the same measure: every ball overlaps."""
    import flint

    from verifier.kernel.geometry import dot
    from verifier.kernel.orthant import (_adjugate, _balanced, _p5_face, _p5_pencil_terms, p5, p5_identity,
                                         simplex_normals)

    rays = _random_simplex(random.Random(200 + seed), 5)
    normals = simplex_normals(rays)
    G = [[dot(a, b) for b in normals] for a in normals]
    V = _balanced(_adjugate(G))
    with flint.ctx.workprec(80):
        balls = [_p5_face(_p5_pencil_terms(V, f), flint, 80) for f in itertools.combinations(range(5), 3)]
        balls += [p5(G, flint, 80), p5(G, flint, 80, rays), p5_identity(G, flint, 80)]
    for ball in balls:
        assert ball.is_finite() and float(ball.rad()) < 1e-12
        assert all(ball.overlaps(other) for other in balls)
    assert 0 < float(balls[0].mid()) < 0.5


# Known answers, derived by hand: (1) normals with pairwise correlation 1/2 (Gram 2 on the diagonal, 1 off it):
# the cone {x : g_i . x >= 0} is that of X_i = Z_0 + Z_i (i.i.d. Z), and P(all X_i >= 0) = P(Z_0 + Z_i >= 0 for
# all i) = 1/(n + 1) (the orthant probability of equicorrelation 1/2; for n = 5, 1/6).  (2) The chamber
# x_1 > x_2 > ... > x_5 with x_1 > 0: 1/120 minus the chance that all five are negative and sorted,
# (1/32)(1/120).
def test_p5_known_answers():
    import flint

    from verifier.kernel.orthant import p5

    equi = [[2 if i == j else 1 for j in range(5)] for i in range(5)]
    chamber = [tuple(1 if j == i else -1 if j == i + 1 else 0 for j in range(5)) for i in range(4)] + [(1, 0, 0, 0, 0)]
    G = [[sum(a * b for a, b in zip(r, s)) for s in chamber] for r in chamber]
    with flint.ctx.workprec(80):
        for gram, expected in ((equi, Fraction(1, 6)), (G, Fraction(31, 32 * 120))):
            lo, hi = arb_to_bounds(p5(gram, flint, 80))
            assert lo <= expected <= hi and hi - lo < Fraction(1, 10 ** 15)


@pytest.mark.parametrize("seed", range(2))
def test_p6_is_the_same_through_every_face(seed):
    """P_6 through a 4-face (fifteen faces: fifteen different integrands, end terms and constant terms) is one
    measure: every finite ball overlaps every other, and the kernel's choice (`p6`) is among them."""
    import flint

    from verifier.kernel.geometry import dot
    from verifier.kernel.orthant import _balanced, _pencil_face, _pencil_terms, p6, simplex_normals

    rays = _random_simplex(random.Random(300 + seed), 6)
    normals = simplex_normals(rays)
    G = [[dot(a, b) for b in normals] for a in normals]
    V = _balanced([[dot(a, b) for b in rays] for a in rays])
    with flint.ctx.workprec(80):
        balls = [_pencil_face(_pencil_terms(V, f), flint, 80, eval_limit=20000) for f in itertools.combinations(range(6), 4)]
        chosen = p6(G, flint, 80, rays)
    finite = [b for b in balls if b.is_finite() and float(b.rad()) < 1e-12]
    assert len(finite) >= 10 and chosen.is_finite() and float(chosen.rad()) < 1e-15
    for ball in finite + [chosen]:
        assert all(ball.overlaps(other) for other in finite)
    assert 0 < float(chosen.mid()) < 0.5


# Known answers for n = 6, derived by hand: the orthant (identity Gram) 1/64; equicorrelation 1/2: 1/(n + 1) = 1/7
# (as for n = 5 above); the chamber x_1 > ... > x_6 with x_1 > 0: 1/720 minus (1/64)(1/720) (all six negative
# and sorted); two independent blocks of three normals: the product of their closed-form P_3.
def test_p6_known_answers():
    import flint

    from verifier.kernel.orthant import p6

    identity = [[int(i == j) for j in range(6)] for i in range(6)]
    equi = [[2 if i == j else 1 for j in range(6)] for i in range(6)]
    chamber = [tuple(1 if j == i else -1 if j == i + 1 else 0 for j in range(6)) for i in range(5)] + [(1, 0, 0, 0, 0, 0)]
    gram = [[sum(a * b for a, b in zip(r, s)) for s in chamber] for r in chamber]
    with flint.ctx.workprec(80):
        for G, expected in ((identity, Fraction(1, 64)), (equi, Fraction(1, 7)), (gram, Fraction(63, 64 * 720))):
            lo, hi = arb_to_bounds(p6(G, flint, 80))
            assert lo <= expected <= hi and hi - lo < Fraction(1, 10 ** 15)


def test_p6_blocks_factorise():
    g = [(2, 1, 0, 0, 0, 0), (1, -1, 3, 0, 0, 0), (0, 1, 1, 0, 0, 0),
         (0, 0, 0, 1, 1, 0), (0, 0, 0, 0, 1, 2), (0, 0, 0, 1, -1, 1)]
    expected = (_p3(_rho(g[0], g[1]), _rho(g[0], g[2]), _rho(g[1], g[2]))
                * _p3(_rho(g[3], g[4]), _rho(g[3], g[5]), _rho(g[4], g[5])))
    lo, hi = arb_to_bounds(orthant_ball(g, 64))
    assert abs(float((lo + hi) / 2) - expected) < 1e-12 and hi - lo < Fraction(1, 10 ** 12)


def test_p6_against_monte_carlo_on_a_thin_cone():
    """A thin six-dimensional cone (normals nearly opposite in pairs): compare with sampling (5 sigma)."""
    import numpy as np

    normals = [(100, 99, 3, 1, 0, 2), (-99, -100, 2, 3, 1, 0), (1, 2, 100, -7, 3, 1), (3, -1, 5, 90, 2, -4),
               (0, 1, -2, 3, 50, 1), (2, 0, 1, -1, -3, 40)]
    lo, hi = arb_to_bounds(orthant_ball(normals, 64))
    assert hi - lo < Fraction(1, 10 ** 10)
    p = float((lo + hi) / 2)
    rng = np.random.default_rng(1)
    N, hits = 2_000_000, 0
    for _ in range(2):
        x = rng.standard_normal((N, 6))
        hits += int(np.all(x @ np.array(normals, dtype=float).T >= 0, axis=1).sum())
    est = hits / (2 * N)
    assert abs(est - p) <= 5 * math.sqrt(p * (1 - p) / (2 * N))


def test_p7_known_answers_and_sampling():
    """P_7 (the pencil through a 5-face, and the odd-n identity over P_2..P_6 marginals): the orthant 1/128,
    equicorrelation 1/2: 1/8, and a random cone against sampling (5 sigma)."""
    import flint
    import numpy as np

    from verifier.kernel.orthant import odd_identity, p7

    identity = [[int(i == j) for j in range(7)] for i in range(7)]
    equi = [[2 if i == j else 1 for j in range(7)] for i in range(7)]
    with flint.ctx.workprec(80):
        for G, expected in ((identity, Fraction(1, 128)), (equi, Fraction(1, 8))):
            for method in (odd_identity, p7):
                lo, hi = arb_to_bounds(method(G, flint, 80))
                assert lo <= expected <= hi and hi - lo < Fraction(1, 10 ** 14)
    rays = _random_simplex(random.Random(700), 7)
    from verifier.kernel.orthant import cone_bounds

    lo, hi = cone_bounds(rays, 80)
    assert hi - lo < Fraction(1, 10 ** 14)
    p = float(lo)
    N = 2_000_000
    x = np.random.default_rng(7).standard_normal((7, N))
    inside = np.all(np.linalg.solve(np.array(rays, dtype=float).T, x) >= 0, axis=0).mean()
    assert abs(inside - p) <= 5 * math.sqrt(p * (1 - p) / N)


@pytest.mark.parametrize("seed", range(2))
def test_p7_pencil_through_every_face_agrees_with_the_odd_identity(seed):
    """P_7 through a 5-face (twenty-one faces: twenty-one integrands, each with six P_5) and by the odd-n identity
    over the marginals (P_2..P_6: a different formula altogether) are the same measure."""
    import flint

    from verifier.kernel.geometry import dot
    from verifier.kernel.orthant import _balanced, _pencil_face, _pencil_terms, odd_identity, p7, simplex_normals

    rays = _random_simplex(random.Random(800 + seed), 7)
    normals = simplex_normals(rays)
    G = [[dot(a, b) for b in normals] for a in normals]
    V = _balanced([[dot(a, b) for b in rays] for a in rays])
    with flint.ctx.workprec(80):
        balls = [_pencil_face(_pencil_terms(V, f), flint, 80, eval_limit=20000)
                 for f in itertools.combinations(range(7), 5)]
        reference = odd_identity(G, flint, 80)
        chosen = p7(G, flint, 80, rays)
    finite = [b for b in balls if b.is_finite() and float(b.rad()) < 1e-12]
    assert len(finite) >= 14 and reference.is_finite() and chosen.is_finite() and float(chosen.rad()) < 1e-15
    for ball in finite + [chosen]:
        assert ball.overlaps(reference) and all(ball.overlaps(other) for other in finite)


def test_odd_measure_known_answers():
    """The conic Gauss-Bonnet identity applied to the faces as well (kernel/conic.py odd_measure), at seq_len 5 and
    7: the orthant is 1/32 and 1/128; the cone whose normals have all correlations 1/2 is 1/6 and 1/8 (the
    orthant probability of equicorrelation 1/2 in dimension n is 1/(n + 1)).  That cone is given inside R^(n+1):
    normals e_j - e_0 (Gram I + J) and rays (n + 1) e_j - (1, ..., 1), orthogonal to (1, ..., 1), which the
    measure is told is the complement of the cone's span."""
    import flint

    from verifier.kernel.conic import odd_measure

    for n, orth, equi in ((5, Fraction(1, 32), Fraction(1, 6)), (7, Fraction(1, 128), Fraction(1, 8))):
        eye = [tuple(int(i == j) for j in range(n)) for i in range(n)]
        rays = [tuple((n + 1) * (i == j) - 1 for i in range(n + 1)) for j in range(1, n + 1)]
        normals = [tuple((i == j) - (i == 0) for i in range(n + 1)) for j in range(1, n + 1)]
        with flint.ctx.workprec(80):
            a = arb_to_bounds(odd_measure(eye, eye, n, [], flint, 80))
            b = arb_to_bounds(odd_measure(rays, normals, n, [(1,) * (n + 1)], flint, 80))
        assert a[0] <= orth <= a[1] and a[1] - a[0] < Fraction(1, 10 ** 12)
        assert b[0] <= equi <= b[1] and b[1] - b[0] < Fraction(1, 10 ** 12)


def test_odd_measure_of_a_seq_len_7_cell_overlaps_its_triangulation():
    """A cell of a trained seq_len-7 model (argmedian_2_7's most hit), measured whole by odd_measure (one P_6 per
    extreme ray, P_4 per 3-face, each 5-face by the seq_len-5 identity in its span) and as the sum of P_7 over its
    pulling triangulation's simplicial cones (a different formula altogether): the enclosures overlap; and a
    simplicial cone measured both ways (odd_measure against P_7) overlaps too."""
    import os

    import flint

    from verifier.cells.cones import Traversal
    from verifier.cells.triangulate import facet_cuts, triangulate
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.kernel.conic import cell_bounds, odd_measure
    from verifier.kernel.orthant import cone_bounds, simplex_normals
    from verifier.loading.loader import load

    lm = load(os.path.join(os.path.dirname(__file__), "..", "models", "argmedian_2_7.pth"), task="argmedian")
    tr = Traversal(lm.rnn, lm.task)
    x, hits = sampled_keys(lm, tr, 1 << 14)
    key = next(k for k in (exact_key(tr, x[i]) for _, i in hits) if k is not None)
    c = tr.process(tr.roots[key[0]], key[1], key[2])
    lo, hi = cell_bounds(c.rays, [c.constraints[j] for j in facet_cuts(c)], None, 53)
    assert 0 < lo and hi - lo < Fraction(1, 10 ** 6)
    tlo = thi = Fraction(0)
    for sx in triangulate(c.rays, c.masks, tr.n, len(c.constraints), cuts=facet_cuts(c)):
        a, b = cone_bounds([c.rays[r] for r in sx], 53)
        tlo, thi = tlo + a, thi + b
    assert lo <= thi and tlo <= hi
    rays = _random_simplex(random.Random(701), 7)
    with flint.ctx.workprec(53):
        ball = arb_to_bounds(odd_measure(rays, simplex_normals(rays), 7, [], flint, 53))
    p, q = cone_bounds(rays, 53)
    assert ball[0] <= q and p <= ball[1]


def test_even_measure_known_answers_and_simplicial_cones():
    """The even-dimensional identity P(C) = 1/2 - v_2 (- v_4) - P(polar of C) (kernel/conic.py even_measure, seq_len 4
    and 6; whole cells of partial certificates at seq_len 6): the orthant 1/16 and 1/64, the cone
    whose normals have all correlations 1/2, 1/5 and 1/7 (built in R^(n+1), its span's complement given), and
    random simplicial cones against P_4 and P_6 directly."""
    import flint

    from verifier.kernel.conic import even_measure
    from verifier.kernel.orthant import cone_bounds, simplex_normals

    for n, orth, equi in ((4, Fraction(1, 16), Fraction(1, 5)), (6, Fraction(1, 64), Fraction(1, 7))):
        eye = [tuple(int(i == j) for j in range(n)) for i in range(n)]
        rays = [tuple((n + 1) * (i == j) - 1 for i in range(n + 1)) for j in range(1, n + 1)]
        normals = [tuple((i == j) - (i == 0) for i in range(n + 1)) for j in range(1, n + 1)]
        with flint.ctx.workprec(80):
            a = arb_to_bounds(even_measure(eye, eye, n, [], flint, 80))
            b = arb_to_bounds(even_measure(rays, normals, n, [(1,) * (n + 1)], flint, 80))
        assert a[0] <= orth <= a[1] and a[1] - a[0] < Fraction(1, 10 ** 12)
        assert b[0] <= equi <= b[1] and b[1] - b[0] < Fraction(1, 10 ** 12)
        cone = _random_simplex(random.Random(900 + n), n)
        with flint.ctx.workprec(53):
            ball = arb_to_bounds(even_measure(cone, simplex_normals(cone), n, [], flint, 53))
        p, q = cone_bounds(cone, 53)
        assert ball[0] <= q and p <= ball[1]


def test_even_measure_of_seq_len_4_cells_overlaps_their_triangulations():
    """M(4,4)'s five most hit cells, each measured whole by even_measure and as the sum of P_4 over its pulling
    triangulation (a different formula): the enclosures overlap."""
    import os

    import flint

    from verifier.cells.cones import Traversal
    from verifier.cells.triangulate import facet_cuts, triangulate
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.kernel.conic import even_measure
    from verifier.kernel.geometry import primitive
    from verifier.kernel.orthant import cone_bounds
    from verifier.loading.loader import load

    lm = load(os.path.join(os.path.dirname(__file__), "..", "models", "2nd_argmax_4_4.pth"))
    tr = Traversal(lm.rnn, lm.task)
    x, hits = sampled_keys(lm, tr, 1 << 14)
    keys = [k for k in (exact_key(tr, x[i]) for _, i in hits[:8]) if k is not None][:5]
    assert keys
    for root, sigma, tau in keys:
        c = tr.process(tr.roots[root], sigma, tau)
        normals = sorted({primitive(c.constraints[j]) for j in facet_cuts(c)})
        with flint.ctx.workprec(53):
            lo, hi = arb_to_bounds(even_measure([primitive(r) for r in c.rays], normals, 4, [], flint, 53))
        tlo = thi = Fraction(0)
        for sx in triangulate(c.rays, c.masks, 4, len(c.constraints), cuts=facet_cuts(c)):
            a, b = cone_bounds([c.rays[r] for r in sx], 53)
            tlo, thi = tlo + a, thi + b
        assert 0 < lo and lo <= thi and tlo <= hi
