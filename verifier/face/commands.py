"""The smaller commands: `inspect`, `sample`, `train`, `export`, `crosscheck`."""

from __future__ import annotations

import os
import sys
import time

from ..errors import EXIT_LIMIT, EXIT_REJECTED, InputError, UnsupportedError
from ..kinds.base import task_words
from .common import emit_json, task_warnings


def cmd_inspect(a) -> int:
    from ..loading.loader import load
    from ..loading.model import standardize
    from ..loading.rational import q, q_matrix, weights_doc

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
        emit_json(out)
        return 0
    print(f"file        {m.path}")
    print(f"family      {m.family}" + (" (longest cycle; one head per layer assumed)" if m.rnn is None else ""))
    print(f"task        {task_words(m) if m.rnn is not None else m.task}")
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
    from ..loading.loader import load
    from ..empirical.sample import sample_error

    m = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    if m.rnn is None:
        raise InputError(f"{a.checkpoint}: sampling the {m.family} family is not supported yet")
    warnings = task_warnings(m)
    r = sample_error(m.float_arrays(), m.seq_len, m.task, samples=a.samples, seed=a.seed, dtype=a.dtype,
                     batch=a.batch, device=a.device, progress=not (a.quiet or a.json))
    out = r.to_json()
    out["checkpoint"] = m.path
    out["sha256"] = m.sha256
    out["task_assumed"] = not m.task_given
    out["warnings"] = warnings
    if a.json:
        emit_json(out)
        return 0
    for w in warnings:
        sys.stderr.write(f"verifier: warning: {w}\n")
    print(f"{m.path}: {task_words(m)}, d={m.hidden_size}, n={m.seq_len}  (estimate, {r.samples} {r.dtype} samples, "
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


def cmd_export(a) -> int:
    from ..loading.loader import load

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
    from ..loading.rational import write_atomic

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
        emit_json({"certificate": a.certificate, "solver": a.solver, "cells_total": rep.cells_total,
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
