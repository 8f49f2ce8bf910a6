"""Command line: a thin layer over the library.

    python -m verifier CKPT                  certify (the default command)
    python -m verifier check CERT|DIR ...    re-check certificates with the kernel
    python -m verifier inspect CKPT          the model as exact rationals, and standardised
    python -m verifier sample CKPT           sampled error (the empirical baseline)
    python -m verifier explain CKPT          sectors table and the disc picture (seq_len 2)
    python -m verifier train ...             train AlgZoo models with the published recipe

Exit codes: 0 success / accepted; 1 rejected (a certificate fails a rule); 2 usage or input error;
3 a limit (--max-regions, --timeout) stopped the work; 4 internal error (a bug: please report);
130 interrupted.  Diagnostics go to stderr as
one line; results to stdout (`--json`: exactly one JSON object).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from fractions import Fraction

from .errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_REJECTED, InputError, VerifierError
from .tasks import POSITION_TASKS, TASKS

COMMANDS = ("certify", "check", "inspect", "sample", "explain", "train")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(EXIT_INPUT)


def _count(text: str) -> int:
    from .train import parse_count

    try:
        return parse_count(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="verifier", description="Exact, machine-checked error of tiny ReLU RNNs (AlgZoo). "
                "`python -m verifier CKPT` certifies a checkpoint (same as `certify CKPT`).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def model_args(sp, tasks=TASKS):
        sp.add_argument("checkpoint", help="AlgZoo checkpoint (.pth), .safetensors, or verifier-weights .json")
        sp.add_argument("--task", choices=tasks,
                        help="task; AlgZoo checkpoints do not store it (default: 2nd_argmax for position models, "
                        "median for single-output models; a warning names a better-fitting task)")
        sp.add_argument("--seq-len", type=int, help="sequence length (required for single-output models)")
        sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    c = sub.add_parser("certify", help="exact error + certificate + sampled error beside it")
    model_args(c, POSITION_TASKS)
    c.add_argument("--out", help="certificate path (default: ./proofs/<stem>.cert.json when ./proofs exists and "
                   "the checkpoint is under the current folder, else <stem>.cert.json next to the checkpoint)")
    c.add_argument("--closed-form", action="store_true",
                   help="print the exact closed form even when it is long (it is always in the certificate)")
    c.add_argument("--samples", type=_count, default=1 << 20, help="samples for the estimate beside the "
                   "exact value (default 2^20; 0 skips)")
    c.add_argument("--seed", type=int, default=0, help="sampling seed")
    c.add_argument("--z3", dest="z3", action="store_true", default=None,
                   help="also ask Z3 to confirm every cell's claims (default: on for seq_len 2)")
    c.add_argument("--no-z3", dest="z3", action="store_false", help="skip the Z3 confirmation")
    c.add_argument("--max-regions", type=int, default=None, help="stop cleanly (exit 3) beyond this many cells")
    c.add_argument("--timeout", type=float, default=None, help="stop cleanly (exit 3) after this many seconds")
    c.add_argument("--workers", type=_positive, default=1, help="processes for the cone traversal (seq_len >= 3) "
                   "and the orthant integrals (seq_len 4, 5); the certificate is the same for any number")
    c.add_argument("--digits", type=int, default=30, help="significant digits of the enclosure (default 30)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")

    k = sub.add_parser("check", help="re-check certificates with the kernel")
    k.add_argument("certificates", nargs="+", help="certificate files or folders of *.cert.json")
    k.add_argument("--checkpoint", help="bind the certificate to this checkpoint: its SHA-256 and its tensors' exact values "
                   "(read without torch)")
    k.add_argument("--models", help="folder of checkpoints: each certificate's checkpoint must be there with "
                   "the recorded SHA-256 (stale-proof check), and every certifiable model must have a certificate")
    k.add_argument("--z3", action="store_true", help="also ask Z3 to re-confirm every cell (second opinion)")
    k.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                   help="processes for the orthant integrals of seq_len 4, 5 certificates (default: all cores; "
                   "the verdict does not depend on it)")
    k.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    i = sub.add_parser("inspect", help="family, shapes, SHA-256 and the weights as exact rationals")
    model_args(i)

    s = sub.add_parser("sample", help="sampled error (or MSE) with its standard error and 95%% interval")
    model_args(s)
    s.add_argument("--samples", type=_count, default=1 << 20, help="number of samples (default 2^20)")
    s.add_argument("--seed", type=int, default=0, help="seed of the Gaussian inputs (default 0)")
    s.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="arithmetic of the forward pass (default float32, as the model was trained)")
    s.add_argument("--batch", type=_count, default=1 << 18, help="inputs per batch (default 2^18; memory only)")
    s.add_argument("--device", help="torch device (default: cuda when present, else cpu)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("explain", help="standardised weights, a table of sectors, and the disc (PNG + SVG)")
    model_args(e)
    e.add_argument("--out", help="picture path stem (default: ./docs/figures/<stem>_disc when that folder exists "
                   "and the checkpoint is under the current folder, else <stem>_disc next to the checkpoint)")
    e.add_argument("--no-plot", action="store_true", help="only print the table")

    t = sub.add_parser("train", help="train AlgZoo models with the published recipe, best of several seeds")
    t.add_argument("--task", required=True, choices=TASKS + ("longest_cycle",), help="the task to train for")
    t.add_argument("--hidden", type=int, required=True, help="hidden size d")
    t.add_argument("--seq-len", type=int, required=True, help="sequence length n")
    t.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4 (default) or 0,2")
    t.add_argument("--sequences", type=_count, default=1 << 24, help="training sequences (default 2^24)")
    t.add_argument("--batch", type=_count, default=1024, help="sequences per optimiser step (default 1024)")
    t.add_argument("--threads", type=int, default=1, help="torch threads (results are reproducible per count)")
    t.add_argument("--device", help="torch device (default: cuda when present, else cpu)")
    t.add_argument("--out", default="models", help="output folder (default models/)")
    t.add_argument("--runs-dir", default=None, help="also keep every seed's checkpoint here")
    t.add_argument("--eval-samples", type=_count, default=1 << 24, help="fresh samples for the manifest")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _emit_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=True, indent=1) + "\n")


def cmd_inspect(a) -> int:
    from .loader import load
    from .model import standardize
    from .rational import q, q_matrix, weights_doc

    m = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    out = {"family": m.family, "task": m.task, "task_assumed": not m.task_given, "hidden_size": m.hidden_size, "seq_len": m.seq_len,
           "parameters": m.parameters, "sha256": m.sha256, "source_dtype": m.source_dtype, "shapes": m.shapes}
    if m.rnn is not None:
        std, c = standardize(m.rnn)
        out["weights"] = weights_doc(m.rnn)
        out["standardized"] = {"W_hi": q_matrix(std.W_hi), "W_hh": q_matrix(std.W_hh),
                               "W_oh": q_matrix(std.W_oh), "scales": [q(v) for v in c]}
    else:
        out["note"] = ("transformer (longest cycle) family: one head per layer assumed (the weights cannot tell); "
                       "certified by enumerating all n^n inputs")
        if m.transformer is not None:
            out["weights"] = m.transformer.weights_doc()
    if a.json:
        _emit_json(out)
        return 0
    print(f"file        {m.path}")
    print(f"family      {m.family}" + (" (longest cycle; one head per layer assumed)" if m.rnn is None else ""))
    print(f"task        {_task_words(m) if m.rnn is not None else m.task}")
    print(f"hidden d    {m.hidden_size}")
    print(f"seq_len n   {m.seq_len}")
    print(f"parameters  {m.parameters}")
    print(f"dtype       {m.source_dtype}")
    print(f"sha256      {m.sha256}")
    if m.rnn is None:
        for k, v in m.shapes.items():
            print(f"  {k}: {v}")
        return 0
    for title, key in (("weights (exact rationals of the stored floats)", "weights"),
                       ("standardised (each neuron rescaled by a positive rational so W_hi is +-1 or 0)",
                        "standardized")):
        print(f"\n{title}:")
        for name in ("W_hi", "W_hh", "W_oh"):
            print(f"  {name} =")
            for row in out[key][name]:
                print("    [" + ", ".join(row) + "]")
    print("  scales = [" + ", ".join(out["standardized"]["scales"]) + "]")
    return 0


def cmd_sample(a) -> int:
    from .loader import load
    from .sample import sample_error

    m = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    if m.rnn is None:
        raise InputError(f"{a.checkpoint}: sampling the {m.family} family is not supported yet")
    warnings = _task_warnings(m)
    r = sample_error(m.float_arrays(), m.seq_len, m.task, samples=a.samples, seed=a.seed, dtype=a.dtype,
                     batch=a.batch, device=a.device, progress=not (a.quiet or a.json))
    out = r.to_json()
    out["checkpoint"] = m.path
    out["sha256"] = m.sha256
    out["task_assumed"] = not m.task_given
    out["warnings"] = warnings
    if a.json:
        _emit_json(out)
        return 0
    for w in warnings:
        sys.stderr.write(f"verifier: warning: {w}\n")
    print(f"{m.path}: {_task_words(m)}, d={m.hidden_size}, n={m.seq_len}  (estimate, {r.samples} {r.dtype} samples, "
          f"seed {r.seed}, {r.seconds:.2f}s on {r.device})")
    if r.mse is not None:
        print(f"  MSE   {r.mse:.6g} +- {r.stderr:.2g} (1 s.e.)   95% CI [{r.ci95[0]:.6g}, {r.ci95[1]:.6g}]   "
              f"RMSE {r.mse ** 0.5:.6g}")
    else:
        print(f"  error {r.error:.6g} +- {r.stderr:.2g} (1 s.e.)   95% CI (Wilson) [{r.ci95[0]:.6g}, "
              f"{r.ci95[1]:.6g}]   ({r.wrong} wrong)")
        print(f"  accuracy {100 * (1 - r.error):.4f}%")
    return 0


def cmd_train(a) -> int:
    from .train import parse_seeds, run_training

    entry = run_training(a.task, a.hidden, a.seq_len, parse_seeds(a.seeds), a.sequences, a.batch, a.out,
                         threads=a.threads, device=a.device, progress=not a.quiet,
                         eval_samples=a.eval_samples, runs_dir=a.runs_dir,
                         log=lambda s: print(s, file=sys.stderr))
    s = entry["sampled"]
    fig = f"RMSE {s['rmse']:.5f}" if "rmse" in s else f"accuracy {100 * s['accuracy']:.4f}%"
    pub = entry.get("published") or {}
    pub_s = (f"RMSE {pub['rmse']}" if "rmse" in pub else
             f"{pub['accuracy_percent']}%" if "accuracy_percent" in pub else "none for this shape")
    print(f"{a.out}/{entry['file']}: seed {entry['seed']}, {fig} on {s['samples']} fresh samples "
          f"(published zoo: {pub_s}), sha256 {entry['sha256']}")
    return 0


def _fmt(x: Fraction, digits: int = 12) -> str:
    if x == 0:
        return "0"
    from decimal import Decimal, getcontext

    getcontext().prec = digits
    return str(Decimal(x.numerator) / Decimal(x.denominator))


def report_json(res) -> dict:
    from .rational import q

    if res.measure == "mse":
        out = {"checkpoint": res.model.path, "sha256": res.model.sha256, "task": res.model.task,
               "hidden_size": res.model.hidden_size, "seq_len": res.model.seq_len,
               "mse": {"lower": q(res.error_lower), "upper": q(res.error_upper), "closed_form": res.closed_form,
                       "rigorous": res.rigorous},
               "rmse": {"lower": q(res.rmse[0]), "upper": q(res.rmse[1])},
               "regions": res.regions, "cells": res.details.get("cell_count"),
               "certificate": res.certificate_path, "timings_s": {k: round(v, 4) for k, v in res.timings.items()}}
        if res.sampled is not None:
            out["sampled"] = res.sampled.to_json()
        return out
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


def cmd_certify(a) -> int:
    from .certification import certify, default_certificate_path

    out = a.out or default_certificate_path(a.checkpoint)
    if os.path.isdir(out):
        raise InputError(f"--out {out}: is a directory")
    res = certify(a.checkpoint, task=a.task, seq_len=a.seq_len, z3=a.z3, digits=a.digits, samples=a.samples,
                  seed=a.seed, out=out, progress=not (a.quiet or a.json), max_regions=a.max_regions,
                  timeout=a.timeout, workers=a.workers)
    if res.model.family == "transformer":
        return _print_cycle(a, res)
    warnings = _task_warnings(res.model)
    if a.json:
        report = report_json(res)
        report["warnings"] = warnings
        _emit_json(report)
        return 0
    from .measure import sympy_form

    lm = res.model
    print(f"{lm.path}: {_task_words(lm)}, d={lm.hidden_size}, n={lm.seq_len}, {lm.parameters} parameters "
          f"(sha256 {lm.sha256[:16]}...)")
    if res.measure == "mse":
        return _print_mse(a, res)
    if not res.closed_form.startswith(("(", "0")):
        print(f"  error: rigorous enclosure (no elementary closed form): {_shorten(res.closed_form, 300)}")
    elif a.closed_form or len(res.closed_form) <= MAX_FORM_CHARS:
        print(f"  error (exact) = {sympy_form(res.closed_form)}")
    else:
        terms = res.closed_form.count("atan2(")
        print(f"  error (exact): a sum of {terms} atan2 terms over 2*pi ({len(res.closed_form):,} characters; "
              "in the certificate and --json, or --closed-form to print it)")
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
    for w in warnings:
        sys.stderr.write(f"verifier: warning: {w}\n")
    return 0


def _print_mse(a, res) -> int:
    """The text report of a median model's certified mean squared error."""
    from .measure import sympy_form

    form = res.closed_form
    if a.closed_form or len(form) <= MAX_FORM_CHARS:
        print(f"  MSE (exact) = {sympy_form(form)}")
    else:
        print(f"  MSE (exact): a sum of {form.count('atan2('):,} atan2 and {form.count('/sqrt('):,} square-root terms "
              f"over 2*pi ({len(form):,} characters; in the certificate and --json, or --closed-form to print it)")
    print(f"  MSE enclosure  [{_fmt(res.error_lower, 25)}, {_fmt(res.error_upper, 25)}]")
    rlo, rhi = res.rmse
    print(f"  RMSE enclosure [{_fmt(rlo, 25)}, {_fmt(rhi, 25)}]")
    if res.error_upper == 0:
        print("  the model computes the median exactly (MSE exactly 0)")
    print(f"  {res.regions} regions (activation patterns) split into {res.details['cell_count']} cells; certificate "
          f"{res.certificate_path} (checked: accepted)")
    if res.sampled is not None:
        s = res.sampled
        print(f"  sampled (estimate, {s.samples} {s.dtype} samples): MSE {s.mse:.6g}, 95% CI "
              f"[{s.ci95[0]:.6g}, {s.ci95[1]:.6g}]")
    print(f"  time: {res.timings.get('total', 0):.3f}s certify+check")
    return 0


def _print_cycle(a, res) -> int:
    """A longest-cycle transformer's certified accuracy (every one of the n^n inputs evaluated)."""
    from .rational import q

    lm, det = res.model, res.details
    N, wrong, und = det["inputs"], det["wrong"], det["undecided"]
    if a.json:
        _emit_json({"checkpoint": lm.path, "sha256": lm.sha256, "task": lm.task, "family": lm.family,
                    "hidden_size": lm.hidden_size, "seq_len": lm.seq_len, "inputs": N, "wrong": wrong,
                    "undecided": und,
                    "error": {"lower": q(res.error_lower), "upper": q(res.error_upper)},
                    "accuracy": {"lower": q(res.accuracy[0]), "upper": q(res.accuracy[1])},
                    f"{det['torch_dtype']}_disagreements": det["torch_disagreements"],
                    "precision_bits": {str(k): v for k, v in det["precision_counts"].items()},
                    "certificate": res.certificate_path,
                    "timings_s": {k: round(v, 4) for k, v in res.timings.items()}})
        return 0
    print(f"{lm.path}: longest cycle, attention-only transformer, d={lm.hidden_size}, n={lm.seq_len}, "
          f"{len(lm.transformer.layers)} layers, {lm.parameters} parameters (sha256 {lm.sha256[:16]}...)")
    acc = q(res.accuracy[0]) if und == 0 else f"[{q(res.accuracy[0])}, {q(res.accuracy[1])}]"
    print(f"  accuracy (exact) = {acc}  ({100 * float(res.accuracy[0]):.4f}%): {N - wrong - und} of {N} inputs "
          f"right, {wrong} wrong" + (f", {und} undecided (counted both ways)" if und else ""))
    print(f"  torch {det['torch_dtype']} disagrees with the exact model on {det['torch_disagreements']} of "
          f"{N - und} decided inputs" + (" (near-ties)" if det["torch_disagreements"] else ""))
    print(f"  certificate {res.certificate_path} (checked: accepted)")
    print(f"  time: {res.timings.get('total', 0):.3f}s certify+check")
    return 0


MAX_FORM_CHARS = 400  # longer closed forms are summarised on screen (they are in the certificate and --json)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def _task_words(lm) -> str:
    if lm.task_given or lm.family != "position":
        return lm.task  # a one-output model has one task, median; a transformer has longest_cycle
    return f"{lm.task} (assumed; --task to choose)"


def _task_warnings(lm) -> list[str]:
    """The task sense-check: a warning when another position task fits the model much better, or the
    model is worse than chance on its task (sampled, 2^14 float64 inputs)."""
    if lm.rnn is None or lm.family != "position":
        return []
    from .sample import task_errors, task_warning

    w = task_warning(lm.task, lm.seq_len, task_errors(lm.float_arrays(), lm.seq_len), lm.task_given)
    return [w] if w else []


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


def _checkpoint_name(cert_path: str) -> str | None:
    """The checkpoint file name a certificate names, or None when it cannot be read (the kernel reports why)."""
    from .kernel import Reject, parse_json

    try:
        with open(cert_path, "rb") as fh:
            return os.path.basename(str(parse_json(fh.read().decode("utf-8"))["checkpoint"]["name"]))
    except (OSError, UnicodeDecodeError, Reject, KeyError, TypeError):
        return None


def cmd_check(a) -> int:
    from .kernel import Unreadable
    from .second_opinion import check as checked

    files = _gather(a.certificates)
    if a.checkpoint and len(files) != 1:
        raise InputError("--checkpoint goes with exactly one certificate")
    results = []
    worst = 0
    named = set()  # checkpoint names the certificates give (read once, for --models)
    live = sys.stderr.isatty() and not a.json
    for i, f in enumerate(files):
        if live:
            sys.stderr.write(f"\r\033[Kchecking {i + 1}/{len(files)}: {f} ...")
            sys.stderr.flush()
        ckpt = a.checkpoint
        problem = None
        name = _checkpoint_name(f) if a.models else None
        named.add(name)
        if name is not None and not ckpt:
            ckpt = os.path.join(a.models, name)
            if not os.path.exists(ckpt):
                problem = f"stale: its checkpoint {ckpt} is not in {a.models}"
        t0 = time.perf_counter()
        if problem:
            v_ok, rule, msg, code = False, "stale", problem, EXIT_REJECTED
        else:
            try:
                v = checked(f, checkpoint=ckpt, z3=a.z3, workers=a.workers)
                v_ok, rule, msg, code = v.accepted, v.rule, v.message, 0 if v.accepted else EXIT_REJECTED
                summary = v.summary
            except Unreadable as exc:
                v_ok, rule, msg, code = False, "unreadable", str(exc), EXIT_INPUT
        secs = time.perf_counter() - t0
        worst = max(worst, code)
        entry = {"certificate": f, "accepted": v_ok, "rule": rule, "message": msg, "seconds": round(secs, 3)}
        what = "mse" if v_ok and "mse_lower" in summary else "error"
        if v_ok:
            entry.update({"task": summary["task"], "hidden_size": summary["hidden_size"],
                          "seq_len": summary["seq_len"], f"{what}_lower": summary[f"{what}_lower"],
                          f"{what}_upper": summary[f"{what}_upper"], "regions": summary["regions"]})
        results.append(entry)
        if live:
            sys.stderr.write("\r\033[K")
        if not a.json:
            if v_ok:
                print(f"ACCEPTED  {f}  {summary['task']} d={summary['hidden_size']} n={summary['seq_len']}: {what} in "
                      f"[{_fmt(Fraction(summary[what + '_lower']), 8)}, {_fmt(Fraction(summary[what + '_upper']), 8)}], "
                      f"{summary['regions']} regions, {secs:.2f}s")
            elif code == EXIT_INPUT:
                print(f"UNREADABLE {msg if msg.startswith(f) else f'{f}  {msg}'}")
            else:
                print(f"REJECTED  {f}  [{rule}] {msg}")
    if a.models:
        missing = _missing_certificates(a.models, named)
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
        _emit_json({"results": results, "all_accepted": worst == 0})
    return worst


def _missing_certificates(models_dir: str, names: set) -> list[str]:
    """Checkpoints in models_dir that this version can certify (position-family RNNs of a seq_len that
    `check --models` requires) but whose file name is not among the names the certificates give.  Found by reading every
    checkpoint file's tensors with the kernel's torch-free reader, so it works with or without an index; a median
    (one-output) model does not record its seq_len, so it is required when the folder's index.json gives one that
    version 3 certifies."""
    from .certification import CERTIFIABLE_SEQ_LENS, MOMENT_SEQ_LENS
    from .kernel import Reject, Unreadable, checkpoint_tensors

    scalar_n = {}
    try:
        with open(os.path.join(models_dir, "index.json"), "rb") as fh:
            for e in json.loads(fh.read().decode("utf-8")).get("models", []):
                if e.get("family") == "scalar":
                    scalar_n[e.get("file")] = e.get("seq_len")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        pass
    missing = []
    for name in sorted(os.listdir(models_dir)):
        path = os.path.join(models_dir, name)
        if name in names or not os.path.isfile(path) or not name.endswith((".pth", ".pt", ".safetensors", ".json")):
            continue
        try:
            with open(path, "rb") as fh:
                w = checkpoint_tensors(path, fh.read())
        except (OSError, Unreadable, Reject, UnicodeDecodeError):
            continue  # not an RNN checkpoint (an index, a transformer, another file): nothing to certify
        if "embed" in w:  # a longest-cycle transformer (certificate version 4)
            from .cycle import REQUIRED_SEQ_LENS

            if len(w["embed"]) in REQUIRED_SEQ_LENS:
                missing.append(path)
            continue
        n = len(w["W_oh"])
        if (n >= 2 and n in CERTIFIABLE_SEQ_LENS) or (n == 1 and scalar_n.get(name) in MOMENT_SEQ_LENS):
            missing.append(path)
    return missing


def cmd_explain(a) -> int:
    from .errors import UnsupportedError
    from .exact import cross2, dot
    from .explain import draw, sector_rows
    from .disc import wrong_wedges
    from .loader import load
    from .model import standardize
    from .rational import q

    lm = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    if lm.rnn is None or lm.family != "position":
        raise UnsupportedError(f"{a.checkpoint}: explain supports position-task RNNs")
    if lm.seq_len != 2:
        raise UnsupportedError(f"{a.checkpoint}: explain draws the disc of seq_len-2 models (this one has "
                               f"seq_len {lm.seq_len})")
    std, c = standardize(lm.rnn)
    rows = sector_rows(lm.rnn, lm.task)
    wedges = wrong_wedges([r["sector"] for r in rows])
    print(f"{lm.path}: {lm.task}, d={lm.hidden_size}, n=2  (standardised weights: same function, exactly)")
    for name, mat in (("W_hi", std.W_hi), ("W_hh", std.W_hh), ("W_oh", std.W_oh)):
        print(f"  {name} = [" + "; ".join(", ".join(q(v) for v in row) for row in mat) + "]")
    print()
    print(f"{'#':>3} {'from':>9} {'to':>9}  {'pattern':<{max(9, 2 * lm.hidden_size + 2)}} "
          f"{'label':>5} {'pred':>4}  status  Δ = l1 - l0 (exact)")
    for i, r in enumerate(rows):
        print(f"{i:>3} {r['from_deg']:9.4f} {r['to_deg']:9.4f}  {r['pattern']:<{max(9, 2 * lm.hidden_size + 2)}} "
              f"{r['label']:>5} {r['prediction']:>4}  {'WRONG ' if r['wrong'] else 'right '}  {r['delta']}")
    total = sum(math.atan2(cross2(u, v), dot(u, v)) for u, v in wedges)  # display only (floats)
    print(f"\n{len(rows)} sectors, {sum(r['wrong'] for r in rows)} wrong; wrong angle {total:.6g} rad "
          f"(error {total / (2 * math.pi):.6g}; `certify` gives the exact value)")
    if not a.no_plot:
        from .certification import default_output_path

        stem = a.out or default_output_path(a.checkpoint, os.path.join("docs", "figures"), "_disc")
        files = draw(rows, wedges, stem, f"{os.path.basename(a.checkpoint)}: sectors of the disc "
                     f"(wrong wedges in red)")
        print("drew " + ", ".join(files))
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "certify")
    parser = _build_parser()
    if not argv:
        parser.print_help()
        return EXIT_INPUT
    a = parser.parse_args(argv)
    handlers = {"certify": cmd_certify, "check": cmd_check, "inspect": cmd_inspect, "sample": cmd_sample,
                "explain": cmd_explain, "train": cmd_train}
    try:
        return handlers[a.command](a)
    except VerifierError as exc:
        sys.stderr.write(f"verifier: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("verifier: interrupted; nothing partial was written\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except SystemError as exc:
        # A C extension (arb's acb.integral) that was interrupted inside its Python callback reports the
        # callback's exception as the cause of a SystemError: an interrupt or a limit, not a bug.
        cause = _root_cause(exc)
        if isinstance(cause, KeyboardInterrupt):
            sys.stderr.write("verifier: interrupted; nothing partial was written\n")
            return EXIT_INTERRUPTED
        if isinstance(cause, VerifierError):
            sys.stderr.write(f"verifier: error: {cause}\n")
            return cause.exit_code
        return _internal(exc)
    except Exception as exc:  # a bug, not a verdict: one line, and the traceback on request
        return _internal(exc)


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return exc


def _internal(exc: BaseException) -> int:
    if os.environ.get("VERIFIER_DEBUG"):
        raise exc
    sys.stderr.write(f"verifier: internal error (please report): {type(exc).__name__}: {_cut(str(exc), 300)}; "
                     "set VERIFIER_DEBUG=1 for the traceback\n")
    return EXIT_INTERNAL


def _cut(text: str, limit: int) -> str:
    return _shorten(text.splitlines()[0] if text else "", limit)


if __name__ == "__main__":
    sys.exit(main())
