"""The trusted kernel: everything an accepted certificate depends on, and nothing else.

It imports nothing from the rest of `verifier` and never torch (tests enforce both); its trust base is
this folder, Python's standard library and python-flint's arb (ball arithmetic, `acb.integral`).

Versions (a certificate's `version` picks its row of `check.VERSIONS`: its reader, its ordered rules and its
summary, all in that version's module; the generator writes each through one kind of `verifier.kinds`):
    1  disc          seq_len 2, position tasks: sectors of the plane, wedges, one atan2 per decision ray
    2  cones         seq_len 3-7, position tasks: cells with polygon (n = 3) or facet (n >= 4) evidence and the
                     measure of one side; coverage "partial" (anytime): listed cones named by their pulling paths
    3  moments       median models, seq_len 2 and 3: the cells and the exact MSE from their second moments
    4  enumeration   longest-cycle transformers: every input's prediction re-derived in ball arithmetic
    5  boxes         position tasks, any seq_len: a tree of boxes, each decided leaf re-derived exactly

Rooms (read top-down, each file one room):
    rules.py        RULES, the closed table: rule name -> statement; Reject (names one rule), Unreadable, Verdict
    read.py         strict JSON, canonical rationals, shapes, input limits (regular files, sizes, gzip/xz
                    certificates, zip members); checkpoint tensors without torch
    certificate.py  the RNN certificates' named parts (sectors, roots, cells, evidence) and their reader; the
                    shared readers of the header and of capped lists
    model.py        the exact model: integer forms under a pattern, forward pass, argmax, task targets
    geometry.py     exact integer linear algebra (dot, cross, det, cofactor vectors, unique solves)
    measure.py      Gaussian measures as arb balls: wedges, spherical triangles; the closed-form sentences
    orthant.py      orthant probabilities P_4 .. P_7 of simplicial cones (pencil formulas, one rigorous integral
                    each), per-cone bounds and their sum over an ordered map of workers
    work.py         one ordered map for spreading work (LocalPool, mapper: local processes or the caller's Ray
                    map, results in order) and the kernel's deadline (check_deadline: TimeoutError)
    claim.py        rules every certificate runs (method, model, task, weights, checkpoint; enclosure, accuracy)
    disc.py         version 1: RULES_V1
    cones.py        version 2: rules_v2(n, coverage)
    moments.py      version 3: rules_v3(n)
    cycle.py        version 4: RULES_V4
    boxes.py        version 5: RULES_V5
    check.py        VERSIONS (version -> reader, rules, summary); read_certificate(doc); check(certificate,
                    checkpoint) -> Verdict: read, run the rules in order, stop at the first failure

Public surface: the names below (`__all__`), and in the rooms every name without a leading underscore; the rest
of `verifier` imports nothing private from the kernel (tests/test_structure.py).  Each rule function's docstring
states it for its version; proofs/FORMAT.md lists exactly the names in RULES with the argument for why passing
them proves the claim.
"""

from .certificate import Certificate
from .check import VERSIONS, check, check_document, read_certificate, rules_for, run_rules
from .read import canonical_json, checkpoint_tensors, parse_json
from .rules import RULES, Reject, Unreadable, Verdict

__all__ = ["RULES", "VERSIONS", "Reject", "Unreadable", "Verdict", "check", "check_document", "rules_for",
           "run_rules",
           "Certificate", "read_certificate", "parse_json", "canonical_json", "checkpoint_tensors"]
