"""The boxes method (certificate version 5): its interval contains the exact error that the cell certificates
prove by a different argument (cover + closed form), for every position task; a decided box really is decided
(exact forward passes at random points inside it, independently of the propagation); its masses agree with
an independent float product; the certificate is the same for 1 and 2 workers; the kernel re-checks it; the
CLI's stops and refusals."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from fractions import Fraction

import pytest
from conftest import TickClock, load_proof

import verifier
from verifier.intervals.boxes import DENOMINATOR, _leaves
from verifier.kernel import check
from verifier.kernel.model import Model, argmax_first, forward, target
from verifier.loading.rational import dumps_compact

ROOT = os.path.join(os.path.dirname(__file__), "..")


def model(name):
    return os.path.join(ROOT, "models", f"{name}.pth")


def exact_error(name):
    e = load_proof(f"{name}.cert.json")["error"]
    return Fraction(e["lower"]), Fraction(e["upper"])


@pytest.mark.parametrize("name,boxes", [("2nd_argmax_2_2", 4000), ("2nd_argmax_2_3", 20000),
                                        ("2nd_argmax_3_3", 20000), ("argmedian_2_3", 20000),
                                        ("2nd_argmax_2_4", 80000)])
def test_the_box_interval_contains_the_exact_error(name, boxes):
    res = verifier.certify(model(name), method="boxes", max_boxes=boxes, workers=1, samples=0)
    lo, hi = exact_error(name)
    assert res.error_lower <= lo and hi <= res.error_upper, (res.error_lower, res.error_upper, lo, hi)
    # and it is an answer, not the trivial [0, 1]: both kinds of box were proved
    assert res.details["right"] > 0 and (res.details["wrong"] > 0 or hi < Fraction(1, 100))
    assert res.error_upper - res.error_lower < Fraction(1, 2)
    assert check(res.certificate).accepted


def test_more_boxes_narrow_the_interval():
    small = verifier.certify(model("2nd_argmax_2_3"), method="boxes", max_boxes=5000, workers=1, samples=0)
    large = verifier.certify(model("2nd_argmax_2_3"), method="boxes", max_boxes=60000, workers=1, samples=0)
    assert large.error_upper - large.error_lower < (small.error_upper - small.error_lower) / 2


@pytest.fixture(scope="module")
def cert33():
    return verifier.certify(model("2nd_argmax_3_3"), method="boxes", max_boxes=20000, workers=1, samples=0).certificate


def test_decided_boxes_are_decided_at_random_points_inside(cert33):
    """The forward pass and the target at random grid points of R/W leaves agree with the leaf's flag: an
    independent test of the propagation's soundness (the kernel proves it for every point)."""
    mo = cert33["model"]
    m = Model.of(*[[[Fraction(v) for v in r] for r in mo[k]] for k in ("W_hi", "W_hh", "W_oh")], mo["seq_len"])
    leaves = [leaf for leaf in _leaves(cert33["tree"].split(" "), mo["seq_len"]) if leaf[2] != "U"]
    rng = random.Random(0)
    seen = {"R": 0, "W": 0}
    for lo, hi, flag in rng.sample(leaves, 400):
        for _ in range(3):
            x = [rng.randint(a, b) for a, b in zip(lo, hi)]
            if len(set(x)) < len(x):
                continue  # a tie: a null set the claim leaves out
            _, logits = forward(m, x)
            wrong = argmax_first(logits) != target("2nd_argmax", x)
            assert wrong == (flag == "W")
            seen[flag] += 1
    assert seen["R"] > 100 and seen["W"] > 10


def test_box_masses_agree_with_an_independent_float_product(cert33):
    from scipy.special import ndtr

    from verifier.kernel.boxes import box_masses
    from verifier.kernel.measure import bounds

    leaves = _leaves(cert33["tree"].split(" "), 3)
    wb, rb = box_masses(DENOMINATOR, leaves, 128)
    for flag, ball in (("W", wb), ("R", rb)):
        fl = sum(math.prod(float(ndtr(b / DENOMINATOR) - ndtr(a / DENOMINATOR)) for a, b in zip(lo, hi))
                 for lo, hi, f in leaves if f == flag)
        lo_, hi_ = bounds(ball)
        assert abs(float(lo_) - fl) < 1e-9 and float(hi_ - lo_) < 1e-20


def test_the_certificate_is_the_same_for_one_and_two_workers(tmp_path):
    a = verifier.certify(model("2nd_argmax_3_3"), method="boxes", max_boxes=30000, workers=1, samples=0)
    b = verifier.certify(model("2nd_argmax_3_3"), method="boxes", max_boxes=30000, workers=2, samples=0)
    assert dumps_compact(a.certificate) == dumps_compact(b.certificate)


def test_seq_len_six_gets_an_interval():
    """Boxes give a certified interval at any seq_len (here 6; d = 1, hand weights)."""
    rnn = verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[1], [-1], [2], [0], [1], [-2]], seq_len=6)
    res = verifier.certify(rnn, task="2nd_argmax", method="boxes", max_boxes=20000, workers=1, samples=0)
    assert 0 <= res.error_lower < res.error_upper <= 1 and res.details["right"] + res.details["wrong"] > 0
    assert check(res.certificate).accepted


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "verifier", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": os.path.abspath(ROOT)})


def test_cli_needs_a_stop_and_refuses_median_models(tmp_path):
    out = tmp_path / "x.cert.json"
    r = _cli(model("2nd_argmax_2_3"), "--method", "boxes", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2 and "needs a stop" in r.stderr and not out.exists()
    r = _cli(model("median_2_2"), "--seq-len", "2", "--method", "boxes", "--max-boxes", "100", "--out", str(out),
             cwd=tmp_path)
    assert r.returncode == 2 and "median" in r.stderr and not out.exists()


def test_cli_writes_the_interval_reached_and_exits_3_when_the_width_was_not(tmp_path):
    out = tmp_path / "m.cert.json"
    r = _cli(model("2nd_argmax_2_3"), "--method", "boxes", "--width", "1e-6", "--max-boxes", "3000", "--samples",
             "1000", "--quiet", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "was not reached" in r.stderr and out.exists()
    r = _cli("check", str(out), "--checkpoint", model("2nd_argmax_2_3"), cwd=tmp_path)
    assert r.returncode == 0 and "ACCEPTED" in r.stdout
    r = _cli(model("2nd_argmax_2_3"), "--method", "boxes", "--width", "0.5", "--samples", "1000", "--quiet",
             "--json", "--out", str(out), cwd=tmp_path)
    rep = json.loads(r.stdout)
    assert r.returncode == 0 and rep["boxes"]["width_reached"]
    assert Fraction(rep["error"]["upper"]) - Fraction(rep["error"]["lower"]) <= Fraction(1, 2)


@pytest.mark.parametrize("token", ["²:5", "0:٣", "0:-0", "0:01", "00:5", "0:5:6", "9:1", "0:99999999999", "X"])
def test_a_malformed_cut_is_rejected_by_box_tree_not_a_crash(token):
    with open(os.path.join(ROOT, "tests", "data", "must_fail", "box-tree__counts_off.cert.json")) as fh:
        d = json.load(fh)
    d["counts"]["right"] -= 1  # the corpus file's one mutation, undone
    assert check(json.loads(json.dumps(d))).accepted
    tokens = d["tree"].split(" ")
    tokens[0] = token
    d["tree"] = " ".join(tokens)
    v = check(d)
    assert not v.accepted and v.rule == "box-tree"


def test_a_boxes_certificate_is_a_checkpoint_to_resume_from(tmp_path):
    first = tmp_path / "first.cert.json"
    a = verifier.certify(model("2nd_argmax_2_3"), method="boxes", max_boxes=4000, workers=1, samples=0,
                         out=str(first))
    b = verifier.certify(model("2nd_argmax_2_3"), method="boxes", max_boxes=16000, workers=1, samples=0,
                         resume=str(first))
    lo, hi = exact_error("2nd_argmax_2_3")
    # every decided box of the first run is kept, so the interval only narrows; it still holds the exact error
    assert a.error_lower <= b.error_lower <= lo and hi <= b.error_upper <= a.error_upper
    assert b.error_upper - b.error_lower < a.error_upper - a.error_lower
    assert check(b.certificate).accepted
    with pytest.raises(verifier.InputError, match="other weights"):
        verifier.certify(model("2nd_argmax_3_3"), method="boxes", max_boxes=100, workers=1, samples=0,
                         resume=str(first))
    with pytest.raises(verifier.InputError, match="version 2"):
        verifier.certify(model("2nd_argmax_2_3"), method="boxes", max_boxes=100, workers=1, samples=0,
                         resume=os.path.join(ROOT, "proofs", "2nd_argmax_2_3.cert.json"))


def test_checkpoints_are_certificates_the_kernel_accepts(tmp_path, monkeypatch):
    """A checkpoint every 3 looks at a clock that ticks once per look (once per round of the search): written
    whatever the machine's speed, a certificate of an earlier state."""
    import verifier.intervals.boxes

    monkeypatch.setattr(verifier.intervals.boxes, "time", TickClock())
    out = tmp_path / "m.cert.json"
    res = verifier.certify(model("2nd_argmax_2_3"), method="boxes", max_boxes=150000, workers=1, samples=0,
                           out=str(out), checkpoint_every=3)
    monkeypatch.undo()
    ck = tmp_path / "m.cert.json.checkpoint"
    assert ck.exists() and out.exists()
    v = check(str(ck))
    assert v.accepted
    # the checkpoint is an earlier state: its interval holds the final one
    lo, hi = Fraction(v.summary["error_lower"]), Fraction(v.summary["error_upper"])
    assert lo <= res.error_lower and res.error_upper <= hi


def test_tools_that_need_cells_refuse_a_boxes_certificate_in_one_line(tmp_path, cert33):
    cert = tmp_path / "b.cert.json"
    cert.write_text(json.dumps(cert33))
    ck = model("2nd_argmax_3_3")
    for args in (["explain", ck, "--certificate", str(cert), "--no-plot"],
                 ["crosscheck", str(cert), "--solver", "cvc5", "--cells", "1"],
                 ["export", ck, "--vnnlib", str(tmp_path / "v"), "--certificate", str(cert)]):
        r = _cli(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert "version 5" in r.stderr or "version-5" in r.stderr


def test_the_propagation_is_sound_on_random_models_and_boxes():
    """For random small rational models (dead units, equal rows and zero weights included) and random integer
    boxes, whenever the kernel's propagation claims an argmax c, the exact forward pass at every corner and at
    random points of the box gives c (torch's first index on ties); and it does claim one on tiny boxes."""
    from verifier.kernel.boxes import box_prediction

    rng = random.Random(7)
    claimed = 0
    for trial in range(60):
        n, d = rng.randint(2, 5), rng.randint(1, 4)
        pick = lambda: Fraction(rng.choice([0, 0, 1, -1, 2, -3, 5]), rng.choice([1, 2, 3, 4]))
        W_hi = [[pick()] for _ in range(d)]
        W_hh = [[pick() for _ in range(d)] for _ in range(d)]
        W_oh = [[pick() for _ in range(d)] for _ in range(n)]
        if trial % 5 == 0:
            W_oh[-1] = list(W_oh[0])  # two equal logits: a proven tie resolved by the first index
        m = Model.of(W_hi, W_hh, W_oh, n)
        for _ in range(20):
            centre = [rng.randint(-200, 200) for _ in range(n)]
            half = rng.choice([0, 1, 3, 20, 100])
            lo = tuple(c - rng.randint(0, half) for c in centre)
            hi = tuple(c + rng.randint(1, half + 1) for c in centre)
            c = box_prediction(m, lo, hi)
            if c is None:
                continue
            claimed += 1
            points = [tuple(hi[i] if (mask >> i) & 1 else lo[i] for i in range(n)) for mask in range(1 << n)]
            points += [tuple(rng.randint(a, b) for a, b in zip(lo, hi)) for _ in range(10)]
            for x in points:
                assert argmax_first(forward(m, x)[1]) == c, (W_hi, W_hh, W_oh, lo, hi, x)
    assert claimed > 300


def test_checking_on_two_workers_gives_the_verdict_of_one(cert33):
    assert cert33["counts"]["right"] + cert33["counts"]["wrong"] >= 2000  # enough for the spread to run
    a, b = check(cert33, workers=1), check(cert33, workers=2)
    assert a.accepted and b.accepted and a.summary == b.summary
    # flip two decided leaves, a late one and an early one: both report the early one
    d = json.loads(json.dumps(cert33))
    tokens = d["tree"].split(" ")
    at = [i for i, t in enumerate(tokens) if t in ("R", "W")]
    for i in (at[-5], at[10]):
        old = tokens[i]
        tokens[i] = "W" if old == "R" else "R"
        names = {"R": "right", "W": "wrong"}
        d["counts"][names[old]] -= 1
        d["counts"][names[tokens[i]]] += 1
    d["tree"] = " ".join(tokens)
    v1, v2 = check(d, workers=1), check(d, workers=2)
    assert not v1.accepted and (v1.rule, v1.message) == (v2.rule, v2.message) and v1.rule == "box-prediction"
    assert "leaf " in v1.message
