"""The pipeline: load -> pick the certificate kind (kinds/) -> generate its evidence and document -> the kernel's
re-check -> the one atomic write -> the sampled estimate beside it.

`certify()` is the library entry point; it prints nothing (the CLI prints, with the kind's own lines).  The kinds
drive the stages below them (cells/, intervals/, families/); none of them imports this module.
"""

from __future__ import annotations

import hashlib
import os
import time

from .errors import InputError, InternalError, LimitReached, UnsupportedError
from .kinds import CertifyResult, Options, pick
from .kinds.cones import MAX_SEQ_LEN  # noqa: F401  (the library's names for what the kinds reach)
from .kinds.moments import SEQ_LENS as MOMENT_SEQ_LENS  # noqa: F401
from .loading.loader import LoadedModel, load
from .loading.model import RNN
from .loading.rational import dumps_canonical, weights_doc, write_certificate

# seq_lens whose certificates scripts/make_proofs.py makes by default (seq_len 4 to 7: `--seq-lens`, `--budgets`)
CERTIFIABLE_SEQ_LENS = (2, 3)

__all__ = ["certify", "CertifyResult", "Options", "default_certificate_path", "default_output_path"]


def _as_loaded(model, task, seq_len) -> LoadedModel:
    if isinstance(model, LoadedModel):
        if task and task != model.task:
            from .loading.tasks import check_task

            check_task(task, model.family, model.seq_len)
            return LoadedModel(model.path, model.sha256, model.family, task, model.rnn, model.source_dtype,
                               model.hidden_size, model.seq_len, model.parameters, model.shapes)
        return model
    if isinstance(model, RNN):
        from .loading.tasks import check_task

        t = task or ("median" if model.family == "scalar" else "2nd_argmax")
        check_task(t, model.family, model.seq_len)
        sha = hashlib.sha256(dumps_canonical(weights_doc(model)).encode()).hexdigest()
        return LoadedModel("<in-memory>", sha, model.family, t, model, "rational", model.d, model.seq_len,
                           model.parameters, {})
    return load(model, task=task, seq_len=seq_len)


def _validate(o: Options) -> None:
    if o.digits < 1 or o.digits > 1000:
        raise InputError("--digits must be between 1 and 1000")
    if o.width is not None and not 0 <= o.width < 1:
        raise InputError("--width must be at least 0 and less than 1")
    if o.method not in ("auto", "cells", "boxes"):
        raise InputError(f"--method {o.method!r}: expected auto, cells or boxes")
    if o.max_cones is not None and (o.width is None or o.method == "boxes"):
        raise InputError("--max-cones goes with --width and cells (it is the budget of an anytime certificate; "
                         "boxes have --max-boxes)")
    if o.max_cells is not None and (o.width is None or o.method == "boxes"):
        raise InputError("--max-cells goes with --width and cells (it is the budget of an anytime certificate at "
                         "seq_len 5; boxes have --max-boxes)")
    if o.resume is not None and o.method != "boxes":
        raise InputError("--resume goes with --method boxes (it continues a boxes certificate)")


def certify(model, task: str | None = None, seq_len: int | None = None, **options) -> CertifyResult:
    """Certify a model: its exact error (or MSE, or accuracy), an enclosure of it and the certificate that the
    kernel has re-checked; optionally write the certificate and sample beside it.

    model: a checkpoint path, a LoadedModel, an exact RNN, or an AlgZoo model in memory (a torch state_dict or
    nn.Module: verifier.load).  The options are `kinds.Options`' fields:

    width (seq_len 4 to 7): an anytime certificate instead, an interval at most that wide (or, when `timeout` or
    `max_cones` comes first, the interval reached: details["width_reached"] is then False, and the certificate is
    written).  max_cones (with width): measure at most this many simplicial cones, a budget that gives the same
    certificate on any machine and for any number of workers (a timeout does not); at seq_len 5, where whole cells
    are measured (Gauss-Bonnet), max_cells is that budget instead.

    method "boxes" (any seq_len of the position family): an anytime interval from a tree of boxes (version 5,
    intervals/boxes.py), stopped by `width`, `max_boxes` or `timeout`, whichever comes first.

    out: the certificate's path; a .gz or .xz suffix compresses it (rational.write_certificate), and with
    `compress_large` a plain .cert.json path becomes .cert.json.xz when the text exceeds 1 MiB (the path written is
    res.certificate_path).

    Raises InputError/UnsupportedError on bad or unsupported input, LimitReached when a limit stops the work
    (nothing is written then).
    """
    unknown = set(options) - set(Options.__dataclass_fields__)
    if unknown:
        raise TypeError(f"certify() got unexpected keyword arguments {sorted(unknown)}")
    o = Options(**options)
    lm = _as_loaded(model, task, seq_len)
    if lm.rnn is None and lm.family != "transformer":
        raise UnsupportedError(f"{lm.path}: the {lm.family} family is recognised but certifying it is not "
                               "supported yet")
    _validate(o)
    kind = pick(lm, o)
    timings: dict = {}
    t_all = time.perf_counter()
    deadline = None if o.timeout is None else time.monotonic() + o.timeout
    res = kind.generate(lm, o, timings, deadline)
    if o.self_check:
        kernel_self_check(res.certificate, deadline if kind.recheck_deadline(res) else None, o.timeout, timings,
                          o.workers or 1)
    timings["total"] = time.perf_counter() - t_all
    res.timings = timings
    if o.out:
        res.certificate_path = write_certificate(o.out, res.certificate, o.compress_large, res.details)
    if o.samples and lm.rnn is not None:
        from .empirical.sample import sample_error

        res.sampled = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=o.samples, seed=o.seed,
                                   progress=o.progress)
    return res


def kernel_self_check(doc: dict, deadline, timeout, timings: dict, workers=1) -> None:
    """The kernel re-checks a new certificate before anything is written: LimitReached past the deadline,
    InternalError (a bug of ours, never the user's) when it rejects."""
    from .kernel import check as kernel_check

    t0 = time.perf_counter()
    try:
        verdict = kernel_check(doc, deadline=deadline, workers=workers)
    except TimeoutError:
        raise LimitReached(f"timeout after {timeout:g}s (--timeout) while the kernel re-checked the new "
                           "certificate; stopped, nothing written") from None
    timings["check"] = time.perf_counter() - t0
    if not verdict.accepted:
        raise InternalError(f"the kernel rejected the new certificate: [{verdict.rule}] {verdict.message}")


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

