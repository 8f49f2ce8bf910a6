"""The kernel's driver: read the certificate, run its version's ordered rules, accept or name the first
rule that failed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from . import boxes as v5
from . import cycle as v4
from .certificate import Certificate, read_rnn, version_of
from .claim import Work
from .cones import edges, facet, pattern, prediction, rays, redundant, rules_v2, witness, wrong
from .disc import RULES_V1
from .model import Forms
from .moments import rules_v3
from .read import MAX_CERT_BYTES, certificate_bytes, decompressed, parse_json
from .rules import Reject, Unreadable, Verdict
from .work import local_count, mapper


@dataclass(frozen=True)
class Version:
    """One version of the certificate format: how it is read into named parts, its ordered rules, and the
    summary a verdict carries.  Its module holds all three (and its `method` rule states the method it uses)."""

    read: Callable
    rules: Callable
    summary: Callable


def rnn_summary(c: Certificate) -> dict:
    """The summary of versions 1, 2, 3 (an RNN's regions: sectors or cells)."""
    what = "mse" if c.version == 3 else "error"
    out = {"method": c.method, "task": c.task, "hidden_size": c.d, "seq_len": c.n, "regions": c.regions,
           f"{what}_lower": _q(c.error.lower), f"{what}_upper": _q(c.error.upper), "closed_form": c.error.closed_form}
    if c.version >= 2:
        out["cells"] = len(c.cells)
    if c.version == 3:
        out["rmse_lower"], out["rmse_upper"] = _q(c.rmse[0]), _q(c.rmse[1])
    return out


# The certificate versions this kernel checks (a certificate's `version` picks the row; the generator's kinds
# table, verifier/kinds, has one kind per row: tests/test_structure.py).
VERSIONS = {1: Version(read_rnn, lambda c: RULES_V1, rnn_summary),
            2: Version(read_rnn, lambda c: rules_v2(c.n, c.coverage), rnn_summary),
            3: Version(read_rnn, lambda c: rules_v3(c.n, c.coverage), rnn_summary),
            4: Version(v4.read, lambda c: v4.RULES_V4, v4.summary),
            5: Version(v5.read, lambda c: v5.RULES_V5, v5.summary)}


def read_certificate(doc):
    """The parsed certificate as named parts (its version's reader); raises Reject (json, rational, schema,
    format, version) on a malformed one."""
    return VERSIONS[version_of(doc, tuple(VERSIONS))].read(doc)


def rules_for(c: Certificate) -> tuple:
    """The ordered rule functions a certificate runs."""
    return VERSIONS[c.version].rules(c)


# The per-cell rules of a version-2 certificate with facets evidence: each reads and writes only cell ci's data
# (its constraints, rays, facet points), so they may run on shares of the cells in several processes.
PER_CELL = (pattern, prediction, wrong, rays, witness, facet, redundant, edges)
PER_CELL_V3 = (pattern, rays, witness, facet, redundant, edges)  # version 3 with facets evidence: no decisions
SPREAD_MIN_CELLS = 2000  # below this, starting processes costs more than it saves


def run_rules(c: Certificate, checkpoint: str | None = None, deadline: float | None = None,
              workers: int = 1) -> Work:
    """Apply every rule in order (the first failure raises Reject); return what the rules derived.  With several
    workers, the per-cell rules of a large facets certificate run on contiguous shares of the cells (_spread):
    same facts, same verdict, same first failure as one process."""
    w = Work(checkpoint=checkpoint, deadline=deadline, workers=workers)
    order = rules_for(c)
    for per in (PER_CELL, PER_CELL_V3):  # only versions 2 and 3 (cells with facets evidence) have per-cell rules
        k = len(per)
        at = next((i for i in range(len(order) - k + 1) if order[i:i + k] == per), None)
        if at is not None:
            if (hasattr(workers, "map") or workers > 1) and len(c.cells) >= SPREAD_MIN_CELLS:
                order = order[:at] + (lambda c_, w_, per=per: _spread(c_, w_, per),) + order[at + k:]
            break
    for fn in order:
        fn(c, w)
    return w


def _share(args):
    """A worker: the per-cell rules, in order, on cells lo..hi-1; (lo, their constraints, their shapes, the first
    failure as (position in the rules, the Reject) or None)."""
    c, w, lo, hi, per = args
    w.span = (lo, hi)
    for pos, fn in enumerate(per):
        try:
            fn(c, w)
        except Reject as exc:
            return lo, [], [], (pos, exc)
    return lo, w.cons[lo:hi], w.shapes[lo:hi], None


def _spread(c: Certificate, w: Work, per: tuple = PER_CELL):
    """The per-cell rules `per` (PER_CELL, or PER_CELL_V3) on contiguous shares of the cells, in worker processes
    (or the caller's ordered map).  Each share runs the rules in order and stops at its first failure, which is
    then the failure with the lowest (rule, cell) in that share; the lowest over the shares, in (rule, share)
    order, is the one a single process running each rule over all cells in turn would report, so it is raised."""
    import contextlib
    import dataclasses

    n_cells = len(c.cells)
    parts = 4 * local_count(w.workers)
    bounds = [n_cells * i // parts for i in range(parts + 1)]
    tasks = []
    for lo, hi in zip(bounds, bounds[1:]):
        if lo < hi:
            cells = [None] * lo + list(c.cells[lo:hi]) + [None] * (n_cells - hi)
            share = Work(m=w.m, forms=Forms(w.m), roots=w.roots)
            tasks.append((dataclasses.replace(c, cells=cells), share, lo, hi, per))
    with contextlib.ExitStack() as stack:
        results = mapper(w.workers, stack).map(_share, tasks)
        w.cons, w.shapes = [None] * n_cells, [None] * n_cells
        first = None
        for lo, cons, shapes, failure in results:
            if failure is not None and (first is None or failure[0] < first[0]):
                first = failure
            w.cons[lo:lo + len(cons)] = cons
            w.shapes[lo:lo + len(shapes)] = shapes
    if first is not None:
        raise first[1]


def summary(c: Certificate) -> dict:
    """What a verdict reports of an accepted certificate (its version's summary)."""
    return VERSIONS[c.version].summary(c)


def _q(x) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def check_document(doc, checkpoint: str | None = None, after=None, deadline: float | None = None,
                   workers: int = 1) -> dict:
    """Apply every rule to a parsed certificate; raise Reject on the first failure; return a summary.
    `after(certificate, work)`, if given, runs once every rule has passed (the CLI's --z3 second opinion,
    which lives outside the kernel)."""
    c = read_certificate(doc)
    w = run_rules(c, checkpoint, deadline, workers)
    if after is not None:
        after(c, w)
    return summary(c)


def read_text(certificate, max_bytes: int = MAX_CERT_BYTES) -> str:
    """The certificate's text from a path, JSON text or bytes (plain, gzip or xz: read.decompressed); input that
    is no text at all, a path that is not a regular file (a symbolic link to one is followed) or more than
    max_bytes of text is Unreadable."""
    where = "the certificate"
    if isinstance(certificate, (bytes, bytearray)):
        if len(certificate) > max_bytes:
            raise Unreadable(f"{where}: {len(certificate)} bytes, more than the limit for a certificate "
                             f"({max_bytes} bytes)")
        data = decompressed(bytes(certificate), where, max_bytes)
    elif isinstance(certificate, str) and certificate.lstrip().startswith("{"):
        if len(certificate) > max_bytes:
            raise Unreadable(f"{where}: more than the limit for a certificate ({max_bytes} characters)")
        return certificate
    else:
        where = os.fspath(certificate)
        data = certificate_bytes(where, max_bytes)
    if len(data) > max_bytes:
        raise Unreadable(f"{where}: {len(data)} bytes, more than the limit for a certificate ({max_bytes} bytes)")
    if not data.strip():
        raise Unreadable(f"{where}: empty, not a certificate")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"{where}: binary data, not a certificate (not UTF-8 text: byte 0x{data[exc.start]:02x} at "
                         f"offset {exc.start}; a certificate is a JSON text file; to certify a checkpoint run "
                         "`python -m verifier CHECKPOINT`)") from None


def check(certificate, checkpoint: str | None = None, after=None, deadline: float | None = None,
          workers: int = 1, max_bytes: int = MAX_CERT_BYTES) -> Verdict:
    """Check a certificate given as a path, JSON text, bytes or a parsed document.  Unreadable input
    (a missing file, an unreadable checkpoint) raises Unreadable; a `deadline` (time.monotonic()) that
    passes raises TimeoutError; every other outcome is a Verdict.  `workers` processes share the orthant
    integrals (seq_len 4, 5); the verdict does not depend on their number.  A certificate of more than
    `max_bytes` bytes is Unreadable before it is read (read.py, "Limits")."""
    try:
        doc = certificate if isinstance(certificate, dict) else parse_json(read_text(certificate, max_bytes))
        return Verdict(True, None, "accepted", check_document(doc, checkpoint=checkpoint, after=after,
                                                              deadline=deadline, workers=workers))
    except Reject as exc:
        return Verdict(False, exc.rule, exc.message)
