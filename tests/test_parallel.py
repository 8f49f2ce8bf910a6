"""Orthant integrals spread over processes: exact per-cone bounds added exactly, so certificates and verdicts
do not depend on the number of workers."""

from __future__ import annotations

from fractions import Fraction

import verifier
from verifier.kernel import check
from verifier.rational import dumps_compact


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
    from verifier.kernel.measure import orthant_bounds

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
