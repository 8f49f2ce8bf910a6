"""Version 2, cones (seq_len 3 to 7): R^n split into 2 n! roots (ordering chamber x sign of x_0), each
tiled by cells (root, pattern, decision signs) whose constraint lists the kernel recomputes; polygon
evidence (n = 3) or extreme rays, facets and Farkas supports (n = 4 to 7); neighbours across every facet;
spherical-polygon or orthant-probability measures."""

from __future__ import annotations

import itertools

from .certificate import Certificate, Facet, Same
from .claim import CLOSING, Work, counts, method_is, rule, subject
from .geometry import cross3, det, dot, neg, null, primitive, proportional, solve_integral, solve_integral_many
from .measure import bounds, orthant_form, partial_form, vos_ball, vos_form, vos_terms
from .conic import cells_bounds
from .orthant import orthant_bounds
from .model import target_of_ranking, wrong_of
from .rules import Reject


def top_two_roots(n: int) -> list:
    """The 2 n (n - 1) top-two roots ((j, k), sign) in canonical order: pairs lexicographically, +1 then -1."""
    return [((j, k), s) for j in range(n) for k in range(n) if k != j for s in (1, -1)]


@rule("roots")
def roots(c: Certificate, w: Work):
    """roots are either the 2 n! pairs (ranking, sign of x_0) -- permutations of 0..n-1 in lexicographic order,
    each with +1 then -1; the root is the chamber x_r0 >= x_r1 >= ... with s x_0 >= 0 -- or, for 2nd argmax at
    n >= 4 only, the 2 n (n - 1) top-two roots ((j, k), sign), pairs of distinct positions in lexicographic order,
    each with +1 then -1; the root is {x_j >= x_k >= x_i for every other i, s x_0 >= 0}. Either family tiles R^n
    up to null sets (ties, x_0 = 0), each root is a simplicial cone (n independent walls), and the target is
    the position at the task's rank in the ranking: on a top-two root the 2nd largest is k everywhere off ties."""
    chambers = [(p, s) for p in itertools.permutations(range(c.n)) for s in (1, -1)]
    if list(c.roots) != chambers and not (c.task == "2nd_argmax" and c.n >= 4 and list(c.roots) == top_two_roots(c.n)):
        raise Reject("roots", "roots must be every ordering chamber (or, for 2nd argmax at n >= 4, every top-two "
                     "pair) times both signs of x_0, in canonical order")
    w.roots = [(rk, s, target_of_ranking(c.task, rk, c.n)) for rk, s in c.roots]


def _walls(ranking, sign, n):
    """The root's n walls: x_a - x_b >= 0 for consecutive a, b of the ranking; for a prefix (top-two root), then
    x_last - x_i >= 0 for each position i not in it, ascending; then sign * x_0 >= 0."""
    out = []
    for a, b in zip(ranking, ranking[1:]):
        g = [0] * n
        g[a] += 1
        g[b] -= 1
        out.append(tuple(g))
    for i in range(n):
        if i not in ranking:
            g = [0] * n
            g[ranking[-1]] += 1
            g[i] -= 1
            out.append(tuple(g))
    e0 = [0] * n
    e0[0] = sign
    out.append(tuple(e0))
    return out


@rule("pattern")
def pattern(c: Certificate, w: Work):
    """A cell's constraints start with its root's n walls, then for each step t and neuron i whose form f
    (under the pattern's earlier steps) is not identically zero, f if the bit is 1 and -f if it is 0; an
    identically zero form must have bit 0."""
    w.cons = [None] * len(c.cells)
    for ci, cell in w.each(c.cells):
        ranking, sign, _ = w.roots[cell.root]
        out = _walls(ranking, sign, c.n)
        for t in range(c.n):
            for i, f in enumerate(w.forms.step(cell.pattern[:t])):
                if any(f):
                    out.append(primitive(f if cell.pattern[t][i] else neg(f)))
                elif cell.pattern[t][i]:
                    raise Reject("pattern", f"cell {ci}: neuron {i} at step {t} is claimed active but its "
                                 "pre-activation is identically zero there")
        w.cons[ci] = out


@rule("prediction")
def prediction(c: Certificate, w: Work):
    """The decision string has '.' at the root's target k and at each j != k the sign of l_k - l_j: '+' or '-'
    adds that difference (or its negation) as a constraint, '0' exactly when it is identically zero."""
    for ci, cell in w.each(c.cells):
        k = w.roots[cell.root][2]
        outs = w.forms.output(cell.pattern)
        for j, ch in enumerate(cell.decision):
            if j == k:
                if ch != ".":
                    raise Reject("prediction", f"cell {ci}: decision must have '.' at the target position {k}")
                continue
            D = tuple(a - b for a, b in zip(outs[k], outs[j]))
            if any(D):
                if ch not in "+-":
                    raise Reject("prediction", f"cell {ci}: l_{k} - l_{j} is not identically zero, so its sign "
                                 "must be + or -")
                w.cons[ci].append(primitive(D if ch == "+" else neg(D)))
            elif ch != "0":
                raise Reject("prediction", f"cell {ci}: l_{k} - l_{j} is identically zero, so it must be marked 0")


@rule("wrong")
def wrong(c: Certificate, w: Work):
    """A cell is wrong exactly when torch's argmax can miss the target k given its decision signs: some
    j < k with l_k - l_j not positive, or some j > k with l_k - l_j negative."""
    for ci, cell in w.each(c.cells):
        expect = wrong_of(cell.decision, w.roots[cell.root][2])
        if cell.wrong != expect:
            raise Reject("wrong", f"cell {ci}: 'wrong' must be {expect} for its decisions")


def _ensure_index(j, hi, where):
    if not 0 <= j < hi:
        raise Reject("schema", f"{where}: constraint index {j} is out of range (the cell has {hi})")


def _into_cell(v, cons):
    """(+-v made primitive, with every constraint >= 0 at it, and the bit mask of the constraints that vanish
    there), or (None, 0) when neither sign is in the closed cell."""
    vals = [dot(g, v) for g in cons]
    on = 0
    for j, x in enumerate(vals):
        if not x:
            on |= 1 << j
    if all(x >= 0 for x in vals):
        return primitive(v), on
    if all(x <= 0 for x in vals):
        return primitive(neg(v)), on
    return None, 0


def _wall_ok(cons, n, h) -> bool:
    """A facet on hyperplane h may have no neighbour only if a root wall is a positive multiple of h."""
    return any(proportional(wall, h) == 1 for wall in cons[:n])


@rule("polygon")
def polygon(c: Certificate, w: Work):
    """n = 3: the edges (at least 3, distinct) give vertices +-(g_i x g_i+1) satisfying every constraint;
    consecutive vertices differ and every vertex but an edge's two ends is strictly inside that edge: the
    vertices span a convex cone equal to the closed cell, and their sum is interior."""
    w.shapes = []
    for ci, cell in enumerate(c.cells):
        where, cons, edges = f"cell {ci}", w.cons[ci], cell.edges
        k = len(edges)
        if k < 3:
            raise Reject("polygon", f"{where}: a polygon needs at least 3 edges")
        for e in edges:
            _ensure_index(e, len(cons), f"{where}.edges")
        if len(set(edges)) != k:
            raise Reject("polygon", f"{where}: an edge is listed twice")
        verts = []
        for i in range(k):
            v = cross3(cons[edges[i]], cons[edges[(i + 1) % k]])
            if not any(v):
                raise Reject("polygon", f"{where}: edges {edges[i]} and {edges[(i + 1) % k]} are parallel")
            v = _into_cell(v, cons)[0]
            if v is None:
                raise Reject("polygon", f"{where}: vertex {i} lies outside the cell's constraints")
            verts.append(v)
        for i in range(k):
            g = cons[edges[i]]
            if not any(cross3(verts[i - 1], verts[i])):
                raise Reject("polygon", f"{where}: edge {i} has coincident end vertices")
            for j in range(k):
                if j != i and j != (i - 1) % k and dot(g, verts[j]) <= 0:
                    raise Reject("polygon", f"{where}: vertex {j} is not strictly inside edge {i}'s half-space")
        interior = tuple(sum(v[a] for v in verts) for a in range(3))
        if any(dot(g, interior) <= 0 for g in cons):
            raise Reject("polygon", f"{where}: the sum of the vertices is not interior")
        facets = [(f"{where} edge {i}", cons[edges[i]], tuple(verts[i - 1][a] + verts[i][a] for a in range(3)),
                   cell.neighbors[i]) for i in range(k)]
        w.shapes.append({"interior": interior, "verts": verts, "facets": facets})


@rule("rays")
def rays(c: Certificate, w: Work):
    """n >= 4: a cell lists at least n extreme rays, each as n - 1 constraint indices whose generalised cross
    product is nonzero and, with one orientation, >= 0 at every constraint of the cell."""
    w.shapes = [None] * len(c.cells)
    for ci, cell in w.each(c.cells):
        where, cons = f"cell {ci}", w.cons[ci]
        if len(cell.rays) < c.n:
            raise Reject("rays", f"{where}: a full-dimensional pointed cone has at least {c.n} extreme rays")
        out, on = [], []
        for a, idx in enumerate(cell.rays):
            for j in idx:
                _ensure_index(j, len(cons), f"{where}.rays[{a}]")
            v = null([cons[j] for j in idx], c.n)
            if not any(v):
                raise Reject("rays", f"{where} ray {a}: constraints {list(idx)} are linearly dependent")
            v, m = _into_cell(v, cons)
            if v is None:
                raise Reject("rays", f"{where} ray {a}: the ray on constraints {list(idx)} leaves the cell")
            out.append(v)
            on.append(m)
        w.shapes[ci] = {"rays": out, "facets": [], "on": on}


@rule("witness")
def witness(c: Certificate, w: Work):
    """The sum of a cell's rays is strictly inside every constraint: the open cell is not empty."""
    for ci, _ in w.each(c.cells):
        shape = w.shapes[ci]
        p = tuple(sum(r[k] for r in shape["rays"]) for k in range(c.n))
        for j, g in enumerate(w.cons[ci]):
            if dot(g, p) <= 0:
                raise Reject("witness", f"cell {ci}: the sum of the rays is not strictly inside constraint {j}")
        shape["interior"] = p


@rule("facet")
def facet(c: Certificate, w: Work):
    """Each constraint has evidence; for a facet, the sum y of its listed distinct rays has g . y = 0 and every
    other constraint is > 0 at y or a positive multiple of g: y is relatively inside an (n-1)-face."""
    for ci, cell in w.each(c.cells):
        where, cons, shape = f"cell {ci}", w.cons[ci], w.shapes[ci]
        if len(cell.evidence) != len(cons):
            raise Reject("schema", f"{where}.constraints: expected {len(cons)} entries, got {len(cell.evidence)}")
        for j, e in enumerate(cell.evidence):
            if not isinstance(e, Facet):
                continue
            h = cons[j]
            if not e.rays or len(set(e.rays)) != len(e.rays):
                raise Reject("facet", f"{where}: facet {j} must list distinct rays")
            y = tuple(sum(shape["rays"][r][k] for r in e.rays) for k in range(c.n))
            if dot(h, y) != 0:
                raise Reject("facet", f"{where}: the rays listed for facet {j} are not on its hyperplane")
            for i2, g in enumerate(cons):
                if i2 != j and dot(g, y) <= 0 and proportional(g, h) != 1:
                    raise Reject("facet", f"{where}: facet point of constraint {j} is not strictly inside "
                                 f"constraint {i2}")
            shape["facets"].append((f"{where} facet {j}", h, y, e.neighbor))


@rule("redundant")
def redundant(c: Certificate, w: Work):
    """A 'same' constraint is a positive multiple of a facet constraint; an 'implied' one is a nonnegative
    combination of at most n distinct, linearly independent facet constraints (so it holds on the closed cell)."""
    for ci, cell in w.each(c.cells):
        where, cons = f"cell {ci}", w.cons[ci]
        is_facet = [isinstance(e, Facet) for e in cell.evidence]
        by_support: dict = {}
        for j, e in enumerate(cell.evidence):
            if isinstance(e, Facet):
                continue
            if isinstance(e, Same):
                _ensure_index(e.of, len(cons), f"{where}.constraints[{j}].same")
                if not is_facet[e.of] or proportional(cons[j], cons[e.of]) != 1:
                    raise Reject("redundant", f"{where}: constraint {j} is not a positive multiple of facet {e.of}")
                continue
            sup = e.support
            for i2 in sup:
                _ensure_index(i2, len(cons), f"{where}.constraints[{j}].implied")
            if not sup or len(sup) > c.n or len(set(sup)) != len(sup) or not all(is_facet[i2] for i2 in sup):
                raise Reject("redundant", f"{where}: constraint {j} must be implied by at most n distinct facets")
            by_support.setdefault(tuple(sup), []).append(j)
        for sup, js in by_support.items():  # one elimination per support, every constraint implied by it
            sols = solve_integral_many([cons[i2] for i2 in sup], [cons[j] for j in js])
            for j, sol in zip(js, sols):
                if sol is None or any(y * sol[1] < 0 for y in sol[0]):
                    raise Reject("redundant", f"{where}: constraint {j} is not a nonnegative combination of "
                                 f"facets {list(sup)}")


def _edge_direction(S, r, n):
    """A nonzero e with S . e = 0 and e not parallel to r, for n - 2 independent normals S that vanish at r:
    the null vector of S and the unit vector of r's first nonzero coordinate (that unit vector is outside
    span(S), as r is orthogonal to S and not to it, so the null space is one line, and r is not on it)."""
    k = next(i for i, v in enumerate(r) if v)
    return null(list(S) + [tuple(1 if i == k else 0 for i in range(n))], n)


def _rays_complete(where, rays, normals, n):
    """Reject unless the distinct `rays` (each an extreme ray of K = {x : g . x >= 0, g in normals}) are closed
    under the graph of K's edges: for every ray r and every 2-face of K through r, some other listed ray lies on
    that 2-face.  The 2-faces through r are the sets K cap null(S) for S n - 2 independent normals tight at r
    such that the other tight normals g have g . e of one sign (e in null(S), not along r): the edge direction
    is then an extreme ray of the tangent cone at r.  At a simple ray (n - 1 tight normals) every S of n - 2 of
    them is one.  A listed ray r' != r on all of S is then the 2-face's other extreme ray."""
    if len(set(rays)) != len(rays):
        raise Reject("edges", f"{where}: a whole cell lists each extreme ray once")
    tight = [tuple(k for k, g in enumerate(normals) if dot(g, r) == 0) for r in rays]
    on: dict = {}
    for a, t in enumerate(tight):
        for S in itertools.combinations(t, n - 2):
            on.setdefault(S, []).append(a)
    for a, t in enumerate(tight):
        if len(t) < n - 1:
            raise Reject("edges", f"{where} ray {a}: on fewer than n - 1 facets, so not an extreme ray")
        for S in itertools.combinations(t, n - 2):
            if len(t) > n - 1:  # a degenerate ray: S must be independent and give an edge direction
                vecs = [normals[k] for k in S]
                if not _independent(vecs):
                    continue
                e = _edge_direction(vecs, rays[a], n)
                signs = {(v > 0) - (v < 0) for v in (dot(normals[k], e) for k in t if k not in S)}
                if 1 in signs and -1 in signs:
                    continue  # null(S) meets the cell in the ray r alone: no 2-face
            if not any(b != a for b in on.get(S, ())):
                raise Reject("edges", f"{where} ray {a}: no other listed ray on the 2-face of facets {list(S)} "
                             "(counted among the facet constraints): the rays listed are not all the cell's "
                             "extreme rays")


def _independent(vecs) -> bool:
    """Whether integer vectors are linearly independent (exact rank)."""
    from .conic import _rank

    return _rank(vecs) == len(vecs)


@rule("edges")
def edges(c: Certificate, w: Work):
    """A cell marked whole (n = 5, or 6 and 7 in a partial certificate) lists all of its extreme rays: the listed rays are distinct and closed under
    the edges of the cell (`_rays_complete`), and the graph of a polytope (K's cross-section; K is pointed, as
    rules rays and witness prove) is connected, so a nonempty set of its vertices closed under adjacency is all
    of them.  The normals are the facet-evidence constraints: every other constraint is implied by them."""
    for ci, cell in w.each(c.cells):
        if not cell.whole:
            continue
        if c.n not in (5, 6, 7):
            raise Reject("edges", f"cell {ci}: a whole cell is measured by the Gauss-Bonnet identity, at seq_len 5 "
                         f"to 7 only, not {c.n}")
        normals = [w.cons[ci][j] for j, e in enumerate(cell.evidence) if isinstance(e, Facet)]
        _rays_complete(f"cell {ci}", w.shapes[ci]["rays"], normals, c.n)


def _repeated_cell(c: Certificate) -> int | None:
    """The index of the first cell whose (root, pattern, decision) was listed before, or None (distinct cells
    are disjoint: all three are functions of the point)."""
    seen = set()
    for ci, cell in enumerate(c.cells):
        key = (cell.root, cell.pattern, cell.decision)
        if key in seen:
            return ci
        seen.add(key)
    return None


@rule("cover")
def cover(c: Certificate, w: Work):
    """No cell is listed twice and every root has a cell; across every facet whose hyperplane is not a root
    wall the listed neighbour is another cell of the same root whose constraints are > 0 at the facet point
    y or negative multiples of the facet's (at least one): it contains the far side near y."""
    if (ci := _repeated_cell(c)) is not None:
        raise Reject("cover", f"cell {ci}: the same cell is listed twice")
    per_root = [0] * len(w.roots)
    for cell in c.cells:
        per_root[cell.root] += 1
    if 0 in per_root:
        raise Reject("cover", f"root {per_root.index(0)} has no cells")
    for ci, cell in enumerate(c.cells):
        for where, h, y, nb in w.shapes[ci]["facets"]:
            if nb is None:
                if not _wall_ok(w.cons[ci], c.n, h):
                    raise Reject("cover", f"{where}: facet {list(h)} is not a root wall, so it needs a neighbour")
                continue
            if not nb < len(c.cells) or nb == ci:
                raise Reject("schema", f"{where}: neighbour {nb!r} is not another cell's index")
            if c.cells[nb].root != cell.root:
                raise Reject("cover", f"{where}: neighbour {nb} lies in another root")
            across = False
            for g in w.cons[nb]:
                v = dot(g, y)
                if v > 0:
                    continue
                if v == 0 and proportional(g, h) == -1:
                    across = True
                    continue
                raise Reject("cover", f"{where}: neighbour cell {nb} does not contain the far side of the facet")
            if not across:
                raise Reject("cover", f"{where}: neighbour cell {nb} is not across the facet")


def _tiles(where, shape, simplices, n):
    """The simplicial cones tile the closed cell: rays in the cell, facets matched in pairs across, or on a
    cell constraint (one that vanishes at each of its rays); and an interior point of the first simplex lies in
    no other simplex."""
    rays, on = shape["rays"], shape["on"]
    if not simplices:
        raise Reject("triangulation", f"{where}: no simplices")
    for a, ids in enumerate(simplices):
        if len(set(ids)) != n or det([rays[r] for r in ids]) == 0:
            raise Reject("triangulation", f"{where}: simplex {a} is degenerate")
    faces: dict = {}
    for a, ids in enumerate(simplices):
        for i in range(n):
            faces.setdefault(tuple(sorted(ids[:i] + ids[i + 1:])), []).append(ids[i])
    for key, opposite in faces.items():
        frays = [rays[r] for r in key]
        common = -1
        for r in key:
            common &= on[r]
        if common:
            if len(opposite) != 1:
                raise Reject("triangulation", f"{where}: a boundary facet belongs to {len(opposite)} simplices")
            continue
        if len(opposite) != 2:
            raise Reject("triangulation", f"{where}: an interior facet belongs to {len(opposite)} simplices, not 2")
        nu = null(frays, n)
        s1, s2 = dot(nu, rays[opposite[0]]), dot(nu, rays[opposite[1]])
        if not ((s1 > 0 > s2) or (s1 < 0 < s2)):
            raise Reject("triangulation", f"{where}: two simplices sharing a facet lie on the same side")
    p = tuple(sum(rays[r][k] for r in simplices[0]) for k in range(n))
    for a, ids in enumerate(simplices[1:], start=1):
        sol = solve_integral([rays[r] for r in ids], p)
        if sol is not None and all(y * sol[1] >= 0 for y in sol[0]):
            raise Reject("triangulation", f"{where}: simplices 0 and {a} overlap")
    return [[rays[r] for r in ids] for ids in simplices]


def _pulled(where, shape, cons, paths, n):
    """Simplicial cones of a pulling triangulation of the cell, each given by its path: constraint indices
    j_1, ..., j_k (k < n).  From F_0 = the cell, the apex a_i is the lowest-index listed ray of F_i and
    F_(i+1) = the rays of F_i on constraint j_(i+1), with a_i not on it; the last face has exactly n - k rays,
    which with a_0, ..., a_(k-1) span the simplex (nonzero determinant).  Two distinct such simplices are
    interior-disjoint: where their paths first part, at F_i, they lie in the pyramids from a_i over two
    different faces of F_i that avoid a_i, and a point of such a pyramid's relative interior leaves F_i, on the
    ray from a_i, through that face only (a face cut out by a supporting hyperplane that a_i is strictly inside
    of).  So their measures add up to at most the cell's.  No two paths may give the same simplex.  A cone's
    rays are listed as the generator's pulling triangulation lists them (the last face's ascending, then the
    apexes from the deepest up), so its ball is the generator's to the bit."""
    rays, on = shape["rays"], shape["on"]
    tight = [sum(1 << a for a in range(len(rays)) if on[a] >> j & 1) for j in range(len(cons))]
    out, seen = [], set()
    for p, path in enumerate(paths):
        if len(path) >= n:
            raise Reject("partial", f"{where} pulled {p}: a path has at most n - 1 steps")
        face, chosen = (1 << len(rays)) - 1, []
        for j in path:
            _ensure_index(j, len(cons), f"{where} pulled {p}")
            apex = (face & -face).bit_length() - 1
            if on[apex] >> j & 1:
                raise Reject("partial", f"{where} pulled {p}: the apex ray {apex} lies on constraint {j}")
            chosen.append(apex)
            face &= tight[j]
            if not face:
                raise Reject("partial", f"{where} pulled {p}: no ray of the face lies on constraint {j}")
        last = [a for a in range(len(rays)) if face >> a & 1]
        ids = tuple(last + chosen[::-1])  # the last face's rays ascending, then the apexes from the deepest up
        if len(last) != n - len(path) or det([rays[r] for r in ids]) == 0:
            raise Reject("partial", f"{where} pulled {p}: the path does not end in a simplicial cone of the cell")
        if frozenset(ids) in seen:
            raise Reject("partial", f"{where} pulled {p}: the same simplex twice")
        seen.add(frozenset(ids))
        out.append([rays[r] for r in ids])
    return out


@rule("triangulation")
def triangulation(c: Certificate, w: Work):
    """n >= 4: `measured` names the wrong or the right cells; exactly those carry simplices, each n distinct
    rays with nonzero determinant; every simplex facet lies on a cell constraint (one simplex) or is shared
    by exactly two simplices on opposite sides; the first simplex's ray sum is in no other closed simplex."""
    if c.n < 4:
        return
    if c.measured is None:
        raise Reject("triangulation", "a seq_len >= 4 certificate must say which cells are measured")
    measured_wrong = c.measured == "wrong"
    w.cell_items = []  # (rays, facet normals, tiles or None for a whole cell) per measured cell
    w.whole = 0
    for ci, cell in enumerate(c.cells):
        if cell.pulled is not None:
            raise Reject("triangulation", f"cell {ci}: only a partial certificate gives simplices by pulling paths")
        if cell.wrong == measured_wrong:
            shape = w.shapes[ci]
            if cell.whole:  # its rays are all its extreme rays (rule edges): measured at once, no tiles
                if c.n != 5:
                    raise Reject("triangulation", f"cell {ci}: a full certificate's whole cells are of seq_len 5 "
                                 f"only, not {c.n}")
                if cell.simplices is not None:
                    raise Reject("triangulation", f"cell {ci}: a whole cell carries no simplices")
                w.cell_items.append((shape["rays"], [f[1] for f in shape["facets"]], None))
                w.whole += 1
                continue
            tiles = _tiles(f"cell {ci}", shape, cell.simplices or (), c.n)
            w.cones.extend(tiles)
            w.cell_items.append((shape["rays"], [f[1] for f in shape["facets"]], tiles))
        elif cell.simplices is not None or cell.whole:
            raise Reject("triangulation", f"cell {ci}: only the measured cells carry simplices or are whole")


@rule("partial")
def partial(c: Certificate, w: Work):
    """coverage 'partial' (an anytime certificate): seq_len 4 to 7, no `measured`, no cell listed twice, no
    neighbours (no coverage is claimed), and every listed cell carries simplicial cones that tile it: the wrong
    cells' cones bound the error from below, the right cells' cones the accuracy.  A cell may instead carry some
    simplicial cones of a pulling triangulation by their paths (`pulled`, see `_pulled`): pairwise
    interior-disjoint cones inside the cell, so their measures add up to at most the cell's."""
    if not 4 <= c.n <= 7:
        raise Reject("partial", f"a partial certificate is for seq_len 4 to 7, not {c.n}")
    if c.measured is not None:
        raise Reject("partial", "a partial certificate measures every listed cell: it has no 'measured'")
    if (ci := _repeated_cell(c)) is not None:
        raise Reject("partial", f"cell {ci}: the same cell is listed twice")
    w.cones_wrong, w.cones_right = [], []
    w.whole_wrong, w.whole_right = [], []  # (rays, facet normals, None) of the whole cells
    for ci, cell in enumerate(c.cells):
        shape = w.shapes[ci]
        if any(nb is not None for _, _, _, nb in shape["facets"]):
            raise Reject("partial", f"cell {ci}: a partial certificate lists no neighbours")
        if (cell.simplices is not None) + (cell.pulled is not None) + cell.whole != 1 or not (
                cell.simplices or cell.pulled or cell.whole):
            raise Reject("partial", f"cell {ci}: every listed cell of a partial certificate carries simplices, "
                         "pulling paths or is whole (one of the three)")
        if cell.whole:
            (w.whole_wrong if cell.wrong else w.whole_right).append(
                (shape["rays"], [f[1] for f in shape["facets"]], None))
            continue
        if cell.pulled is not None:
            tiles = _pulled(f"cell {ci}", w.shapes[ci], w.cons[ci], cell.pulled, c.n)
        else:
            tiles = _tiles(f"cell {ci}", w.shapes[ci], cell.simplices, c.n)
        (w.cones_wrong if cell.wrong else w.cones_right).extend(tiles)


@rule("closed-form")
def partial_closed_form(c: Certificate, w: Work):
    """Partial: closed_form is exactly the canonical sentence naming the listed wrong and right cells and their
    numbers of simplicial cones; the interval is [measure of the wrong cones, 1 - measure of the right cones]."""
    nw = sum(cell.wrong for cell in c.cells)
    w.form = partial_form(nw, len(w.cones_wrong), len(c.cells) - nw, len(w.cones_right), c.n,
                          len(w.whole_wrong), len(w.whole_right))
    wrong_fn = orthant_bounds(w.cones_wrong, False, w.deadline, w.workers)
    right_fn = orthant_bounds(w.cones_right, False, w.deadline, w.workers)
    wrong_cells = cells_bounds(w.whole_wrong, False, w.deadline, w.workers)
    right_cells = cells_bounds(w.whole_right, False, w.deadline, w.workers)
    w.bounds = lambda prec: (wrong_fn(prec)[0] + wrong_cells(prec)[0],
                             1 - right_fn(prec)[0] - right_cells(prec)[0])
    w.empty = False
    w.precision = (53, 160)  # an interval rarely asked narrower than 1e-6: 53 bits first (53, 106, 212 if needed)
    if c.error.closed_form != w.form:
        raise Reject("closed-form", "closed_form is not the partial certificate's sentence for the cells listed")


@rule("closed-form")
def closed_form(c: Certificate, w: Work):
    """n = 3: closed_form is exactly the Van Oosterom-Strackee sum over the fan triangles of the wrong cells'
    derived vertices, over 2 pi ("0" if none); n >= 4: the canonical sentence naming the measured side and
    its number of simplicial cones (the measure is the sum of their orthant probabilities, or 1 minus it; at
    n = 5 the sum of the measured cells' Gauss-Bonnet measures, conic.cells_bounds, and the number of cells)."""
    if c.n == 3:
        terms = vos_terms([w.shapes[ci]["verts"] for ci, cell in enumerate(c.cells) if cell.wrong])
        ball = vos_ball(terms, w.deadline)
        w.form, w.bounds, w.empty = vos_form(terms), lambda prec: bounds(ball(prec)), not terms
    else:
        w.form = orthant_form(c.measured, len(w.cones), c.n, len(w.cell_items), w.whole)
        if c.n == 5:  # each measured cell at once (kernel/conic.py), its cones only where that does not close
            w.bounds = cells_bounds(w.cell_items, c.measured == "right", w.deadline, w.workers)
        else:
            w.bounds = orthant_bounds(w.cones, c.measured == "right", w.deadline, w.workers)
        w.empty = c.measured == "wrong" and not w.cell_items
        w.precision = (80, 160)
    if c.error.closed_form != w.form:
        raise Reject("closed-form", "closed_form is not the measure of the wrong cells")


GEOMETRY_N3 = (polygon,)
GEOMETRY_FACETS = (rays, witness, facet, redundant, edges)


@rule("method")
def method(c: Certificate, w: Work):
    """Version 2 uses method 'cones', for seq_len 3 (polygon evidence) and 4 to 7 (facets evidence)."""
    method_is(c, 2, "cones")
    if not 3 <= c.n <= 7:
        raise Reject("method", f"method cones has a measure rule for seq_len 3 to 7, not {c.n}"
                     + (" (seq_len 2 uses version 1, the disc)" if c.n == 2 else ""))
    if (c.evidence == "polygon") != (c.n == 3):
        raise Reject("method", f"evidence {c.evidence!r} does not fit seq_len {c.n} (polygon for 3, facets for 4 to 7)")


def rules_v2(n: int, coverage: str = "full") -> tuple:
    """The ordered rules of a version-2 certificate of seq_len n (the method rule has checked 3 <= n <= 7); a
    partial one (coverage 'partial') replaces cover, triangulation and the closed form by its own rules."""
    geometry = GEOMETRY_N3 if n == 3 else GEOMETRY_FACETS
    if coverage == "partial":
        return subject(method) + (roots, pattern, prediction, wrong) + geometry + (partial, counts,
                                                                                   partial_closed_form) + CLOSING
    return subject(method) + (roots, pattern, prediction, wrong) + geometry + (cover, counts, triangulation,
                                                                               closed_form) + CLOSING
