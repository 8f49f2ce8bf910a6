"""What every certificate kind is (a row of `kinds.KINDS`), what `certify()` is asked (`Options`) and what it gives
back (`CertifyResult`), with the pieces the kinds share: the document's header, the CLI's summary lines."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

from .._version import __version__
from ..loading.loader import LoadedModel
from ..loading.model import RNN
from ..loading.rational import dumps_canonical, q, weights_doc

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


@dataclass
class Options:
    """What `certify()` is asked (its keyword arguments; see `verifier.pipeline.certify`)."""

    z3: bool | None = None
    digits: int = 30
    samples: int = 0
    seed: int = 0
    out: str | None = None
    self_check: bool = True
    progress: bool = False
    max_regions: int | None = None
    timeout: float | None = None
    workers: Any = None
    width: Fraction | None = None
    method: str = "auto"
    max_boxes: int | None = None
    resume: str | None = None
    checkpoint_every: float | None = None
    compress_large: bool = False
    max_cones: int | None = None
    max_cells: int | None = None


@dataclass(frozen=True)
class Kind:
    """One kind of certificate: the kernel's version it is checked by, and everything the generator side does with
    it.  Adding a kind is a module of kinds/ that defines one of these, a row in KINDS, and the kernel's rules for
    its version (docs/ARCHITECTURE.md, "Adding a certificate kind").

    - accepts(lm, opts): whether this kind certifies the model as asked (the first kind of KINDS that accepts
      does the work; a kind may raise UnsupportedError/InputError to say what would be needed instead);
    - generate(lm, opts, timings, deadline): the evidence and the document, as a CertifyResult (nothing checked,
      nothing written: the pipeline does both, once, for every kind); `deadline` is time.monotonic() + --timeout;
    - lines(res, closed_form): what `certify` prints on stdout; notes(res): lines for stderr after the task
      warnings; exit_code(res): 0, or 3 when an asked width was not reached;
    - report(res): the `--json` report;
    - recheck_deadline(res): whether --timeout bounds the kernel's re-check too (a full certificate is all or
      nothing; an interval is certified whatever the clock says, so its re-check runs to the end);
    - no_cells: None when the certificate lists cells that `explain` and `crosscheck` work from, else why not;
      no_claims: None when its cells claim predictions that `crosscheck` can put to other solvers, else why not.
    """

    name: str
    version: int
    title: str
    accepts: Callable
    generate: Callable
    lines: Callable
    report: Callable
    notes: Callable = lambda res: []
    exit_code: Callable = lambda res: 0
    recheck_deadline: Callable = lambda res: True
    no_cells: str | None = None
    no_claims: str | None = None


def model_block(rnn: RNN) -> dict:
    w = weights_doc(rnn)
    return {"family": rnn.family, "hidden_size": rnn.d, "seq_len": rnn.seq_len, **w,
            "weights_sha256": hashlib.sha256(dumps_canonical(w).encode()).hexdigest()}


def header(lm: LoadedModel, version: int, method: str, claim: str = CLAIM) -> dict:
    """The fields every RNN certificate starts with."""
    return {"format": "verifier-certificate", "version": version, "generator": f"verifier {__version__}",
            "claim": claim, "checkpoint": {"name": os.path.basename(lm.path), "sha256": lm.sha256},
            "model": model_block(lm.rnn), "task": lm.task, "method": method}


def default_workers(spread: bool) -> int:
    """All cores when the work is worth spreading, else 1; a daemonic process (a worker of someone else's pool)
    may not start processes of its own, so it gets 1."""
    import multiprocessing

    return (os.cpu_count() or 1) if spread and not multiprocessing.current_process().daemon else 1


# ---- printing, shared by the kinds' `lines` ----------------------------------------------------------------

MAX_FORM_CHARS = 400  # longer closed forms are summarised on screen (they are in the certificate and --json)


def fmt(x: Fraction, digits: int = 12) -> str:
    if x == 0:
        return "0"
    from decimal import Decimal, getcontext

    getcontext().prec = digits
    return str(Decimal(x.numerator) / Decimal(x.denominator))


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def task_words(lm) -> str:
    """The model's task, said to be assumed when the checkpoint did not tell and --task was not given."""
    if lm.task_given or lm.family != "position":
        return lm.task  # a one-output model has one task, median; a transformer has longest_cycle
    return f"{lm.task} (assumed; --task to choose)"


def model_line(lm) -> str:
    """The first line of an RNN's report: file, task (said when assumed), shape, parameters, digest."""
    return (f"{lm.path}: {task_words(lm)}, d={lm.hidden_size}, n={lm.seq_len}, {lm.parameters} parameters "
            f"(sha256 {lm.sha256[:16]}...)")


def sampled_and_time_lines(res) -> list[str]:
    """The sampled estimate beside the certified value (error or MSE), then the time."""
    out = []
    if res.sampled is not None:
        s = res.sampled
        what = f"MSE {s.mse:.6g}" if res.measure == "mse" else f"error {s.error:.6g}"
        out.append(f"  sampled (estimate, {s.samples} {s.dtype} samples): {what}, 95% CI [{s.ci95[0]:.6g}, "
                   f"{s.ci95[1]:.6g}]")
    out.append(f"  time: {res.timings.get('total', 0):.3f}s certify+check")
    return out


def exact_error_lines(res, closed_form: bool) -> list[str]:
    """A full certificate of an RNN's error: the closed form (or a summary of it), the enclosure, the error in
    words, the regions, the certificate."""
    from ..cells.measure import sympy_form

    out = [model_line(res.model)]
    if not res.closed_form.startswith(("(", "0")):
        out.append(f"  error: rigorous enclosure (no elementary closed form): {shorten(res.closed_form, 300)}")
    elif closed_form or len(res.closed_form) <= MAX_FORM_CHARS:
        out.append(f"  error (exact) = {sympy_form(res.closed_form)}")
    else:
        terms = res.closed_form.count("atan2(")
        out.append(f"  error (exact): a sum of {terms} atan2 terms over 2*pi ({len(res.closed_form):,} characters; "
                   "in the certificate and --json, or --closed-form to print it)")
    out.append(f"  enclosure     [{fmt(res.error_lower, 25)}, {fmt(res.error_upper, 25)}]")
    one = res.one_in()
    if res.error_upper == 0:
        out.append("  the model is never wrong (error exactly 0)")
    elif one is not None and one >= 100:
        out.append(f"  about 1 in {one:,.0f} inputs is misclassified; accuracy {fmt(res.accuracy[0], 12)}")
    else:
        mid = (res.error_lower + res.error_upper) / 2
        out.append(f"  {100 * float(mid):.4f}% of inputs are misclassified; accuracy {fmt(res.accuracy[0], 12)}")
    cells = res.details.get("cell_count")
    what = (f"{res.regions} regions (activation patterns) split into {cells} cells, {res.wrong_regions} wrong"
            if cells is not None else f"{res.regions} sectors, {res.wrong_regions} wrong")
    out.append(f"  {what}; certificate {res.certificate_path} (checked: accepted)")
    return out + sampled_and_time_lines(res)


def measure_report(res, what: str) -> dict:
    """The `--json` report's parts every RNN certificate has: the model, the measure certified (`what`: "error"
    or "mse") with its closed form, the regions, the certificate, the timings."""
    return {"checkpoint": res.model.path, "sha256": res.model.sha256, "task": res.model.task,
            "hidden_size": res.model.hidden_size, "seq_len": res.model.seq_len,
            what: {"lower": q(res.error_lower), "upper": q(res.error_upper), "closed_form": res.closed_form,
                   "rigorous": res.rigorous},
            "regions": res.regions, "certificate": res.certificate_path,
            "timings_s": {k: round(v, 4) for k, v in res.timings.items()}}


def error_report(res) -> dict:
    """The `--json` report of an RNN's certified error (kinds add their own parts)."""
    return {**measure_report(res, "error"),
            "accuracy": {"lower": q(res.accuracy[0]), "upper": q(res.accuracy[1])},
            "wrong_regions": res.wrong_regions, "cells": res.details.get("cell_count", res.regions)}


def with_sampled(out: dict, res) -> dict:
    if res.sampled is not None:
        out["sampled"] = res.sampled.to_json()
    return out


def width_not_reached(res) -> list[str]:
    """The stderr note of an interval certificate whose asked width was not reached (exit 3)."""
    d = res.details
    if d["width_reached"]:
        return []
    width = res.error_upper - res.error_lower
    why = ("every cell and cone was measured" if d.get("traversal_complete") and
           d.get("cones_measured") == d.get("cones_total") else "--timeout, --max-cones, --max-cells or --max-boxes came first")
    asked = float(d["width"]) if d.get("width") is not None else 0.0
    return [f"the width {asked:.3g} was not reached ({why}); the certificate holds the interval reached "
            f"(width {float(width):.3g}) (exit 3)"]


def progress_writer(enabled: bool):
    """A one-line progress writer on stderr (or None)."""
    if not enabled:
        return None

    def show(text):
        sys.stderr.write(f"\rverifier: boxes {text}   ")
        sys.stderr.flush()

    return show
