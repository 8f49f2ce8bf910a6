"""Certificate version 3, moments (median models, seq_len 2 to 5): the cells of version 2 without decisions and
the exact MSE, each cell's second moment by Gaussian integration by parts (families/median.py; kernel/moments.py
re-checks).  Seq_len 2 and 3 have an elementary closed form; at 4 and 5 each cell with a nonzero residual is
triangulated and each simplicial cone's second moment is its orthant probability P_n plus closed-form ridge
terms, enclosed in ball arithmetic (the kernel's own moment_bounds)."""

from __future__ import annotations

import sys
import time
from fractions import Fraction

from ..errors import InputError, UnsupportedError
from ..loading.rational import q
from .base import CertifyResult, Kind, default_workers, fmt, header, measure_report, model_line, \
    sampled_and_time_lines, width_not_reached, with_sampled
from .cones import roots_document, traverse_cells

SEQ_LENS = (2, 3, 4, 5)  # seq_lens whose median MSE has a certificate (kernel/moments.py: MAX_SEQ_LEN)

MEDIAN_CLAIM = ("For the bias-free ReLU RNN with one output and the exact rational weights below (the exact values "
                "of the checkpoint's floats) and x ~ N(0, I_n), the mean squared error E[(model(x) - median(x))^2] "
                "(median: the mean of the two middle values for even n) lies in [mse.lower, mse.upper] and equals "
                "mse.closed_form; the root mean squared error lies in [rmse.lower, rmse.upper].")


def accepts(lm, o) -> bool:
    if lm.family != "scalar":
        return False
    if lm.seq_len not in SEQ_LENS:
        raise UnsupportedError(f"{lm.path}: seq_len {lm.seq_len}: the exact MSE of a median model is certified "
                               f"for seq_len {' and '.join(map(str, SEQ_LENS))}; seq_len {lm.seq_len} would "
                               f"need the Gaussian measure of {lm.seq_len}- and {lm.seq_len - 2}-dimensional cones "
                               "(P_10 and P_8: not implemented); `sample` estimates its MSE")
    return o.method != "boxes"  # boxes say why they do not apply


PARTIAL_CLAIM = ("For the bias-free ReLU RNN with one output and the exact rational weights below (the exact values "
                 "of the checkpoint's floats) and x ~ N(0, I_n), the mean squared error E[(model(x) - median(x))^2] "
                 "lies in [mse.lower, mse.upper]: at least the second moments of the cells listed, at most those plus "
                 "n S^2 times the measure of the cells not listed, where |model(x) - median(x)| <= S |x| (tail); the "
                 "root mean squared error lies in [rmse.lower, rmse.upper].")
TAIL_BOXES = 1_500_000  # face boxes the tail's proof may use by default (--max-boxes): M(16,5)'s took 972,543


def _rmse(lo: Fraction, hi: Fraction, digits: int) -> tuple:
    """An outward-rounded enclosure of [sqrt(lo), sqrt(hi)]."""
    import flint

    from ..cells.measure import arb_to_bounds, round_outward

    with flint.ctx.workprec(4 * digits + 64):
        rlo = arb_to_bounds((flint.arb(lo.numerator) / lo.denominator).sqrt())[0] if lo > 0 else Fraction(0)
        rhi = arb_to_bounds((flint.arb(hi.numerator) / hi.denominator).sqrt())[1]
    rlo, rhi = round_outward(max(rlo, Fraction(0)), rhi, digits + 2)
    return max(rlo, Fraction(0)), rhi


def _cell_documents(cells, index, n: int) -> list:
    """Version 3's cell entries: version 2's (cells/cones.cell_document) without decisions."""
    from ..cells.cones import cell_document

    docs = []
    for c in cells:
        cd = cell_document(c, index, n)
        del cd["decision"], cd["wrong"]
        docs.append(cd)
    return docs


def generate_partial(lm, o, timings: dict, deadline) -> CertifyResult:
    """A median MSE interval at seq_len 5 (coverage "partial"): the tail's face boxes (intervals/sup.py), then
    cells most hit first, measured whole, until the interval is at most --width wide, every cell is measured,
    --max-cells cells are or the measure's share of --timeout passes (intervals/mse.py)."""
    from ..cells.measure import correct_digits, round_outward
    from ..intervals.mse import discover_and_measure
    from ..intervals.sup import tail_proof
    from ..kernel.moments import partial_moments_form

    n, digits = lm.seq_len, o.digits
    if o.workers is None:
        o.workers = default_workers(True)
    if o.max_cones is not None:
        raise InputError("--max-cones: a median MSE interval measures whole cells; its budget is --max-cells")
    mdl = None if o.timeout is None else time.monotonic() + (0.75 * o.timeout if o.self_check else o.timeout)
    t0 = time.perf_counter()
    boxes = o.max_boxes or TAIL_BOXES
    say = (lambda msg: print(msg, file=sys.stderr)) if o.progress else None
    tail = tail_proof(lm, boxes, o.workers, mdl, say)
    if tail is None:
        raise UnsupportedError(f"{lm.path}: the MSE interval needs a proof that |model - median| <= S |x| (its tail "
                               f"bound); boxes of directions did not prove one within {boxes:,} boxes (--max-boxes) "
                               "for S up to 2.6 times the sampled largest ratio")
    S2, den, trees, leaves = tail
    timings["tail"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tr, listed, lo, hi, mass, reached, stats = discover_and_measure(
        lm, o.width, S2, mdl, o.workers, o.progress, max_cells=o.max_cells)
    timings["measure"] = time.perf_counter() - t0
    listed = sorted(listed, key=lambda c: (c.root, "".join("".join(map(str, s)) for s in c.sigma)))
    lo, hi = round_outward(lo, hi, digits + 3)
    lo = max(lo, Fraction(0))
    rlo, rhi = _rmse(lo, hi, digits)
    form = partial_moments_form(len(listed), n, S2)
    doc = header(lm, 3, "moments", PARTIAL_CLAIM)
    roots_document(doc, tr, n)
    doc["coverage"] = "partial"
    doc["cells"] = _cell_documents(listed, None, n)  # no neighbours: no adjacency claimed
    doc["tail"] = {"bound": q(S2), "denominator": den, "faces": trees}
    doc["mse"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True,
                  "digits": max(0, int(correct_digits(lo, hi))) if lo != hi else digits}
    doc["rmse"] = {"lower": q(rlo), "upper": q(rhi)}
    regions = doc["regions"] = len({c.sigma for c in listed})
    doc["cell_count"] = len(listed)
    return CertifyResult(lo, hi, form, True, regions, 0, doc, lm, timings=timings, measure="mse",
                         details={"cells": listed, "roots": tr.roots, "cell_count": len(listed), "partial": True,
                                  "rmse": (rlo, rhi), "width": o.width, "width_reached": reached,
                                  "cells_measured": stats["measured"], "traversal_complete": stats["complete"],
                                  "tail": {"S2": S2, "boxes": leaves}, "mass": mass,
                                  "order_estimate_samples": stats["samples"]})


def generate(lm, o, timings: dict, deadline) -> CertifyResult:
    """The exact MSE of a median RNN of seq_len 2 to 5 (second moments of its cells); with --width at seq_len 5,
    an MSE interval from part of the cells (generate_partial)."""
    if lm.seq_len == 5 and o.width is not None:
        return generate_partial(lm, o, timings, deadline)
    from ..cells.measure import enclose
    from ..families.median import MomentSum, cell_moments, output_scale

    rnn, n, digits = lm.rnn, lm.seq_len, o.digits
    if o.workers is None:
        o.workers = default_workers(n >= 4)
    tr, cells = traverse_cells(lm, bool(o.z3), timings, o.progress, o.max_regions, deadline, o.workers)
    t0 = time.perf_counter()
    scale = output_scale(rnn)
    if n >= 4:
        lo, hi, form, digits, zero = _cones_mse(cells, tr, scale, n, o, deadline)
    else:
        total = MomentSum()
        gamma = Fraction(1) if n == 2 else Fraction(1, 2)
        for c in cells:
            res, angles, pairs = cell_moments(c, tr, scale, n)
            total.add_cell(res, angles, pairs, gamma)
        form, zero = total.closed_form(), total.zero
        lo, hi, _ = enclose(total.ball, digits, exact_zero=zero, deadline=deadline)
    if zero:
        rlo = rhi = Fraction(0)
    else:
        rlo, rhi = _rmse(lo, hi, digits)
    timings["measure"] = time.perf_counter() - t0
    index = {(c.root, c.key): i for i, c in enumerate(cells)}
    doc = header(lm, 3, "moments", MEDIAN_CLAIM)
    roots_document(doc, tr, n)
    doc["cells"] = _cell_documents(cells, index, n)
    doc["mse"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True, "digits": digits}
    doc["rmse"] = {"lower": q(rlo), "upper": q(rhi)}
    regions = doc["regions"] = len({c.sigma for c in cells})
    doc["cell_count"] = len(cells)
    return CertifyResult(lo, hi, form, True, regions, 0, doc, lm, timings=timings,
                         details={"cells": cells, "roots": tr.roots, "cell_count": len(cells),
                                  "rmse": (rlo, rhi), "width_asked": o.width}, measure="mse")


def _tile_unclosed(cell_items, whole_cells) -> bool:
    """Seq_len 5, after the measure: a whole cell whose face combinatorics did not close (never seen; the kernel
    bounds it by [0, |c|^2], the value each_cell_moment_bounds gives back from this process's memo) is triangulated
    and carries its simplices instead (cell_items updated in place); whether any was."""
    import contextlib

    from ..cells.measure import ORTHANT_PREC
    from ..cells.triangulate import facet_cuts, triangulate
    from ..kernel.moments import each_cell_moment_bounds

    with contextlib.ExitStack() as stack:
        got = list(each_cell_moment_bounds(cell_items, ORTHANT_PREC, 1, stack))
    k, changed = 0, False
    for i, (res, rays, normals, tiles) in enumerate(cell_items):
        if tiles is not None:
            continue
        c = whole_cells[k]
        k += 1
        if got[i] == (0, sum(x * x for x in res)):
            c.whole, changed = False, True
            c.simplices = triangulate(c.rays, c.masks, 5, len(c.constraints), cuts=facet_cuts(c))
            cell_items[i] = (res, rays, normals, [[c.rays[r] for r in sx] for sx in c.simplices])
    return changed


def _cones_mse(cells, tr, scale: int, n: int, o, deadline):
    """Seq_len 4 and 5: triangulate every cell with a nonzero residual (its `simplices` are written) and enclose
    the sum of its second moments at ORTHANT_PREC bits, by its cones at n = 4 and by the cell at once at n = 5
    (the kernel's cell_moment_bounds: the conic Gauss-Bonnet identity); (lower, upper, sentence, digits, zero)."""
    from ..cells.measure import ORTHANT_PREC, correct_digits, round_outward
    from ..cells.triangulate import facet_cuts, triangulate
    from ..families.median import residual
    from ..kernel.moments import cell_moments_bounds, moment_bounds, moments_form

    items, cell_items, measured = [], [], 0
    for c in cells:
        res = residual(tr.output_forms(c.sigma)[0], scale, tr.roots[c.root].ranking, n)
        if not any(res):
            continue
        measured += 1
        if n == 5:  # whole: its rays are all its extreme rays (rule edges), measured at once; no triangulation
            c.whole = True
            cell_items.append((res, c.rays, [c.constraints[j] for j in facet_cuts(c)], None))
            continue
        c.simplices = triangulate(c.rays, c.masks, n, len(c.constraints), cuts=facet_cuts(c))
        tiles = [[c.rays[r] for r in sx] for sx in c.simplices]
        items.extend((res, t) for t in tiles)
        cell_items.append((res, c.rays, [c.constraints[j] for j in facet_cuts(c)], tiles))
    form = moments_form(measured, len(items), n, len(cell_items) if n == 5 else 0)
    if not cell_items:
        return Fraction(0), Fraction(0), form, 30, True
    bar = None
    if o.progress:
        from tqdm import tqdm

        bar = (tqdm(total=len(cell_items), desc="second moments (Gauss-Bonnet P_5 + ridges)", unit="cell",
                    leave=False) if n == 5 else
               tqdm(total=len(items), desc=f"second moments (P_{n} + ridges)", unit="cone", leave=False))
    try:
        bounds_fn = (cell_moments_bounds(cell_items, deadline, o.workers, bar.update if bar else None) if n == 5 else
                     moment_bounds(items, deadline, o.workers, bar.update if bar else None))
        lo, hi = bounds_fn(ORTHANT_PREC)
        if n == 5 and _tile_unclosed(cell_items, [c for c in cells if c.whole]):
            form = moments_form(measured, sum(len(it[3]) for it in cell_items if it[3] is not None), n,
                                sum(it[3] is None for it in cell_items))
            lo, hi = cell_moments_bounds(cell_items, deadline, o.workers)(ORTHANT_PREC)
    except TimeoutError:  # the kernel's deadline (kernel/work.py): the user's --timeout
        from ..errors import LimitReached

        raise LimitReached("timeout (--timeout) during the second moments; stopped, nothing written") from None
    finally:
        if bar is not None:
            bar.close()
    lo = max(lo, Fraction(0))
    digits = max(1, int(correct_digits(lo, hi)) - 1) if lo != hi else 30
    lo, hi = round_outward(lo, hi, digits + 3)
    return max(lo, Fraction(0)), hi, form, digits, False


def _partial_lines(res) -> list[str]:
    d = res.details
    width = res.error_upper - res.error_lower
    rlo, rhi = res.rmse
    found = ("every cell found" if d["traversal_complete"] else
             f"cells found from {d['order_estimate_samples']:,} samples, then their neighbours; no coverage is claimed")
    S2 = d["tail"]["S2"]
    return [model_line(res.model),
            f"  MSE in  [{fmt(res.error_lower, 12)}, {fmt(res.error_upper, 12)}]  (certified interval, width "
            f"{float(width):.3g}; anytime certificate)",
            f"  RMSE in [{fmt(rlo, 12)}, {fmt(rhi, 12)}]",
            f"  {d['cell_count']:,} cells measured whole (conic Gauss-Bonnet), most hit first ({found}), holding "
            f"{float(d['mass']):.4g} of the mass; the rest bounded by {res.model.seq_len} S^2 (1 - mass) with "
            f"|model - median| <= S |x|, S = {float(S2) ** 0.5:.4g}, proven on {d['tail']['boxes']:,} boxes of "
            f"directions; certificate {res.certificate_path} (checked: accepted)"] + sampled_and_time_lines(res)


def lines(res, closed_form: bool = False) -> list[str]:
    """A median model's certified mean squared error."""
    from ..cells.measure import sympy_form
    from .base import MAX_FORM_CHARS

    if res.details.get("partial"):
        return _partial_lines(res)
    form = res.closed_form
    out = [model_line(res.model)]
    if not form.startswith("(") and form != "0":  # seq_len 4 and 5: a sentence, the value is the enclosure
        out.append(f"  MSE = {form}")
    elif closed_form or len(form) <= MAX_FORM_CHARS:
        out.append(f"  MSE (exact) = {sympy_form(form)}")
    else:
        out.append(f"  MSE (exact): a sum of {form.count('atan2('):,} atan2 and {form.count('/sqrt('):,} square-root "
                   f"terms over 2*pi ({len(form):,} characters; in the certificate and --json, or --closed-form to "
                   "print it)")
    out.append(f"  MSE enclosure  [{fmt(res.error_lower, 25)}, {fmt(res.error_upper, 25)}]")
    rlo, rhi = res.rmse
    out.append(f"  RMSE enclosure [{fmt(rlo, 25)}, {fmt(rhi, 25)}]")
    if res.error_upper == 0:
        out.append("  the model computes the median exactly (MSE exactly 0)")
    out.append(f"  {res.regions} regions (activation patterns) split into {res.details['cell_count']} cells; "
               f"certificate {res.certificate_path} (checked: accepted)")
    return out + sampled_and_time_lines(res)


def report(res) -> dict:
    out = {**measure_report(res, "mse"), "rmse": {"lower": q(res.rmse[0]), "upper": q(res.rmse[1])},
           "cells": res.details.get("cell_count")}
    d = res.details
    if d.get("partial"):
        out["partial"] = {"cells_measured": d["cell_count"], "traversal_complete": d["traversal_complete"],
                          "mass_measured_lower": q(d["mass"]), "tail_S2": q(d["tail"]["S2"]),
                          "tail_boxes": d["tail"]["boxes"], "width_asked": q(d["width"]),
                          "width": q(res.error_upper - res.error_lower), "width_reached": d["width_reached"]}
    return with_sampled(out, res)


def notes(res) -> list[str]:
    """`--width` on a median model: the exact MSE answers it (an MSE interval from part of the cells is not built)."""
    if res.details.get("partial"):
        return width_not_reached(res)
    w = res.details.get("width_asked")
    if w is None:
        return []
    return [f"--width {float(w):g}: the exact MSE was certified (enclosure width "
            f"{float(res.error_upper - res.error_lower):.2g}); an MSE interval from part of the cells is built at "
            "seq_len 5 only, so --width does not shorten the work here: --timeout bounds it"]


KIND = Kind(name="moments", version=3, title="moments: the exact MSE of a median model (seq_len 2 to 5); with "
                                               "--width at seq_len 5, an MSE interval (coverage: partial)",
            accepts=accepts, generate=generate, lines=lines, report=report, notes=notes,
            exit_code=lambda res: 3 if res.details.get("partial") and not res.details["width_reached"] else 0,
            recheck_deadline=lambda res: not res.details.get("partial"),
            no_claims="a median certificate (version 3): it claims an MSE, not per-cell predictions")
