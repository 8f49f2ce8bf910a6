"""seq_len 6 and 7 with cells (issue 11, item 5): a full certificate of a small n = 6 model, re-checked by the
kernel with every cone integrated again (P_6 by the pencil through a 4-face, proofs/FORMAT.md), agrees with
sampling; anytime certificates at n = 6 and 7 (P_7 by the odd-n identity) are accepted and contain the sampled
error; seq_len 8 is still refused with a message."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest

import verifier
from verifier.errors import UnsupportedError
from verifier.kernel import check


def tiny_n6():
    return verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[1], [-1], [2], [0], [1], [-2]], seq_len=6)


def test_full_certificate_at_seq_len_6_agrees_with_sampling():
    from verifier.kernel import orthant as measure
    from verifier.empirical.sample import sample_error

    res = verifier.certify(tiny_n6(), task="2nd_argmax", z3=False, workers=1, samples=0)
    lo, hi = res.error_lower, res.error_upper
    assert res.certificate["model"]["seq_len"] == 6 and res.certificate["method"] == "cones"
    assert 0 < lo <= hi < 1 and hi - lo < Fraction(1, 10 ** 9)
    measure._MEMO.clear()  # the kernel integrates every cone again, as `check` in a fresh process does
    assert check(res.certificate).accepted
    n = 1 << 20
    s = sample_error(res.model.float_arrays(), 6, "2nd_argmax", samples=n, seed=6, dtype="float64")
    p = float(lo)
    assert abs(s.wrong / n - p) <= 5 * math.sqrt(p * (1 - p) / n)


def test_a_wrong_bound_at_seq_len_6_is_rejected():
    import copy

    res = verifier.certify(tiny_n6(), task="2nd_argmax", z3=False, workers=1, samples=0)
    doc = copy.deepcopy(res.certificate)
    lo = Fraction(doc["error"]["lower"])
    doc["error"]["lower"] = str(lo + Fraction(1, 10 ** 6))  # claims more than the measure allows
    doc["error"]["upper"] = str(lo + Fraction(2, 10 ** 6))
    doc["accuracy"] = {"lower": str(1 - lo - Fraction(2, 10 ** 6)), "upper": str(1 - lo - Fraction(1, 10 ** 6))}
    verdict = check(doc)
    assert not verdict.accepted


def test_anytime_at_seq_len_6():
    """Seq_len 6: whole cells under a cell budget (the even identity through the polar cone, conic.even_measure;
    rule edges proves their rays complete), simplicial cones by pulling paths otherwise; both accepted, and a ray
    dropped from a whole cell is refused by rule edges."""
    res = verifier.certify(tiny_n6(), task="2nd_argmax", z3=False, width=Fraction(1, 2), max_cells=1000, workers=1,
                           samples=0)
    assert res.certificate["coverage"] == "partial" and res.error_upper - res.error_lower <= Fraction(1, 2)
    assert check(res.certificate).accepted
    assert all(c.get("whole") for c in res.certificate["cells"])
    assert _a_ray_dropped_is_caught_by_rule_edges(json.loads(json.dumps(res.certificate)), 6)
    cones = verifier.certify(tiny_n6(), task="2nd_argmax", z3=False, width=Fraction(1, 2), workers=1, samples=0)
    assert all("pulled" in c and not c.get("whole") for c in cones.certificate["cells"])
    assert check(cones.certificate).accepted
    lo, hi = max(res.error_lower, cones.error_lower), min(res.error_upper, cones.error_upper)
    assert lo <= hi  # both contain the error


def test_anytime_at_seq_len_7_contains_the_sampled_error():
    from verifier.empirical.sample import sample_error

    rnn = verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[1], [-1], [2], [0], [1], [-2], [1]], seq_len=7)
    res = verifier.certify(rnn, task="2nd_argmax", z3=False, width=Fraction(9, 10), max_cells=1000, workers=1,
                           samples=0)
    assert res.certificate["coverage"] == "partial" and res.certificate["model"]["seq_len"] == 7
    assert "P_7" in res.certificate["error"]["closed_form"]
    assert check(res.certificate).accepted
    cells = res.certificate["cells"]  # whole cells: the Gauss-Bonnet identity on the faces (conic.odd_measure)
    assert cells and all(c.get("whole") and "pulled" not in c and "simplices" not in c for c in cells)
    assert "whole cells" in res.certificate["error"]["closed_form"]
    assert _a_ray_dropped_is_caught_by_rule_edges(json.loads(json.dumps(res.certificate)), 7)
    n = 1 << 18
    s = sample_error(res.model.float_arrays(), 7, "2nd_argmax", samples=n, seed=7, dtype="float64")
    assert float(res.error_lower) - 5 / math.sqrt(n) <= s.wrong / n <= float(res.error_upper) + 5 / math.sqrt(n)


def test_seq_len_8_is_refused_with_a_message():
    rnn = verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[1], [-1], [2], [0], [1], [-2], [1], [3]], seq_len=8)
    with pytest.raises(UnsupportedError, match="seq_len 8.*P_8.*boxes"):
        verifier.certify(rnn, task="2nd_argmax", z3=False, workers=1, samples=0)


def _a_ray_dropped_is_caught_by_rule_edges(base, n):
    """Some whole cell of `base` with one extreme ray left out (its facets' ray lists re-indexed) is refused by
    rule edges: the listed rays are then not closed under the cell's edges.  (Other drops may be caught earlier by
    another rule; one caught by edges is enough to show the rule at work at this seq_len.)"""
    import copy

    for ci, cell in enumerate(base["cells"]):
        if len(cell["rays"]) <= n:
            continue
        for k in range(len(cell["rays"])):
            d = copy.deepcopy(base)
            c = d["cells"][ci]
            del c["rays"][k]
            ok = True
            for e in c["constraints"]:
                if "facet" in e:
                    e["facet"] = [r - (r > k) for r in e["facet"] if r != k]
                    ok = ok and bool(e["facet"])
            if ok:
                verdict = check(d)
                assert not verdict.accepted
                if verdict.rule == "edges":
                    return True
    return False
