"""kernel/conic.py: a seq_len-5 cone's Gaussian measure by the conic Gauss-Bonnet identity, against known answers
derived by symmetry and against the independent triangulation + P_5 path on real cells."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from verifier.kernel.conic import faces, measure
from verifier.kernel.measure import bounds
from verifier.kernel.orthant import cone_bounds

E5 = [tuple(1 if i == j else 0 for j in range(5)) for i in range(5)]


def contains(ball, x: Fraction) -> bool:
    lo, hi = bounds(ball)
    return lo <= x <= hi


def test_orthant_is_one_in_32():
    """The positive orthant: P = 2^-5; 5 rays on 4 facets each, 10 ridges (v_1 = 5/32, v_3 = 10/32)."""
    ball = measure(E5, E5, 80)
    assert contains(ball, Fraction(1, 32))
    assert ball.rad() < 1e-18


def test_cone_over_a_cube_is_one_in_ten():
    """{x : |x_i| <= x_4, i < 4} is one of the 2n = 10 cones {s x_k >= |x_i| for all i} that tile R^5 and are
    carried onto each other by permutations and sign changes of the coordinates, so its measure is exactly 1/10.
    Not simplicial: 16 rays (+-1, +-1, +-1, +-1, 1), 8 facets x_4 -+ x_i >= 0."""
    rays = [tuple(list(s) + [1]) for s in itertools.product((-1, 1), repeat=4)]
    normals = [tuple(-s if j == i else (1 if j == 4 else 0) for j in range(5)) for i in range(4) for s in (1, -1)]
    ext, tight, ridges = faces(rays, normals)
    assert len(ext) == 16 and all(len(t) == 4 for t in tight.values())
    assert len(ridges) == 24  # the cube's 24 squares
    ball = measure(rays, normals, 80)
    assert contains(ball, Fraction(1, 10))
    assert ball.rad() < 1e-17


def test_degenerate_rays_product_cone_is_one_in_24():
    """R_+ x Q x R_+ with Q = {(a, b, c) : c >= |a|, c >= |b|}, one of the six congruent cones {s x_k >= |x_i|} that
    tile R^3 (so gamma(Q) = 1/6): P = 1/2 * 1/6 * 1/2 = 1/24.  Its rays lie on 5 facets each, so the normal cones at
    the rays are triangulated (normal_cone_simplices)."""
    sq = [(1, 1, 1), (1, -1, 1), (-1, -1, 1), (-1, 1, 1)]
    rays = [(1, 0, 0, 0, 0)] + [(0,) + s + (0,) for s in sq] + [(0, 0, 0, 0, 1)]
    normals = [(1, 0, 0, 0, 0), (0, 0, 0, 0, 1), (0, -1, 0, 1, 0), (0, 1, 0, 1, 0), (0, 0, -1, 1, 0),
               (0, 0, 1, 1, 0)]
    ext, tight, _ = faces(rays, normals)
    assert max(len(t) for t in tight.values()) > 4
    ball = measure(rays, normals, 80)
    assert contains(ball, Fraction(1, 24))
    assert ball.rad() < 1e-17


def test_only_seq_len_5():
    with pytest.raises(ValueError):
        faces([(1, 0, 0), (0, 1, 0), (0, 0, 1)], [(1, 0, 0), (0, 1, 0), (0, 0, 1)])


def test_simplicial_cones_agree_with_p5():
    """On simplicial cones the identity (five P_4 and ten closed forms) and the pencil formula of P_5 (one
    integral through a 3-face) are different computations of one number: their enclosures must overlap."""
    import random

    from verifier.kernel.orthant import simplex_normals

    rng = random.Random(5)
    for _ in range(6):
        while True:
            rays = [tuple(rng.randint(-6, 6) for _ in range(5)) for _ in range(5)]
            from verifier.kernel.geometry import det
            if det([list(r) for r in rays]) != 0:
                break
        normals = simplex_normals(rays)
        glo, ghi = bounds(measure(rays, normals, 80))
        lo, hi = cone_bounds(rays, 80)
        assert glo <= hi and lo <= ghi
        assert ghi - glo < Fraction(1, 10 ** 15)


def test_real_cells_agree_with_their_triangulation():
    """The most-hit cells of the shipped M(2,5): the sum of P_5 over each cell's pulling triangulation and the
    identity's ball overlap (M(2,5)'s cells are small and many of their rays degenerate)."""
    from verifier.cells.cones import Traversal
    from verifier.cells.triangulate import facet_cuts, triangulate
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.loading.loader import load

    lm = load("models/2nd_argmax_2_5.pth")
    tr = Traversal(lm.rnn, lm.task)
    x, ranked = sampled_keys(lm, tr, 4096, 0)
    keys, seen = [], set()
    for _, i in ranked:
        k = exact_key(tr, x[i])
        if k is not None and k not in seen:
            seen.add(k)
            keys.append(k)
        if len(keys) == 8:
            break
    for r, sigma, tau in keys:
        c = tr.process(tr.roots[r], sigma, tau)
        normals = [tuple(c.constraints[j]) for j in facet_cuts(c)]
        ball = measure(c.rays, normals, 80)
        assert ball is not None
        lo = hi = Fraction(0)
        for sx in triangulate(c.rays, c.masks, 5, len(c.constraints), cuts=facet_cuts(c)):
            p, q = cone_bounds([c.rays[j] for j in sx], 80)
            lo, hi = lo + p, hi + q
        glo, ghi = bounds(ball)
        assert glo <= hi and lo <= ghi, (glo, ghi, lo, hi)


# ---- rule edges: the listed rays of a whole cell are all its extreme rays ---------------------------------------

def _cube_cone():
    rays = [tuple(list(s) + [1]) for s in itertools.product((-1, 1), repeat=4)]
    normals = [tuple(-s if j == i else (1 if j == 4 else 0) for j in range(5)) for i in range(4) for s in (1, -1)]
    return rays, normals


def _product_cone():
    sq = [(1, 1, 1), (1, -1, 1), (-1, -1, 1), (-1, 1, 1)]
    rays = [(1, 0, 0, 0, 0)] + [(0,) + s + (0,) for s in sq] + [(0, 0, 0, 0, 1)]
    normals = [(1, 0, 0, 0, 0), (0, 0, 0, 0, 1), (0, -1, 0, 1, 0), (0, 1, 0, 1, 0), (0, 0, -1, 1, 0),
               (0, 0, 1, 1, 0)]
    return rays, normals


@pytest.mark.parametrize("cone", [_cube_cone, _product_cone, lambda: (E5, E5)])
def test_edges_accepts_all_rays_and_rejects_each_missing_one(cone):
    """The cube cone (16 simple rays), the product cone (rays on 4 and 5 facets: its edges are found by the sign
    test on the tangent cone) and the orthant: complete, accepted; any one ray left out, rejected by rule edges
    (by symmetry no ray is special, so every omission must be caught); a ray listed twice, rejected."""
    from verifier.kernel.cones import _rays_complete
    from verifier.kernel.rules import Reject

    rays, normals = cone()
    _rays_complete("cell", rays, normals, 5)
    for k in range(len(rays)):
        with pytest.raises(Reject) as exc:
            _rays_complete("cell", rays[:k] + rays[k + 1:], normals, 5)
        assert exc.value.rule == "edges"
    with pytest.raises(Reject) as exc:
        _rays_complete("cell", rays + rays[:1], normals, 5)
    assert exc.value.rule == "edges"


def test_edges_degenerate_ray_edges_are_exactly_the_tangent_cones_rays():
    """At the ray (0, 0, 0, 0, 1) of the product cone R_+ x Q x R_+ (Q the square cone) five facets are tight; its
    2-faces go to (1, 0, 0, 0, 0) and to the square's four rays, five in all.  Of the C(5, 3) = 10 triples of
    tight facets, exactly those whose null space meets the cell in a 2-face pass the sign test, and each such
    2-face holds exactly one other ray of the cell: together they are the five neighbours."""
    from verifier.kernel.cones import _edge_direction, _independent
    from verifier.kernel.geometry import dot

    rays, normals = _product_cone()
    apex = rays[-1]
    tight = [k for k, g in enumerate(normals) if dot(g, apex) == 0]
    assert len(tight) == 5
    ends = set()
    for S in itertools.combinations(tight, 3):
        vecs = [normals[k] for k in S]
        if not _independent(vecs):
            continue
        e = _edge_direction(vecs, apex, 5)
        vals = [dot(normals[k], e) for k in tight if k not in S]
        if any(v > 0 for v in vals) and any(v < 0 for v in vals):
            continue
        sign = 1 if all(v >= 0 for v in vals) else -1
        on = [r for r in rays if r != apex and all(dot(normals[k], r) == 0 for k in S)]
        assert len(on) == 1, (S, on)  # the 2-face's other extreme ray, and it lies on the edge's side
        assert any(sign * x for x in e)
        ends.add(on[0])
    assert ends == set(rays[:-1])
