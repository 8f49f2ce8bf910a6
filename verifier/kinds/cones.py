"""Certificate version 2, cones (seq_len 3 to 7): the cells of every root with their evidence (polygons for seq_len
3, facets for 4 to 7) and the measure of one side; with `--width`, an anytime (partial) certificate of the cells
found from samples and their largest simplicial cones (intervals/anytime.py).  cells/cones.py traverses and
triangulates; kernel/cones.py re-checks."""

from __future__ import annotations

import sys
import time
from fractions import Fraction

from ..errors import InputError, UnsupportedError
from ..loading.rational import q
from .base import CertifyResult, Kind, default_workers, error_report, exact_error_lines, fmt, header, model_line, \
    sampled_and_time_lines, width_not_reached, with_sampled

MAX_SEQ_LEN = 7  # cells have a rigorous measure up to P_7

PARTIAL_CLAIM = ("For the bias-free ReLU RNN with the exact rational weights below (the exact values of the "
                 "checkpoint's floats) and x ~ N(0, I_n), the probability that argmax(model(x)) (first index on "
                 "ties) differs from the task's target lies in [error.lower, error.upper]: at least the measure of "
                 "the wrong cells listed and at most 1 minus that of the right cells listed (coverage: partial).")


def accepts(lm, o) -> bool:
    if lm.family != "position" or lm.seq_len < 3 or o.method == "boxes":
        return False
    if lm.seq_len > MAX_SEQ_LEN:
        raise UnsupportedError(f"{lm.path}: seq_len {lm.seq_len}: cells can be traversed but a rigorous measure "
                               f"for seq_len >= {MAX_SEQ_LEN + 1} is not implemented yet (no orthant rule: P_8 would "
                               "need the pencil reduction once more, e.g. through a 6-face with P_6 slices, or a rigorous "
                               "2-dimensional quadrature); `--method boxes --timeout 600` certifies an interval at any seq_len")
    if o.width is not None and not 4 <= lm.seq_len <= 7:
        raise UnsupportedError(f"{lm.path}: --width (an anytime interval) applies to seq_len 4 to 7; seq_len "
                               f"{lm.seq_len} gets its exact value without it")
    return True


def traverse_cells(lm, z3: bool, timings: dict, progress: bool, max_regions, deadline, workers):
    """The cells of a seq_len >= 3 RNN (cells/cones.py), each optionally confirmed by Z3; timings recorded."""
    from ..cells.cones import traverse

    t0 = time.perf_counter()
    tr, cells = traverse(lm.rnn, lm.task, progress=progress, max_regions=max_regions,
                         timeout=None if deadline is None else max(0.0, deadline - time.monotonic()),
                         workers=workers)
    timings["traverse"] = time.perf_counter() - t0
    if z3:
        from ..cells.smt import confirm_cells

        t0 = time.perf_counter()
        confirm_cells(lm.rnn, lm.task, cells, tr.roots, progress=progress, deadline=deadline)
        timings["z3"] = time.perf_counter() - t0
    return tr, cells


def roots_document(doc: dict, tr, n: int) -> None:
    """The roots and the kind of per-cell evidence of versions 2 and 3."""
    doc["roots"] = [{"ranking": list(r.ranking), "x0_sign": r.sign} for r in tr.roots]
    doc["evidence"] = "polygon" if n == 3 else "facets"


def generate(lm, o, timings: dict, deadline) -> CertifyResult:
    if o.workers is None:  # all cores where the orthant integrals dominate; process start-up is not worth it below
        o.workers = default_workers(lm.seq_len >= 4)
    return (generate_partial if o.width is not None else generate_full)(lm, o, timings, deadline)


def generate_full(lm, o, timings: dict, deadline) -> CertifyResult:
    """Every cell, and the measure of the side with fewer simplicial cones: exact closed form for seq_len 3, a
    rigorous orthant-probability enclosure for 4 to 7."""
    from ..cells.cones import cell_document
    from ..cells.triangulate import facet_cuts, triangulate
    from ..cells.measure import (closed_form_spherical, enclose, enclose_orthants,
                                 orthant_closed_form, spherical_sum_ball, spherical_terms)

    n, digits = lm.seq_len, o.digits
    if o.progress and n >= 4 and deadline is None and o.max_regions is None:  # no limit asked for: say if it is long
        from ..intervals.anytime import cells_hit, long_run_note

        note = long_run_note(lm, cells_hit(lm))
        if note:
            sys.stderr.write(f"verifier: note: {note}\n")
    tr, cells = traverse_cells(lm, bool(o.z3), timings, o.progress, o.max_regions, deadline, o.workers)
    t0 = time.perf_counter()
    index = {(c.root, c.key): i for i, c in enumerate(cells)}
    measured = None
    if n == 3:
        terms = spherical_terms([c.rays for c in cells if c.wrong])
        form = closed_form_spherical(terms)
        lo, hi, _ = enclose(lambda p: spherical_sum_ball(terms, p), digits, exact_zero=not terms, deadline=deadline)
    elif n == 5:
        lo, hi, digits, measured, form = _measure_whole(cells, o, deadline)
    else:
        # measure the side with fewer simplicial cones (the integrals dominate; ties: the wrong side)
        tri = [triangulate(c.rays, c.masks, n, len(c.constraints), cuts=facet_cuts(c)) for c in cells]
        count = {side: sum(len(t) for c, t in zip(cells, tri) if c.wrong == side) for side in (True, False)}
        measured = "wrong" if count[True] <= count[False] else "right"
        cones_, cell_items = [], []
        for c, t in zip(cells, tri):
            if c.wrong == (measured == "wrong"):
                c.simplices = t
                tiles = [[c.rays[r] for r in sx] for sx in t]
                cones_.extend(tiles)
                cell_items.append((c.rays, [c.constraints[j] for j in facet_cuts(c)], tiles))
        form = orthant_closed_form(measured, len(cones_), n, len(cell_items))
        lo, hi, digits = enclose_orthants(cones_, measured == "right", progress=o.progress, deadline=deadline,
                                          workers=o.workers)
    timings["measure"] = time.perf_counter() - t0
    doc = header(lm, 2, "cones")
    roots_document(doc, tr, n)
    if measured is not None:
        doc["measured"] = measured
    doc["cells"] = [cell_document(c, index, n) for c in cells]
    doc["error"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True, "digits": digits}
    doc["accuracy"] = {"lower": q(1 - hi), "upper": q(1 - lo)}
    regions = doc["regions"] = len({c.sigma for c in cells})
    doc["cell_count"] = len(cells)
    return CertifyResult(lo, hi, form, True, regions, sum(c.wrong for c in cells), doc, lm, timings=timings,
                         details={"cells": cells, "roots": tr.roots, "cell_count": len(cells)})


def _measure_whole(cells, o, deadline):
    """Seq_len 5: the measured side (fewer rays: a cell's Gauss-Bonnet measure costs about one P_4 per ray; ties:
    the wrong side), each of its cells whole (its rays are all its extreme rays, rule edges; no triangulation),
    measured at once by the kernel's Gauss-Bonnet identity.  A cell whose face combinatorics would not close
    (never seen: the kernel then bounds it by [0, 1]) is triangulated and carries its simplices instead.
    Returns (lo, hi, digits, measured, closed form)."""
    import contextlib

    from ..cells.measure import ORTHANT_PREC, enclose_cells, orthant_closed_form
    from ..cells.triangulate import facet_cuts, triangulate
    from ..kernel.conic import each_cell_bounds

    rays = {side: sum(len(c.rays) for c in cells if c.wrong == side) for side in (True, False)}
    measured = "wrong" if rays[True] <= rays[False] else "right"
    side = [c for c in cells if c.wrong == (measured == "wrong")]
    items = [(c.rays, [c.constraints[j] for j in facet_cuts(c)], None) for c in side]
    for c in side:
        c.whole = True
    lo, hi, digits = enclose_cells(items, measured == "right", progress=o.progress, deadline=deadline,
                                   workers=o.workers)
    with contextlib.ExitStack() as stack:  # every value is in this process's memo now: no integral again
        got = list(each_cell_bounds(items, ORTHANT_PREC, 1, stack))
    bad = [i for i, b in enumerate(got) if b == (0, 1)]
    for i in bad:
        c = side[i]
        c.whole = False
        c.simplices = triangulate(c.rays, c.masks, 5, len(c.constraints), cuts=facet_cuts(c))
        items[i] = (items[i][0], items[i][1], [[c.rays[r] for r in sx] for sx in c.simplices])
    if bad:
        lo, hi, digits = enclose_cells(items, measured == "right", progress=o.progress, deadline=deadline,
                                       workers=o.workers)
    cones_ = sum(len(c.simplices) for c in side if not c.whole)
    return lo, hi, digits, measured, orthant_closed_form(measured, cones_, 5, len(items), len(items) - len(bad))


def generate_partial(lm, o, timings: dict, deadline) -> CertifyResult:
    """An anytime certificate (coverage "partial", seq_len 4 to 7): cells discovered by samples (then
    breadth-first), their simplicial cones measured largest estimate first, until error in [W, 1 - R] is at most
    the width asked, every cone is measured, --max-cones cones are, or the measure's share of --timeout passes
    (three quarters of it when the kernel re-checks; intervals/anytime.py)."""
    from ..cells.cones import cell_document
    from ..cells.measure import correct_digits, round_outward
    from ..intervals.anytime import discover_and_measure
    from ..kernel.measure import partial_form  # the kernel's sentence: one spelling

    n, digits = lm.seq_len, o.digits
    if n == 5 and o.max_cones is not None:
        raise InputError(f"--max-cones: at seq_len {n} an anytime certificate measures whole cells (conic "
                         "Gauss-Bonnet), not cones; its budget is --max-cells")
    if n not in (5, 6, 7) and o.max_cells is not None:
        raise InputError(f"--max-cells is the budget of a seq_len-5, 6 or 7 anytime certificate (whole cells); at "
                         f"seq_len {n} it is --max-cones")
    if n in (6, 7) and o.max_cells is not None and o.max_cones is not None:
        raise InputError(f"--max-cells and --max-cones: at seq_len {n} give one (whole cells or simplicial cones)")
    mdl = None if o.timeout is None else time.monotonic() + (0.75 * o.timeout if o.self_check else o.timeout)
    t0 = time.perf_counter()
    tr, done, wrong_lo, right_lo, reached, stats = discover_and_measure(
        lm, o.width, mdl, o.workers, o.progress, max_cells=o.max_regions, max_cones=o.max_cones,
        max_whole=o.max_cells)
    timings["measure"] = time.perf_counter() - t0
    # the certificate lists the cells in the canonical order of a full one: root, pattern, decisions
    listed = sorted(done, key=lambda c: (c.root, "".join("".join(map(str, s)) for s in c.sigma), c.tau))
    if o.z3:
        from ..cells.smt import confirm_cells

        t0 = time.perf_counter()
        confirm_cells(lm.rnn, lm.task, listed, tr.roots, progress=o.progress)
        timings["z3"] = time.perf_counter() - t0
    lo, hi = round_outward(wrong_lo, 1 - right_lo, digits + 3)
    lo, hi = max(lo, Fraction(0)), min(hi, Fraction(1))
    wrong_cells = [c for c in listed if c.wrong]
    right_cells = [c for c in listed if not c.wrong]
    form = partial_form(len(wrong_cells), sum(len(c.pulled or ()) for c in wrong_cells),
                        len(right_cells), sum(len(c.pulled or ()) for c in right_cells), n,
                        sum(c.whole for c in wrong_cells), sum(c.whole for c in right_cells))
    doc = header(lm, 2, "cones", PARTIAL_CLAIM)
    roots_document(doc, tr, n)
    doc["coverage"] = "partial"
    doc["cells"] = [cell_document(c, None, n) for c in listed]  # no neighbours: no adjacency claimed
    doc["error"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True,
                    "digits": max(0, int(correct_digits(lo, hi))) if lo != hi else digits}
    doc["accuracy"] = {"lower": q(1 - hi), "upper": q(1 - lo)}
    regions = doc["regions"] = len({c.sigma for c in listed})
    doc["cell_count"] = len(listed)
    return CertifyResult(lo, hi, form, True, regions, len(wrong_cells), doc, lm, timings=timings,
                         details={"cells": listed, "roots": tr.roots, "cell_count": len(listed), "partial": True,
                                  "cells_total": stats["found"], "width": o.width, "width_reached": reached,
                                  "traversal_complete": stats["complete"],
                                  "roots_reached": len({c.root for c in done}),
                                  "order_estimate_samples": stats["samples"],
                                  "cones_measured": stats["cones"], "cones_total": stats["cones_total"],
                                  "whole": stats["whole"]})


def interval_head(res) -> list[str]:
    """The first lines of an interval certificate's report (anytime cells, boxes)."""
    width = res.error_upper - res.error_lower
    return [model_line(res.model),
            f"  error in      [{fmt(res.error_lower, 12)}, {fmt(res.error_upper, 12)}]  (certified interval, width "
            f"{float(width):.3g}; anytime certificate)"]


def lines(res, closed_form: bool = False) -> list[str]:
    if not res.details.get("partial"):
        return exact_error_lines(res, closed_form)
    d = res.details
    found = ("every cell found" if d["traversal_complete"] else
             f"cells found from {d['order_estimate_samples']} samples, then their neighbours; no coverage is claimed")
    if d.get("whole"):
        return interval_head(res) + [
            f"  {d['cones_measured']:,} of the {d['cells_total']:,} cells processed measured whole (conic "
            f"Gauss-Bonnet), most hit first ({found}; {d['roots_reached']} of {len(d['roots'])} roots; at least the "
            f"measure of the wrong cells listed, at most 1 minus that of the right cells); certificate "
            f"{res.certificate_path} (checked: accepted)"] + sampled_and_time_lines(res)
    return interval_head(res) + [
        f"  {d['cones_measured']:,} of the {d['cones_total']:,} simplicial cones of {d['cells_total']:,} cells "
        f"processed measured, largest first, in {d['cell_count']:,} cells ({found}; {d['roots_reached']} of "
        f"{len(d['roots'])} roots; at least the measured cones of the wrong cells, at most 1 minus those of the "
        f"right cells); certificate {res.certificate_path} (checked: accepted)"] + sampled_and_time_lines(res)


def report(res) -> dict:
    out = error_report(res)
    d = res.details
    if d.get("partial"):
        units = {"whole_cells_measured": d["cones_measured"]} if d.get("whole") else {
            "cones_measured": d["cones_measured"], "cones_total": d["cones_total"]}
        out["partial"] = {"cells_measured": d["cell_count"], "cells_total": d["cells_total"], **units,
                          "traversal_complete": d["traversal_complete"], "roots_reached": d["roots_reached"],
                          "roots_total": len(d["roots"]),
                          "width_asked": q(d["width"]), "width": q(res.error_upper - res.error_lower),
                          "width_reached": d["width_reached"]}
    return with_sampled(out, res)


def _partial(res) -> bool:
    return bool(res.details.get("partial"))


KIND = Kind(name="cones", version=2,
            title="cones: every cell with facet or polygon evidence and the measure of one side (seq_len 3 to 7); "
                  "with --width, the cells found from samples and their largest cones (coverage: partial)",
            accepts=accepts, generate=generate, lines=lines, report=report,
            notes=lambda res: width_not_reached(res) if _partial(res) else [],
            exit_code=lambda res: 3 if _partial(res) and not res.details["width_reached"] else 0,
            recheck_deadline=lambda res: not _partial(res))
