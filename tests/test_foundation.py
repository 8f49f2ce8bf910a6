"""Foundation: package, exact model, standardisation, tasks, loading, inspect and sample."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import example, given, settings, strategies as st

from conftest import ROOT, rnn_state, run_cli, save_state
from verifier.loading.model import RNN, IntRNN, exact_from_float, forward, pattern, standardize
from verifier.loading.tasks import label, ranking


def test_import_is_light():
    code = "import verifier, sys; assert 'torch' not in sys.modules and 'z3' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_help_lists_subcommands():
    code, out, _ = run_cli("--help")
    assert code == 0
    for cmd in ("certify", "check", "inspect", "sample", "explain", "train"):
        assert cmd in out


def test_float32_is_exact():
    import numpy as np

    assert exact_from_float(float(np.float32(0.1))) == Fraction(13421773, 134217728)
    assert exact_from_float(-0.0) == 0
    sub = float(np.float32(1e-45))  # smallest float32 subnormal
    assert exact_from_float(sub) == Fraction(1, 2 ** 149)
    with pytest.raises(ValueError):
        exact_from_float(float("nan"))


def test_label_convention_ties():
    # ties: ranking is stable, lower index first
    assert ranking([1, 1, 0]) == [0, 1, 2]
    assert label("argmax", [1, 1, 0]) == 0
    assert label("2nd_argmax", [1, 1, 0]) == 1
    assert label("2nd_argmax", [0, 5]) == 0 and label("2nd_argmax", [5, 0]) == 1  # n = 2: the smaller one
    assert label("argmedian", [3, 1, 2]) == 2
    assert label("median", [3, 1, 2]) == 2 and label("median", [4, 1]) == Fraction(5, 2)


def test_torch_labels_match_exact_labels():
    import torch

    from verifier.loading.tasks import torch_labels

    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 5, generator=g, dtype=torch.float64)
    x[0] = torch.tensor([1.0, 1.0, 0.0, -1.0, 2.0])  # a tie
    for task in ("argmax", "2nd_argmax", "argmedian"):
        got = torch_labels(task, x).tolist()
        want = [label(task, [Fraction(v) for v in row]) for row in x.tolist()]
        assert got == want, task


def _random_rnn(rng, d, n, out=None):
    def r():
        return Fraction(rng.randint(-50, 50), rng.choice([1, 2, 3, 7, 16]))

    return RNN.make([[r()] for _ in range(d)], [[r() for _ in range(d)] for _ in range(d)],
                    [[r() for _ in range(d)] for _ in range(out or n)], seq_len=n)


rationals = st.fractions(min_value=-1000, max_value=1000, max_denominator=10 ** 6)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10 ** 6), x=st.lists(rationals, min_size=3, max_size=3))
@example(seed=1, x=[Fraction(0), Fraction(0), Fraction(0)])
@example(seed=2, x=[Fraction(-0.0), Fraction(1, 2 ** 149), Fraction(1, 2 ** 149)])
@example(seed=3, x=[Fraction(1), Fraction(1), Fraction(1)])
def test_standardised_model_is_the_same_function(seed, x):
    rng = random.Random(seed)
    rnn = _random_rnn(rng, d=4, n=3)
    std, c = standardize(rnn)
    assert all(v > 0 for v in c)
    assert all(abs(w[0]) in (0, 1) for w in std.W_hi)
    assert forward(std, x) == forward(rnn, x)
    assert pattern(std, x) == pattern(rnn, x)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10 ** 6), x=st.lists(st.integers(-10 ** 6, 10 ** 6), min_size=3, max_size=3))
def test_integer_forms_agree_with_exact_forward(seed, x):
    rng = random.Random(seed)
    rnn = _random_rnn(rng, d=3, n=3)
    im = IntRNN.of(rnn)
    sigma, steps, out = im.pattern_and_forms(x)
    assert sigma == pattern(rnn, x)
    scale = Fraction(1)
    logits = forward(rnn, x)
    # integer output forms equal the logits times one positive factor
    vals = [sum(a * b for a, b in zip(f, x)) for f in out]
    nz = [i for i, v in enumerate(logits) if v != 0]
    if nz:
        scale = Fraction(vals[nz[0]]) / logits[nz[0]]
        assert scale > 0
    assert all(Fraction(v) == scale * l for v, l in zip(vals, logits))


def _exact_logits_int(rnn, X):
    """Exact logits of float inputs X (rows), through integer arithmetic: returns Fractions."""
    im = IntRNN.of(rnn)
    co = 1
    for row in rnn.W_oh:
        for v in row:
            co = co * v.denominator // __import__("math").gcd(co, v.denominator)
    out = []
    for row in X:
        fx = [Fraction(v) for v in row]
        S = 1
        for v in fx:
            S = max(S, v.denominator)
        xi = [int(v * S) for v in fx]
        h = [0] * rnn.d
        for t in range(rnn.seq_len):
            s = im.c ** t
            pre = [sum(im.Hn[i][j] * h[j] for j in range(rnn.d) if h[j]) + s * im.In[i] * xi[t]
                   for i in range(rnn.d)]
            h = [p if p > 0 else 0 for p in pre]
        denom = co * im.c ** rnn.seq_len * S
        out.append([Fraction(sum(r[j] * h[j] for j in range(rnn.d) if h[j]), denom) for r in im.On])
    return out


def _model_files():
    """The RNNs of the manifest (the transformers' differential test is tests/test_cycle.py)."""
    with open(os.path.join(ROOT, "models", "index.json")) as fh:
        return [m for m in json.load(fh)["models"] if m["family"] != "transformer"]


@pytest.mark.parametrize("entry", _model_files(), ids=lambda m: m["file"])
def test_exact_forward_matches_torch_float64(entry):
    """Differential test: exact forward == torch float64 forward (1e-12 relative) on 10^4 random inputs.

    "Relative" is taken against the magnitude of the computation, the logits of the same network run with
    |W| on |x| (which bounds every partial sum float64 forms), so that logits that are small differences
    of large terms are judged by the rounding float64 can actually promise.
    """
    import torch

    from verifier.loading.loader import load
    from verifier.empirical.sample import rnn_logits

    lm = load(os.path.join(ROOT, "models", entry["file"]), task=entry["task"], seq_len=entry["seq_len"]
              if entry["family"] == "scalar" else None)
    W = [torch.tensor([[float(v) for v in r] for r in m], dtype=torch.float64) for m in
         (lm.rnn.W_hi, lm.rnn.W_hh, lm.rnn.W_oh)]
    g = torch.Generator().manual_seed(7)
    X = torch.randn(10_000, lm.seq_len, generator=g, dtype=torch.float64)
    got = rnn_logits(X, *W).tolist()
    h = torch.zeros(X.shape[0], lm.hidden_size, dtype=torch.float64)
    for t in range(lm.seq_len):
        h = h @ W[1].abs().T + X[:, t:t + 1].abs() @ W[0].abs().T
    mag = (h @ W[2].abs().T).tolist()
    exact = _exact_logits_int(lm.rnn, X.tolist())
    worst = 0.0
    for e_row, g_row, m_row in zip(exact, got, mag):
        for e, gv, mv in zip(e_row, g_row, m_row):
            worst = max(worst, float(abs(Fraction(gv) - e)) / max(mv, 1e-300))
    assert worst < 1e-12, worst


def test_inspect_json_and_text(tmp_path):
    code, out, err = run_cli("inspect", "models/hand_2nd_argmax_2_2.pth", "--json")
    assert code == 0, err
    doc = json.loads(out)
    for key in ("family", "task", "hidden_size", "seq_len", "parameters", "sha256", "weights", "standardized"):
        assert key in doc
    assert doc["weights"]["W_hi"] == [["1"], ["-1"]]
    assert doc["standardized"]["W_hh"] == [["-1", "1"], ["1", "-1"]]
    assert doc["parameters"] == 10 and doc["family"] == "position" and doc["task"] == "2nd_argmax"
    code, out, _ = run_cli("inspect", "models/hand_2nd_argmax_4_3_exact.json")
    assert code == 0 and "3333/67" in out


def test_inspect_standardises_float_weights(tmp_path):
    p = save_state(tmp_path / "m.pth", rnn_state([[0.5], [-0.25]], [[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [1.0, -1.0]]))
    code, out, _ = run_cli("inspect", p, "--json")
    doc = json.loads(out)
    assert doc["standardized"]["W_hi"] == [["1"], ["-1"]]
    # W_hh' = C W_hh C^-1 with C = diag(2, 4): [[1, 2*2/4], [3*4/2, 4]]
    assert doc["standardized"]["W_hh"] == [["1", "1"], ["6", "4"]]


def test_sample_hand_built_n2_is_zero_over_a_million():
    code, out, err = run_cli("sample", "models/hand_2nd_argmax_2_2.pth", "--samples", "1000000", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["samples"] == 10 ** 6 and doc["error"] == 0 and doc["wrong"] == 0
    assert doc["ci95"][0] == 0 and 0 < doc["ci95"][1] < 1e-5 and doc["estimate"] is True


def test_sample_n3_interval_printed():
    code, out, err = run_cli("sample", "models/hand_2nd_argmax_4_3.pth", "--samples", "2^18", "--seed", "3")
    assert code == 0, err
    assert "95% CI" in out and "error" in out


def test_sample_median_reports_mse(tmp_path):
    p = save_state(tmp_path / "med.pth", rnn_state([[1.0], [-1.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.5, -0.5]]))
    code, out, err = run_cli("sample", p, "--seq-len", "2", "--samples", "2^14", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["task"] == "median" and "mse" in doc and doc["mse"] > 0


def test_wilson_interval_brackets_estimate():
    from verifier.empirical.sample import wilson

    lo, hi = wilson(10, 1000)
    assert lo < 0.01 < hi
    assert wilson(0, 100)[0] == 0.0
