"""`certify`: the pipeline, then the kind's own lines (kinds/), the task warnings and the exit code."""

from __future__ import annotations

import os
import sys

from ..errors import InputError
from ..kinds import of_version
from .common import emit_json, task_warnings, workers_of


def cmd_certify(a) -> int:
    from ..pipeline import certify, default_certificate_path

    out = a.out or default_certificate_path(a.checkpoint)
    if os.path.isdir(out):
        raise InputError(f"--out {out}: is a directory")
    if os.path.islink(out):  # write_atomic refuses it too; say so before the work, not after
        raise InputError(f"--out {out}: is a symbolic link; refusing to write through or replace it (give a plain path)")
    res = certify(a.checkpoint, task=a.task, seq_len=a.seq_len, z3=a.z3, digits=a.digits, samples=a.samples,
                  seed=a.seed, out=out, progress=not (a.quiet or a.json), max_regions=a.max_regions,
                  timeout=a.timeout, workers=workers_of(a), width=a.width, method=a.method, max_boxes=a.max_boxes,
                  resume=a.resume, checkpoint_every=a.checkpoint_every, compress_large=not a.out,
                  max_cones=a.max_cones, max_cells=a.max_cells)
    kind = of_version(res.certificate["version"])  # the kind that made it: its lines, report and exit code
    warnings = task_warnings(res.model) + size_warnings(res)
    if a.json:
        report = kind.report(res)
        report["warnings"] = warnings
        emit_json(report)
        return kind.exit_code(res)
    for line in kind.lines(res, a.closed_form):
        print(line)
    for w in warnings:
        sys.stderr.write(f"verifier: warning: {w}\n")
    for note in kind.notes(res):
        sys.stderr.write(f"verifier: {note}\n")
    return kind.exit_code(res)


def size_warnings(res) -> list[str]:
    """A certificate whose text is over `check`'s default size limit: say how to check it."""
    from ..kernel.read import MAX_CERT_BYTES

    size = res.details.get("text_bytes", 0)
    if size <= MAX_CERT_BYTES:
        return []
    mb = -(-size // (1 << 20))
    return [f"the certificate's text is {mb} MiB, over the {MAX_CERT_BYTES >> 20} MiB that `check` reads by default "
            f"(a guard against decompression bombs): check it with `check --max-certificate-mb {mb}`"]
