"""Version 3, moments (median, seq_len 2 to 5): the exact mean squared error of a one-output RNN.

The cells are those of version 2 without decisions: a root (ordering chamber x sign of x_0, on which the
median is one linear form) and an activation pattern (on which the output is one linear form), with the
same coverage evidence (facets for n = 2, polygon for n = 3).  On a cell K, f - median = c . x, and
Gaussian integration by parts gives E[(c . x)^2 1_K] from K's angle and its facets' and ridges' normals:

    2 pi E[(c.x)^2 1_K] = |c|^2 A_K + gamma_{n-2} sum over ordered facet pairs (g, h) meeting in a ridge
                          of (c.u)(c.g) / (|g|^2 sqrt(|g|^2 |h|^2 - (g.h)^2)),  u = |g|^2 h - (g.h) g

with A_K the sector's angle (n = 2) or half the polygon's solid angle (n = 3), gamma_0 = 1, gamma_1 = 1/2
(see proofs/FORMAT.md, "Version 3", for the derivation).  Computed here on its own, from the kernel's
own constraints, vertices and facets.

Seq_len 4 and 5: every cell with a nonzero residual carries a triangulation into simplicial cones (checked as
version 2's), and the same identity is applied to each simplicial cone S = cone(r_1..r_n): its facets are
F_i = cone(r_j, j != i) with inward normals g_i, its ridges G_ij = cone(r_k, k != i, j) are (n - 2)-dimensional
simplicial cones whose measure in their own span is a closed form (n = 4: an angle over 2 pi; n = 5: a solid
angle over 4 pi, Van Oosterom-Strackee), and gamma(S) is the orthant probability P_n of version 2:

    E[(c.x)^2 1_S] = |c|^2 P_n(S) + (1 / 4 pi^2) sum_{i < j} W_ij (b_ij + b_ji) / sqrt(D_ij)

with W_ij = 2 pi gamma_{n-2}(G_ij), b_ij = (c.u)(c.g_i)/|g_i|^2, u = |g_i|^2 g_j - (g_i.g_j) g_i and
D_ij = |g_i|^2 |g_j|^2 - (g_i.g_j)^2.  The cones tile the cell, so the cell's second moment is their sum."""

from __future__ import annotations

import contextlib
import itertools
import math
from fractions import Fraction

from . import conic
from .certificate import Certificate
from .claim import Work, counts, enclosure, method_is, rule, subject
from .cones import GEOMETRY_FACETS, GEOMETRY_N3, _tiles, cover, pattern
from .geometry import cross2, dot, primitive
from .measure import arb_module, bounds, vos_terms
from .orthant import cone_bounds, simplex_normals, vos_half_angle
from .work import check_deadline, memoized_map
from .rules import Reject
from .tail import tail

MAX_SEQ_LEN = 5  # seq_len 4 and 5: P_n of each cone and closed-form ridges (P_2, P_3); 6 and up would need P_4 ridges


def median_form(ranking, n: int) -> tuple:
    """The median on the chamber `ranking` (largest first): the middle coordinate, or the mean of the two."""
    c = [Fraction(0)] * n
    if n % 2:
        c[ranking[n // 2]] = Fraction(1)
    else:
        c[ranking[n // 2 - 1]] = c[ranking[n // 2]] = Fraction(1, 2)
    return tuple(c)


@rule("roots")
def roots(c: Certificate, w: Work):
    """roots are the 2 n! pairs (ranking, sign of x_0): permutations of 0..n-1 in lexicographic order, each
    with +1 then -1; on a root the median is the coordinate ranked (n-1)/2 (n odd) or the mean of the two
    ranked n/2 - 1 and n/2 (n even)."""
    expected = [(p, s) for p in itertools.permutations(range(c.n)) for s in (1, -1)]
    if list(c.roots) != expected:
        raise Reject("roots", "roots must be every ordering chamber times both signs of x_0, in canonical order")
    w.roots = [(rk, s, median_form(rk, c.n)) for rk, s in c.roots]


def residual(c: Certificate, w: Work, cell) -> tuple:
    """c = (exact output form) - (median form): the integer output form over its positive scale."""
    m = w.m
    co = 1
    for row in m.W_oh:
        for v in row:
            co = math.lcm(co, v.denominator)
    scale = co * m.c ** c.n
    out = w.forms.output(cell.pattern)[0]
    med = w.roots[cell.root][2]
    return tuple(Fraction(a, scale) - b for a, b in zip(out, med))


def _angles_2(where, facets) -> list:
    """n = 2: the sector {g1.x > 0, g2.x > 0}: its edge rays r1 (on g1 = 0) and r2, and (|r1 x r2|, r1.r2)."""
    if len(facets) != 2:
        raise Reject("closed-form", f"{where}: a pointed cone in the plane has exactly two facets, not {len(facets)}")
    g1, g2 = facets
    r1, r2 = (-g1[1], g1[0]), (-g2[1], g2[0])
    if dot(g2, r1) < 0:
        r1 = (-r1[0], -r1[1])
    if dot(g1, r2) < 0:
        r2 = (-r2[0], -r2[1])
    if cross2(r1, r2) == 0:
        raise Reject("closed-form", f"{where}: the two facets are parallel")
    return [(abs(cross2(r1, r2)), dot(r1, r2))]


def cell_terms(c: Certificate, w: Work, ci: int):
    """(angle terms, ordered ridge pairs (g, h)) of cell ci from the kernel's derived geometry."""
    cons, shape, where = w.cons[ci], w.shapes[ci], f"cell {ci}"
    if c.n == 3:
        gs = [cons[j] for j in c.cells[ci].edges]
        k = len(gs)
        return vos_terms([shape["verts"]]), [(gs[i], gs[(i + s) % k]) for i in range(k) for s in (1, -1)]
    facets = []
    for _, h, _, _ in shape["facets"]:
        if h not in facets:
            facets.append(h)
    angles = _angles_2(where, facets)
    g1, g2 = facets
    return angles, [(g1, g2), (g2, g1)]


def rational_text(x: Fraction) -> str:
    """p/q (or p) as the closed forms write a rational."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def angle_text(t) -> str:
    """atan2 text of an angle term: a wedge (cross, dot) or a Van Oosterom-Strackee triangle."""
    if len(t) == 2:
        return f"atan2({t[0]}, {t[1]})"
    N, A, B, C, ab, ac, bc = t
    return f"atan2({N}, sqrt({A * B * C}) + {ab}*sqrt({C}) + {ac}*sqrt({B}) + {bc}*sqrt({A}))"


def angle_ball(arb, t):
    if len(t) == 2:
        return arb.atan2(arb(t[0]), arb(t[1]))
    N, A, B, C, ab, ac, bc = t
    return arb.atan2(arb(N), arb(A * B * C).sqrt() + ab * arb(C).sqrt() + ac * arb(B).sqrt() + bc * arb(A).sqrt())


@rule("closed-form")
def closed_form(c: Certificate, w: Work):
    """mse.closed_form is exactly "(w_1*(A_1) + ... + b_1/sqrt(D_1) + ...)/(2*pi)" ("0" if every residual is
    zero): per cell in order with residual c != 0, w = |c|^2 times the sum of its angle terms (n = 2: atan2 of
    the sector's edge rays; n = 3: the Van Oosterom-Strackee atan2 of each fan triangle of its vertices);
    then, radicands ascending, the nonzero sums b_D over all cells and ridges of gamma (c.u)(c.g)/|g|^2."""
    gamma = Fraction(1) if c.n == 2 else Fraction(1, 2)
    angle_parts, roots_ = [], {}
    for ci, cell in enumerate(c.cells):
        res = residual(c, w, cell)
        wt = sum(x * x for x in res)
        if wt == 0:
            continue
        angles, pairs = cell_terms(c, w, ci)
        angle_parts.append((wt, angles))
        for g, h in pairs:
            gg, hh, gh = dot(g, g), dot(h, h), dot(g, h)
            u = tuple(gg * b - gh * a for a, b in zip(g, h))
            coef = gamma * dot(res, u) * dot(res, g) / gg
            if coef:
                D = gg * hh - gh * gh
                roots_[D] = roots_.get(D, Fraction(0)) + coef
    radicals = sorted((D, b) for D, b in roots_.items() if b)
    if not angle_parts and not radicals:
        form = "0"
    else:
        parts = [f"{rational_text(wt)}*({' + '.join(angle_text(t) for t in angles)})" for wt, angles in angle_parts]
        parts += [f"{rational_text(b)}/sqrt({D})" for D, b in radicals]
        form = "(" + " + ".join(parts) + ")/(2*pi)"
    deadline = w.deadline

    def fn(prec):
        flint = arb_module()
        arb = flint.arb
        with flint.ctx.workprec(prec):
            tot = arb(0)
            for wt, angles in angle_parts:
                check_deadline(deadline)
                s = arb(0)
                for t in angles:
                    s += angle_ball(arb, t)
                tot += arb(wt.numerator) / wt.denominator * s
            for D, b in radicals:
                tot += arb(b.numerator) / b.denominator / arb(D).sqrt()
            return bounds(tot / (2 * arb.pi()))

    w.form, w.bounds, w.empty = form, fn, form == "0"
    if c.error.closed_form != form:
        raise Reject("closed-form", "mse.closed_form is not the second-moment sum of the cells' residuals")


@rule("rmse")
def rmse(c: Certificate, w: Work):
    """0 <= rmse.lower <= rmse.upper, rmse.lower^2 <= mse.lower and mse.upper <= rmse.upper^2, exactly: the
    square root of every value in the MSE enclosure lies in the RMSE enclosure."""
    lo, hi = c.rmse
    if not 0 <= lo <= hi or lo * lo > max(c.error.lower, Fraction(0)) or hi * hi < c.error.upper:
        raise Reject("rmse", "[rmse.lower, rmse.upper] does not contain the square root of the mse enclosure")


def moments_form(cells: int, cones: int, n: int, whole: int = 0) -> str:
    """The canonical sentence of a seq_len 4 or 5 MSE (P_n has no elementary closed form); at n = 5 `whole` of the
    cells are whole (their rays proven complete by their edges, rule edges: no simplices)."""
    if n == 5 and whole:
        tail = ("the rays listed of each cell are all its extreme rays, by its edges" if whole == cells else
                f"the rays listed of {whole} cells are all their extreme rays, by their edges; the {cones} "
                f"simplicial cones listed tile the other {cells - whole}")
        return (f"sum over the {cells} cells K with a nonzero residual c of |c|^2 P_5(K) + (1/(4 pi^2)) sum over the "
                "ridges G_ij of K of W_ij (b_ij + b_ji)/sqrt(D_ij) (P_5(K): the conic Gauss-Bonnet identity "
                "1/2 - v_3(K) - v_1(K), one-dimensional integrals P_4 in ball arithmetic; W_ij: the ridge polygon's "
                f"solid angle in closed form; {tail})")
    if n == 5:
        return (f"sum over the {cells} cells K with a nonzero residual c of |c|^2 P_5(K) + (1/(4 pi^2)) sum over the "
                "ridges G_ij of K of W_ij (b_ij + b_ji)/sqrt(D_ij) (P_5(K): the conic Gauss-Bonnet identity "
                "1/2 - v_3(K) - v_1(K), one-dimensional integrals P_4 in ball arithmetic; W_ij: the ridge polygon's "
                f"solid angle in closed form; the {cones} simplicial cones listed tile the cells)")
    return (f"sum over the {cones} simplicial cones S triangulating the {cells} cells with a nonzero residual c of "
            f"|c|^2 P_{n}(S) + (1/(4 pi^2)) sum over the ridges G_ij of S of W_ij (b_ij + b_ji)/sqrt(D_ij) "
            f"(P_{n}: pencil formula, one-dimensional integrals in ball arithmetic; W_ij: the ridge's angle in "
            "closed form)")


def ridge_angle(flint, rays):
    """2 pi gamma_{n-2} of the simplicial cone on `rays` in its own span: for two rays their angle
    atan2(sqrt(|a|^2 |b|^2 - (a.b)^2), a.b); for three rays half their solid angle (orthant.vos_half_angle, the
    one P_5's pencil uses)."""
    arb = flint.arb
    if len(rays) == 2:
        a, b = rays
        ab = dot(a, b)
        return arb.atan2(arb(dot(a, a) * dot(b, b) - ab * ab).sqrt(), arb(ab))
    return vos_half_angle(flint, [[dot(x, y) for y in rays] for x in rays])


def ridge_terms(res, rays, g=None) -> list:
    """The ridge pairs of the simplicial cone on `rays` with residual `res`: (k, l, b_kl + b_lk, D_kl) for each
    k < l whose exact coefficient is nonzero (the ridge G_kl is the cone on the other rays).  `g`: the cone's
    inward facet normals simplex_normals(rays), when the caller has them already."""
    g = simplex_normals(rays) if g is None else g
    n = len(rays)
    gg = [dot(x, x) for x in g]
    cg = [sum(a * b for a, b in zip(res, x)) for x in g]
    out = []
    for k in range(n):
        for l_ in range(k + 1, n):
            gkl = dot(g[k], g[l_])
            # b_kl = (c.u)(c.g_k)/|g_k|^2 with c.u = |g_k|^2 (c.g_l) - (g_k.g_l)(c.g_k); and b_lk likewise
            b = ((gg[k] * cg[l_] - gkl * cg[k]) * cg[k] / gg[k] + (gg[l_] * cg[k] - gkl * cg[l_]) * cg[l_] / gg[l_])
            if b:
                out.append((k, l_, b, gg[k] * gg[l_] - gkl * gkl))
    return out


def cone_moment_bounds(res, rays, prec: int) -> tuple[Fraction, Fraction]:
    """Exact rational bounds of E[(c.x)^2 1_S] for the simplicial cone S on `rays` and the residual c = `res`:
    |c|^2 times the orthant probability's exact bounds (cone_bounds: prec bits, 2 prec for a thin cone), plus the
    exact dyadic bounds of the ridge terms' ball at prec bits.  A pure function of its arguments (a ray's scale
    does not matter: the rays are made primitive first)."""
    rays = [primitive(r) for r in rays]
    normals = simplex_normals(rays)
    a, b = cone_bounds(rays, prec, normals)
    s = sum(x * x for x in res)
    flint = arb_module()
    arb = flint.arb
    with flint.ctx.workprec(prec):
        tot = arb(0)
        for k, l_, coef, D in ridge_terms(res, rays, normals):
            ridge = [r for i, r in enumerate(rays) if i != k and i != l_]
            tot += ridge_angle(flint, ridge) * (arb(coef.numerator) / coef.denominator) / arb(D).sqrt()
        rl, rh = bounds(tot / (4 * arb.pi() ** 2))
    return s * a + rl, s * b + rh


def _pair_coefficient(res, g, h):
    """(b_gh + b_hg, D_gh) of two inward facet normals g, h and the residual c (ridge_terms' formula)."""
    gg, hh, gh = dot(g, g), dot(h, h), dot(g, h)
    cg = sum(a * b for a, b in zip(res, g))
    ch = sum(a * b for a, b in zip(res, h))
    return (gg * ch - gh * cg) * cg / gg + (hh * cg - gh * ch) * ch / hh, gg * hh - gh * gh


def cell_moment_bounds(res, rays, normals, tiles, prec: int) -> tuple[Fraction, Fraction]:
    """cell_moment_bounds_and_mass without the cell's measure."""
    return cell_moment_mass_bounds(res, rays, normals, tiles, prec)[:2]


def cell_moment_mass_bounds(res, rays, normals, tiles, prec: int) -> tuple:
    """Seq_len 5: exact rational bounds of E[(c.x)^2 1_K] for the cell K with extreme `rays` (all of them: the
    simplices `tiles` tile K, or, with tiles None, rule edges proved it) and facet `normals` (inward; positive
    multiples count once), residual c = `res`, followed by bounds of P(K) itself (the partial certificate's
    mass; [0, 1] where they are not derived): |c|^2 times P(K) by the conic Gauss-Bonnet identity
    (kernel/conic.py), plus the ridge terms of K itself, W_ij the sum of Van Oosterom-Strackee half solid angles
    over a fan of the ridge's polygon.  Where the face combinatorics does not close (conic.faces answers None: the
    premises fail), the sum of cone_moment_bounds over `tiles`, and for a whole cell [0, |c|^2] (E[(c.x)^2] =
    |c|^2 bounds it: sound, and no narrower claim survives).  A pure function of its arguments (rays and normals
    are made primitive, the normals sorted)."""
    rays = [primitive(r) for r in rays]
    normals = sorted({primitive(g) for g in normals})
    data = conic.faces(rays, normals)
    ball = None if data is None else conic.measure(rays, normals, prec, data)
    if ball is None or not ball.is_finite():
        if tiles is None:
            return Fraction(0), Fraction(sum(x * x for x in res)), Fraction(0), Fraction(1)
        lo = hi = Fraction(0)
        for t in tiles:
            a, b = cone_moment_bounds(res, t, prec)
            lo, hi = lo + a, hi + b
        return lo, hi, Fraction(0), Fraction(1)
    a, b = bounds(ball)
    s = sum(x * x for x in res)
    flint = arb_module()
    arb = flint.arb
    with flint.ctx.workprec(prec):
        tot = arb(0)
        for i, j, cycle in data[2]:
            coef, D = _pair_coefficient(res, normals[i], normals[j])
            if coef:
                W = arb(0)
                for u, v in zip(cycle[1:-1], cycle[2:]):
                    tri = (rays[cycle[0]], rays[u], rays[v])
                    W += vos_half_angle(flint, [[dot(x, y) for y in tri] for x in tri])
                tot += W * (arb(coef.numerator) / coef.denominator) / arb(D).sqrt()
        rl, rh = bounds(tot / (4 * arb.pi() ** 2))
    return s * a + rl, s * b + rh, a, b


def _cell_moment_task(args):
    return cell_moment_bounds(*args)


def _cell_moment_mass_task(args):
    return cell_moment_mass_bounds(*args)


_MASS_MEMO: dict = {}  # the same, with the cell's measure: partial certificates


def each_cell_moment_mass_bounds(items, prec: int, workers, stack: contextlib.ExitStack):
    """cell_moment_mass_bounds of each (residual, rays, normals, None), in order, on the workers, memoized."""
    keys = [_cell_moment_key(*it) + (prec,) for it in items]
    yield from memoized_map(_MASS_MEMO, keys, _cell_moment_mass_task, workers, stack)


_CELL_MEMO: dict = {}  # (residual, rays, normals, tiles, prec) -> cell_moment_bounds, for this process


def _cell_moment_key(res, rays, normals, tiles):
    # the normals as cell_moment_bounds uses them (primitive, distinct, sorted): the generator's and the kernel's
    # lists of the same facets give the same key
    return (tuple(res), tuple(primitive(r) for r in rays), tuple(sorted({primitive(g) for g in normals})),
            None if tiles is None else tuple(tuple(primitive(r) for r in t) for t in tiles))


def each_cell_moment_bounds(items, prec: int, workers, stack: contextlib.ExitStack, keys=None):
    """cell_moment_bounds of each (residual, rays, normals, tiles) at `prec` bits, in order, on the workers (the
    caller's ordered map, a local pool entered into `stack`, or here), memoized per process.  `keys`: the items'
    _cell_moment_key, when the caller has them already."""
    keys = [_cell_moment_key(*it) for it in items] if keys is None else keys
    yield from memoized_map(_CELL_MEMO, [k + (prec,) for k in keys], _cell_moment_task, workers, stack)


def cell_moments_bounds(items, deadline=None, workers=1, progress=None):
    """fn(prec): exact rational bounds of sum over (residual, rays, normals, tiles) of cell_moment_bounds, on the
    workers (memoized per process), added exactly in order: the same for any number of workers.  `progress(k)`,
    if given, is called after each cell."""
    items = list(items)
    keys = [_cell_moment_key(*it) for it in items]  # once, for every precision asked

    def fn(prec):
        lo = hi = Fraction(0)
        check_deadline(deadline)
        with contextlib.ExitStack() as stack:
            for a, b in each_cell_moment_bounds(items, prec, workers, stack, keys):
                check_deadline(deadline)
                lo, hi = lo + a, hi + b
                if progress is not None:
                    progress(1)
        return lo, hi

    return fn


def _moment_task(args):
    return cone_moment_bounds(*args)


_MEMO: dict = {}  # (residual, primitive rays, prec) -> cone_moment_bounds, for this process


def each_moment_bounds(items, prec: int, workers, stack: contextlib.ExitStack):
    """cone_moment_bounds of each (residual, rays), in order, on the caller's ordered map, a local process pool
    entered into `stack`, or here; memoized per process (work.memoized_map, as orthant.each_cone_bounds: the
    generator's built-in self-check does not integrate again; `check` in a fresh process recomputes every cone)."""
    keys = [(tuple(res), tuple(primitive(r) for r in rays), prec) for res, rays in items]
    yield from memoized_map(_MEMO, keys, _moment_task, workers, stack)


def moment_bounds(items, deadline=None, workers=1, progress=None):
    """fn(prec): exact rational bounds of sum over (residual c, rays) of E[(c.x)^2 1_S], each cone's exact
    bounds (cone_moment_bounds, on the workers) added exactly in order: the same for any number of workers.
    `progress(k)`, if given, is called after each cone."""
    def fn(prec):
        lo = hi = Fraction(0)
        check_deadline(deadline)
        with contextlib.ExitStack() as stack:
            for a, b in each_moment_bounds(items, prec, workers, stack):
                check_deadline(deadline)
                lo, hi = lo + a, hi + b
                if progress is not None:
                    progress(1)
        return lo, hi

    return fn


@rule("triangulation")
def moment_tiles(c: Certificate, w: Work):
    """n >= 4: exactly the cells whose residual is nonzero carry simplices, which tile the cell as in version 2
    (each n distinct rays with nonzero determinant; every simplex facet on a cell constraint or shared by two
    simplices on opposite sides; the first simplex's ray sum in no other closed simplex), or are whole (n = 5:
    rule edges); n <= 3: none does."""
    w.moment_cones, w.moment_owner, w.moment_cells = [], [], 0  # (residual, rays) per cone; its cell's index
    w.moment_cell_items = []  # (residual, rays, facet normals, tiles or None when whole) per nonzero-residual cell
    w.moment_whole = 0
    for ci, cell in enumerate(c.cells):
        if c.n < 4 or not any(res := residual(c, w, cell)):
            if cell.simplices is not None or cell.whole:
                raise Reject("triangulation", f"cell {ci}: only a seq_len >= 4 cell with a nonzero residual carries "
                             "simplices or is whole")
            continue
        w.moment_cells += 1
        if cell.whole:
            if cell.simplices is not None:
                raise Reject("triangulation", f"cell {ci}: a whole cell carries no simplices")
            shape = w.shapes[ci]
            w.moment_cell_items.append((res, shape["rays"], [f[1] for f in shape["facets"]], None))
            w.moment_whole += 1
            continue
        tiles = _tiles(f"cell {ci}", w.shapes[ci], cell.simplices or (), c.n)
        w.moment_cones.extend((res, t) for t in tiles)
        w.moment_owner.extend([ci] * len(tiles))
        shape = w.shapes[ci]
        w.moment_cell_items.append((res, shape["rays"], [f[1] for f in shape["facets"]], tiles))


@rule("closed-form")
def cones_closed_form(c: Certificate, w: Work):
    """n >= 4: mse.closed_form is exactly the canonical sentence naming the number of simplicial cones and of
    cells with a nonzero residual; the MSE is the sum of the cones' second moments (moment_bounds) at n = 4, of the
    cells' (cell_moments_bounds: the conic Gauss-Bonnet identity and the cells' own ridges) at n = 5."""
    w.form = moments_form(w.moment_cells, len(w.moment_cones), c.n, w.moment_whole)
    if c.n == 5:  # each cell at once: the Gauss-Bonnet identity, its simplices only where it does not close
        w.bounds = cell_moments_bounds(w.moment_cell_items, w.deadline, w.workers)
    else:
        w.bounds = moment_bounds(w.moment_cones, w.deadline, w.workers)
    w.empty = not w.moment_cell_items
    w.precision = (80, 160)
    if c.error.closed_form != w.form:
        raise Reject("closed-form", "mse.closed_form is not the second-moment sentence of the cells' cones")


def partial_moments_form(cells: int, n: int, bound: Fraction) -> str:
    """The canonical sentence of a partial median certificate's MSE interval (rule tail bounds the rest)."""
    return (f"[M, M + {n} S^2 (1 - P)] with M the sum over the {cells} cells K listed of E[(c.x)^2 1_K] (|c|^2 "
            "P_5(K) + (1/(4 pi^2)) sum over the ridges G_ij of K of W_ij (b_ij + b_ji)/sqrt(D_ij), each cell whole: "
            "its rays proven complete by its edges) and P the sum of their P_5(K) (the conic Gauss-Bonnet identity "
            f"in ball arithmetic), S^2 = {rational_text(bound)} (|model - median| <= S |x|, proven on boxes of "
            "directions) (a partial certificate: cells not listed are not measured)")


@rule("partial")
def partial_cells(c: Certificate, w: Work):
    """coverage 'partial' (a median MSE interval): seq_len 5, no cell listed twice (distinct (root, pattern) are
    disjoint cells), no neighbours (no coverage is claimed) and every listed cell whole (rule edges: its rays
    are all its extreme rays), so that its second moment and its measure are the Gauss-Bonnet ones."""
    if c.n != 5:
        raise Reject("partial", f"a partial median certificate is for seq_len 5, not {c.n}")
    seen = set()
    w.moment_cell_items = []
    for ci, cell in enumerate(c.cells):
        if (cell.root, cell.pattern) in seen:
            raise Reject("partial", f"cell {ci}: the same cell is listed twice")
        seen.add((cell.root, cell.pattern))
        shape = w.shapes[ci]
        if any(nb is not None for _, _, _, nb in shape["facets"]):
            raise Reject("partial", f"cell {ci}: a partial certificate lists no neighbours")
        if not cell.whole or cell.simplices is not None:
            raise Reject("partial", f"cell {ci}: every cell of a partial median certificate is whole, with no "
                         "simplices")
        w.moment_cell_items.append((residual(c, w, cell), shape["rays"], [f[1] for f in shape["facets"]], None))


@rule("closed-form")
def partial_closed_form(c: Certificate, w: Work):
    """mse.closed_form is exactly the partial sentence for the cells listed and the tail's S^2; the MSE lies in
    [sum of the cells' second moments, that sum + n S^2 (1 - sum of their measures)] (rules partial, tail)."""
    w.form = partial_moments_form(len(c.cells), c.n, w.tail_bound)
    items, n, S2 = w.moment_cell_items, c.n, w.tail_bound

    def fn(prec):
        lo = hi = mass = Fraction(0)
        check_deadline(w.deadline)
        with contextlib.ExitStack() as stack:
            for a, b, p, _ in each_cell_moment_mass_bounds(items, prec, w.workers, stack):
                check_deadline(w.deadline)
                lo, hi, mass = lo + a, hi + b, mass + p
        return lo, hi + n * S2 * max(Fraction(0), 1 - mass)

    w.bounds = fn
    w.empty = False
    w.precision = (53, 160)  # the generator's ANYTIME_PREC first, as version 2's partial certificates (53, 106, 212)
    if c.error.closed_form != w.form:
        raise Reject("closed-form", "mse.closed_form is not the partial sentence for the cells listed and the tail")


@rule("method")
def method(c: Certificate, w: Work):
    """Version 3 uses method 'moments', for seq_len 2, 4 and 5 (facets evidence) and 3 (polygon evidence)."""
    method_is(c, 3, "moments")
    if not 2 <= c.n <= MAX_SEQ_LEN:
        raise Reject("method", f"method moments has a measure rule for seq_len 2 to {MAX_SEQ_LEN}, not {c.n}")
    if (c.evidence == "polygon") != (c.n == 3):
        raise Reject("method", f"evidence {c.evidence!r} does not fit seq_len {c.n} (polygon for 3, facets for "
                     "2, 4 and 5)")


def rules_v3(n: int, coverage: str = "full") -> tuple:
    """The ordered rules of a version-3 certificate of seq_len n (the method rule has checked 2 <= n <= 5); a
    partial one (coverage 'partial', seq_len 5) replaces cover and the measure by rules partial and tail."""
    geometry = GEOMETRY_N3 if n == 3 else GEOMETRY_FACETS
    if coverage == "partial":
        return subject(method) + (roots, pattern) + geometry + (partial_cells, counts, tail, partial_closed_form,
                                                                enclosure, rmse)
    if n >= 4:
        return subject(method) + (roots, pattern) + geometry + (cover, counts, moment_tiles, cones_closed_form,
                                                                enclosure, rmse)
    return subject(method) + (roots, pattern) + geometry + (cover, counts, moment_tiles, closed_form, enclosure,
                                                            rmse)

