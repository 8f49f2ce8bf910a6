"""The longest-cycle transformers (issue 10): loading, the exact accuracy by enumeration, certificate version 4
and its kernel rules, the CLI, and known answers derived independently of the code under test."""

from __future__ import annotations

import copy
import glob
import json
import os
from fractions import Fraction as F

import pytest

import verifier

from conftest import ROOT, run_cli, save_state
from verifier.families.transformer import evaluate, inputs, make, numpy_logits, target
from verifier.kernel import check
from verifier.kernel.cycle import cycle_target
from verifier.loading.loader import loaded_transformer


# ------------------------------------------------------------------------------------------------
# Independent references


def brute_longest_cycle(f) -> int:
    """A cycle of length L through i means f^L(i) = i with L minimal; the longest over all points."""
    n = len(f)
    best = 0
    for i in range(n):
        y = i
        for L in range(1, n + 1):
            y = f[y]
            if y == i:
                best = max(best, L)
                break
    return best


def all_functions(n):
    out = [[]]
    for _ in range(n):
        out = [g + [v] for g in out for v in range(n)]
    return [tuple(g) for g in out]


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_targets_agree_with_brute_force(n):
    fs = all_functions(n)
    assert list(inputs(n)) == fs  # input order: lexicographic
    for f in fs:
        want = brute_longest_cycle(f) - 1
        assert target(f) == want and cycle_target(f) == want, f


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_functions_with_only_fixed_point_cycles_are_rooted_forests(n):
    # a function whose every cycle is a fixed point is a rooted forest: (n + 1)^(n - 1) of them
    assert sum(1 for f in all_functions(n) if brute_longest_cycle(f) == 1) == (n + 1) ** (n - 1)


def random_weights(n, d, layers, seed, zero_unembed=False):
    import random

    rng = random.Random(seed)

    def mat(r, c):
        return [[F(rng.randint(-8, 8), 8) for _ in range(c)] for _ in range(r)]

    U = [[0] * d for _ in range(n)] if zero_unembed else mat(n, d)
    return make(mat(n, d), mat(n, d), [(mat(3 * d, d), mat(d, d)) for _ in range(layers)], U)


def certify_mem(m, name="mem"):
    """The pipeline's result as a dict of its fields (the enumeration kind, checked by the kernel)."""
    return vars(verifier.certify(loaded_transformer(m, name)))


# ------------------------------------------------------------------------------------------------
# Known answers


@pytest.mark.parametrize("n,layers", [(3, 2), (4, 2), (4, 1), (3, 3)])
def test_zero_unembedding_predicts_class_0(n, layers):
    """All logits are exactly 0: torch's first-index rule picks class 0 everywhere, so the accuracy is the
    fraction of functions whose longest cycle is 1, (n + 1)^(n - 1) / n^n."""
    m = random_weights(n, 2, layers, seed=n + layers, zero_unembed=True)
    res = certify_mem(m)
    N = n ** n
    assert res["details"]["undecided"] == 0
    assert 1 - res["error_lower"] == 1 - res["error_upper"] == F((n + 1) ** (n - 1), N)
    assert check(res["certificate"]).accepted


def last_token_model(n, tie_rows=False):
    """d = n, one-hot token embedding, no position embedding, attention that writes nothing (out_proj = 0):
    the logits are the unembedding's column f(n-1).  U = I predicts f(n-1); with row 1 a copy of row 0
    classes 0 and 1 tie exactly whenever f(n-1) is 0 or 1 (all logits 0 for f(n-1) = 1) and torch picks 0."""
    I = [[int(i == j) for j in range(n)] for i in range(n)]
    Z = [[0] * n for _ in range(n)]
    in_proj = [[F(i + 2 * j - 3, 4) for j in range(n)] for i in range(3 * n)]
    U = [r[:] for r in I]
    if tie_rows:
        U[1] = U[0][:]
    return make(I, Z, [(in_proj, Z), (in_proj, Z)], U)


@pytest.mark.parametrize("tie_rows", [False, True])
def test_hand_built_last_token_model(tie_rows):
    n = 4
    res = certify_mem(last_token_model(n, tie_rows))

    def predicted(f):
        t = f[n - 1]
        return (0 if t in (0, 1) else t) if tie_rows else t

    right = sum(1 for f in all_functions(n) if predicted(f) == brute_longest_cycle(f) - 1)
    assert res["details"]["undecided"] == 0
    assert res["error_lower"] == res["error_upper"] == 1 - F(right, n ** n)
    wrong = {w[0]: w[1] for w in res["certificate"]["wrong"]}
    for f in all_functions(n):
        key = "".join(map(str, f))
        if predicted(f) != brute_longest_cycle(f) - 1:
            assert wrong[key] == predicted(f)
        else:
            assert key not in wrong


def symmetric_tie_model():
    """Coordinates 0 and 1 of the residual stream are equal reals computed by the same operations, so l_0 =
    l_1 exactly, but their balls' difference is not exactly zero once exp rounds: where they are the top
    logits (f(2) = 0) the input must be undecided, never guessed; elsewhere l_2 = 0 wins."""
    return make([[1, 1], [-1, -1], [-2, -2]], [[0, 0], [F(1, 2), F(1, 2)], [F(1, 4), F(1, 4)]],
                [([[1, 1], [1, 1], [1, 0], [0, 1], [1, 0], [0, 1]], [[1, 0], [0, 1]])],
                [[1, 0], [0, 1], [0, 0]])


def test_undecided_inputs_widen_the_interval():
    res = certify_mem(symmetric_tie_model())
    doc = res["certificate"]
    assert doc["undecided"] == [f for f in ("".join(map(str, g)) for g in all_functions(3)) if f[2] == "0"]
    wrong = sum(1 for f in all_functions(3) if f[2] != 0 and brute_longest_cycle(f) - 1 != 2)
    assert (res["error_lower"], res["error_upper"]) == (F(wrong, 27), F(wrong + 9, 27))
    assert check(doc).accepted
    forged = copy.deepcopy(doc)  # claiming an undecided input right is refused
    forged["undecided"].pop(0)
    forged["counts"]["undecided"] -= 1
    forged["counts"]["right"] += 1
    forged["error"]["upper"] = str(F(wrong + 8, 27))
    forged["accuracy"]["lower"] = str(1 - F(wrong + 8, 27))
    assert check(forged).rule == "forward"


def test_exact_evaluation_agrees_with_float64_where_margins_are_clear():
    import numpy as np

    for seed, (n, d, layers) in enumerate([(3, 2, 2), (4, 3, 2), (5, 2, 1)]):
        m = random_weights(n, d, layers, seed=100 + seed)
        ev = evaluate(m)
        lg = numpy_logits(m)
        top = np.sort(lg, axis=1)
        margin = top[:, -1] - top[:, -2]
        clear = margin > 1e-9
        assert clear.mean() > 0.9
        assert all(int(a) == b for a, b, c in zip(lg.argmax(1), ev.predictions, clear) if c)


# ------------------------------------------------------------------------------------------------
# The kernel


def test_kernel_rejects_mutants():
    res = certify_mem(random_weights(3, 2, 2, seed=7))
    doc = res["certificate"]
    assert check(doc).accepted
    assert doc["wrong"], "the test needs a model with wrong inputs"

    def mutant(fn):
        d = copy.deepcopy(doc)
        fn(d)
        return check(d).rule

    def other_prediction(d):
        f, p = d["wrong"][0]
        t = target(tuple(int(c) for c in f))
        d["wrong"][0][1] = next(k for k in range(3) if k not in (p, t))

    assert mutant(other_prediction) == "forward"
    assert mutant(lambda d: d["wrong"].reverse() if len(d["wrong"]) > 1 else d["wrong"].append(d["wrong"][0])) \
        == "inputs"
    assert mutant(lambda d: d["error"].update(lower="0")) == "tally"
    assert mutant(lambda d: d["model"]["layers"].pop()) == "weights-digest"


# ------------------------------------------------------------------------------------------------
# Shipped models: certificates versus an independent float64 evaluation


SHIPPED = sorted(glob.glob(os.path.join(ROOT, "models", "longest_cycle_*.pth")))


def _certificate_of(name):
    from verifier.loading.rational import certificate_files, certificate_stem

    for p in certificate_files(os.path.join(ROOT, "proofs")):
        if certificate_stem(p) == name.replace(".pth", ""):
            return p
    return None


@pytest.mark.parametrize("path", SHIPPED, ids=[os.path.basename(p) for p in SHIPPED])
def test_shipped_certificate_matches_float64(path):
    """Wherever the float64 forward pass's top-two logit margin exceeds 1e-9, its argmax is the certified
    prediction (the listed prediction of a wrong input, else the target); so the certified accuracy equals
    the float64 accuracy up to the inputs with smaller margins (reported by scripts/validate_cycle.py)."""
    import numpy as np
    import torch

    from verifier.loading.loader import load

    cert = _certificate_of(os.path.basename(path))
    assert cert is not None, f"{path} has no certificate in proofs/"
    doc = json.load(open(cert))
    lm = load(path)
    assert doc["checkpoint"]["sha256"] == lm.sha256
    m = lm.transformer
    lg = numpy_logits(m)
    top = np.sort(lg, axis=1)
    clear = (top[:, -1] - top[:, -2]) > 1e-9
    wrong = {w[0]: w[1] for w in doc["wrong"]}
    undecided = set(doc["undecided"])
    pred64 = lg.argmax(1)
    for i, f in enumerate(inputs(m.n)):
        key = "".join(map(str, f))
        if clear[i]:
            assert key not in undecided
            assert int(pred64[i]) == wrong.get(key, target(f)), key
    del torch


# ------------------------------------------------------------------------------------------------
# Loading and the CLI


def state(n=3, d=2, layers=2, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    sd = {"embed.weight": torch.randn(n, d, generator=g), "pos_embed.weight": torch.randn(n, d, generator=g),
          "unembed.weight": torch.randn(n, d, generator=g)}
    for i in range(layers):
        sd[f"attns.{i}.in_proj_weight"] = torch.randn(3 * d, d, generator=g)
        sd[f"attns.{i}.out_proj.weight"] = torch.randn(d, d, generator=g)
    return sd


def test_loader_gives_the_exact_floats(tmp_path):
    from verifier.loading.loader import load

    sd = state(4, 3, 3)
    p = save_state(tmp_path / "t.pth", sd)
    m = load(p).transformer
    assert len(m.layers) == 3 and m.n == 4 and m.d == 3
    assert m.layers[2][0] == tuple(tuple(F(float(v)) for v in r) for r in sd["attns.2.in_proj_weight"].tolist())
    assert m.unembed == tuple(tuple(F(float(v)) for v in r) for r in sd["unembed.weight"].tolist())


def test_cli_certify_and_check(tmp_path):
    p = save_state(tmp_path / "t.pth", state(3, 2, 2, seed=3))
    cert = tmp_path / "t.cert.json"
    code, out, err = run_cli(p, "--out", cert, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["inputs"] == 27 and rep["undecided"] == 0
    assert rep["error"]["lower"] == rep["error"]["upper"]
    assert F(rep["accuracy"]["lower"]) == 1 - F(rep["error"]["upper"])
    assert F(rep["error"]["lower"]) * 27 == rep["wrong"] == len(json.load(open(cert))["wrong"])
    assert "float32_disagreements" in rep
    code, out, err = run_cli("check", cert, "--checkpoint", p)
    assert code == 0 and "ACCEPTED" in out, out + err
    other = save_state(tmp_path / "o.pth", state(3, 2, 2, seed=4))
    code, out, err = run_cli("check", cert, "--checkpoint", other)
    assert code == 1 and "checkpoint-hash" in out


def _bad(tmp_path, sd, *needles, extra=(), cli=False):
    """Refused with one line naming the culprit: in-process (load) always, and through the CLI (exit 2,
    nothing written) when cli is set (each CLI run costs a torch import)."""
    from verifier.errors import InputError
    from verifier.loading.loader import load

    p = save_state(tmp_path / "bad.pth", sd)
    with pytest.raises(InputError) as exc:
        load(p, seq_len=int(extra[1]) if extra else None)
    msg = str(exc.value)
    assert exc.value.exit_code == 2 and "\n" not in msg
    for nd in needles:
        assert nd.lower() in msg.lower(), msg
    if not cli:
        return
    out_cert = tmp_path / "bad.cert.json"
    code, out, err = run_cli(p, "--out", out_cert, *extra)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    for nd in needles:
        assert nd.lower() in lines[0].lower(), lines[0]
    assert not out_cert.exists()
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []


def test_bad_transformer_inputs(tmp_path):
    import torch

    sd = state()
    _bad(tmp_path, {**sd, "attns.0.in_proj_bias": torch.zeros(6)}, "bias", cli=True)
    _bad(tmp_path, {**sd, "unembed.bias": torch.zeros(3)}, "bias")
    _bad(tmp_path, {**sd, "attns.0.extra": torch.zeros(2, 2)}, "unexpected", "attns.0.extra")
    _bad(tmp_path, {**sd, "ln.weight": torch.zeros(2, 2)}, "unexpected", "ln.weight")
    _bad(tmp_path, {**sd, "attns.0.in_proj_weight": torch.zeros(4, 2)}, "in_proj_weight", "3d x d", cli=True)
    _bad(tmp_path, {**sd, "attns.1.out_proj.weight": torch.zeros(2, 3)}, "out_proj.weight", "[2, 2]")
    _bad(tmp_path, {**sd, "pos_embed.weight": torch.zeros(4, 2)}, "pos_embed.weight", "[3, 2]")
    _bad(tmp_path, {**sd, "unembed.weight": torch.zeros(3, 3)}, "unembed.weight")
    _bad(tmp_path, {k: v for k, v in sd.items() if k != "attns.1.out_proj.weight"}, "missing",
         "attns.1.out_proj.weight", cli=True)
    _bad(tmp_path, {k: v for k, v in sd.items() if not k.startswith("attns.0.")}, "missing", "attns.0")
    _bad(tmp_path, {k: v for k, v in sd.items() if k != "pos_embed.weight"}, "missing", "pos_embed.weight")
    _bad(tmp_path, {**sd, "embed.weight": sd["embed.weight"].to(torch.float16)}, "dtype")
    _bad(tmp_path, sd, "seq_len", extra=("--seq-len", "4"))
