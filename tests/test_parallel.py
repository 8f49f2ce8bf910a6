"""Orthant integrals spread over processes: exact per-cone bounds added exactly, so certificates and verdicts
do not depend on the number of workers."""

from __future__ import annotations

from fractions import Fraction

import verifier
from verifier.kernel import check
from verifier.loading.rational import dumps_compact


def tiny_n4():
    return verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0]], seq_len=4)


def test_certificate_is_byte_identical_for_one_and_two_workers():
    a = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, workers=1).certificate
    b = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, workers=2).certificate
    assert dumps_compact(a) == dumps_compact(b)


def test_kernel_bounds_do_not_depend_on_workers():
    from verifier.kernel import read_certificate
    from verifier.kernel.check import rules_for
    from verifier.kernel.claim import Work
    from verifier.kernel.orthant import orthant_bounds

    doc = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, self_check=False).certificate
    c, w = read_certificate(doc), Work()
    for fn in rules_for(c):
        if fn.rule == "closed-form":
            break
        fn(c, w)
    assert len(w.cones) > 10
    one = orthant_bounds(w.cones, c.measured == "right", workers=1)(80)
    two = orthant_bounds(w.cones, c.measured == "right", workers=2)(80)
    assert one == two and one[0] <= one[1] and one[1] - one[0] < Fraction(1, 10 ** 12)
    assert check(doc, workers=1).accepted and check(doc, workers=2).accepted
    assert check(doc, workers=1).summary == check(doc, workers=2).summary


def _certify_in_a_daemon(q):
    try:
        res = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, self_check=False)
        q.put(("ok", str(res.error_lower)))
    except Exception as exc:  # the default worker count must not try to start processes here
        q.put(("error", f"{type(exc).__name__}: {exc}"))


def test_the_default_workers_work_inside_a_daemonic_process():
    """Found by the fuzz campaign: certify's default (all cores for seq_len 4) inside a pool worker (a daemonic
    process, which may not have children) crashed; it now uses one process there."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_certify_in_a_daemon, args=(q,), daemon=True)
    p.start()
    status, detail = q.get(timeout=600)
    p.join()
    assert status == "ok", detail


def _first_implied(cell):
    return next(i for i, e in enumerate(cell["constraints"]) if "implied" in e)


def test_per_cell_rules_spread_over_workers_report_what_one_process_reports(monkeypatch):
    """The per-cell rules on shares of the cells (kernel/check.py, _spread) give the same verdict and the same
    first failure (rule, cell) as one process: a failure of an earlier rule in a later cell wins over a failure
    of a later rule in an earlier cell, and of two failures of one rule the lower cell's is reported."""
    import copy
    import importlib
    import json
    from pathlib import Path

    check_module = importlib.import_module("verifier.kernel.check")  # the module (the package exports check())
    monkeypatch.setattr(check_module, "SPREAD_MIN_CELLS", 0)  # spread even this small certificate
    spread, calls = check_module._spread, []
    monkeypatch.setattr(check_module, "_spread", lambda c, w, *per: calls.append(w.workers) or spread(c, w, *per))
    doc = json.loads((Path(__file__).parent.parent / "proofs" / "2nd_argmax_2_4.cert.json").read_text())
    assert len(doc["cells"]) > 340

    def verdicts(d):
        one, two = check(copy.deepcopy(d), workers=1), check(copy.deepcopy(d), workers=2)
        return (one.accepted, one.rule, one.message), (two.accepted, two.rule, two.message)

    one, two = verdicts(doc)
    assert one == two and one[0]

    earlier_rule_later_cell = copy.deepcopy(doc)
    earlier_rule_later_cell["cells"][10]["rays"][0] = [0, 0, 0]  # rays rule, cell 10
    earlier_rule_later_cell["cells"][340]["wrong"] = not doc["cells"][340]["wrong"]  # wrong rule, cell 340
    one, two = verdicts(earlier_rule_later_cell)
    assert one == two and one[1] == "wrong" and "cell 340" in one[2]

    two_cells_one_rule = copy.deepcopy(doc)
    for ci in (300, 100):
        cell = two_cells_one_rule["cells"][ci]
        cell["constraints"][_first_implied(cell)] = {"implied": []}
    one, two = verdicts(two_cells_one_rule)
    assert one == two and one[1] == "redundant" and "cell 100:" in one[2]
    assert calls == [2, 2, 2]  # the two-worker checks did spread; the one-worker checks did not
