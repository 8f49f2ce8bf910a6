"""The certified disc (seq_len 2): known answers, agreement with the general cone method and sampling."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import pytest

from conftest import ROOT, linear_readout_model, rnn_state, run_cli, save_state
import verifier
from verifier.loading.model import RNN


def arb_value(expr_fn, prec=200):
    import flint

    flint.ctx.prec = prec
    return expr_fn(flint)


def test_hand_built_is_exactly_zero(tmp_path):
    res = verifier.certify(os.path.join(ROOT, "models", "hand_2nd_argmax_2_2.pth"), out=str(tmp_path / "h.json"))
    assert res.error_lower == 0 and res.error_upper == 0
    doc = json.loads((tmp_path / "h.json").read_text())
    assert doc["error"]["lower"] == "0" and doc["error"]["upper"] == "0" and doc["error"]["closed_form"] == "0"


def test_dead_half_plane_is_one_half():
    # both input weights positive: every x_0 < 0 is dead after step 0; the readout then always favours
    # position 0 (as in bad training seeds), so the model errs exactly when the target is 1: probability 1/2
    rnn = RNN.make([[1], [1]], [[-1, 0], [0, -1]], [[1, 1], [-1, -1]], seq_len=2)
    res = verifier.certify(rnn)
    assert res.error_lower <= Fraction(1, 2) <= res.error_upper
    assert res.error_upper - res.error_lower <= Fraction(1, 10 ** 25)


@pytest.mark.parametrize("a,b,expected", [
    (1, -1, "0"),  # exactly the task boundary
    (1, 0, "1/4"),  # normal (1, 0) is pi/4 away from (1, -1)
    (0, -1, "1/4"),
    (2, -1, "atan(1/3)/pi"),  # angle between (1, -1) and (2, -1) is atan(1/3)
    (1, -3, "atan(1/2)/pi"),  # cross((1,-1),(1,-3)) = -2, dot = 4
    (-1, 1, "1"),  # the opposite of the right answer everywhere
])
def test_decision_ray_at_rational_slope(a, b, expected):
    """Logits (-(a x0 + b x1), a x0 + b x1): wrong exactly between the ray a x0 + b x1 = 0 and the diagonal."""
    res = verifier.certify(linear_readout_model(a, b))
    import flint

    flint.ctx.prec = 300
    value = {"0": flint.arb(0), "1/4": flint.arb(1) / 4, "1": flint.arb(1),
             "atan(1/3)/pi": (flint.arb(1) / 3).atan() / flint.arb.pi(),
             "atan(1/2)/pi": (flint.arb(1) / 2).atan() / flint.arb.pi()}[expected]
    from verifier.cells.measure import arb_to_bounds

    lo, hi = arb_to_bounds(value)
    assert res.error_lower <= lo and hi <= res.error_upper, (res.error_lower, res.error_upper, lo, hi)
    assert res.error_upper - res.error_lower <= Fraction(1, 10 ** 25)


def test_disc_agrees_with_cone_method():
    """Two independent constructions give the same exact error: the disc's sectors (certificate version 1)
    and the general chamber traversal (cones.traverse, which seq_len 3-5 certificates use) run on n = 2,
    its wrong cells' angles summed here with arb."""
    import flint

    from verifier.cells.cones import traverse
    from verifier.cells.measure import arb_to_bounds

    for name in ("2nd_argmax_2_2.pth", "2nd_argmax_8_2.pth", "2nd_argmax_32_2.pth"):
        lm = verifier.load(os.path.join(ROOT, "models", name))
        disc = verifier.certify(lm, z3=False)
        _, cells = traverse(lm.rnn, lm.task)
        with flint.ctx.workprec(200):
            total = flint.arb(0)
            for c in cells:
                if c.wrong:
                    assert len(c.rays) == 2, "a plane cell is a sector between two rays"
                    (a0, a1), (b0, b1) = c.rays
                    total += abs(flint.arb.atan2(flint.arb(a0 * b1 - a1 * b0), flint.arb(a0 * b0 + a1 * b1)))
            lo, hi = arb_to_bounds(total / (2 * flint.arb.pi()))
        assert disc.error_lower - Fraction(1, 10 ** 28) <= lo and hi <= disc.error_upper + Fraction(1, 10 ** 28), name


def test_certificate_is_byte_identical(tmp_path):
    p = os.path.join(ROOT, "models", "2nd_argmax_4_2.pth")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        code, _, err = run_cli(p, "--out", out, "--samples", "0")
        assert code == 0, err
    assert a.read_bytes() == b.read_bytes()


def test_certify_json_report(tmp_path):
    code, out, err = run_cli("models/2nd_argmax_2_2.pth", "--out", tmp_path / "c.json", "--samples", "2^16",
                             "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc["error"]) >= {"lower", "upper", "closed_form"}
    assert doc["certificate"] == str(tmp_path / "c.json") and isinstance(doc["regions"], int)
    assert "sampled" in doc and doc["sampled"]["estimate"] is True
    lo, hi = Fraction(doc["error"]["lower"]), Fraction(doc["error"]["upper"])
    assert 0 < lo <= hi < Fraction(1, 1000)


def test_certify_text_report(tmp_path):
    code, out, err = run_cli("models/2nd_argmax_2_2.pth", "--out", tmp_path / "c.json", "--samples", "2^14")
    assert code == 0, err
    assert "1 in" in out and "enclosure" in out and "sampled" in out and "regions" not in err


def test_seq_len_above_what_is_supported(tmp_path):
    # seq_len 8: no orthant rule (6 and 7 have cells since 2026-11-29)
    p = save_state(tmp_path / "m8.pth", rnn_state([[1.0]], [[0.5]], [[1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0],
                                                                     [8.0]]))
    code, out, err = run_cli(p, "--samples", "0", "--out", tmp_path / "m8.cert.json")
    assert code == 2 and "not implemented yet" in err and "Traceback" not in err
    assert not (tmp_path / "m8.cert.json").exists()


def test_library_api_as_an_outside_tool(tmp_path):
    """Use the public API only: certify a path, read the result, check the document and the file."""
    out = tmp_path / "api.cert.json"
    res = verifier.certify(os.path.join(ROOT, "models", "2nd_argmax_3_2.pth"), out=str(out))
    assert res.certificate_path == str(out) and out.exists()
    assert res.error_lower <= res.error_upper and res.accuracy == (1 - res.error_upper, 1 - res.error_lower)
    assert res.regions == len(res.certificate["sectors"])
    v = verifier.check(str(out), checkpoint=os.path.join(ROOT, "models", "2nd_argmax_3_2.pth"))
    assert v.accepted and v.rule is None
    bad = json.loads(out.read_text())
    bad["sectors"][0]["prediction"] = 1 - bad["sectors"][0]["prediction"]
    v = verifier.check(bad)
    assert not v.accepted and v.rule in ("prediction", "wrong")


def test_explain_draws_the_disc(tmp_path):
    stem = tmp_path / "disc"
    code, out, err = run_cli("explain", "models/2nd_argmax_2_2.pth", "--out", stem)
    assert code == 0, err
    assert (tmp_path / "disc.png").stat().st_size > 1000 and (tmp_path / "disc.svg").stat().st_size > 1000
    assert "wrong" in out and "Δ" in out


def test_z3_refutes_a_false_claim():
    """Z3 is a real check: a sector whose prediction or pattern is misstated is refuted (sat)."""
    import dataclasses

    from verifier.cells.disc import sectors
    from verifier.errors import InternalError
    from verifier.cells.smt import confirm_sectors

    rnn = linear_readout_model(2, -1)
    secs = sectors(rnn, "2nd_argmax")
    confirm_sectors(rnn, "2nd_argmax", secs)
    bad = list(secs)
    bad[0] = dataclasses.replace(bad[0], prediction=1 - bad[0].prediction)
    with pytest.raises(InternalError, match="Z3 found"):
        confirm_sectors(rnn, "2nd_argmax", bad)
    bad = list(secs)
    flipped = tuple(tuple(1 - b for b in row) for row in bad[1].pattern)
    bad[1] = dataclasses.replace(bad[1], pattern=flipped)
    with pytest.raises(InternalError, match="Z3 found"):
        confirm_sectors(rnn, "2nd_argmax", bad)
    # a gap in the cover is found too
    with pytest.raises(InternalError, match="cover"):
        confirm_sectors(rnn, "2nd_argmax", secs[1:])
