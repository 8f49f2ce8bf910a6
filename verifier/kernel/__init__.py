"""The trusted kernel: everything an accepted certificate depends on, and nothing else.

It imports nothing from the rest of `verifier` and never torch (tests enforce both); its trust base is
this folder, Python's standard library and python-flint's arb (ball arithmetic, `acb.integral`).

Signature (read top-down, each file one room):
    rules.py        RULES, the closed table: rule name -> statement; Reject (names one rule), Unreadable, Verdict
    read.py         strict JSON, canonical rationals, shapes of objects/lists; checkpoint tensors without torch
    certificate.py  read_certificate(doc) -> Certificate (named parts: sectors, roots, cells, evidence)
    model.py        the exact model: integer forms under a pattern, forward pass, argmax, task targets
    geometry.py     exact integer linear algebra (dot, cross, det, cofactor vectors, unique solves)
    measure.py      Gaussian measures as arb balls: wedges, spherical triangles, orthant probabilities
    claim.py        rules every certificate runs (method, model, task, weights, checkpoint; enclosure, accuracy)
    disc.py         version 1 (seq_len 2): RULES_V1, its ordered rule functions
    cones.py        version 2 (seq_len 3-5): rules_v2(n), its ordered rule functions
    check.py        check(certificate, checkpoint) -> Verdict: read, run the rules in order, stop at the first failure

Each rule function's docstring states it for its version; proofs/FORMAT.md lists exactly the names in
RULES with the argument for why passing them proves the claim.
"""

from .check import check, check_document, rules_for, run_rules
from .certificate import Certificate, read_certificate
from .read import canonical_json, checkpoint_tensors, parse_json
from .rules import RULES, Reject, Unreadable, Verdict

__all__ = ["RULES", "Reject", "Unreadable", "Verdict", "check", "check_document", "rules_for", "run_rules",
           "Certificate", "read_certificate", "parse_json", "canonical_json", "checkpoint_tensors"]
