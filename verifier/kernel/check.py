"""The kernel's driver: read the certificate, run its version's ordered rules, accept or name the first
rule that failed."""

from __future__ import annotations

import os

from .certificate import Certificate, read_certificate
from .claim import Work
from .cones import rules_v2
from .cycle import RULES_V4
from .disc import RULES_V1
from .moments import rules_v3
from .read import parse_json
from .rules import Reject, Unreadable, Verdict


def rules_for(c: Certificate) -> tuple:
    """The ordered rule functions a certificate runs."""
    return {1: lambda: RULES_V1, 2: lambda: rules_v2(c.n), 3: lambda: rules_v3(c.n), 4: lambda: RULES_V4}[c.version]()


def run_rules(c: Certificate, checkpoint: str | None = None, deadline: float | None = None,
              workers: int = 1) -> Work:
    """Apply every rule in order (the first failure raises Reject); return what the rules derived."""
    w = Work(checkpoint=checkpoint, deadline=deadline, workers=workers)
    for fn in rules_for(c):
        fn(c, w)
    return w


def summary(c: Certificate) -> dict:
    if c.version == 4:  # enumeration: regions are the inputs
        return {"method": c.method, "task": c.task, "hidden_size": c.d, "seq_len": c.n, "regions": c.inputs,
                "inputs": c.inputs, "error_lower": _q(c.error[0]), "error_upper": _q(c.error[1]),
                "closed_form": f"{len(c.wrong)}/{c.inputs}" + (f" + up to {len(c.undecided)}/{c.inputs} undecided"
                                                                if c.undecided else ""),
                "wrong": len(c.wrong), "undecided": len(c.undecided)}
    what = "mse" if c.version == 3 else "error"
    out = {"method": c.method, "task": c.task, "hidden_size": c.d, "seq_len": c.n, "regions": c.regions,
           f"{what}_lower": _q(c.error.lower), f"{what}_upper": _q(c.error.upper), "closed_form": c.error.closed_form}
    if c.version >= 2:
        out["cells"] = len(c.cells)
    if c.version == 3:
        out["rmse_lower"], out["rmse_upper"] = _q(c.rmse[0]), _q(c.rmse[1])
    return out


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


def read_text(certificate) -> str:
    """The certificate's text from a path, JSON text or bytes; input that is no text at all is Unreadable."""
    where = "the certificate"
    if isinstance(certificate, (bytes, bytearray)):
        data = bytes(certificate)
    elif isinstance(certificate, str) and certificate.lstrip().startswith("{"):
        return certificate
    else:
        where = os.fspath(certificate)
        try:
            with open(where, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise Unreadable(f"{where}: cannot read: {exc.strerror}") from None
    if not data.strip():
        raise Unreadable(f"{where}: empty, not a certificate")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"{where}: binary data, not a certificate (a certificate is a JSON text file; to "
                         "certify a checkpoint run `python -m verifier CHECKPOINT`)") from None


def check(certificate, checkpoint: str | None = None, after=None, deadline: float | None = None,
          workers: int = 1) -> Verdict:
    """Check a certificate given as a path, JSON text, bytes or a parsed document.  Unreadable input
    (a missing file, an unreadable checkpoint) raises Unreadable; a `deadline` (time.monotonic()) that
    passes raises TimeoutError; every other outcome is a Verdict.  `workers` processes share the orthant
    integrals (seq_len 4, 5); the verdict does not depend on their number."""
    try:
        doc = certificate if isinstance(certificate, dict) else parse_json(read_text(certificate))
        return Verdict(True, None, "accepted", check_document(doc, checkpoint=checkpoint, after=after,
                                                              deadline=deadline, workers=workers))
    except Reject as exc:
        return Verdict(False, exc.rule, exc.message)
