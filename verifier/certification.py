"""Certification: load -> cones -> classify -> Z3 -> measure -> certificate -> independent re-check -> report.

`certify()` is the library entry point; `run_certify_cli` / `run_check_cli` are the thin CLI layers.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import __version__
from .errors import InputError, InternalError, UnsupportedError, EXIT_INPUT, EXIT_REJECTED
from .loader import LoadedModel, load
from .model import RNN
from .rational import dumps_canonical, dumps_compact, q, q_matrix, write_atomic

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
            from .tasks import check_task

            check_task(task, model.family, model.seq_len)
            return LoadedModel(model.path, model.sha256, model.family, task, model.rnn, model.source_dtype,
                               model.hidden_size, model.seq_len, model.parameters, model.shapes)
        return model
    if isinstance(model, RNN):
        from .tasks import check_task

        t = task or ("median" if model.family == "scalar" else "2nd_argmax")
        check_task(t, model.family, model.seq_len)
        sha = hashlib.sha256(dumps_canonical(weights_doc(model)).encode()).hexdigest()
        return LoadedModel("<in-memory>", sha, model.family, t, model, "rational", model.d, model.seq_len,
                           model.parameters, {})
    return load(model, task=task, seq_len=seq_len)


def weights_doc(rnn: RNN) -> dict:
    return {"W_hi": q_matrix(rnn.W_hi), "W_hh": q_matrix(rnn.W_hh), "W_oh": q_matrix(rnn.W_oh)}


def model_block(rnn: RNN) -> dict:
    w = weights_doc(rnn)
    out = {"family": rnn.family, "hidden_size": rnn.d, "seq_len": rnn.seq_len, **w,
           "weights_sha256": hashlib.sha256(dumps_canonical(w).encode()).hexdigest()}
    return out


def _header(lm: LoadedModel, version: int, method: str) -> dict:
    return {"format": "verifier-certificate", "version": version, "generator": f"verifier {__version__}",
            "claim": CLAIM, "checkpoint": {"name": os.path.basename(lm.path), "sha256": lm.sha256},
            "model": model_block(lm.rnn), "task": lm.task, "method": method}


def _certify_disc(lm: LoadedModel, z3: bool, digits: int, timings: dict) -> CertifyResult:
    from .disc import sectors, wrong_wedges
    from .measure import closed_form_wedges, enclose, wedge_angle_sum_ball

    t0 = time.perf_counter()
    secs = sectors(lm.rnn, lm.task)
    timings["sectors"] = time.perf_counter() - t0
    if z3:
        from .smt import confirm_sectors

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
    doc = _header(lm, 1, "disc")
    doc["sectors"] = [{"u": [q(c) for c in s.u], "v": [q(c) for c in s.v],
                       "pattern": ["".join(map(str, row)) for row in s.pattern],
                       "label": s.label, "prediction": s.prediction, "wrong": s.wrong} for s in secs]
    doc["wedges"] = wedge_idx
    doc["error"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True, "digits": digits}
    doc["accuracy"] = {"lower": q(1 - hi), "upper": q(1 - lo)}
    doc["regions"] = len(secs)
    return CertifyResult(lo, hi, form, True, len(secs), sum(s.wrong for s in secs), doc, lm,
                         timings=timings, details={"sectors": secs, "wedges": wedges})


def certify(model, task: str | None = None, seq_len: int | None = None, *, z3: bool | None = None,
            digits: int = 30, samples: int = 0, seed: int = 0, out: str | None = None,
            self_check: bool = True, progress: bool = False, max_regions: int | None = None,
            timeout: float | None = None, workers: int = 1) -> CertifyResult:
    """Certify the exact error of a position-task RNN; optionally write the certificate and sample beside it.

    model: a checkpoint path, a LoadedModel or an exact RNN.  Raises InputError/UnsupportedError on bad
    or unsupported input, LimitReached when a limit stops the work (nothing is written then).
    """
    lm = _as_loaded(model, task, seq_len)
    if lm.rnn is None:
        raise UnsupportedError(f"{lm.path}: the {lm.family} family is recognised but certifying it is not "
                               "supported yet")
    if lm.family != "position":
        raise UnsupportedError(f"{lm.path}: certifying the {lm.task} task (single-output models) is not "
                               "supported yet; `sample` estimates its MSE")
    if digits < 1 or digits > 1000:
        raise InputError("--digits must be between 1 and 1000")
    timings: dict = {}
    t_all = time.perf_counter()
    if lm.seq_len == 2:
        res = _certify_disc(lm, True if z3 is None else z3, digits, timings)
    else:
        from .cones import certify_cones

        res = certify_cones(lm, bool(z3), digits, timings, progress=progress, max_regions=max_regions,
                            timeout=timeout, workers=workers)
    if self_check:
        from .checker import check as independent_check

        t0 = time.perf_counter()
        verdict = independent_check(res.certificate)
        timings["check"] = time.perf_counter() - t0
        if not verdict.accepted:
            raise InternalError(f"the independent checker rejected the new certificate: [{verdict.rule}] "
                                f"{verdict.message}")
    timings["total"] = time.perf_counter() - t_all
    res.timings = timings
    if out:
        write_atomic(out, dumps_compact(res.certificate))
        res.certificate_path = out
    if samples:
        from .sample import sample_error

        res.sampled = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=samples, seed=seed,
                                   progress=progress)
    return res


def default_certificate_path(checkpoint: str) -> str:
    stem = os.path.basename(checkpoint)
    for ext in (".pth", ".pt", ".safetensors", ".json"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    return os.path.join("proofs", stem + ".cert.json")


def _fmt(x: Fraction, digits: int = 12) -> str:
    if x == 0:
        return "0"
    from decimal import Decimal, getcontext

    getcontext().prec = digits
    return str(Decimal(x.numerator) / Decimal(x.denominator))


def report_json(res: CertifyResult) -> dict:
    out = {"checkpoint": res.model.path, "sha256": res.model.sha256, "task": res.model.task,
           "hidden_size": res.model.hidden_size, "seq_len": res.model.seq_len,
           "error": {"lower": q(res.error_lower), "upper": q(res.error_upper), "closed_form": res.closed_form,
                     "rigorous": res.rigorous},
           "accuracy": {"lower": q(res.accuracy[0]), "upper": q(res.accuracy[1])},
           "regions": res.regions, "wrong_regions": res.wrong_regions,
           "cells": res.details.get("cell_count", res.regions),
           "certificate": res.certificate_path, "timings_s": {k: round(v, 4) for k, v in res.timings.items()}}
    if res.sampled is not None:
        out["sampled"] = res.sampled.to_json()
    return out


def run_certify_cli(a) -> int:
    out = a.out or default_certificate_path(a.checkpoint)
    if os.path.isdir(out):
        raise InputError(f"--out {out}: is a directory")
    res = certify(a.checkpoint, task=a.task, seq_len=a.seq_len, z3=a.z3, digits=a.digits, samples=a.samples,
                  seed=a.seed, out=out, progress=not (a.quiet or a.json), max_regions=a.max_regions,
                  timeout=a.timeout, workers=a.workers)
    if a.json:
        import json

        sys.stdout.write(json.dumps(report_json(res), sort_keys=True, indent=1) + "\n")
        return 0
    from .measure import sympy_form

    lm = res.model
    print(f"{lm.path}: {lm.task}, d={lm.hidden_size}, n={lm.seq_len}, {lm.parameters} parameters "
          f"(sha256 {lm.sha256[:16]}...)")
    if not res.closed_form.startswith(("(", "0")):
        print(f"  error (rigorous enclosure; no elementary closed form) = {res.closed_form}")
    else:
        print(f"  error (exact) = {sympy_form(res.closed_form)}")
    print(f"  enclosure     [{_fmt(res.error_lower, 25)}, {_fmt(res.error_upper, 25)}]")
    one = res.one_in()
    if res.error_upper == 0:
        print("  the model is never wrong (error exactly 0)")
    elif one is not None and one >= 100:
        print(f"  about 1 in {one:,.0f} inputs is misclassified; accuracy {_fmt(res.accuracy[0], 12)}")
    else:
        mid = (res.error_lower + res.error_upper) / 2
        print(f"  {100 * float(mid):.4f}% of inputs are misclassified; accuracy {_fmt(res.accuracy[0], 12)}")
    cells = res.details.get("cell_count")
    what = (f"{res.regions} regions (activation patterns) split into {cells} cells, {res.wrong_regions} wrong"
            if cells is not None else f"{res.regions} sectors, {res.wrong_regions} wrong")
    print(f"  {what}; certificate {res.certificate_path} (checked: accepted)")
    if res.sampled is not None:
        s = res.sampled
        print(f"  sampled (estimate, {s.samples} {s.dtype} samples): error {s.error:.6g}, 95% CI "
              f"[{s.ci95[0]:.6g}, {s.ci95[1]:.6g}]")
    print(f"  time: {res.timings.get('total', 0):.3f}s certify+check")
    return 0


def _gather(paths) -> list[str]:
    files = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".cert.json"))
            if not found:
                raise InputError(f"{p}: no *.cert.json files")
            files.extend(found)
        elif os.path.exists(p):
            files.append(p)
        else:
            raise InputError(f"{p}: no such file")
    return files


def run_check_cli(a) -> int:
    import json

    from .checker import Unreadable, check as independent_check, parse_json

    files = _gather(a.certificates)
    if a.checkpoint and len(files) != 1:
        raise InputError("--checkpoint goes with exactly one certificate")
    results = []
    worst = 0
    for f in files:
        ckpt = a.checkpoint
        problem = None
        if a.models and not ckpt:
            try:
                with open(f, "rb") as fh:
                    name = parse_json(fh.read().decode("utf-8"))["checkpoint"]["name"]
                ckpt = os.path.join(a.models, os.path.basename(str(name)))
                if not os.path.exists(ckpt):
                    problem = f"stale: its checkpoint {ckpt} is not in {a.models}"
            except Exception as exc:  # an unreadable certificate is reported by the checker below
                problem = None if os.path.exists(f) else str(exc)
        t0 = time.perf_counter()
        if problem:
            v_ok, rule, msg, code = False, "stale", problem, EXIT_REJECTED
        else:
            try:
                v = independent_check(f, checkpoint=ckpt, z3=a.z3)
                v_ok, rule, msg, code = v.accepted, v.rule, v.message, 0 if v.accepted else EXIT_REJECTED
                summary = v.summary
            except Unreadable as exc:
                v_ok, rule, msg, code = False, "unreadable", str(exc), EXIT_INPUT
        secs = time.perf_counter() - t0
        worst = max(worst, code)
        entry = {"certificate": f, "accepted": v_ok, "rule": rule, "message": msg, "seconds": round(secs, 3)}
        if v_ok:
            entry.update({"error_lower": summary["error_lower"], "error_upper": summary["error_upper"],
                          "regions": summary["regions"]})
        results.append(entry)
        if not a.json:
            if v_ok:
                print(f"ACCEPTED  {f}  error in [{_fmt(Fraction(summary['error_lower']), 8)}, "
                      f"{_fmt(Fraction(summary['error_upper']), 8)}], {summary['regions']} regions, {secs:.2f}s")
            else:
                print(f"REJECTED  {f}  [{rule}] {msg}")
    if a.models:
        missing = _missing_certificates(a.models, files)
        for m in missing:
            worst = max(worst, EXIT_REJECTED)
            results.append({"certificate": None, "checkpoint": m, "accepted": False, "rule": "missing",
                            "message": "certifiable model without a certificate"})
            if not a.json:
                print(f"MISSING   {m}  has no certificate among those checked")
    if not a.json and len(results) > 1:
        n_ok = sum(1 for r in results if r["accepted"])
        print(f"{n_ok} of {len(results)} accepted" + ("" if n_ok == len(results) else
                                                      f"; {len(results) - n_ok} rejected, stale or missing"))
    if a.json:
        sys.stdout.write(json.dumps({"results": results, "all_accepted": worst == 0}, sort_keys=True, indent=1)
                         + "\n")
    return worst


def _missing_certificates(models_dir: str, cert_files) -> list[str]:
    """Models in models_dir that this version can certify but have no certificate among cert_files."""
    from .zoo import read_index

    names = set()
    for f in cert_files:
        try:
            from .checker import parse_json

            with open(f, "rb") as fh:
                names.add(os.path.basename(str(parse_json(fh.read().decode())["checkpoint"]["name"])))
        except Exception:
            continue
    missing = []
    for m in read_index(models_dir)["models"]:
        if m["family"] == "position" and m["seq_len"] in CERTIFIABLE_SEQ_LENS and m["file"] not in names:
            missing.append(os.path.join(models_dir, m["file"]))
    return missing


# seq_lens whose certificates `check --models` requires (n = 4, 5 certificates are optional: slow to check)
CERTIFIABLE_SEQ_LENS = (2, 3)
