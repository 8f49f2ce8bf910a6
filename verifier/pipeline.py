"""The pipeline: load -> regions (disc.py for seq_len 2, cones.py for 3-5) -> Z3 (smt.py) -> measure
(measure.py) -> certificate document -> the kernel's independent re-check.

`certify()` is the library entry point; it prints nothing (the CLI prints).  The pipeline drives the
geometry modules; they never import it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ._version import __version__
from .errors import InputError, UnsupportedError
from .load.loader import LoadedModel, load
from .load.model import RNN
from .load.rational import dumps_canonical, q, weights_doc, write_certificate

# seq_len 2 is served by certificate version 1 (the disc), 3 to 7 by version 2 (cones); see ARCHITECTURE.md
MAX_SEQ_LEN = 7
# seq_lens whose certificates scripts/make_proofs.py makes by default (seq_len 4 to 7: `--seq-lens`, `--budgets`)
CERTIFIABLE_SEQ_LENS = (2, 3)

MEDIAN_CLAIM = ("For the bias-free ReLU RNN with one output and the exact rational weights below (the exact values "
                "of the checkpoint's floats) and x ~ N(0, I_n), the mean squared error E[(model(x) - median(x))^2] "
                "(median: the mean of the two middle values for even n) lies in [mse.lower, mse.upper] and equals "
                "mse.closed_form; the root mean squared error lies in [rmse.lower, rmse.upper].")
# seq_lens whose median MSE has a certificate (version 3)
MOMENT_SEQ_LENS = (2, 3)

PARTIAL_CLAIM = ("For the bias-free ReLU RNN with the exact rational weights below (the exact values of the "
                 "checkpoint's floats) and x ~ N(0, I_n), the probability that argmax(model(x)) (first index on "
                 "ties) differs from the task's target lies in [error.lower, error.upper]: at least the measure of "
                 "the wrong cells listed and at most 1 minus that of the right cells listed (coverage: partial).")
CLAIM = ("For the bias-free ReLU RNN with the exact rational weights below (the exact values of the "
         "checkpoint's floats) and x ~ N(0, I_n), the probability that argmax(model(x)) (first index on "
         "ties) differs from the task's target lies in [error.lower, error.upper] and equals error.closed_form.")


@dataclass
class CertifyResult:
    """What certification established: the exact error (closed form, rational enclosure) and its evidence."""

    error_lower: Fraction
    error_upper: Fraction
    closed_form: str
    rigorous: bool
    regions: int
    wrong_regions: int
    certificate: dict
    model: LoadedModel
    certificate_path: str | None = None
    sampled: Any = None
    timings: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    measure: str = "error"  # "mse" for a median model: error_lower/upper then bound the mean squared error

    @property
    def rmse(self) -> tuple[Fraction, Fraction] | None:
        return self.details.get("rmse")

    @property
    def error(self) -> tuple[Fraction, Fraction]:
        return self.error_lower, self.error_upper

    @property
    def accuracy(self) -> tuple[Fraction, Fraction]:
        return 1 - self.error_upper, 1 - self.error_lower

    def one_in(self) -> float | None:
        mid = (self.error_lower + self.error_upper) / 2
        return None if mid == 0 else float(1 / mid)


def _as_loaded(model, task, seq_len) -> LoadedModel:
    if isinstance(model, LoadedModel):
        if task and task != model.task:
            from .load.tasks import check_task

            check_task(task, model.family, model.seq_len)
            return LoadedModel(model.path, model.sha256, model.family, task, model.rnn, model.source_dtype,
                               model.hidden_size, model.seq_len, model.parameters, model.shapes)
        return model
    if isinstance(model, RNN):
        from .load.tasks import check_task

        t = task or ("median" if model.family == "scalar" else "2nd_argmax")
        check_task(t, model.family, model.seq_len)
        sha = hashlib.sha256(dumps_canonical(weights_doc(model)).encode()).hexdigest()
        return LoadedModel("<in-memory>", sha, model.family, t, model, "rational", model.d, model.seq_len,
                           model.parameters, {})
    return load(model, task=task, seq_len=seq_len)


def model_block(rnn: RNN) -> dict:
    w = weights_doc(rnn)
    out = {"family": rnn.family, "hidden_size": rnn.d, "seq_len": rnn.seq_len, **w,
           "weights_sha256": hashlib.sha256(dumps_canonical(w).encode()).hexdigest()}
    return out


def header(lm: LoadedModel, version: int, method: str) -> dict:
    return {"format": "verifier-certificate", "version": version, "generator": f"verifier {__version__}",
            "claim": MEDIAN_CLAIM if version == 3 else CLAIM, "checkpoint": {"name": os.path.basename(lm.path), "sha256": lm.sha256},
            "model": model_block(lm.rnn), "task": lm.task, "method": method}


def _certify_disc(lm: LoadedModel, z3: bool, digits: int, timings: dict) -> CertifyResult:
    from .cells.disc import sectors, wrong_wedges
    from .cells.measure import closed_form_wedges, enclose, wedge_angle_sum_ball

    t0 = time.perf_counter()
    secs = sectors(lm.rnn, lm.task)
    timings["sectors"] = time.perf_counter() - t0
    if z3:
        from .cells.smt import confirm_sectors

        t0 = time.perf_counter()
        confirm_sectors(lm.rnn, lm.task, secs)
        timings["z3"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    wedges = wrong_wedges(secs)
    index = {s.u: k for k, s in enumerate(secs)}
    end_index = {s.v: k for k, s in enumerate(secs)}
    wedge_idx = [[index[a], end_index[b]] for a, b in wedges]
    lo, hi, _prec = enclose(lambda p: wedge_angle_sum_ball(wedges, p), digits, exact_zero=not wedges)
    form = closed_form_wedges(wedges)
    timings["measure"] = time.perf_counter() - t0
    doc = header(lm, 1, "disc")
    doc["sectors"] = [{"u": [q(c) for c in s.u], "v": [q(c) for c in s.v],
                       "pattern": ["".join(map(str, row)) for row in s.pattern],
                       "label": s.label, "prediction": s.prediction, "wrong": s.wrong} for s in secs]
    doc["wedges"] = wedge_idx
    doc["error"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True, "digits": digits}
    doc["accuracy"] = {"lower": q(1 - hi), "upper": q(1 - lo)}
    doc["regions"] = len(secs)
    return CertifyResult(lo, hi, form, True, len(secs), sum(s.wrong for s in secs), doc, lm,
                         timings=timings, details={"sectors": secs, "wedges": wedges})


def _traverse_cells(lm: LoadedModel, z3: bool, timings: dict, progress: bool, max_regions, deadline, workers: int):
    """The cells of a seq_len >= 3 RNN (verifier/cones.py), each optionally confirmed by Z3; timings recorded."""
    from .cells.cones import traverse

    t0 = time.perf_counter()
    tr, cells = traverse(lm.rnn, lm.task, progress=progress, max_regions=max_regions,
                         timeout=None if deadline is None else max(0.0, deadline - time.monotonic()),
                         workers=workers)
    timings["traverse"] = time.perf_counter() - t0
    if z3:
        from .cells.smt import confirm_cells

        t0 = time.perf_counter()
        confirm_cells(lm.rnn, lm.task, cells, tr.roots, progress=progress, deadline=deadline)
        timings["z3"] = time.perf_counter() - t0
    return tr, cells


def _roots_document(doc: dict, tr, n: int) -> None:
    """The roots (ordering chamber x sign of x_0) and the kind of per-cell evidence of versions 2 and 3."""
    doc["roots"] = [{"ranking": list(r.ranking), "x0_sign": r.sign} for r in tr.roots]
    doc["evidence"] = "polygon" if n == 3 else "facets"


def _certify_cones(lm: LoadedModel, z3: bool, digits: int, timings: dict, progress: bool = False,
                   max_regions=None, deadline=None, workers: int = 1) -> CertifyResult:
    """Certificate version 2 for a position model of seq_len 3 to 5 (exact closed form for 3, rigorous
    orthant-probability enclosure for 4 and 5)."""
    from .cells.cones import cell_document, facet_cuts, triangulate
    from .cells.measure import (closed_form_spherical, enclose, enclose_orthants, orthant_closed_form, spherical_sum_ball,
                          spherical_terms)

    n = lm.seq_len
    if progress and n >= 4 and deadline is None and max_regions is None:  # no limit asked for: say if it is long
        from .intervals.anytime import cells_hit, long_run_note

        note = long_run_note(lm, cells_hit(lm))
        if note:
            sys.stderr.write(f"verifier: note: {note}\n")
    tr, cells = _traverse_cells(lm, z3, timings, progress, max_regions, deadline, workers)
    t0 = time.perf_counter()
    index = {(c.root, c.key): i for i, c in enumerate(cells)}
    measured = None
    if n == 3:
        terms = spherical_terms([c.rays for c in cells if c.wrong])
        form = closed_form_spherical(terms)
        lo, hi, _ = enclose(lambda p: spherical_sum_ball(terms, p), digits, exact_zero=not terms, deadline=deadline)
    else:
        # measure the side with fewer simplicial cones (the integrals dominate; ties: the wrong side)
        tri = [triangulate(c.rays, c.masks, n, len(c.constraints), cuts=facet_cuts(c)) for c in cells]
        count = {side: sum(len(t) for c, t in zip(cells, tri) if c.wrong == side) for side in (True, False)}
        measured = "wrong" if count[True] <= count[False] else "right"
        cones_ = []
        for c, t in zip(cells, tri):
            if c.wrong == (measured == "wrong"):
                c.simplices = t
                cones_.extend([c.rays[r] for r in sx] for sx in t)
        form = orthant_closed_form(measured, len(cones_), n)
        lo, hi, digits = enclose_orthants(cones_, measured == "right", progress=progress, deadline=deadline,
                                          workers=workers)
    timings["measure"] = time.perf_counter() - t0
    doc = header(lm, 2, "cones")
    _roots_document(doc, tr, n)
    if measured is not None:
        doc["measured"] = measured
    doc["cells"] = [cell_document(c, index, n) for c in cells]
    doc["error"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True, "digits": digits}
    doc["accuracy"] = {"lower": q(1 - hi), "upper": q(1 - lo)}
    regions = doc["regions"] = len({c.sigma for c in cells})
    doc["cell_count"] = len(cells)
    return CertifyResult(lo, hi, form, True, regions, sum(c.wrong for c in cells), doc, lm, timings=timings,
                         details={"cells": cells, "roots": tr.roots, "cell_count": len(cells)})


def _certify_moments(lm: LoadedModel, z3: bool, digits: int, timings: dict, progress: bool = False,
                     max_regions=None, deadline=None, workers: int = 1) -> CertifyResult:
    """Certificate version 3: the exact MSE of a median RNN of seq_len 2 or 3 (second moments of its cells)."""
    from .cells.cones import cell_document
    from .cells.measure import arb_to_bounds, enclose, round_outward
    from .families.median import MomentSum, cell_moments, output_scale

    rnn, n = lm.rnn, lm.seq_len
    tr, cells = _traverse_cells(lm, z3, timings, progress, max_regions, deadline, workers)
    t0 = time.perf_counter()
    scale = output_scale(rnn)
    total = MomentSum()
    gamma = Fraction(1) if n == 2 else Fraction(1, 2)
    for c in cells:
        res, angles, pairs = cell_moments(c, tr, scale, n)
        total.add_cell(res, angles, pairs, gamma)
    form = total.closed_form()
    lo, hi, _ = enclose(total.ball, digits, exact_zero=total.zero, deadline=deadline)
    if total.zero:
        rlo = rhi = Fraction(0)
    else:
        import flint

        with flint.ctx.workprec(4 * digits + 64):
            rlo = arb_to_bounds((flint.arb(lo.numerator) / lo.denominator).sqrt())[0] if lo > 0 else Fraction(0)
            rhi = arb_to_bounds((flint.arb(hi.numerator) / hi.denominator).sqrt())[1]
        rlo, rhi = round_outward(max(rlo, Fraction(0)), rhi, digits + 2)
        rlo = max(rlo, Fraction(0))
    timings["measure"] = time.perf_counter() - t0
    index = {(c.root, c.key): i for i, c in enumerate(cells)}
    doc = header(lm, 3, "moments")
    _roots_document(doc, tr, n)
    docs = []
    for c in cells:
        cd = cell_document(c, index, n)
        del cd["decision"], cd["wrong"]
        docs.append(cd)
    doc["cells"] = docs
    doc["mse"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True, "digits": digits}
    doc["rmse"] = {"lower": q(rlo), "upper": q(rhi)}
    regions = doc["regions"] = len({c.sigma for c in cells})
    doc["cell_count"] = len(cells)
    return CertifyResult(lo, hi, form, True, regions, 0, doc, lm, timings=timings,
                         details={"cells": cells, "roots": tr.roots, "cell_count": len(cells),
                                  "rmse": (rlo, rhi)}, measure="mse")


def _certify_partial(lm: LoadedModel, z3: bool, digits: int, timings: dict, width: Fraction, progress: bool = False,
                     max_regions=None, workers: int = 1, measure_deadline=None,
                     max_cones: int | None = None) -> CertifyResult:
    """An anytime certificate (version 2, coverage "partial", seq_len 4 to 7): cells discovered by samples (then
    breadth-first), their simplicial cones measured largest estimate first, until error in [W, 1 - R] is at most `width` wide,
    every cell is measured, or measure_deadline passes (verifier/anytime.py)."""
    from .intervals.anytime import discover_and_measure
    from .cells.cones import cell_document
    from .kernel.measure import partial_form  # the kernel's sentence: one spelling
    from .cells.measure import correct_digits, round_outward

    n = lm.seq_len
    t0 = time.perf_counter()
    tr, done, wrong_lo, right_lo, reached, stats = discover_and_measure(
        lm, width, measure_deadline, workers, progress, max_cells=max_regions, max_cones=max_cones)
    timings["measure"] = time.perf_counter() - t0
    # the certificate lists the cells in the canonical order of a full one: root, pattern, decisions
    listed = sorted(done, key=lambda c: (c.root, "".join("".join(map(str, s)) for s in c.sigma), c.tau))
    if z3:
        from .cells.smt import confirm_cells

        t0 = time.perf_counter()
        confirm_cells(lm.rnn, lm.task, listed, tr.roots, progress=progress)
        timings["z3"] = time.perf_counter() - t0
    lo, hi = round_outward(wrong_lo, 1 - right_lo, digits + 3)
    lo, hi = max(lo, Fraction(0)), min(hi, Fraction(1))
    wrong_cells = [c for c in listed if c.wrong]
    right_cells = [c for c in listed if not c.wrong]
    form = partial_form(len(wrong_cells), sum(len(c.pulled) for c in wrong_cells),
                        len(right_cells), sum(len(c.pulled) for c in right_cells), n)
    doc = header(lm, 2, "cones")
    doc["claim"] = PARTIAL_CLAIM
    _roots_document(doc, tr, n)
    doc["coverage"] = "partial"
    doc["cells"] = [cell_document(c, None, n) for c in listed]  # no neighbours: no adjacency claimed
    doc["error"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True,
                    "digits": max(0, int(correct_digits(lo, hi))) if lo != hi else digits}
    doc["accuracy"] = {"lower": q(1 - hi), "upper": q(1 - lo)}
    regions = doc["regions"] = len({c.sigma for c in listed})
    doc["cell_count"] = len(listed)
    return CertifyResult(lo, hi, form, True, regions, len(wrong_cells), doc, lm, timings=timings,
                         details={"cells": listed, "roots": tr.roots, "cell_count": len(listed), "partial": True,
                                  "cells_total": stats["found"], "width": width, "width_reached": reached,
                                  "traversal_complete": stats["complete"],
                                  "roots_reached": len({c.root for c in done}),
                                  "order_estimate_samples": stats["samples"],
                                  "cones_measured": stats["cones"], "cones_total": stats["cones_total"]})


def certify(model, task: str | None = None, seq_len: int | None = None, *, z3: bool | None = None,
            digits: int = 30, samples: int = 0, seed: int = 0, out: str | None = None,
            self_check: bool = True, progress: bool = False, max_regions: int | None = None,
            timeout: float | None = None, workers: int | None = None, width: Fraction | None = None,
            method: str = "auto", max_boxes: int | None = None, resume: str | None = None,
            checkpoint_every: float | None = None, compress_large: bool = False,
            max_cones: int | None = None) -> CertifyResult:
    """Certify the exact error of a position-task RNN; optionally write the certificate and sample beside it.

    width (seq_len 4 to 7): an anytime certificate instead, an interval at most that wide (or, when `timeout` or
    `max_cones` comes first, the interval reached: details["width_reached"] is then False, and the certificate is
    written).  max_cones (with width): measure at most this many simplicial cones, a budget that gives the same
    certificate on any machine and for any number of workers (a timeout does not).

    method "boxes" (any seq_len of the position family): an anytime interval from a tree of boxes (version 5,
    verifier/boxes.py), stopped by `width`, `max_boxes` or `timeout`, whichever comes first.

    out: the certificate's path; a .gz or .xz suffix compresses it (rational.write_certificate), and with
    `compress_large` a plain .cert.json path becomes .cert.json.xz when the text exceeds 1 MiB (the path written is
    res.certificate_path).

    model: a checkpoint path, a LoadedModel or an exact RNN.  Raises InputError/UnsupportedError on bad
    or unsupported input, LimitReached when a limit stops the work (nothing is written then).
    """
    lm = _as_loaded(model, task, seq_len)
    if lm.family == "transformer":  # longest cycle: every input evaluated (verifier/cycle.py, version 4)
        from .families.transformer import certify_cycle

        return CertifyResult(**certify_cycle(lm, out=out, self_check=self_check, timeout=timeout,
                                             compress_large=compress_large))
    if lm.rnn is None:
        raise UnsupportedError(f"{lm.path}: the {lm.family} family is recognised but certifying it is not "
                               "supported yet")
    if lm.family != "position" and lm.seq_len not in MOMENT_SEQ_LENS:
        raise UnsupportedError(f"{lm.path}: seq_len {lm.seq_len}: the exact MSE of a median model is certified "
                               f"for seq_len {' and '.join(map(str, MOMENT_SEQ_LENS))}; seq_len {lm.seq_len} would "
                               f"need the Gaussian measure of {lm.seq_len}- and {lm.seq_len - 2}-dimensional cones "
                               "(not implemented); `sample` estimates its MSE")
    if digits < 1 or digits > 1000:
        raise InputError("--digits must be between 1 and 1000")
    if width is not None and not 0 <= width < 1:
        raise InputError("--width must be at least 0 and less than 1")
    if method not in ("auto", "cells", "boxes"):
        raise InputError(f"--method {method!r}: expected auto, cells or boxes")
    if max_cones is not None and (width is None or method == "boxes"):
        raise InputError("--max-cones goes with --width and cells (it is the budget of an anytime certificate; "
                         "boxes have --max-boxes)")
    if method == "boxes":
        return _certify_with_boxes(lm, width, timeout, max_boxes, workers, self_check, progress, out, samples, seed,
                                   resume, checkpoint_every, compress_large)
    if resume is not None:
        raise InputError("--resume goes with --method boxes (it continues a boxes certificate)")
    if workers is None:  # all cores where the orthant integrals dominate; process start-up is not worth it below
        workers = _default_workers(lm.seq_len >= 4)
    timings: dict = {}
    t_all = time.perf_counter()
    deadline = None if timeout is None else time.monotonic() + timeout
    if lm.seq_len > MAX_SEQ_LEN:
        raise UnsupportedError(f"{lm.path}: seq_len {lm.seq_len}: cells can be traversed but a rigorous measure "
                               f"for seq_len >= {MAX_SEQ_LEN + 1} is not implemented yet (no orthant rule: P_8 would "
                               "need the pencil reduction once more, e.g. through a 6-face with P_6 slices, or a rigorous "
                               "2-dimensional quadrature); `--method boxes --timeout 600` certifies an interval at any seq_len")
    if lm.family != "position":
        res = _certify_moments(lm, bool(z3), digits, timings, progress=progress, max_regions=max_regions,
                               deadline=deadline, workers=workers)
    elif lm.seq_len == 2:
        res = _certify_disc(lm, True if z3 is None else z3, digits, timings)
    elif width is not None:
        if not 4 <= lm.seq_len <= 7:
            raise UnsupportedError(f"{lm.path}: --width (an anytime interval) applies to seq_len 4 to 7; seq_len "
                                   f"{lm.seq_len} gets its exact value without it")
        # with a timeout, measuring stops early enough for the kernel's re-check to fit too (it re-derives every
        # rule; the cones measured here are memoized in this process, so it does not integrate them again)
        mdl = None if timeout is None else time.monotonic() + (0.75 * timeout if self_check else timeout)
        res = _certify_partial(lm, bool(z3), digits, timings, width, progress=progress, max_regions=max_regions,
                               workers=workers, measure_deadline=mdl, max_cones=max_cones)
        deadline = None  # the interval reached is certified whatever the clock says: the re-check runs to the end
    else:
        res = _certify_cones(lm, bool(z3), digits, timings, progress=progress, max_regions=max_regions,
                             deadline=deadline, workers=workers)
    return _finish(res, self_check, deadline, timeout, timings, t_all, workers, out, samples, seed, progress,
                   compress_large)


def _finish(res: CertifyResult, self_check: bool, deadline, timeout, timings: dict, t_all: float, workers, out,
            samples: int, seed: int, progress: bool, compress_large: bool = False) -> CertifyResult:
    """Every certify path ends here: the kernel's re-check of the new certificate (before anything is written),
    the timings, the atomic write, the sampled estimate beside."""
    lm = res.model
    if self_check:
        from .selfcheck import kernel_self_check

        kernel_self_check(res.certificate, deadline, timeout, timings, workers)
    timings["total"] = time.perf_counter() - t_all
    res.timings = timings
    if out:
        res.certificate_path = write_certificate(out, res.certificate, compress_large)
    if samples:
        from .empirical.sample import sample_error

        res.sampled = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=samples, seed=seed,
                                   progress=progress)
    return res


def _default_workers(spread: bool) -> int:
    """All cores when the work is worth spreading, else 1; a daemonic process (a worker of someone else's pool)
    may not start processes of its own, so it gets 1."""
    import multiprocessing

    return (os.cpu_count() or 1) if spread and not multiprocessing.current_process().daemon else 1


DEFAULT_MAX_BOXES = 1 << 24  # --method boxes with --width alone stops here (a few GB of search state)


def _resume_tokens(lm, path: str) -> list[str]:
    """The tree of a version-5 certificate of this very model, read and checked for shape by the kernel's reader
    and its box-tree rule (the rest is re-derived when the continued certificate is checked)."""
    from .intervals.boxes import DENOMINATOR, RADIUS
    from .kernel import Reject, Unreadable, parse_json
    from .kernel.boxes import box_tree
    from .kernel.certificate import read_certificate
    from .kernel.check import read_text
    from .kernel.claim import Work

    try:
        c = read_certificate(parse_json(read_text(path)))
        if c.version != 5:
            raise InputError(f"--resume {path}: a version {c.version} certificate; --resume continues a boxes "
                             "certificate (version 5)")
        box_tree(c, Work())
    except (Reject, Unreadable) as exc:
        raise InputError(f"--resume {path}: not a readable boxes certificate ({exc})") from None
    if c.weights_sha256 != model_block(lm.rnn)["weights_sha256"] or c.task != lm.task:
        raise InputError(f"--resume {path}: the certificate is about other weights or another task than {lm.path}")
    if (c.denominator, c.radius) != (DENOMINATOR, RADIUS):
        raise InputError(f"--resume {path}: its grid ({c.denominator}, {c.radius}) is not this version's "
                         f"({DENOMINATOR}, {RADIUS})")
    return c.tree.split(" ")


def _certify_with_boxes(lm, width, timeout, max_boxes, workers, self_check, progress, out, samples, seed,
                        resume=None, checkpoint_every=None, compress_large=False):
    """The boxes method (certificate version 5): search until the width, the box budget or the time limit (half
    of it when the kernel re-checks, which costs about as much as the search's exact confirmations), then the
    kernel's re-check, which runs to the end: the interval reached is certified whatever the clock says."""
    from .intervals.boxes import certify_boxes

    if lm.family != "position":
        raise UnsupportedError(f"{lm.path}: --method boxes certifies the position tasks (argmax, 2nd argmax, "
                               "argmedian); a median model's MSE is not a probability of boxes")
    if width is None and timeout is None and max_boxes is None:
        raise InputError("--method boxes needs a stop: --width, --timeout or --max-boxes")
    if timeout is None and max_boxes is None:
        max_boxes = DEFAULT_MAX_BOXES  # a width alone may be out of reach: memory is the stop then
    if checkpoint_every is not None and not out:
        raise InputError("--checkpoint-every needs an output path (the checkpoint is written beside it)")
    if workers is None:  # the exact confirmations dominate: all cores
        workers = _default_workers(True)
    timings: dict = {}
    t_all = time.perf_counter()
    deadline = None if timeout is None else time.monotonic() + (0.5 * timeout if self_check else timeout)

    def show(text):
        sys.stderr.write(f"\rverifier: boxes {text}   ")
        sys.stderr.flush()

    say = show if progress else None
    start = _resume_tokens(lm, resume) if resume is not None else None
    t0 = time.perf_counter()
    ckpt = out + ".checkpoint" if checkpoint_every is not None else None
    fields = certify_boxes(lm, header(lm, 5, "boxes"), width, deadline, max_boxes, workers, say, start=start,
                           checkpoint=ckpt, checkpoint_every=checkpoint_every or 300.0)
    if progress:
        sys.stderr.write("\n")
    timings["search"] = time.perf_counter() - t0
    res = CertifyResult(model=lm, **fields)
    # the interval reached is certified whatever the clock says: the re-check runs to the end
    return _finish(res, self_check, None, timeout, timings, t_all, workers, out, samples, seed, progress,
                   compress_large)


def default_output_path(checkpoint: str, folder: str, suffix: str) -> str:
    """<folder>/<stem><suffix> when ./<folder> exists and the checkpoint lies under the current folder (a
    project's own layout), else <stem><suffix> next to the checkpoint: output never lands in an unrelated
    repository that happens to be the current folder."""
    stem = os.path.basename(checkpoint)
    for ext in (".pth", ".pt", ".safetensors", ".json"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    here = os.path.realpath(os.getcwd())
    inside = os.path.realpath(checkpoint).startswith(here + os.sep)
    if inside and os.path.isdir(folder):
        return os.path.join(folder, stem + suffix)
    return os.path.join(os.path.dirname(checkpoint), stem + suffix)


def default_certificate_path(checkpoint: str) -> str:
    """Where `certify` writes when --out is not given (see default_output_path)."""
    return default_output_path(checkpoint, "proofs", ".cert.json")
