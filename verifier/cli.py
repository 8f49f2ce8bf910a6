"""Command line: a thin layer over the library.

    python -m verifier CKPT                  certify (the default command)
    python -m verifier check CERT|DIR ...    re-check certificates with the independent checker
    python -m verifier inspect CKPT          the model as exact rationals, and standardised
    python -m verifier sample CKPT           sampled error (the empirical baseline)
    python -m verifier explain CKPT          sectors table and the disc picture (seq_len 2)
    python -m verifier train ...             train AlgZoo models with the published recipe

Exit codes: 0 success / accepted; 1 rejected (a certificate fails a rule); 2 usage or input error;
3 a limit (--max-regions, --timeout) stopped the work; 130 interrupted.  Diagnostics go to stderr as
one line; results to stdout (`--json`: exactly one JSON object).
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import EXIT_INPUT, EXIT_INTERRUPTED, VerifierError, InputError

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


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="verifier", description="Exact, machine-checked error of tiny ReLU RNNs (AlgZoo). "
                "`python -m verifier CKPT` certifies a checkpoint (same as `certify CKPT`).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def model_args(sp):
        sp.add_argument("checkpoint", help="AlgZoo checkpoint (.pth), .safetensors, or verifier-weights .json")
        sp.add_argument("--task", choices=("2nd_argmax", "argmax", "argmedian", "median"),
                        help="task (default: 2nd_argmax for position models, median for single-output models)")
        sp.add_argument("--seq-len", type=int, help="sequence length (required for single-output models)")
        sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    c = sub.add_parser("certify", help="exact error + certificate + sampled error beside it")
    model_args(c)
    c.add_argument("--out", help="certificate path (default proofs/<checkpoint stem>.cert.json)")
    c.add_argument("--samples", type=_count, default=1 << 20, help="samples for the estimate beside the "
                   "exact value (default 2^20; 0 skips)")
    c.add_argument("--seed", type=int, default=0, help="sampling seed")
    c.add_argument("--z3", dest="z3", action="store_true", default=None,
                   help="also ask Z3 to confirm every cell's claims (default: on for seq_len 2)")
    c.add_argument("--no-z3", dest="z3", action="store_false", help="skip the Z3 confirmation")
    c.add_argument("--max-regions", type=int, default=None, help="stop cleanly (exit 3) beyond this many cells")
    c.add_argument("--timeout", type=float, default=None, help="stop cleanly (exit 3) after this many seconds")
    c.add_argument("--workers", type=int, default=1, help="processes for the cone traversal (seq_len >= 3)")
    c.add_argument("--digits", type=int, default=30, help="significant digits of the enclosure (default 30)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")

    k = sub.add_parser("check", help="re-check certificates with the independent checker")
    k.add_argument("certificates", nargs="+", help="certificate files or folders of *.cert.json")
    k.add_argument("--checkpoint", help="also verify the certificate's SHA-256 against this file")
    k.add_argument("--models", help="folder of checkpoints: each certificate's checkpoint must be there with "
                   "the recorded SHA-256 (stale-proof check), and every certifiable model must have a certificate")
    k.add_argument("--z3", action="store_true", help="also ask Z3 to re-confirm every cell (second opinion)")
    k.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    i = sub.add_parser("inspect", help="family, shapes, SHA-256 and the weights as exact rationals")
    model_args(i)

    s = sub.add_parser("sample", help="sampled error (or MSE) with its standard error and 95%% interval")
    model_args(s)
    s.add_argument("--samples", type=_count, default=1 << 20, help="number of samples (default 2^20)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    s.add_argument("--batch", type=_count, default=1 << 18)
    s.add_argument("--device", help="torch device (default: cuda when present, else cpu)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("explain", help="standardised weights, a table of sectors, and the disc (PNG + SVG)")
    model_args(e)
    e.add_argument("--out", help="picture path stem (default docs/figures/<checkpoint stem>_disc)")
    e.add_argument("--no-plot", action="store_true", help="only print the table")

    t = sub.add_parser("train", help="train AlgZoo models with the published recipe, best of several seeds")
    t.add_argument("--task", required=True, choices=("2nd_argmax", "argmax", "argmedian", "median"))
    t.add_argument("--hidden", type=int, required=True, help="hidden size d")
    t.add_argument("--seq-len", type=int, required=True, help="sequence length n")
    t.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4 (default) or 0,2")
    t.add_argument("--sequences", type=_count, default=1 << 24, help="training sequences (default 2^24)")
    t.add_argument("--batch", type=_count, default=1024)
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
    from .rational import q, q_matrix

    m = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    out = {"family": m.family, "task": m.task, "hidden_size": m.hidden_size, "seq_len": m.seq_len,
           "parameters": m.parameters, "sha256": m.sha256, "source_dtype": m.source_dtype, "shapes": m.shapes}
    if m.rnn is not None:
        std, c = standardize(m.rnn)
        out["weights"] = {"W_hi": q_matrix(m.rnn.W_hi), "W_hh": q_matrix(m.rnn.W_hh), "W_oh": q_matrix(m.rnn.W_oh)}
        out["standardized"] = {"W_hi": q_matrix(std.W_hi), "W_hh": q_matrix(std.W_hh),
                               "W_oh": q_matrix(std.W_oh), "scales": [q(v) for v in c]}
    else:
        out["note"] = "transformer (longest cycle) family: recognised; certification is not supported yet"
    if a.json:
        _emit_json(out)
        return 0
    print(f"file        {m.path}")
    print(f"family      {m.family}" + (" (longest cycle; certification not supported yet)" if m.rnn is None else ""))
    print(f"task        {m.task}")
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
    r = sample_error(m.float_arrays(), m.seq_len, m.task, samples=a.samples, seed=a.seed, dtype=a.dtype,
                     batch=a.batch, device=a.device, progress=not (a.quiet or a.json))
    out = r.to_json()
    out["checkpoint"] = m.path
    out["sha256"] = m.sha256
    if a.json:
        _emit_json(out)
        return 0
    print(f"{m.path}: {m.task}, d={m.hidden_size}, n={m.seq_len}  (estimate, {r.samples} {r.dtype} samples, "
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


def cmd_certify(a) -> int:
    from .certification import run_certify_cli

    return run_certify_cli(a)


def cmd_check(a) -> int:
    from .certification import run_check_cli

    return run_check_cli(a)


def cmd_explain(a) -> int:
    from .explain import run_explain_cli

    return run_explain_cli(a)


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
    except Exception as exc:  # a bug, not a verdict: one line, and the traceback on request
        import os

        if os.environ.get("VERIFIER_DEBUG"):
            raise
        sys.stderr.write(f"verifier: internal error (please report): {type(exc).__name__}: {exc}; "
                         "set VERIFIER_DEBUG=1 for the traceback\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
