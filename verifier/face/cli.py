"""Command line: a thin layer over the library.

    python -m verifier CKPT                  certify (the default command)
    python -m verifier check CERT|DIR ...    re-check certificates with the kernel
    python -m verifier inspect CKPT          the model as exact rationals, and standardised
    python -m verifier sample CKPT           sampled error (the empirical baseline)
    python -m verifier explain CKPT          error atlas by (true, predicted); the disc (n = 2) or sphere (n = 3) drawn
    python -m verifier train ...             train AlgZoo models with the published recipe
    python -m verifier export CKPT ...       the model as ONNX, a certificate's cells as VNN-LIB properties
    python -m verifier crosscheck CERT ...   other solvers (cvc5, Marabou) re-check a certificate's cell claims

Each command lives in face/ (certify.py, check.py, explain.py, commands.py); certify prints with the lines of
the certificate's kind (kinds/).  Exit codes: 0 success / accepted; 1 rejected (a certificate fails a rule, or
a model has no certificate); 2 usage or input error; 3 a limit (--max-regions, --timeout) stopped the work, or an
interval's width was not reached; 4 internal error (a bug: please report); 130 interrupted; 143 terminated.  Diagnostics go to stderr as
one line; results to stdout (`--json`: exactly one JSON object).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from fractions import Fraction

from ..errors import (EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED,
                     InputError, Terminated, VerifierError)
from ..loading.tasks import TASKS
from .common import cut, one_line

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

    def model_args(sp, tasks=TASKS + ("longest_cycle",)):
        sp.add_argument("checkpoint", help="AlgZoo checkpoint (.pth), .safetensors, or verifier-weights .json")
        sp.add_argument("--task", choices=tasks,
                        help="task (each fits one family: 2nd_argmax, argmax, argmedian one logit per position, "
                        "median one output, longest_cycle the transformers); AlgZoo RNN checkpoints do not store it "
                        "(default: 2nd_argmax for position models, median for single-output models; a warning names "
                        "a better-fitting task)")
        sp.add_argument("--seq-len", type=int, help="sequence length (required for single-output models)")
        sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    c = sub.add_parser("certify", help="exact error + certificate + sampled error beside it")
    model_args(c)
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
                   "the exit code is 3 if the width was not reached; with --method boxes: any seq_len; a median "
                   "model at seq_len 5: an MSE interval (cells measured plus a proven tail)")
    c.add_argument("--method", choices=("auto", "cells", "boxes"), default="auto",
                   help="auto/cells: exact cells (seq_len 2-7); boxes: an anytime certified interval for any seq_len "
                   "from a tree of boxes (certificate version 5), stopped by --width, --timeout (the search gets half of "
                   "it, the kernel's re-check the rest) or --max-boxes; the interval is written when a stop comes "
                   "first, with exit code 3 if --width was not reached")
    c.add_argument("--max-cones", type=_positive, default=None,
                   help="with --width (cells): measure at most this many simplicial cones; unlike --timeout, a budget "
                   "that gives the same certificate on any machine (the interval reached is written; exit 3 if the "
                   "width was not reached)")
    c.add_argument("--max-cells", type=_positive, default=None,
                   help="with --width (cells) at seq_len 5 (and 6, 7): the anytime certificate (or a median model's "
                   "MSE interval) measures whole cells (conic Gauss-Bonnet) instead of cones, at most this many; at "
                   "seq_len 6 and 7 without it the largest simplicial cones come first (--max-cones)")
    c.add_argument("--max-boxes", type=_positive, default=None,
                   help="--method boxes: stop after this many boxes (default with --width alone: 2^24); a median "
                   "MSE interval (--width at seq_len 5): the most boxes of directions its tail's proof may use "
                   "(default 1,500,000)")
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


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "certify")
    parser = _build_parser()
    if not argv:
        parser.print_help()
        return EXIT_INPUT
    a = parser.parse_args(argv)
    from .certify import cmd_certify
    from .check import cmd_check
    from .commands import cmd_crosscheck, cmd_export, cmd_inspect, cmd_sample, cmd_train
    from .explain import cmd_explain

    handlers = {"certify": cmd_certify, "check": cmd_check, "inspect": cmd_inspect, "sample": cmd_sample,
                "explain": cmd_explain, "train": cmd_train, "export": cmd_export, "crosscheck": cmd_crosscheck}
    from ..kernel.rules import Unreadable

    previous = _on_sigterm()
    try:
        return handlers[a.command](a)
    except VerifierError as exc:
        sys.stderr.write(f"verifier: error: {one_line(str(exc))}\n")
        return exc.exit_code
    except Unreadable as exc:  # the kernel could not read a file (a limit, a file of another kind): exit 2
        sys.stderr.write(f"verifier: error: {one_line(str(exc))}\n")
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
            sys.stderr.write(f"verifier: error: {one_line(str(cause))}\n")
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
    sys.stderr.write(f"verifier: internal error (please report): {type(exc).__name__}: {cut(str(exc), 300)}; "
                     "set VERIFIER_DEBUG=1 for the traceback\n")
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
