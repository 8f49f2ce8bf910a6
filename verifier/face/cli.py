"""Command line: a thin layer over the library.

    python -m verifier CKPT                  certify (the default command)
    python -m verifier check CERT|DIR ...    re-check certificates with the kernel
    python -m verifier inspect CKPT          the model as exact rationals, and standardised
    python -m verifier sample CKPT           sampled error (the empirical baseline)
    python -m verifier explain CKPT          error atlas by (true, predicted); the disc (n = 2) or sphere (n = 3) drawn
    python -m verifier train ...             train AlgZoo models with the published recipe

Exit codes: 0 success / accepted; 1 rejected (a certificate fails a rule); 2 usage or input error;
3 a limit (--max-regions, --timeout) stopped the work; 4 internal error (a bug: please report);
130 interrupted.  Diagnostics go to stderr as
one line; results to stdout (`--json`: exactly one JSON object).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from fractions import Fraction

from ..errors import (EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_LIMIT, EXIT_REJECTED, EXIT_TERMINATED,
                     InputError, Terminated, UnsupportedError, VerifierError)
from ..load.tasks import POSITION_TASKS, TASKS

COMMANDS = ("certify", "check", "inspect", "sample", "explain", "train", "export", "crosscheck")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(EXIT_INPUT)


def _count(text: str) -> int:
    from ..empirical.train import parse_count

    try:
        return parse_count(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _width(text: str) -> Fraction:
    """--width: a number in [0, 1), e.g. 1e-3 or 1/1000, read exactly."""
    try:
        v = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected a width such as 1e-3 or 1/1000, got {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"the width must be at least 0 and less than 1, got {text!r}")
    return v


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
    c.add_argument("--workers", type=_positive, default=None,
                   help="processes for the cone traversal and the orthant integrals (default: all cores for seq_len "
                   "4 to 7, where the integrals dominate; 1 below); the certificate is the same for any number")
    c.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="spread the traversal and the orthant integrals over Ray: 'local' starts a Ray instance here, "
                   "an address (e.g. auto, host:6379, ray://head:10001) joins a cluster; the certificate is the same "
                   "(needs the [ray] extra)")
    c.add_argument("--width", type=_width, default=None,
                   help="seq_len 4 to 7: an anytime certificate, measuring cells (most estimated mass per cost first) until the certified "
                   "interval is at most this wide (e.g. 1e-3); with --timeout the interval reached is written and "
                   "the exit code is 3 if the width was not reached; with --method boxes: any seq_len")
    c.add_argument("--method", choices=("auto", "cells", "boxes"), default="auto",
                   help="auto/cells: exact cells (seq_len 2-7); boxes: an anytime certified interval for any seq_len "
                   "from a tree of boxes (certificate version 5), stopped by --width, --timeout (the search gets half of "
                   "it, the kernel's re-check the rest) or --max-boxes; the interval is written when a stop comes "
                   "first, with exit code 3 if --width was not reached")
    c.add_argument("--max-cones", type=_positive, default=None,
                   help="with --width (cells): measure at most this many simplicial cones; unlike --timeout, a budget "
                   "that gives the same certificate on any machine (the interval reached is written; exit 3 if the "
                   "width was not reached)")
    c.add_argument("--max-boxes", type=_positive, default=None,
                   help="--method boxes: stop after this many boxes (default with --width alone: 2^24)")
    c.add_argument("--resume", metavar="CERT", default=None,
                   help="--method boxes: go on from this boxes certificate of the same model (any certificate a "
                   "boxes run wrote is a checkpoint: its undecided boxes are split further; --max-boxes counts all)")
    c.add_argument("--checkpoint-every", type=float, metavar="SECONDS", default=None,
                   help="--method boxes: write the certificate reached so far to OUT.checkpoint this often (a valid "
                   "certificate, not yet re-checked: `check` it, or go on from it with --resume)")
    c.add_argument("--digits", type=int, default=30, help="significant digits of the enclosure (default 30)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")

    k = sub.add_parser("check", help="re-check certificates with the kernel")
    k.add_argument("certificates", nargs="+", help="certificate files (.cert.json, .cert.json.gz, .cert.json.xz) or "
                   "folders, walked with their subfolders")
    k.add_argument("--checkpoint", help="bind the certificate to this checkpoint: its SHA-256 and its tensors' exact values "
                   "(read without torch)")
    k.add_argument("--models", help="folder of checkpoints: each certificate's checkpoint must be there with "
                   "the recorded SHA-256 (stale-proof check), and every model in it must have a certificate among "
                   "those checked, unless the folder's uncertified.json lists it with the reason")
    k.add_argument("--z3", action="store_true", help="also ask Z3 to re-confirm every cell (second opinion)")
    k.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                   help="processes for the orthant integrals of seq_len 4 to 7 certificates (default: all cores; "
                   "the verdict does not depend on it)")
    k.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="spread the orthant integrals over Ray ('local' or a cluster address); same verdict")
    k.add_argument("--max-certificate-mb", type=_positive, default=None,
                   help="refuse certificates of more than this many MiB of text, plain or decompressed (default "
                   "128); a compressed one is also refused when its text exceeds 100 times its size")
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

    e = sub.add_parser("explain", help="where the model errs: the error by (true, predicted) label with exact "
                       "enclosures (any certified seq_len; median: the MSE by ordering chamber), the disc (seq_len 2) "
                       "or the sphere (seq_len 3) drawn")
    model_args(e)
    e.add_argument("--certificate", help="the model's certificate (default: the one `certify` writes, "
                   "./proofs/<stem>.cert.json or <stem>.cert.json next to the checkpoint, when it is there and "
                   "for this checkpoint and task; else the model is certified in memory, nothing written)")
    e.add_argument("--top", type=int, default=3, help="largest wrong cells listed per (true, predicted) pair, or "
                   "largest cells per ordering chamber for median models (default 3)")
    e.add_argument("--out", help="picture path stem (default: ./docs/figures/<stem>_disc or <stem>_sphere when "
                   "that folder exists and the checkpoint is under the current folder, else next to the checkpoint)")
    e.add_argument("--no-plot", action="store_true", help="only print (no picture)")

    x = sub.add_parser("export", help="the model as ONNX (unrolled), and a certificate's cell claims as VNN-LIB "
                       "properties (docs/TRUST.md)")
    model_args(x)
    x.add_argument("--onnx", help="write the unrolled network here (.onnx)")
    x.add_argument("--batch-dim", action="store_true", help="a symbolic batch dimension (default 1, what Marabou reads)")
    x.add_argument("--vnnlib", help="write one VNN-LIB property per cell of --certificate into this folder (new)")
    x.add_argument("--certificate", help="the certificate whose cell claims --vnnlib exports")

    cc = sub.add_parser("crosscheck", help="re-check a certificate's cell claims with an independent solver "
                        "(cvc5: exact; Marabou: floating point, on the exported ONNX)")
    cc.add_argument("certificate", help="a version 1 or 2 certificate (position tasks)")
    cc.add_argument("--checkpoint", help="bind the certificate to this checkpoint first (as `check --checkpoint`)")
    cc.add_argument("--solver", required=True, choices=("cvc5", "marabou"), help="the solver")
    cc.add_argument("--cells", type=_positive, help="check this many cells, a seeded sample (default: all)")
    cc.add_argument("--seed", type=int, default=0, help="seed of the cell sample (default 0)")
    cc.add_argument("--cell", type=int, action="append", help="check this cell (repeatable; instead of --cells)")
    cc.add_argument("--timeout", type=float, default=60.0, help="seconds per solver call (default 60)")
    cc.add_argument("--json", action="store_true", help="print one JSON object on stdout")

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
    from ..load.loader import load
    from ..load.model import standardize
    from ..load.rational import q, q_matrix, weights_doc

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
    from ..load.loader import load
    from ..empirical.sample import sample_error

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
    from ..empirical.train import parse_seeds, run_training

    entry = run_training(a.task, a.hidden, a.seq_len, parse_seeds(a.seeds), a.sequences, a.batch, a.out,
                         threads=a.threads, device=a.device, progress=not a.quiet,
                         eval_samples=a.eval_samples, runs_dir=a.runs_dir,
                         log=lambda s: print(s, file=sys.stderr))
    s = entry["sampled"]
    fig = f"RMSE {s['rmse']:.5f}" if "rmse" in s else f"accuracy {100 * s['accuracy']:.4f}%"
    pub = entry.get("published") or {}
    pub_s = (f"RMSE {pub['rmse']}" if "rmse" in pub else
             f"{pub['accuracy_percent']}%" if "accuracy_percent" in pub else "none for this shape")
    where = f"all {s['samples']} inputs" if entry["task"] == "longest_cycle" else f"{s['samples']} fresh samples"
    print(f"{a.out}/{entry['file']}: seed {entry['seed']}, {fig} on {where} "
          f"(published zoo: {pub_s}), sha256 {entry['sha256']}")
    return 0


def _fmt(x: Fraction, digits: int = 12) -> str:
    if x == 0:
        return "0"
    from decimal import Decimal, getcontext

    getcontext().prec = digits
    return str(Decimal(x.numerator) / Decimal(x.denominator))


def report_json(res) -> dict:
    from ..load.rational import q

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
    if res.details.get("boxes"):
        d = res.details
        out["boxes"] = {"right": d["right"], "wrong": d["wrong"], "undecided": d["undecided"],
                        "width_asked": None if d["width"] is None else q(d["width"]),
                        "width": q(res.error_upper - res.error_lower), "width_reached": d["width_reached"],
                        "search": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in d["search"].items()}}
    elif res.details.get("partial"):
        d = res.details
        out["partial"] = {"cells_measured": d["cell_count"], "cells_total": d["cells_total"],
                          "cones_measured": d["cones_measured"], "cones_total": d["cones_total"],
                          "traversal_complete": d["traversal_complete"], "roots_reached": d["roots_reached"],
                          "roots_total": len(d["roots"]),
                          "width_asked": q(d["width"]), "width": q(res.error_upper - res.error_lower),
                          "width_reached": d["width_reached"]}
    if res.sampled is not None:
        out["sampled"] = res.sampled.to_json()
    return out


def _workers(a):
    """--ray ADDRESS (an ordered map over a Ray cluster, verifier/scale.py) or --workers N (local processes)."""
    if getattr(a, "ray", None):
        if not hasattr(a, "_ray_mapper"):
            from ..interop.scale import RayMapper

            a._ray_mapper = RayMapper(a.ray)
        return a._ray_mapper
    return a.workers


def cmd_certify(a) -> int:
    from ..pipeline import certify, default_certificate_path

    out = a.out or default_certificate_path(a.checkpoint)
    if os.path.isdir(out):
        raise InputError(f"--out {out}: is a directory")
    if os.path.islink(out):  # write_atomic refuses it too; say so before the work, not after
        raise InputError(f"--out {out}: is a symbolic link; refusing to write through or replace it (give a plain path)")
    res = certify(a.checkpoint, task=a.task, seq_len=a.seq_len, z3=a.z3, digits=a.digits, samples=a.samples,
                  seed=a.seed, out=out, progress=not (a.quiet or a.json), max_regions=a.max_regions,
                  timeout=a.timeout, workers=_workers(a), width=a.width, method=a.method, max_boxes=a.max_boxes,
                  resume=a.resume, checkpoint_every=a.checkpoint_every, compress_large=not a.out,
                  max_cones=a.max_cones)
    if res.model.family == "transformer":
        return _print_cycle(a, res)
    warnings = _task_warnings(res.model)
    code = 0
    if res.details.get("partial") and not res.details["width_reached"]:
        code = EXIT_LIMIT  # the interval reached is certified and written; the asked width was not reached
    if a.json:
        report = report_json(res)
        report["warnings"] = warnings
        _emit_json(report)
        return code
    from ..cells.measure import sympy_form

    lm = res.model
    print(f"{lm.path}: {_task_words(lm)}, d={lm.hidden_size}, n={lm.seq_len}, {lm.parameters} parameters "
          f"(sha256 {lm.sha256[:16]}...)")
    if res.measure == "mse":
        return _print_mse(a, res)
    if res.details.get("partial"):
        return _print_partial(a, res, warnings, code)
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
    _print_sampled_and_time(res)
    for w in warnings:
        sys.stderr.write(f"verifier: warning: {w}\n")
    return 0


def _print_sampled_and_time(res) -> None:
    """The sampled estimate beside the certified value (error or MSE), then the time."""
    if res.sampled is not None:
        s = res.sampled
        what = f"MSE {s.mse:.6g}" if res.measure == "mse" else f"error {s.error:.6g}"
        print(f"  sampled (estimate, {s.samples} {s.dtype} samples): {what}, 95% CI [{s.ci95[0]:.6g}, {s.ci95[1]:.6g}]")
    print(f"  time: {res.timings.get('total', 0):.3f}s certify+check")


def _print_partial(a, res, warnings, code: int) -> int:
    """The text report of an anytime (partial) certificate."""
    d = res.details
    width = res.error_upper - res.error_lower
    print(f"  error in      [{_fmt(res.error_lower, 12)}, {_fmt(res.error_upper, 12)}]  (certified interval, width "
          f"{float(width):.3g}; anytime certificate)")
    if d.get("boxes"):
        st = d["search"]
        print(f"  {st['boxes']:,} boxes made in {st['seconds']:.1f}s: {d['wrong']:,} wrong and {d['right']:,} right boxes "
              f"proved (at least the wrong boxes' mass, at most 1 minus the right boxes'), {d['undecided']:,} left "
              f"undecided; certificate {res.certificate_path} (checked: accepted)")
        u = st.get("undecided")
        if u:
            print(f"  undecided mass (float estimate) {u['open_mass']:.4g}: target open (near ties) "
                  f"{100 * (u['target_open_tie_above'] + u['target_open_tie_below'] + u['target_open_both']):.1f}%, "
                  f"argmax open {100 * u['argmax_open']:.1f}% (no unstable unit, a decision boundary crosses the box: "
                  f"{100 * u['argmax_open_no_unstable_unit']:.1f}%; unstable units per step "
                  f"{u['unstable_units_per_step']})")
    else:
        found = ("every cell found" if d["traversal_complete"] else
                 f"cells found from {d['order_estimate_samples']} samples, then their neighbours; no coverage is claimed")
        print(f"  {d['cones_measured']:,} of the {d['cones_total']:,} simplicial cones of {d['cells_total']:,} cells "
              f"processed measured, largest first, in {d['cell_count']:,} cells ({found}; {d['roots_reached']} of "
              f"{len(d['roots'])} roots; at least the measured cones of the wrong cells, at most 1 minus those of the "
              f"right cells); certificate {res.certificate_path} (checked: accepted)")
    _print_sampled_and_time(res)
    for w in warnings:
        sys.stderr.write(f"verifier: warning: {w}\n")
    if code:
        why = ("every cell and cone was measured" if d.get("traversal_complete") and
               d.get("cones_measured") == d.get("cones_total") else "--timeout, --max-cones or --max-boxes came first")
        sys.stderr.write(f"verifier: the width {float(d['width']):.3g} was not reached ({why}); the "
                         f"certificate holds the interval reached (width {float(width):.3g}) (exit 3)\n")
    return code


def _print_mse(a, res) -> int:
    """The text report of a median model's certified mean squared error."""
    from ..cells.measure import sympy_form

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
    _print_sampled_and_time(res)
    return 0


def _print_cycle(a, res) -> int:
    """A longest-cycle transformer's certified accuracy (every one of the n^n inputs evaluated)."""
    from ..load.rational import q

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
    from ..empirical.sample import task_errors, task_warning

    w = task_warning(lm.task, lm.seq_len, task_errors(lm.float_arrays(), lm.seq_len), lm.task_given)
    return [w] if w else []


def _gather(paths) -> list[str]:
    """The certificate files named: a file as given; a folder walked with its subfolders
    (rational.certificate_files: *.cert.json, .gz and .xz, in a stable order)."""
    from ..load.rational import certificate_files

    files = []
    for p in paths:
        if os.path.isdir(p):
            found = certificate_files(p)
            if not found:
                raise InputError(f"{p}: no certificates (*.cert.json, .gz or .xz) in it or its subfolders")
            files.extend(found)
        elif os.path.lexists(p):  # a dangling link or a link loop: the reader says which
            files.append(p)
        else:
            raise InputError(f"{p}: no such file")
    return files


def _checkpoint_name(cert_path: str, max_bytes: int | None = None) -> str | None:
    """The checkpoint file name a certificate names, or None when it cannot be read (the kernel reports why)."""
    from ..kernel import Reject, Unreadable, parse_json
    from ..kernel.read import MAX_CERT_BYTES, certificate_bytes

    try:
        text = certificate_bytes(cert_path, max_bytes or MAX_CERT_BYTES).decode("utf-8")
        return os.path.basename(str(parse_json(text)["checkpoint"]["name"]))
    except (UnicodeDecodeError, Reject, Unreadable, KeyError, TypeError):
        return None


def cmd_check(a) -> int:
    from ..kernel import Unreadable
    from ..interop.second_opinion import check as checked

    files = _gather(a.certificates)
    max_bytes = a.max_certificate_mb << 20 if a.max_certificate_mb else None
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
        name = _checkpoint_name(f, max_bytes) if a.models else None
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
                v = checked(f, checkpoint=ckpt, z3=a.z3, workers=_workers(a), max_bytes=max_bytes)
                v_ok, rule, msg, code = v.accepted, v.rule, v.message, 0 if v.accepted else EXIT_REJECTED
                summary = v.summary
            except Unreadable as exc:
                v_ok, rule, msg, code = False, "unreadable", _line(str(exc)), EXIT_INPUT
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
                print(f"REJECTED  {f}  [{rule}] {_line(msg)}")
    excused = []
    if a.models:
        missing, excused, inexact = _models_without_certificates(a.models, named)
        listed = os.path.join(a.models, UNCERTIFIED_LIST)
        for m in missing:
            worst = max(worst, EXIT_REJECTED)
            results.append({"certificate": None, "checkpoint": m, "accepted": False, "rule": "missing",
                            "message": f"model without a certificate (and not in {listed})"})
            if not a.json:
                print(f"MISSING   {m}  has no certificate among those checked, and {listed} does not list it")
        for why in inexact:
            worst = max(worst, EXIT_REJECTED)
            results.append({"certificate": None, "checkpoint": None, "accepted": False, "rule": "uncertified-list",
                            "message": f"{listed}: {why}"})
            if not a.json:
                print(f"INEXACT   {listed}: {why}")
        if not a.json:
            for m, reason in excused:
                print(f"EXCUSED   {m}  no certificate: {_line(reason)}")
    if not a.json and len(results) > 1:
        n_ok = sum(1 for r in results if r["accepted"])
        print(f"{n_ok} of {len(results)} accepted" + ("" if n_ok == len(results) else
                                                      f"; {len(results) - n_ok} rejected, stale or missing")
              + (f"; {len(excused)} models listed as uncertified" if excused else ""))
    if a.json:
        _emit_json({"results": results, "all_accepted": worst == 0,
                    "uncertified": [{"checkpoint": m, "reason": r} for m, r in excused]})
    return worst


UNCERTIFIED_LIST = "uncertified.json"  # in a models folder: models shipped without a certificate, with the reason


def _uncertified(models_dir: str) -> dict:
    """{file name: reason} from models_dir/uncertified.json ({"models": {"<file>": "<reason>", ...}}, strict JSON),
    or {} when there is none.  A malformed list is an InputError (exit 2): it excuses models from a check."""
    from ..kernel import Reject, Unreadable, parse_json
    from ..kernel.read import MAX_JSON_BYTES, read_regular

    path = os.path.join(models_dir, UNCERTIFIED_LIST)
    if not os.path.lexists(path):
        return {}
    try:
        doc = parse_json(read_regular(path, MAX_JSON_BYTES, "list of uncertified models").decode("utf-8"))
    except (Reject, Unreadable, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable list of uncertified models: {getattr(exc, 'message', exc)}") from None
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                               for k, v in models.items()):
        raise InputError(f'{path}: expected {{"models": {{"<checkpoint file>": "<why it has no certificate>", ...}}}}')
    return dict(models)


def _model_files(models_dir: str) -> list[str]:
    """The checkpoint files of a models folder, sorted: every .pth, .pt and .safetensors file, and every .json
    file that reads as verifier-weights (its tensors read by the kernel's torch-free reader); not the folder's
    index.json or list of uncertified models."""
    from ..kernel import Reject, Unreadable, checkpoint_tensors
    from ..kernel.read import MAX_JSON_BYTES, read_regular

    found = []
    for name in sorted(os.listdir(models_dir)):
        path = os.path.join(models_dir, name)
        if not os.path.isfile(path) or name in ("index.json", UNCERTIFIED_LIST):
            continue
        if name.endswith((".pth", ".pt", ".safetensors")):
            found.append(name)
        elif name.endswith(".json"):
            try:
                checkpoint_tensors(path, read_regular(path, MAX_JSON_BYTES, "checkpoint file"))
                found.append(name)
            except (Unreadable, Reject, UnicodeDecodeError):
                continue  # another JSON file, not a model
    return found


def _models_without_certificates(models_dir: str, names: set) -> tuple[list, list, list]:
    """(missing, excused, inexact) for `check --models`: every model file in models_dir must be named by a checked
    certificate, at any seq_len and in any family, unless models_dir/uncertified.json lists it with a reason.
    missing: model paths with neither; excused: (path, reason) of listed models without a certificate; inexact:
    sentences saying where the list is wrong (it names a model that has a certificate, or no model file)."""
    listed = _uncertified(models_dir)
    models = _model_files(models_dir)
    missing, excused, inexact = [], [], []
    for name in models:
        path = os.path.join(models_dir, name)
        if name in names:
            if name in listed:
                inexact.append(f"{name} is listed as uncertified but has a certificate: remove it from the list")
        elif name in listed:
            excused.append((path, listed[name]))
        else:
            missing.append(path)
    for name in sorted(set(listed) - set(models)):
        inexact.append(f"{name} is listed as uncertified but is not a model file in {models_dir}")
    return missing, excused, inexact


def _explain_certificate(a, lm):
    """(certificate document, its path or None when certified in memory) for `explain`."""
    from ..pipeline import certify, default_certificate_path
    from ..kernel.check import read_text
    from ..kernel.read import parse_json
    from ..kernel.rules import Reject, Unreadable

    path = a.certificate
    if path is None and os.path.isfile(default_certificate_path(a.checkpoint)):
        path = default_certificate_path(a.checkpoint)
    if path is not None:
        try:
            doc = parse_json(read_text(path))
        except (Reject, Unreadable) as exc:
            raise InputError(f"{path}: not a readable certificate: {getattr(exc, 'message', exc)}") from None
        if not isinstance(doc, dict):
            raise InputError(f"{path}: not a certificate (not a JSON object)")
        sha = (doc.get("checkpoint") or {}).get("sha256") if isinstance(doc.get("checkpoint"), dict) else None
        fits = sha == lm.sha256 and (doc.get("task") == lm.task or not lm.task_given)
        if fits:
            return doc, path
        if a.certificate is not None:
            why = "another checkpoint" if sha != lm.sha256 else f"task {doc.get('task')!r}, not {lm.task!r}"
            raise InputError(f"{path}: this certificate is for {why}")
    if lm.seq_len not in (2, 3, 4, 5):
        raise UnsupportedError(f"{a.checkpoint}: seq_len {lm.seq_len}: no certificate, and certifying it is not "
                               "supported (seq_len 2 to 5)")
    return certify(lm, z3=False, samples=0).certificate, None


def _dec(x: Fraction, digits: int, up: bool) -> str:
    """x rounded down (or up) to `digits` significant decimal digits, written exactly: bounds for display."""
    from decimal import Decimal, localcontext

    from ..cells.measure import round_outward

    lo, hi = round_outward(x, x, digits)
    v = hi if up else lo
    with localcontext() as ctx:
        ctx.prec = digits + 40  # v is a terminating decimal of `digits` digits: the division is exact
        return format(Decimal(v.numerator) / Decimal(v.denominator), f".{digits - 1}e") if v else "0"


def _print_atlas(res, cert_path) -> None:
    where = cert_path or "certified in memory (nothing written)"
    e_lo, e_hi = Fraction(res["error"]["lower"]), Fraction(res["error"]["upper"])
    checked = "checked by the kernel" + ("" if res["kernel"] == "every rule" else f" ({res['kernel']})")
    print(f"error by (true label -> predicted label); certificate: {where}, {checked}")
    print(f"  certified error in [{_dec(e_lo, 12, False)}, {_dec(e_hi, 12, True)}], "
          f"{res['wrong_cells']} wrong cells")
    if not res["measured"]:
        print("  " + res["note"])
        for r in res["breakdown"]:
            print(f"  {r['true']} -> {r['predicted']}: {r['cells']} cells")
        return
    total = (e_lo + e_hi) / 2
    for r in res["breakdown"]:
        lo, hi = Fraction(r["lower"]), Fraction(r["upper"])
        share = float((lo + hi) / 2 / total) if total else 0.0  # display only
        print(f"  {r['true']} -> {r['predicted']}: mass in [{_dec(lo, 12, False)}, {_dec(hi, 12, True)}]  "
              f"(about {100 * share:.3g}% of the error), {r['cells']} cells")
        for c in r["largest"]:
            act = " | ".join(f"t{t}: " + (" ".join(f"h{i}" for i in row) or "-") for t, row in enumerate(c["active"]))
            print(f"      {'sector' if res['seq_len'] == 2 else 'cell'} {c['cell']}: [{_dec(Fraction(c['lower']), 6, False)}, "
                  f"{_dec(Fraction(c['upper']), 6, True)}]  input ({', '.join(c['input'])})  active {act}")
    s_lo, s_hi = Fraction(res["sum"]["lower"]), Fraction(res["sum"]["upper"])
    print(f"  the pairs' enclosures sum to [{_dec(s_lo, 12, False)}, {_dec(s_hi, 12, True)}], which contains the "
          "certified error (exact rationals: --json)")


def _print_mse_atlas(res, cert_path) -> None:
    where = cert_path or "certified in memory (nothing written)"
    lo, hi = Fraction(res["mse"]["lower"]), Fraction(res["mse"]["upper"])
    print(f"mean squared error by ordering chamber; certificate: {where}, checked by the kernel")
    print(f"  certified MSE in [{_dec(lo, 12, False)}, {_dec(hi, 12, True)}], {res['cells']} cells")
    for r in res["breakdown"]:
        chamber = " > ".join(f"x{i}" for i in r["chamber"])
        med = " and ".join(f"x{i}" for i in r["median"])
        print(f"  {chamber} (median {med}): [{_dec(Fraction(r['lower']), 12, False)}, "
              f"{_dec(Fraction(r['upper']), 12, True)}], {r['cells']} cells")
        for c in r["largest"]:
            act = " | ".join(f"t{t}: " + (" ".join(f"h{i}" for i in row) or "-") for t, row in enumerate(c["active"]))
            print(f"      cell {c['cell']}: [{_dec(Fraction(c['lower']), 6, False)}, {_dec(Fraction(c['upper']), 6, True)}]"
                  f"  input ({', '.join(c['input'])})  active {act}")
    for r in res["by_median"]:
        med = " and ".join(f"x{i}" for i in r["median"])
        print(f"  median {med}: [{_dec(Fraction(r['lower']), 12, False)}, {_dec(Fraction(r['upper']), 12, True)}], "
              f"{r['cells']} cells")
    s_lo, s_hi = Fraction(res["sum"]["lower"]), Fraction(res["sum"]["upper"])
    print(f"  the chambers' enclosures sum to [{_dec(s_lo, 12, False)}, {_dec(s_hi, 12, True)}], which contains the "
          "certified MSE (exact rationals: --json)")


def cmd_explain(a) -> int:
    from ..views.atlas import analyse, breakdown
    from ..load.loader import load

    if a.top < 0:
        raise InputError("--top must be >= 0")
    lm = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    if lm.rnn is None:
        raise UnsupportedError(f"{a.checkpoint}: explain supports RNNs (position tasks and median)")
    doc, cert_path = _explain_certificate(a, lm)
    atlas = analyse(doc, checkpoint=a.checkpoint)
    task = atlas.cert.task
    res = breakdown(doc, top=a.top, atlas=atlas)
    if lm.family != "position":  # median: the MSE by ordering chamber, no picture
        if a.json:
            _emit_json({"checkpoint": lm.path, "sha256": lm.sha256, "certificate": cert_path, **res, "figures": []})
            return 0
        _explain_text(lm, task, None)
        _print_mse_atlas(res, cert_path)
        return 0
    rows = None
    if lm.seq_len == 2:
        from ..views.explain import sector_rows

        rows = sector_rows(lm.rnn, task)
    files = []
    if not a.no_plot and lm.seq_len in (2, 3):
        from ..pipeline import default_output_path

        suffix = "_disc" if lm.seq_len == 2 else "_sphere"
        stem = a.out or default_output_path(a.checkpoint, os.path.join("docs", "figures"), suffix)
        folder = os.path.dirname(stem) or "."
        if not os.path.isdir(folder):
            raise InputError(f"--out {stem}: folder {folder} does not exist")
        name = os.path.basename(a.checkpoint)
        if lm.seq_len == 2:
            from ..cells.disc import wrong_wedges
            from ..views.explain import draw

            files = draw(rows, wrong_wedges([r["sector"] for r in rows]), stem,
                         f"{name}: sectors of the disc (wrong sectors hatched, by true -> predicted)")
        else:
            from ..views.explain import draw_sphere

            files, _ = draw_sphere(atlas, stem, f"{name} ({task}): the unit sphere, Lambert equal-area")
    if a.json:
        _emit_json({"checkpoint": lm.path, "sha256": lm.sha256, "certificate": cert_path, **res, "figures": files})
        return 0
    _explain_text(lm, task, rows)
    _print_atlas(res, cert_path)
    if files:
        print("drew " + ", ".join(files))
    return 0


def _explain_text(lm, task, rows) -> None:
    from ..load.model import standardize
    from ..load.rational import q

    std, _ = standardize(lm.rnn)
    print(f"{lm.path}: {task}, d={lm.hidden_size}, n={lm.seq_len}  (standardised weights: same function, exactly)")
    for name, mat in (("W_hi", std.W_hi), ("W_hh", std.W_hh), ("W_oh", std.W_oh)):
        print(f"  {name} = [" + "; ".join(", ".join(q(v) for v in row) for row in mat) + "]")
    print()
    if rows is None:
        return
    width = max(9, 2 * lm.hidden_size + 2)
    print(f"{'#':>3} {'from':>9} {'to':>9}  {'pattern':<{width}} {'label':>5} {'pred':>4}  status  Δ = l1 - l0 (exact)")
    for i, r in enumerate(rows):
        print(f"{i:>3} {r['from_deg']:9.4f} {r['to_deg']:9.4f}  {r['pattern']:<{width}} "
              f"{r['label']:>5} {r['prediction']:>4}  {'WRONG ' if r['wrong'] else 'right '}  {r['delta']}")
    print(f"\n{len(rows)} sectors, {sum(r['wrong'] for r in rows)} wrong (angles in degrees: display only)\n")


def cmd_export(a) -> int:
    from ..load.loader import load

    if not a.onnx and not a.vnnlib:
        raise InputError("export: give --onnx FILE and/or --vnnlib DIR")
    if a.vnnlib and not a.certificate:
        raise InputError("--vnnlib needs --certificate (the claims it exports)")
    if a.vnnlib and os.path.exists(a.vnnlib):
        raise InputError(f"--vnnlib {a.vnnlib}: already exists (give a new folder)")
    lm = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    if lm.rnn is None:
        raise UnsupportedError(f"{a.checkpoint}: export supports the RNN families")
    claims = None
    if a.vnnlib:
        from ..interop.crosscheck import cell_claims
        from ..kernel import Reject, parse_json
        from ..kernel.check import read_text

        try:
            c, claims, _ = cell_claims(parse_json(read_text(a.certificate)), a.checkpoint)
        except Reject as exc:
            raise InputError(f"{a.certificate}: rejected by the kernel: [{exc.rule}] {exc.message}") from None
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise InputError("export needs onnx: pip install onnx (or the [trust] extra)") from None
    from ..interop.export import vnnlib_property, write_onnx
    from ..load.rational import write_atomic

    rnn = lm.rnn
    if a.onnx:
        b = "batch" if a.batch_dim else 1
        write_onnx(a.onnx, rnn.W_hi, rnn.W_hh, rnn.W_oh, rnn.seq_len, b)
        print(f"{a.onnx}: ONNX, input X [{b}, {rnn.seq_len}], output Y [{b}, {len(rnn.W_oh)}] (MatMul/Add/Relu, "
              f"unrolled over {rnn.seq_len} steps)")
    if a.vnnlib:
        tmp = a.vnnlib + ".partial"
        os.makedirs(tmp)
        for cl in claims:
            write_atomic(os.path.join(tmp, f"cell_{cl.index:06d}.vnnlib"),
                         vnnlib_property(cl, rnn.seq_len, len(rnn.W_oh)))
        os.rename(tmp, a.vnnlib)
        print(f"{a.vnnlib}: {len(claims)} VNN-LIB properties, one per cell; unsat confirms a cell's claim "
              "(on the cell shrunk by its stated margin, inside [-1, 1]^n)")
    return 0


def cmd_crosscheck(a) -> int:
    from ..interop.crosscheck import crosscheck
    from ..kernel import Reject, Unreadable, parse_json
    from ..kernel.check import read_text

    try:
        doc = parse_json(read_text(a.certificate))
    except (Reject, Unreadable) as exc:
        raise InputError(f"{a.certificate}: {exc}") from None
    if a.checkpoint and not os.path.isfile(a.checkpoint):
        raise InputError(f"{a.checkpoint}: no such file")
    live = sys.stderr.isatty() and not a.json

    def progress(k, total, o):
        if live:
            sys.stderr.write(f"\r\033[K{k}/{total} cells, last: cell {o.index} {o.status} ({o.seconds:.2f}s)")

    t0 = time.perf_counter()
    try:
        rep = crosscheck(doc, a.solver, checkpoint=a.checkpoint, cells=a.cells, seed=a.seed, timeout_s=a.timeout,
                         progress=progress, indices=a.cell)
    except Reject as exc:
        if live:
            sys.stderr.write("\r\033[K")
        print(f"REJECTED  {a.certificate}  [{exc.rule}] {exc.message} (the kernel could not derive its cells)")
        return EXIT_REJECTED
    except Unreadable as exc:
        raise InputError(str(exc)) from None
    if live:
        sys.stderr.write("\r\033[K")
    counts = rep.counts()
    secs = time.perf_counter() - t0
    checked = len(rep.outcomes)
    per = sum(o.seconds for o in rep.outcomes) / max(1, checked)
    code = EXIT_REJECTED if counts["refuted"] else (EXIT_LIMIT if counts["unknown"] else 0)
    if a.json:
        _emit_json({"certificate": a.certificate, "solver": a.solver, "cells_total": rep.cells_total,
                    "cells_checked": checked, **counts, "seconds": round(secs, 3),
                    "solver_seconds_per_cell": round(per, 6),
                    "kernel_seconds_per_cell": round(rep.kernel_seconds_per_cell, 6),
                    "refuted_cells": [{"cell": o.index, "detail": o.detail} for o in rep.outcomes
                                      if o.status == "refuted"],
                    "unknown_cells": [{"cell": o.index, "detail": o.detail} for o in rep.outcomes
                                      if o.status == "unknown"]})
        return code
    for o in rep.outcomes:
        if o.status == "refuted":
            print(f"REFUTED   cell {o.index}: {o.detail}")
    for o in rep.outcomes:
        if o.status == "unknown":
            print(f"UNKNOWN   cell {o.index}: {o.detail}")
    print(f"{a.solver}: {counts['confirmed']} confirmed, {counts['refuted']} refuted, {counts['unknown']} unknown "
          f"of {checked} checked cells ({rep.cells_total} in the certificate); {per:.3f}s per cell "
          f"(the kernel derives a cell in {rep.kernel_seconds_per_cell:.4f}s); {secs:.1f}s in all")
    return code


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
                "explain": cmd_explain, "train": cmd_train, "export": cmd_export, "crosscheck": cmd_crosscheck}
    from ..kernel.rules import Unreadable

    previous = _on_sigterm()
    try:
        return handlers[a.command](a)
    except VerifierError as exc:
        sys.stderr.write(f"verifier: error: {_line(str(exc))}\n")
        return exc.exit_code
    except Unreadable as exc:  # the kernel could not read a file (a limit, a file of another kind): exit 2
        sys.stderr.write(f"verifier: error: {_line(str(exc))}\n")
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except BrokenPipeError:
        return 0
    except SystemError as exc:
        # A C extension (arb's acb.integral) that was interrupted inside its Python callback reports the
        # callback's exception as the cause of a SystemError: an interrupt or a limit, not a bug.
        cause = _root_cause(exc)
        if isinstance(cause, KeyboardInterrupt):
            return _interrupted(cause)
        if isinstance(cause, VerifierError):
            sys.stderr.write(f"verifier: error: {_line(str(cause))}\n")
            return cause.exit_code
        return _internal(exc)
    except Exception as exc:  # a bug, not a verdict: one line, and the traceback on request
        return _internal(exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_sigterm():
    """SIGTERM (a scheduler's or `timeout`'s stop) raises Terminated, a KeyboardInterrupt, so the work stops as
    for Ctrl-C: worker pools are shut down and nothing partial is written.  Returns the handler it replaced
    (None off the main thread, where no handler can be set)."""
    def stop(signum, frame):
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        return None


def _interrupted(exc: BaseException) -> int:
    if isinstance(exc, Terminated):
        sys.stderr.write("verifier: terminated (SIGTERM); nothing partial was written\n")
        return EXIT_TERMINATED
    sys.stderr.write("verifier: interrupted; nothing partial was written\n")
    return EXIT_INTERRUPTED


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


def _line(text: str, limit: int = 600) -> str:
    """A message as one printable line: control characters (a newline in a hostile file's key, an escape
    sequence) are written escaped, and a very long message is cut."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit] + " ..."


def _cut(text: str, limit: int) -> str:
    return _shorten(text.splitlines()[0] if text else "", limit)


if __name__ == "__main__":
    sys.exit(main())
