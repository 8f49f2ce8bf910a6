"""A polyhedral cone's Gaussian measure at n = 5 without triangulating it: the conic Gauss-Bonnet identity.

For a closed convex cone C in R^n that is not a linear subspace, the conic intrinsic volumes v_0(C), ..., v_n(C)
sum to 1 and their alternating sum is 0, so the odd ones sum to 1/2 (Amelunxen, Lotz, McCoy and Tropp, "Living
on the edge", 2014, with the Gauss-Bonnet formula of McMullen and of Santalo).  For a polyhedral cone,

    v_k(C) = sum over the k-dimensional faces F of gamma_F(F) gamma(N_F C),

gamma_F the standard Gaussian measure inside span(F) and N_F C the normal cone of C at F (the cone of the outward
facet normals of the facets containing F), measured inside its own (n - k)-dimensional span.  At n = 5, v_5(C)
is P(C) itself, so

    P(C) = 1/2 - v_3(C) - v_1(C),
    v_1(C) = sum over the extreme rays r of 1/2 * P_4(normal cone at r),
    v_3(C) = sum over the ridges G = F_i cap F_j of gamma_3(G) * angle(g_i, g_j) / (2 pi),

where a ray's Gaussian measure inside its line is 1/2, a ridge's normal cone is the planar cone of its two
facets' outward normals (its measure is their angle over 2 pi), and gamma_3(G) is the solid angle of the
3-dimensional ridge over 4 pi: the sum of Van Oosterom-Strackee terms over a fan of its polygon.  Where an extreme
ray lies on exactly n - 1 = 4 facets (a simple ray, as almost every ray of a large model's cells is), its normal
cone is simplicial: one P_4; a degenerate ray's normal cone (more facets) is triangulated by pulling, a few P_4.
So P(C) costs about one P_4 integral per ray and closed forms, against one P_5 integral per simplicial cone of a
triangulation (about three times as many cones as rays, each integral dearer).

What the caller proves (this module trusts it): the rays generate C and the normals are exactly C's facets, one
each, C = {x : g . x >= 0 for every listed g} pointed and full-dimensional.  Everything else is derived here in
exact integers: which rays are extreme (their tight facets have rank n - 1), the ridges (the pairs of facets whose
common extreme rays span 3 dimensions), each ridge's polygon (two of its rays are adjacent exactly when a third
facet holds both), the normal cones' triangulations, and the P_4 and closed forms in arb balls.  Where the
combinatorics does not close (a ridge's or a normal cone facet's generators not one cycle: the premises fail),
`measure` returns None and the caller measures the cell another way.
"""

from __future__ import annotations

import itertools

from .geometry import det, dot, null, primitive
from .measure import arb_module
from .orthant import p4, vos_half_angle


def _rank(vecs) -> int:
    """Exact rank of integer vectors (fraction-free Gaussian elimination)."""
    rows = [list(v) for v in vecs]
    if not rows:
        return 0
    m = len(rows[0])
    r = 0
    for c in range(m):
        piv = next((i for i in range(r, len(rows)) if rows[i][c]), None)
        if piv is None:
            continue
        rows[r], rows[piv] = rows[piv], rows[r]
        p = rows[r]
        for i in range(r + 1, len(rows)):
            f = rows[i][c]
            if f:
                rows[i] = [p[c] * x - f * y for x, y in zip(rows[i], p)]
        r += 1
        if r == len(rows):
            break
    return r


def _adjacent(normals, tr, ts, n: int) -> bool:
    """Whether two extreme rays with tight normal sets tr, ts span a 2-face: their common tight normals have rank
    n - 2.  When either ray is simple its n - 1 tight normals are independent, so the rank of any part of them is
    its size and no elimination is needed."""
    common = set(tr) & set(ts)
    if len(tr) == n - 1 or len(ts) == n - 1:
        return len(common) == n - 2
    return _rank([normals[k] for k in common]) == n - 2


def _cycle(nodes, adj):
    """The nodes in polygon order, from nodes[0], when `adj` (each node's neighbours) makes them one cycle in which
    every node has exactly two neighbours; else None."""
    if any(len(adj[k]) != 2 for k in nodes):
        return None
    cycle, prev = [nodes[0]], None
    while True:
        cur = cycle[-1]
        nxt = adj[cur][0] if adj[cur][0] != prev else adj[cur][1]
        if nxt == cycle[0]:
            break
        prev = cur
        cycle.append(nxt)
        if len(cycle) > len(nodes):
            return None
    return tuple(cycle) if len(cycle) == len(nodes) else None


def faces(rays, normals):
    """The face data P(C) needs, in exact integers: (extreme, tight, ridges), or None where a ridge's rays do
    not close into one polygon (which a cone's ridge always does: the caller's premises fail).

    extreme: indices of the rays whose tight normals have rank n - 1; tight[r]: the indices of the normals with
    g . r = 0, for each extreme ray (n - 1 of them at a simple ray, more at a degenerate one); ridges:
    (i, j, cycle) for each pair of normals i < j whose common extreme rays span 3 dimensions, cycle their rays in
    polygon order (two rays of a ridge are adjacent when their common tight normals have rank n - 2: they span a
    2-dimensional face of C)."""
    n = len(normals[0])
    if n != 5:
        raise ValueError("the Gauss-Bonnet measure here is for seq_len 5")
    extreme, tight = [], {}
    for r, ray in enumerate(rays):
        t = [i for i, g in enumerate(normals) if dot(g, ray) == 0]
        if len(t) < n - 1 or _rank([normals[i] for i in t]) != n - 1:
            continue  # not an extreme ray (a generator inside a face)
        extreme.append(r)
        tight[r] = t
    on = {i: set() for i in range(len(normals))}
    for r in extreme:
        for i in tight[r]:
            on[i].add(r)
    ridges = []
    for i, j in itertools.combinations(range(len(normals)), 2):
        common = sorted(on[i] & on[j])
        if len(common) < 3 or _rank([rays[r] for r in common]) != 3:
            continue
        adj = {r: [s for s in common if s != r and _adjacent(normals, tight[r], tight[s], n)] for r in common}
        cycle = _cycle(common, adj)
        if cycle is None:
            return None
        ridges.append((i, j, cycle))
    return extreme, tight, ridges


def normal_cone_simplices(ray, gens):
    """A triangulation of the 4-dimensional cone generated by `gens` (the outward normals of the m >= 4 facets
    through the extreme ray `ray`, each an extreme ray of that cone) as 4-tuples of indices into gens, or None.

    m = 4: the cone itself.  Otherwise the pulling triangulation from gens[0]: the cone's facets are the triples'
    spans (inside ray's orthogonal complement) with every generator weakly on one side, found exhaustively (m is
    small), and each facet not through gens[0] is cut into a fan along its polygon (two of its generators are
    adjacent when another facet holds both)."""
    m = len(gens)
    if m == 4:
        return [(0, 1, 2, 3)]
    facets = {}
    for a, b, c in itertools.combinations(range(m), 3):
        h = null([ray, gens[a], gens[b], gens[c]], 5)
        if not any(h):
            continue
        side = [dot(h, g) for g in gens]
        if all(v >= 0 for v in side) or all(v <= 0 for v in side):
            on = tuple(k for k in range(m) if side[k] == 0)
            facets[on] = True
    out = []
    for on in facets:
        if 0 in on:
            continue
        adj = {k: [q for q in on if q != k and any(k in f and q in f for f in facets if f != on)] for k in on}
        cycle = _cycle(on, adj)
        if cycle is None:
            return None
        out.extend((0, cycle[0], b, c) for b, c in zip(cycle[1:-1], cycle[2:]))
    return out


def ridge_measure(flint, rays, cycle):
    """gamma_3 of the 3-dimensional cone on the rays `cycle` (in polygon order): the fan from its first ray, each
    triangle's Van Oosterom-Strackee half solid angle over 2 pi."""
    tot = flint.arb(0)
    a = rays[cycle[0]]
    for b, c in zip(cycle[1:-1], cycle[2:]):
        tri = (a, rays[b], rays[c])
        tot += vos_half_angle(flint, [[dot(u, v) for v in tri] for u in tri])
    return tot / (2 * flint.arb.pi())


def normal_angle(flint, g, h):
    """The angle between two facet normals, atan2(sqrt(|g|^2 |h|^2 - (g . h)^2), g . h), in (0, pi)."""
    arb = flint.arb
    gh = dot(g, h)
    return arb.atan2(arb(dot(g, g) * dot(h, h) - gh * gh).sqrt(), arb(gh))


def measure(rays, normals, prec: int, data=None):
    """The ball of P(C) = 1/2 - v_3 - v_1 at `prec` bits (module docstring; at seq_len 7 `odd_measure`), or None
    where the face combinatorics does not close.

    `data`: `faces(rays, normals)` when the caller has it already."""
    flint = arb_module()
    if len(normals[0]) == 7:  # seq_len 7: the identity on the faces as well (odd_measure)
        with flint.ctx.workprec(prec):
            return odd_measure(rays, normals, 7, [], flint, prec)
    if len(normals[0]) == 6:  # seq_len 6: the even identity, through the polar cone (even_measure)
        with flint.ctx.workprec(prec):
            return even_measure(rays, normals, 6, [], flint, prec)
    data = faces(rays, normals) if data is None else data
    if data is None:
        return None
    extreme, tight, ridges = data
    with flint.ctx.workprec(prec):
        arb = flint.arb
        two_pi = 2 * arb.pi()
        v1 = arb(0)
        for r in extreme:
            gens = [tuple(-c for c in normals[i]) for i in tight[r]]
            simplices = normal_cone_simplices(rays[r], gens)
            if simplices is None:
                return None
            for sx in simplices:
                v1 += p4(None, flint, prec, rays=[gens[k] for k in sx])
        v1 /= 2
        v3 = arb(0)
        for i, j, cycle in ridges:
            v3 += ridge_measure(flint, rays, cycle) * normal_angle(flint, normals[i], normals[j])
        v3 /= two_pi
        return arb(1) / 2 - v1 - v3


def cell_bounds(rays, normals, tiles, prec: int):
    """Exact rational bounds of P(K) for a seq_len-5, 6 or 7 cell K with extreme `rays` (all of them: the simplices
    `tiles` tile K, or, with tiles None, rule edges proved it) and inward facet `normals` (a positive multiple
    counts once): the Gauss-Bonnet ball made exact dyadic bounds, or, where the face combinatorics does not close
    (the premises fail), the sum of cone_bounds over the tiles, and [0, 1] for a whole cell (no tiles: sound, and
    no claim of a narrower enclosure passes).  A pure function of its arguments (rays and normals made primitive,
    the normals sorted)."""
    from fractions import Fraction

    from .geometry import primitive
    from .measure import bounds
    from .orthant import cone_bounds

    rays = [primitive(r) for r in rays]
    normals = sorted({primitive(g) for g in normals})
    ball = measure(rays, normals, prec)
    if ball is not None and ball.is_finite():
        return bounds(ball)
    if tiles is None:
        return Fraction(0), Fraction(1)
    lo = hi = Fraction(0)
    for t in tiles:
        a, b = cone_bounds(t, prec)
        lo, hi = lo + a, hi + b
    return lo, hi


def _cell_task(args):
    return cell_bounds(*args)


_MEMO: dict = {}  # (rays, normals, tiles, prec) -> cell_bounds, for this process


def _cell_key(rays, normals, tiles):
    from .geometry import primitive

    # the normals as cell_bounds uses them (primitive, distinct, sorted): the same key wherever they came from
    return (tuple(primitive(r) for r in rays), tuple(sorted({primitive(g) for g in normals})),
            None if tiles is None else tuple(tuple(primitive(r) for r in t) for t in tiles))


def each_cell_bounds(items, prec: int, workers, stack, keys=None):
    """cell_bounds of each (rays, normals, tiles) at `prec` bits, in the items' order, on the workers (the caller's
    ordered map, a local pool entered into `stack`, or here), memoized per process.  `keys`: the items' _cell_key,
    when the caller has them already."""
    from .work import memoized_map

    keys = [_cell_key(*it) for it in items] if keys is None else keys
    yield from memoized_map(_MEMO, [k + (prec,) for k in keys], _cell_task, workers, stack)


def cells_bounds(items, complement: bool, deadline=None, workers=1, progress=None):
    """fn(prec): exact rational bounds of the sum over (rays, normals, tiles) of cell_bounds (or of 1 minus it),
    on the workers (memoized per process), added exactly in order: the same for any number of workers.
    `progress(k)`, if given, is called after each cell."""
    import contextlib
    from fractions import Fraction

    from .work import check_deadline

    items = list(items)
    keys = [_cell_key(*it) for it in items]  # once, for every precision asked

    def fn(prec):
        lo = hi = Fraction(0)
        check_deadline(deadline)
        with contextlib.ExitStack() as stack:
            for a, b in each_cell_bounds(items, prec, workers, stack, keys):
                check_deadline(deadline)
                lo, hi = lo + a, hi + b
                if progress is not None:
                    progress(1)
        return (1 - hi, 1 - lo) if complement else (lo, hi)

    return fn


# ---- seq_len 7 (and any odd dimension): the identity applied again to the faces --------------------------------
#
# For a pointed polyhedral cone C of odd dimension m, P(C) = v_m(C) = 1/2 - sum over odd k < m of v_k(C), with
# v_k(C) = sum over the k-faces F of gamma_k(F) gamma(N_F C).  Each normal cone N_F C has the even dimension m - k
# and is cut into simplicial cones (P_2 an angle, P_4 and P_6 the pencil integrals of orthant.py); gamma_1 = 1/2,
# gamma_3 is a polygon's closed form, and gamma_5 of a 5-face of a 7-dimensional cell is the same identity once
# more, inside the face's span.  The faces come from the tight sets: every k-face F is {x in C : g_i . x = 0 for
# i in S} for some m - k independent normals S tight at one of its extreme rays, so the subsets of each extreme
# ray's tight normals find every face, each named by its set of extreme rays.


def _bits(mask: int):
    """The indices of the set bits of `mask`, in increasing order."""
    out, i = [], 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return out


def _pieces(gens, perp, m: int):
    """Simplicial cones (index tuples into gens) tiling the m-dimensional pointed cone generated by `gens`, each of
    them an extreme ray, inside the subspace orthogonal to `perp` (len(gens[0]) - m independent vectors), or None.
    The pulling triangulation from gens[0]: the cone's facets are found exhaustively (the (m - 1)-subsets of
    generators whose span, with perp, is a hyperplane leaving every generator on one side) and every facet not
    through gens[0] is tiled the same way, one dimension down (the cones are small: a few generators over m)."""
    if len(gens) == m:
        return [tuple(range(m))]
    if m < 2 or len(gens) < m:
        return None
    N = len(gens[0])
    facets = {}
    for S in itertools.combinations(range(len(gens)), m - 1):
        h = null(list(perp) + [gens[i] for i in S], N)
        if not any(h):
            continue
        side = [dot(h, g) for g in gens]
        if all(v >= 0 for v in side):
            on = tuple(k for k in range(len(gens)) if side[k] == 0)
            facets.setdefault(on, h)
        elif all(v <= 0 for v in side):
            on = tuple(k for k in range(len(gens)) if side[k] == 0)
            facets.setdefault(on, tuple(-c for c in h))
    out = []
    for on, h in facets.items():
        if 0 in on:
            continue
        sub = _pieces([gens[k] for k in on], list(perp) + [h], m - 1)
        if sub is None:
            return None
        out.extend((0,) + tuple(on[k] for k in s) for s in sub)
    return out or None


def _even_measure(flint, prec, gens):
    """gamma of the simplicial cone on `gens` (2, 4 or 6 of them) inside its own span, as a ball."""
    from .orthant import p6

    m = len(gens)
    if m == 2:
        return normal_angle(flint, gens[0], gens[1]) / (2 * flint.arb.pi())
    if m == 4:
        return p4(None, flint, prec, rays=gens)
    if m == 6:
        return p6([[dot(a, b) for b in gens] for a in gens], flint, prec, rays=gens)
    raise ValueError(f"no measure of an even cone of dimension {m} here")


def _normal_measure(flint, prec, gens, perp, m: int):
    """gamma(N) of the m-dimensional normal cone generated by `gens` (outward normals, each extreme), or None."""
    pieces = _pieces(gens, perp, m)
    if pieces is None:
        return None
    tot = flint.arb(0)
    for p in pieces:
        tot += _even_measure(flint, prec, [gens[k] for k in p])
    return tot


def _project(B, g):
    """det(B B^T) times the projection of g onto the orthogonal complement of the rows of B (independent), exactly."""
    M = [[dot(a, b) for b in B] for a in B]
    k = len(B)
    D = det(M)
    if k == 1:
        adj = [[1]]
    elif k == 2:
        adj = [[M[1][1], -M[0][1]], [-M[1][0], M[0][0]]]
    else:
        adj = [[(-1) ** (i + j) * det([[M[r][c] for c in range(k) if c != i] for r in range(k) if r != j])
                for j in range(k)] for i in range(k)]
    Bg = [dot(b, g) for b in B]
    coef = [sum(adj[i][j] * Bg[j] for j in range(k)) for i in range(k)]
    return tuple(D * g[c] - sum(coef[i] * B[i][c] for i in range(k)) for c in range(len(g)))


def _independent_rows(vecs, r: int):
    """r linearly independent vectors among vecs (greedy, exact), or None."""
    out = []
    for v in vecs:
        if _rank(out + [v]) == len(out) + 1:
            out.append(v)
            if len(out) == r:
                return out
    return None


def _incidences(rays, normals, dim: int):
    """(ext, tight, on) of a pointed dim-dimensional cone: the indices of its extreme rays (tight normals of rank
    dim - 1), each one's tight normals, and per normal the bit mask of the extreme rays it holds; None with fewer
    than dim extreme rays."""
    ext, tight = [], {}
    for r, ray in enumerate(rays):
        t = [i for i, g in enumerate(normals) if dot(g, ray) == 0]
        if len(t) < dim - 1 or _rank([normals[i] for i in t]) != dim - 1:
            continue
        ext.append(r)
        tight[r] = t
    if len(ext) < dim:
        return None
    on = [0] * len(normals)
    for r in ext:
        for i in tight[r]:
            on[i] |= 1 << r
    return ext, tight, on


def _k_faces(rays, normals, dim: int, k: int, ext, tight, on):
    """Each k-face once, as (bit mask of its extreme rays, their indices, the normals tight on all of them): from
    the dim - k independent subsets S of every extreme ray's tight normals (a dependent S is skipped before the
    face it names is marked seen, so the face is still found through an independent S)."""
    full = 0
    for r in ext:
        full |= 1 << r
    seen = set()
    for r in ext:
        simple = len(tight[r]) == dim - 1
        for S in itertools.combinations(tight[r], dim - k):
            mask = full
            for i in S:
                mask &= on[i]
            if mask in seen:
                continue
            if not simple and _rank([normals[i] for i in S]) != dim - k:
                continue
            seen.add(mask)
            fr = _bits(mask)
            if _rank([rays[q] for q in fr]) != k:
                continue
            yield mask, fr, [i for i in range(len(normals)) if on[i] & mask == mask]


def odd_measure(rays, normals, dim: int, perp, flint, prec: int):
    """The ball of gamma_dim(C) for the pointed cone C of odd dimension `dim` (3, 5 or 7) with extreme `rays` and
    inward facet `normals` (one per facet, each orthogonal to `perp`, a basis of the orthogonal complement of
    span(C)), by the identity above; None where the face combinatorics does not close (the premises fail)."""
    arb = flint.arb
    inc = _incidences(rays, normals, dim)
    if inc is None:
        return None
    ext, tight, on = inc
    nrm = len(normals)
    total = arb(0)
    for r in ext:  # k = 1: gamma_1 = 1/2
        gens = [tuple(-c for c in normals[i]) for i in tight[r]]
        g = _normal_measure(flint, prec, gens, list(perp) + [rays[r]], dim - 1)
        if g is None:
            return None
        total += g / 2
    for k in range(3, dim - 1, 2):
        for mask, fr, T in _k_faces(rays, normals, dim, k, ext, tight, on):
            basis = _independent_rows([rays[q] for q in fr], k)
            if basis is None:
                return None
            gn = _normal_measure(flint, prec, [tuple(-c for c in normals[i]) for i in T], list(perp) + basis,
                                 dim - k)
            if gn is None:
                return None
            if k == 3:
                adj = {q: [s for s in fr if s != q and _adjacent(normals, tight[q], tight[s], dim)] for q in fr}
                cycle = _cycle(fr, adj)
                if cycle is None:
                    return None
                gf = ridge_measure(flint, rays, cycle)
            else:  # the face's own identity, inside its span: its facets are the (k-1)-faces of C in it
                B = _independent_rows([normals[i] for i in T], dim - k)
                if B is None:
                    return None
                sub = set()
                for j in range(nrm):
                    if j in T:
                        continue
                    fm = mask & on[j]
                    if fm and _rank([rays[q] for q in _bits(fm)]) == k - 1:
                        sub.add(primitive(_project(B, normals[j])))
                gf = odd_measure([rays[q] for q in fr], sorted(sub), k, list(perp) + B, flint, prec)
                if gf is None:
                    return None
            total += gf * gn
    return arb(1) / 2 - total


def _face_measure(flint, prec, rays, normals, on, mask, fr, T, B, k, perp):
    """gamma_k of the k-face F (k = 2 or 4) of a cone with extreme rays `fr` (bit mask `mask`), tight normals T and
    B independent ones among them: k = 2, its two rays' angle; k = 4, the pulling triangulation from F's first ray
    over F's facets not through it (the 3-faces of the cone in F: the rays of F on one more normal, of rank 3),
    each facet tiled by pulling too (`_pieces`, three dimensions), P_4 per simplicial cone."""
    if k == 2:
        return _normal_measure(flint, prec, [rays[q] for q in fr], list(perp) + B, 2)
    apex = fr[0]
    facets = {}
    for j in range(len(normals)):
        if j in T:
            continue
        fm = mask & on[j]
        if fm in facets or fm >> apex & 1 or not fm:
            continue
        qs = _bits(fm)
        if len(qs) >= 3 and _rank([rays[q] for q in qs]) == 3:
            facets[fm] = j
    tot = flint.arb(0)
    for fm, j in facets.items():
        qs = _bits(fm)
        sub = _pieces([rays[q] for q in qs], list(perp) + B + [normals[j]], 3)
        if sub is None:
            return None
        for s in sub:
            tot += _even_measure(flint, prec, [rays[apex]] + [rays[qs[i]] for i in s])
    return tot


def even_measure(rays, normals, dim: int, perp, flint, prec: int):
    """The ball of gamma_dim(C) for the pointed cone C of even dimension `dim` (4 or 6) with extreme `rays` and
    inward facet `normals`, or None where the combinatorics does not close.  At even dimension the even conic
    intrinsic volumes sum to 1/2 and v_0(C) is the measure of the polar cone C°, so

        P(C) = 1/2 - sum over even 2 <= k <= dim - 2 of v_k(C) - P(C°),

    v_2 summing over the 2-faces their angle over 2 pi times the measure of their (dim - 2)-dimensional normal
    cone, v_4 (dim 6) over the 4-faces their measure (tiled by pulling, P_4 each) times the angle of their normal
    cone.  C° is generated by the outward normals, and its facets are the normal cones of C's extreme rays; it is
    tiled by pulling from the normal on the most extreme rays, so it needs one P_dim per extreme ray off that
    facet instead of one per simplicial cone of C's triangulation (several times as many)."""
    arb = flint.arb
    inc = _incidences(rays, normals, dim)
    if inc is None:
        return None
    ext, tight, on = inc
    nrm = len(normals)
    out = [tuple(-c for c in g) for g in normals]
    total = arb(0)
    for k in range(2, dim - 1, 2):
        for mask, fr, T in _k_faces(rays, normals, dim, k, ext, tight, on):
            basis = _independent_rows([rays[q] for q in fr], k)
            B = _independent_rows([normals[i] for i in T], dim - k)
            if basis is None or B is None:
                return None
            gn = _normal_measure(flint, prec, [out[i] for i in T], list(perp) + basis, dim - k)
            gf = _face_measure(flint, prec, rays, normals, on, mask, fr, T, B, k, perp)
            if gn is None or gf is None:
                return None
            total += gf * gn
    apex = max(range(nrm), key=lambda i: (bin(on[i]).count("1"), -i))
    polar = arb(0)
    for r in ext:
        if on[apex] >> r & 1:
            continue
        facet = [apex] + tight[r]  # the cone on out[apex] and the normal cone at r (a facet of C°)
        if len(tight[r]) == dim - 1:
            polar += _even_measure(flint, prec, [out[i] for i in facet])
            continue
        sub = _pieces([out[i] for i in tight[r]], list(perp) + [rays[r]], dim - 1)
        if sub is None:
            return None
        for s in sub:
            polar += _even_measure(flint, prec, [out[apex]] + [out[tight[r][j]] for j in s])
    return arb(1) / 2 - total - polar
