"""The error atlas: a certificate's error broken down by (true label, predicted label).

Works from a certificate (version 1, the disc, seq_len 2; version 2, cones, seq_len 3 to 7).  The kernel
first runs the certificate's rules (every one for seq_len 2 and 3; for seq_len 4 to 7 all but the measure
rules, which take minutes to hours), so every cell, pattern, label and decision used here is one the
kernel derived itself.  Then:

- seq_len 2: each wrong sector already names its label and its prediction (rule `prediction`); its
  measure is atan2(cross(u, v), dot(u, v)) / (2 pi).
- seq_len 3: a wrong cell's decision string fixes how the target compares with the others but not which
  of the others wins, so each wrong polygon is cut by every hyperplane l_i = l_j that crosses it (exact
  integer clipping: a crossing edge (a, b) meets the plane at |f(a)| b + |f(b)| a).  On each piece every
  logit difference keeps one sign, so torch's argmax (first index on ties) is one label, computed exactly
  at the piece's interior point (the sum of its vertices).  The pieces' measures are Van Oosterom-Strackee
  fan sums (verifier/cells/measure.py), enclosed in arb balls and rounded outward to rationals.
- seq_len 4 to 7: cells are counted per pair where the prediction is constant on the cell (checked at its
  extreme rays); masses are not given (their certificates measure one side only, often the right cells).

Every pair's [lower, upper] is a rigorous enclosure of its exact mass.  The pairs' enclosures are checked
to be consistent with the certified error (their sum meets the certificate's interval; otherwise this is a
bug, InternalError) and are then widened, never narrowed, so that their sum contains the certified
interval: sum(lower) <= error.lower and error.upper <= sum(upper), exactly.

A representative input of each listed cell is a point with small integers found by rounding a direction
inside the cell at rising scales (floats may propose it; the exact test g . x > 0 for every constraint
decides), falling back to the exact interior point; the exact forward pass there must give the cell's
pattern, label and prediction (else InternalError).
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import InputError, InternalError, VerifierError
from ..cells.exact import cross2, dot, primitive

DEFAULT_TOP = 3
DEFAULT_DIGITS = 20
_MEASURE_RULES = ("triangulation", "closed-form", "enclosure", "accuracy")


class Rejected(VerifierError):
    """The kernel rejected the certificate (exit 1)."""


def _q(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _kernel_work(doc, checkpoint):
    """Read and check the certificate with the kernel; return (Certificate, Work)."""
    from ..kernel import read_certificate
    from ..kernel.check import rules_for
    from ..kernel.claim import Work
    from ..kernel.rules import Reject, Unreadable
    from ..kinds import cell_kinds, of_version

    try:
        c = read_certificate(doc)
        no_cells = of_version(c.version).no_cells
        if no_cells is not None:
            raise InputError(f"the error atlas needs a certificate with cells (kinds {cell_kinds()}); this one is "
                             f"{no_cells}")
        w = Work(checkpoint=checkpoint)
        for fn in rules_for(c):
            if c.version == 2 and c.n >= 4 and fn.rule in _MEASURE_RULES:
                continue
            fn(c, w)
    except Reject as exc:
        raise Rejected(f"the kernel rejects the certificate: [{exc.rule}] {exc.message}") from None
    except Unreadable as exc:
        raise InputError(str(exc)) from None
    return c, w


# ---- exact geometry ------------------------------------------------------------------------------------


def clip(verts, f):
    """Cut a convex spherical polygon (integer vertices, cyclic) by the plane f . x = 0: (part f >= 0, part
    f <= 0), each a vertex list, or None when that side has no area."""
    vals = [dot(f, v) for v in verts]
    if all(x >= 0 for x in vals):
        return list(verts), None
    if all(x <= 0 for x in vals):
        return None, list(verts)
    pos, neg, m = [], [], len(verts)
    for i in range(m):
        a, b, fa, fb = verts[i], verts[(i + 1) % m], vals[i], vals[(i + 1) % m]
        if fa >= 0:
            pos.append(a)
        if fa <= 0:
            neg.append(a)
        if (fa > 0 > fb) or (fa < 0 < fb):
            p = primitive(tuple(abs(fa) * y + abs(fb) * x for x, y in zip(a, b)))
            pos.append(p)
            neg.append(p)
    return pos, neg


def _vsum(vs):
    return tuple(sum(v[k] for v in vs) for k in range(len(vs[0])))


def small_point(interior, cons, verts=()):
    """A point with small integer coordinates strictly inside every constraint g . x > 0: a direction inside
    the cell rounded to integers at rising scales, each candidate tested exactly.  Directions tried: the
    centroid of the unit vertices (floats propose it; the exact test decides), then `interior` (an exact
    interior point, rounded with integer arithmetic); when no rounding is inside, `interior` itself."""
    def fits(x):
        return any(x) and all(dot(g, x) > 0 for g in cons)

    if verts:
        unit = [[float(Fraction(c, max(abs(t) for t in v))) for c in v] for v in verts]
        unit = [[c / sum(t * t for t in u) ** 0.5 for c in u] for u in unit]
        d = [sum(u[k] for u in unit) for k in range(len(interior))]
        m = max(abs(t) for t in d)
        scale = 1
        while m > 0 and scale < 1 << 40:
            x = tuple(round(scale * t / m) for t in d)
            if fits(x):
                return primitive(x)
            scale = scale * 2 if scale >= 4 else scale + 1
    big = max(abs(v) for v in interior)
    scale = 1
    while scale < big:
        x = tuple((2 * scale * v + big) // (2 * big) for v in interior)  # round(scale * v / big), exactly
        if fits(x):
            return primitive(x)
        scale = scale * 2 if scale >= 4 else scale + 1
    return primitive(interior)


def _active(pattern) -> list[list[int]]:
    return [[i for i, b in enumerate(row) if b] for row in pattern]


def _pattern_text(pattern) -> list[str]:
    return ["".join(str(b) for b in row) for row in pattern]


# ---- measures ------------------------------------------------------------------------------------------


def _sector_ball(sectors):
    from ..cells.measure import wedge_angle_sum_ball

    return lambda prec: wedge_angle_sum_ball(sectors, prec)


def _polygon_ball(polygons):
    from ..cells.measure import spherical_sum_ball, spherical_terms

    terms = spherical_terms(polygons)
    return lambda prec: spherical_sum_ball(terms, prec)


def _bounds(ball_fn, digits):
    from ..cells.measure import enclose

    lo, hi, _ = enclose(ball_fn, digits)
    return max(lo, Fraction(0)), min(hi, Fraction(1))


def _closed_form(piece, n):
    from ..cells.measure import closed_form_spherical, spherical_terms

    if n == 2:
        u, v = piece
        return f"atan2({cross2(u, v)}, {dot(u, v)})/(2*pi)"
    return closed_form_spherical(spherical_terms([piece]))


# ---- the breakdown -------------------------------------------------------------------------------------


def _pieces_n2(c, w):
    """(true, predicted, cell index, measure geometry (u, v), constraints, interior, pattern) per wrong sector."""
    out = []
    for i, s in enumerate(c.sectors):
        if s.wrong:
            cons = [(-s.u[1], s.u[0]), (s.v[1], -s.v[0])]  # cross(u, x) > 0 and cross(x, v) > 0
            out.append((s.label, s.prediction, i, (s.u, s.v), cons, tuple(a + b for a, b in zip(s.u, s.v)),
                        s.pattern))
    return out


def _pieces_n3(c, w):
    """Wrong cells cut so that torch's argmax is constant on each piece."""
    from ..kernel.model import argmax_first

    out = []
    for ci, cell in enumerate(c.cells):
        if not cell.wrong:
            continue
        k = w.roots[cell.root][2]
        logits = w.forms.output(cell.pattern)
        cuts = []
        for i in range(c.n):
            for j in range(i + 1, c.n):
                f = tuple(a - b for a, b in zip(logits[i], logits[j]))
                if any(f):
                    cuts.append(f)
        pieces = [(list(w.shapes[ci]["verts"]), list(w.cons[ci]))]
        for f in cuts:
            nxt = []
            for verts, cons in pieces:
                pos, neg = clip(verts, f)
                if pos is not None and neg is not None:
                    nxt.append((pos, cons + [f]))
                    nxt.append((neg, cons + [tuple(-a for a in f)]))
                else:
                    nxt.append((verts, cons))
            pieces = nxt
        for verts, cons in pieces:
            inside = _vsum(verts)
            pred = argmax_first([dot(l, inside) for l in logits])
            if pred == k:
                raise InternalError(f"cell {ci} is claimed wrong but the argmax is its target on a part of it")
            out.append((k, pred, ci, verts, cons, inside, cell.pattern))
    return out


def _confirm(c, w, x, pattern, true, pred, where):
    """The exact forward pass at the integer point x must show the cell's pattern, label and prediction."""
    from ..kernel.model import argmax_first, forward, target

    pat, logits = forward(w.m, x)
    if tuple(tuple(r) for r in pat) != tuple(tuple(r) for r in pattern) or target(c.task, x) != true \
            or argmax_first(logits) != pred:
        raise InternalError(f"{where}: the exact forward pass at the representative input disagrees with the cell")


def _describe(c, w, piece, n):
    true, pred, ci, geo, cons, inside, pattern = piece
    x = small_point(inside, cons, geo)
    _confirm(c, w, x, pattern, true, pred, f"cell {ci}")
    return {"cell": ci, "input": [str(v) for v in x], "pattern": _pattern_text(pattern), "active": _active(pattern),
            "closed_form": _closed_form(geo, n)}


class Atlas:
    """What `analyse` derived: the kernel's reading (`cert`) and work (`work`: roots, constraints, vertices
    or rays per cell), and the wrong pieces: (true, predicted, cell index, geometry (the sector's (u, v) for
    seq_len 2, the polygon's integer vertices for 3), constraints, interior point, pattern)."""

    def __init__(self, cert, work, pieces):
        self.cert, self.work, self.pieces = cert, work, pieces


def analyse(doc, checkpoint: str | None = None) -> Atlas:
    """Check the certificate with the kernel and cut its wrong regions into pieces of constant prediction."""
    c, w = _kernel_work(doc, checkpoint)
    if c.version == 3:
        pieces = []
    elif c.n == 2:
        pieces = _pieces_n2(c, w)
    elif c.n == 3:
        pieces = _pieces_n3(c, w)
    else:
        pieces = []
    return Atlas(c, w, pieces)


def breakdown(doc, checkpoint: str | None = None, top: int = DEFAULT_TOP, digits: int = DEFAULT_DIGITS,
              atlas: Atlas | None = None) -> dict:
    """The error of a position-task certificate (a parsed JSON document) by (true, predicted) label.

    Returns {"task", "seq_len", "hidden_size", "method", "error": {"lower", "upper"} (the certificate's,
    checked by the kernel for seq_len 2, 3), "measured": bool, "wrong_cells", "breakdown": [per pair:
    "true", "predicted", "lower", "upper" (rationals "p/q"; absent when not measured), "cells", "pieces",
    "largest": up to `top` pieces with "cell", "lower", "upper", "closed_form", "input", "pattern",
    "active"], "sum": {"lower", "upper"}}.  Raises Rejected (exit 1) when the kernel rejects the
    certificate, InputError for a certificate of another kind.  `atlas`: a result of `analyse(doc)` to
    reuse.
    """
    if top < 0:
        raise InputError("--top must be >= 0")
    if not 1 <= digits <= 200:
        raise InputError("--digits must be between 1 and 200")
    a = atlas if atlas is not None else analyse(doc, checkpoint)
    c, w, pieces = a.cert, a.work, a.pieces
    what = "mse" if c.version == 3 else "error"
    head = {"task": c.task, "seq_len": c.n, "hidden_size": c.d, "method": c.method,
            what: {"lower": _q(c.error.lower), "upper": _q(c.error.upper)},
            "kernel": "every rule" if c.n <= 3 or c.version == 3 else (
                "every rule but the measure's (closed-form, enclosure, accuracy: hours at seq_len 4, 5)"
                if c.coverage == "partial" else
                "every rule but the measure's (triangulation, closed-form, enclosure, accuracy: hours at seq_len 4, 5)")}
    if c.version == 3:
        return {**head, **_mse_breakdown(c, w, top, digits)}
    if c.n >= 4:
        return {**head, **_counts_only(c, w)}
    ball = _sector_ball if c.n == 2 else _polygon_ball
    pairs: dict = {}
    for p in pieces:
        pairs.setdefault((p[0], p[1]), []).append(p)
    rows = []
    for (t, pr), ps in sorted(pairs.items()):
        lo, hi = _bounds(ball([p[3] for p in ps]), digits)
        sized = []
        for p in ps:  # each piece's own enclosure, for ranking (exact comparisons of rational bounds)
            pa, pb = _bounds(ball([p[3]]), 12)
            sized.append((pb, pa, p))
        sized.sort(key=lambda s: (-(s[0] + s[1]), s[2][2]))
        largest = []
        for pb, pa, p in sized[:top]:
            largest.append({"lower": _q(pa), "upper": _q(pb), **_describe(c, w, p, c.n)})
        rows.append({"true": t, "predicted": pr, "lower": lo, "upper": hi, "cells": len({p[2] for p in ps}),
                     "pieces": len(ps), "largest": largest})
    sum_lo, sum_hi = _cover_certified(rows, c.error.lower, c.error.upper)
    for r in rows:
        r["lower"], r["upper"] = _q(r["lower"]), _q(r["upper"])
    return {**head, "measured": True, "wrong_cells": len({p[2] for p in pieces}),
            "breakdown": rows, "sum": {"lower": _q(sum_lo), "upper": _q(sum_hi)}}


def _cover_certified(rows, err_lo: Fraction, err_hi: Fraction):
    """Check that the pairs' enclosures are consistent with the certified error and widen them (which keeps
    each a valid enclosure) so that their sum contains [err_lo, err_hi]; return the sum's bounds."""
    lo = sum((r["lower"] for r in rows), Fraction(0))
    hi = sum((r["upper"] for r in rows), Fraction(0))
    if lo > err_hi or hi < err_lo:
        raise InternalError(f"the pairs' masses sum to [{float(lo)}, {float(hi)}], outside the certified error "
                            f"[{float(err_lo)}, {float(err_hi)}]")
    if rows:
        big = max(rows, key=lambda r: r["upper"])
        if lo > err_lo:
            big["lower"] -= lo - err_lo
            lo = err_lo
        if hi < err_hi:
            big["upper"] += err_hi - hi
            hi = err_hi
    return lo, hi


def _counts_only(c, w) -> dict:
    """seq_len 4, 5: wrong cells per (true, predicted) pair where the argmax is constant on the cell (signs at
    its extreme rays), else counted under predicted "mixed"."""
    from ..kernel.model import argmax_first

    pairs: dict = {}
    wrong = 0
    for ci, cell in enumerate(c.cells):
        if not cell.wrong:
            continue
        wrong += 1
        k = w.roots[cell.root][2]
        logits = w.forms.output(cell.pattern)
        rays = w.shapes[ci]["rays"]
        inside = _vsum(rays)
        pred = argmax_first([dot(l, inside) for l in logits])
        for j in range(c.n):
            f = tuple(a - b for a, b in zip(logits[pred], logits[j]))
            vals = [dot(f, r) for r in rays]
            if j != pred and any(f) and not (all(v >= 0 for v in vals) or all(v <= 0 for v in vals)):
                pred = "mixed"
                break
        pairs[(k, pred)] = pairs.get((k, pred), 0) + 1
    rows = [{"true": t, "predicted": p, "cells": n} for (t, p), n in
            sorted(pairs.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))]
    return {"measured": False, "wrong_cells": wrong, "breakdown": rows,
            "note": f"seq_len {c.n}: masses per pair are not computed (" + (
                "an anytime certificate: only the cells it lists, and those not listed are not measured"
                if c.coverage == "partial" else f"the certificate measures the {c.measured} cells only") +
                    "); cell counts per pair"}


# ---- median models (version 3): the MSE by ordering chamber and median position ------------------------


def _mse_breakdown(c, w, top: int, digits: int) -> dict:
    """The certified MSE split by ordering chamber (both signs of x_0 together) and by the median's position.

    Per cell K with residual f - median = r . x: 2 pi E[(r.x)^2 1_K] = |r|^2 A_K + gamma sum over its
    ordered ridge pairs (g, h) of (r.u)(r.g) / (|g|^2 sqrt(D)) (proofs/FORMAT.md, "Version 3"), with the
    kernel's own residual, angle terms and ridge pairs; each group's sum is enclosed in an arb ball and
    rounded outward, and the groups' enclosures are widened to sum over the certified MSE.  Seq_len 4 and 5:
    each cell's exact bounds are the sum of its simplicial cones' (the kernel's cone_moment_bounds, which its
    check has just computed in this process), and a group's the sum of its cells'."""
    from ..kernel.moments import residual

    if c.n >= 4:
        import contextlib

        from ..kernel.moments import each_moment_bounds

        per_cell: dict = {}
        with contextlib.ExitStack() as stack:
            for ci, (a, b) in zip(w.moment_owner, each_moment_bounds(w.moment_cones, w.precision[0], 1, stack)):
                lo0, hi0 = per_cell.get(ci, (Fraction(0), Fraction(0)))
                per_cell[ci] = (lo0 + a, hi0 + b)
        cells = []  # (ranking, weight, per-cell bounds, cell index, residual)
        for ci, cell in enumerate(c.cells):
            res = residual(c, w, cell)
            cells.append((w.roots[cell.root][0], sum(x * x for x in res), per_cell.get(ci), ci, res))

        def bounds(group, dig):
            lo = sum((g[2][0] for g in group if g[1]), Fraction(0))
            return max(lo, Fraction(0)), sum((g[2][1] for g in group if g[1]), Fraction(0))

        return _chamber_rows(c, w, cells, bounds, top, digits)

    from ..kernel.moments import angle_ball, cell_terms
    from ..cells.measure import enclose

    gamma = Fraction(1) if c.n == 2 else Fraction(1, 2)
    cells = []  # (ranking, weight, (angle terms, [(coef, D)]), cell index, residual)
    for ci, cell in enumerate(c.cells):
        res = residual(c, w, cell)
        wt = sum(x * x for x in res)
        angles, pairs = cell_terms(c, w, ci)
        rad = []
        for g, h in pairs:
            gg, hh, gh = dot(g, g), dot(h, h), dot(g, h)
            u = tuple(gg * b - gh * a for a, b in zip(g, h))
            coef = gamma * dot(res, u) * dot(res, g) / gg
            if coef:
                rad.append((coef, gg * hh - gh * gh))
        cells.append((w.roots[cell.root][0], wt, (angles, rad), ci, res))

    def ball(group):
        def fn(prec):
            import flint

            arb = flint.arb
            with flint.ctx.workprec(prec):
                tot = arb(0)
                for _, wt, (angles, rad), _, _ in group:
                    if wt:
                        s = arb(0)
                        for t in angles:
                            s += angle_ball(arb, t)
                        tot += arb(wt.numerator) / wt.denominator * s
                    for coef, D in rad:
                        tot += arb(coef.numerator) / coef.denominator / arb(D).sqrt()
                return tot / (2 * arb.pi())
        return fn

    def bounds(group, dig):
        if all(g[1] == 0 for g in group):
            return Fraction(0), Fraction(0)  # every residual is 0 there
        lo, hi, _ = enclose(ball(group), dig)
        return max(lo, Fraction(0)), hi

    return _chamber_rows(c, w, cells, bounds, top, digits)


def _chamber_rows(c, w, cells, bounds, top: int, digits: int) -> dict:
    """The breakdown's rows from `cells` ((ranking, |residual|^2, terms, cell index, residual) each) and
    `bounds(group of cells, digits)`, exact rational bounds of a group's share of the MSE."""
    from ..kernel.model import forward

    groups: dict = {}
    for cell in cells:
        groups.setdefault(cell[0], []).append(cell)
    rows = []
    for ranking, group in sorted(groups.items()):
        lo, hi = bounds(group, digits)
        sized = sorted(((bounds([g], 12), g) for g in group if g[1]), key=lambda s: (-(s[0][0] + s[0][1]), s[1][3]))
        largest = []
        for (a, b), g in sized[:top]:
            ci = g[3]
            x = small_point(w.shapes[ci]["interior"], w.cons[ci],
                            w.shapes[ci].get("verts") or w.shapes[ci].get("rays") or ())
            pat, _ = forward(w.m, x)
            if tuple(tuple(r) for r in pat) != tuple(tuple(r) for r in c.cells[ci].pattern):
                raise InternalError(f"cell {ci}: the exact forward pass at the representative input disagrees")
            largest.append({"cell": ci, "lower": _q(a), "upper": _q(b), "input": [str(v) for v in x],
                            "residual": [_q(v) for v in g[4]], "pattern": _pattern_text(c.cells[ci].pattern),
                            "active": _active(c.cells[ci].pattern)})
        rows.append({"chamber": list(ranking), "median": _median_positions(ranking, c.n), "lower": lo, "upper": hi,
                     "cells": len(group), "largest": largest})
    sum_lo, sum_hi = _cover_certified(rows, c.error.lower, c.error.upper)
    by_median: dict = {}
    for r in rows:
        k = tuple(r["median"])
        lo0, hi0, n0 = by_median.get(k, (Fraction(0), Fraction(0), 0))
        by_median[k] = (lo0 + r["lower"], hi0 + r["upper"], n0 + r["cells"])
    for r in rows:
        r["lower"], r["upper"] = _q(r["lower"]), _q(r["upper"])
    return {"measured": True, "cells": len(c.cells), "breakdown": rows,
            "by_median": [{"median": list(k), "lower": _q(lo), "upper": _q(hi), "cells": n}
                          for k, (lo, hi, n) in sorted(by_median.items())],
            "sum": {"lower": _q(sum_lo), "upper": _q(sum_hi)}}


def _median_positions(ranking, n: int) -> list[int]:
    """The position(s) whose value is the median on a chamber: the middle one, or the two middle ones."""
    return [ranking[n // 2]] if n % 2 else sorted((ranking[n // 2 - 1], ranking[n // 2]))
