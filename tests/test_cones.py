"""Cone traversal (seq_len >= 3): degenerate models, per-point consistency, limits, parallel determinism."""

from __future__ import annotations

import os
import random
from fractions import Fraction

import pytest

from conftest import ROOT, linear_logits_model, run_cli
import verifier
from verifier.loading.model import RNN, forward, pattern, argmax_first
from verifier.loading.tasks import label


def _cell_of_point(cert, m, x):
    """The unique listed cell whose constraints hold strictly at x (None if x is on a boundary)."""
    from verifier.kernel import read_certificate
    from verifier.kernel.claim import Work, model
    from verifier.kernel.cones import pattern, prediction, roots

    c, w = read_certificate(cert), Work()
    for rule in (model, roots, pattern, prediction):  # the kernel's own constraint lists
        rule(c, w)
    return [i for i, cons in enumerate(w.cons) if all(sum(a * b for a, b in zip(g, x)) > 0 for g in cons)]


def consistency_at_random_points(rnn, task, cert, points=200, seed=0):
    """At random rational directions the exact model agrees with the cell that contains the point."""
    rng = random.Random(seed)
    n = rnn.seq_len
    checked = 0
    for _ in range(points):
        x = [rng.randint(-10 ** 6, 10 ** 6) for _ in range(n)]
        hits = _cell_of_point(cert, rnn, x)
        if not hits:
            continue  # on a boundary (measure zero)
        assert len(hits) == 1, "cells overlap"
        c = cert["cells"][hits[0]]
        assert c["pattern"] == ["".join(map(str, r)) for r in pattern(rnn, x)]
        wrong = argmax_first(forward(rnn, x)) != label(task, x)
        assert c["wrong"] == wrong
        checked += 1
    assert checked > points * 0.9


def sampled_error(rnn, task, n_samples=200_000, seed=1):
    import numpy as np

    from verifier.empirical.sample import sample_error

    arrays = tuple(np.array([[float(v) for v in r] for r in mat]) for mat in (rnn.W_hi, rnn.W_hh, rnn.W_oh))
    return sample_error(arrays, rnn.seq_len, task, samples=n_samples, seed=seed, dtype="float64")


def assert_matches_sampling(res, rnn, task, sigmas=5):
    s = sampled_error(rnn, task)
    mid = float((res.error_lower + res.error_upper) / 2)
    se = max(s.stderr, (mid * (1 - mid) / s.samples) ** 0.5, 1e-7)
    assert abs(mid - s.error) <= sigmas * se, (mid, s.error, se)


DEGENERATE = {
    # two identical neurons: coincident hyperplanes at every step
    "coincident": RNN.make([[1], [1], [-1]], [[1, 1, -2], [1, 1, -2], [-1, 2, 1]],
                           [[1, 1, 0], [0, -1, 1], [2, 0, -1]], seq_len=3),
    # neuron 2 is dead (no input, no recurrence) and neuron 1 is a positive multiple of neuron 0
    "dead_and_scaled": RNN.make([[1], [3], [0]], [[0, -1, 0], [0, -3, 0], [0, 0, 0]],
                                [[1, 0, 5], [0, 1, -5], [-1, 1, 0]], seq_len=3),
    # logits 0 and 1 identical everywhere: a whole-region tie, decided by the first index
    "logit_tie": RNN.make([[1], [-1], [2]], [[0, 1, 0], [1, 0, -1], [0, 1, 1]],
                          [[1, -1, 1], [1, -1, 1], [0, 2, -1]], seq_len=3),
    # all logits zero: always predicts position 0
    "constant": RNN.make([[1], [-1]], [[1, 0], [0, 1]], [[0, 0], [0, 0], [0, 0]], seq_len=3),
    # no input at all: every neuron dead, one cell per root
    "no_input": RNN.make([[0], [0]], [[1, 2], [3, 4]], [[1, 0], [0, 1], [1, 1]], seq_len=3),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
@pytest.mark.parametrize("task", ["2nd_argmax", "argmax", "argmedian"])
def test_degenerate_models(name, task):
    rnn = DEGENERATE[name]
    res = verifier.certify(rnn, task=task)  # the generator already ran the independent checker
    assert verifier.check(res.certificate).accepted
    consistency_at_random_points(rnn, task, res.certificate, points=120)
    assert_matches_sampling(res, rnn, task)


def test_constant_model_errors_exactly_two_thirds():
    res = verifier.certify(DEGENERATE["constant"], task="2nd_argmax")
    assert res.error_lower <= Fraction(2, 3) <= res.error_upper
    assert res.error_upper - res.error_lower < Fraction(1, 10 ** 25)


@pytest.mark.parametrize("A,task,expected", [
    ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "argmax", Fraction(0)),  # logits = x
    ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "2nd_argmax", Fraction(1)),  # argmax is never the 2nd argmax
    ([[-1, 0, 0], [0, -1, 0], [0, 0, -1]], "argmax", Fraction(1)),  # argmin
    ([[-1, 0, 0], [0, -1, 0], [0, 0, -1]], "argmedian", Fraction(1)),
    ([[0, 1, 0], [1, 0, 0], [0, 0, 1]], "argmax", Fraction(2, 3)),  # swaps 0 and 1: right only when x_2 wins
])
def test_linear_logit_models_known_answers(A, task, expected):
    rnn = linear_logits_model(A)
    res = verifier.certify(rnn, task=task)
    assert res.error_lower <= expected <= res.error_upper
    assert res.error_upper - res.error_lower < Fraction(1, 10 ** 20)


def test_spherical_measure_against_sampling():
    # logits (2 x0, x1, x2) under argmax: wrong only near the boundaries of x0's chamber
    rnn = linear_logits_model([[2, 0, 0], [0, 1, 0], [0, 0, 1]])
    res = verifier.certify(rnn, task="argmax")
    assert 0 < res.error_lower
    assert_matches_sampling(res, rnn, "argmax")


def test_trained_m43_and_the_hand_built_model():
    for name in ("2nd_argmax_4_3.pth", "hand_2nd_argmax_4_3.pth", "hand_2nd_argmax_4_3_exact.json"):
        res = verifier.certify(os.path.join(ROOT, "models", name))
        assert res.error_upper - res.error_lower < Fraction(1, 10 ** 20)
        assert_matches_sampling(res, res.model.rnn, res.model.task)


def test_max_regions_and_timeout_stop_cleanly(tmp_path):
    out = tmp_path / "c.json"
    code, _, err = run_cli("models/2nd_argmax_8_3.pth", "--max-regions", "5", "--out", out, "--samples", "0")
    assert code == 3 and "max-regions" in err and not out.exists() and "Traceback" not in err
    code, _, err = run_cli("models/2nd_argmax_8_3.pth", "--timeout", "0", "--out", out, "--samples", "0")
    assert code == 3 and "timeout" in err and not out.exists()


def test_workers_give_identical_certificates(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    code, _, err = run_cli("models/2nd_argmax_4_3.pth", "--out", a, "--samples", "0", "--workers", "1")
    assert code == 0, err
    code, _, err = run_cli("models/2nd_argmax_4_3.pth", "--out", b, "--samples", "0", "--workers", "2")
    assert code == 0, err
    assert a.read_bytes() == b.read_bytes()


def test_n3_z3_second_opinion():
    res = verifier.certify(os.path.join(ROOT, "models", "2nd_argmax_4_3.pth"), z3=True)
    assert "z3" in res.timings
    v = verifier.check(res.certificate, z3=True)
    assert v.accepted, v.message


@pytest.mark.parametrize("name", ["2nd_argmax_2_4", "2nd_argmax_3_4"])
def test_top_two_roots_give_the_chamber_certificates_value_with_fewer_cells(name, monkeypatch):
    """2nd argmax at n >= 4: the roots are the 2 n (n - 1) top-two cones. With the 2 n! ordering chambers as roots
    (as the generator made them until 2026-11-28) R^n is decomposed differently, so the two exact enclosures
    must overlap; the top-two cells are unions of chamber cells, so there are fewer."""
    import json

    import verifier.cells.cones
    from verifier.kernel import check, parse_json

    path = os.path.join(ROOT, "models", f"{name}.pth")
    with monkeypatch.context() as mp:
        mp.setattr(verifier.cells.cones, "top_two", lambda n, task: False)
        chambers = verifier.certify(path, z3=False, workers=1)
    old = chambers.certificate
    assert len(old["roots"]) == 48 and len(old["roots"][0]["ranking"]) == 4
    res = verifier.certify(path, z3=False, workers=1)
    new = res.certificate
    assert [r["ranking"] for r in new["roots"][::2]] == [[j, k] for j in range(4) for k in range(4) if k != j]
    lo, hi = Fraction(old["error"]["lower"]), Fraction(old["error"]["upper"])
    assert res.error_lower <= hi and lo <= res.error_upper
    assert len(new["cells"]) < len(old["cells"])
    assert check(parse_json(json.dumps(new))).accepted and check(parse_json(json.dumps(old))).accepted
    # every cell's root is the top-two cone of its points: a seeded point of each of a few cells, run exactly
    rng = random.Random(5)
    lm = verifier.load(os.path.join(ROOT, "models", f"{name}.pth"))
    for _ in range(300):
        x = [Fraction(rng.randint(-10**6, 10**6), 10**5) for _ in range(4)]
        order = sorted(range(4), key=lambda i: (-x[i], i))
        root = next(i for i, r in enumerate(new["roots"])
                    if r["ranking"] == order[:2] and r["x0_sign"] == (1 if x[0] > 0 else -1))
        sig = ["".join("1" if v > 0 else "0" for v in row) for row in pattern(lm.rnn, x)]
        logits = forward(lm.rnn, x)
        k = order[1]
        tau = "".join("." if j == k else "+" if logits[k] > logits[j] else "-" if logits[k] < logits[j] else "0"
                      for j in range(len(logits)))
        cell = [c for c in new["cells"] if (c["root"], c["pattern"], c["decision"]) == (root, sig, tau)]
        assert len(cell) == 1, (x, sig, tau)
        assert cell[0]["wrong"] == (argmax_first(logits) != label("2nd_argmax", x))
