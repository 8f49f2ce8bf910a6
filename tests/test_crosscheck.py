"""Export (ONNX, VNN-LIB) and the independent solvers' cross-check (cvc5 exact, Marabou floating point)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from conftest import load_proof

from verifier.interop.crosscheck import crosscheck
from verifier.loading.loader import load
from verifier.empirical.zoo import read_index

ROOT = os.path.join(os.path.dirname(__file__), "..")
MODELS = os.path.join(ROOT, "models")
PROOFS = os.path.join(ROOT, "proofs")


def _cert(name):
    return load_proof(name)


def _rnn_models():
    out = []
    for m in read_index(MODELS)["models"]:
        if m["family"] in ("position", "scalar") and m["file"].endswith(".pth"):
            out.append((m["file"], m["seq_len"]))
    return out


EXPORT_INPUTS = 256  # inputs per model compared with the exact forward pass


def _float32_inputs(n, count=EXPORT_INPUTS, seed=5):
    import torch

    return torch.randn(count, n, generator=torch.Generator().manual_seed(seed))


def _within(got, exact, bound):
    """Whether every output lies within its bound of the exact value (compared exactly)."""
    return all(abs(Fraction(float(got[i, j])) - exact[i][j]) <= bound[i][j]
               for i in range(len(exact)) for j in range(len(exact[i])))


@pytest.mark.parametrize("name,n", _rnn_models())
def test_onnx_export_and_torch_lie_within_a_proven_bound_of_the_exact_outputs(name, n, tmp_path):
    """onnxruntime on the exported graph (float32, and the same graph in float64) and torch's own float32 forward
    (nn.RNN + Linear), each against the exact outputs (exact rational arithmetic on the same weights and inputs),
    with the tolerance a proven floating-point error bound (`export.float_forward_bound`: gamma_k bounds
    propagated through the recurrence), not a number chosen by hand: which rounding a CPU, a library version or a
    matrix kernel gives cannot fail it.  The float64 bound is tight (~1e-13 relative), so a wrong graph fails it
    on every model, also where float32's bound is loose (near-cancelling outputs)."""
    import onnxruntime as ort
    import torch

    from verifier.interop.export import float_forward_bound, write_onnx

    lm = load(os.path.join(MODELS, name), seq_len=n)
    weights = [[[Fraction(v) for v in row] for row in a] for a in lm.float_arrays()]  # what the graph holds
    x = _float32_inputs(n)
    xs = [[Fraction(float(v)) for v in row] for row in x]
    for dtype in ("float32", "float64"):
        path = str(tmp_path / f"m_{dtype}.onnx")
        write_onnx(path, *weights, n, batch="batch", dtype=dtype)
        got = ort.InferenceSession(path).run(None, {"X": x.numpy().astype(dtype)})[0]
        assert got.dtype == np.dtype(dtype)
        assert _within(got, *float_forward_bound(*weights, xs, dtype=dtype)), dtype
    r = lm.rnn
    W_hi, W_hh, W_oh = (torch.tensor(a, dtype=torch.float32) for a in lm.float_arrays())
    rnn = torch.nn.RNN(1, r.d, nonlinearity="relu", bias=False, batch_first=True)
    lin = torch.nn.Linear(r.d, W_oh.shape[0], bias=False)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_hi)
        rnn.weight_hh_l0.copy_(W_hh)
        lin.weight.copy_(W_oh)
        by_torch = lin(rnn(x.unsqueeze(-1))[1][0]).numpy()
    assert by_torch.dtype == np.float32 and _within(by_torch, *float_forward_bound(*weights, xs))


@pytest.mark.parametrize("name,n,dtype", [("2nd_argmax_4_3.pth", 3, "float32"), ("2nd_argmax_4_3.pth", 3, "float64"),
                                           ("hand_2nd_argmax_4_3.pth", 3, "float64"),
                                           ("2nd_argmax_16_10.pth", 10, "float64")])
def test_the_float_bound_catches_a_wrong_export(name, n, dtype, tmp_path):
    """The bound is tight enough to fail a broken graph: W_hh exported untransposed (not a symmetric matrix) is
    outside the bound on some input, and so is a graph that reads only the first n - 1 inputs."""
    import onnxruntime as ort

    from verifier.interop.export import float_forward_bound, write_onnx

    lm = load(os.path.join(MODELS, name), seq_len=n)
    W_hi, W_hh, W_oh = ([[Fraction(v) for v in row] for row in a] for a in lm.float_arrays())
    x = _float32_inputs(n, count=16)
    exact, bound = float_forward_bound(W_hi, W_hh, W_oh, [[Fraction(float(v)) for v in row] for row in x], dtype)

    def inside(W, steps):
        path = str(tmp_path / f"m{steps}.onnx")
        write_onnx(path, W_hi, W, W_oh, steps, batch="batch", dtype=dtype)
        got = ort.InferenceSession(path).run(None, {"X": x.numpy()[:, :steps].astype(dtype)})[0]
        return _within(got, exact, bound)

    transposed = [list(col) for col in zip(*W_hh)]
    assert transposed != W_hh
    assert inside(W_hh, n)  # the right graph is inside
    assert not inside(transposed, n)
    assert not inside(W_hh, n - 1)


def _flip(doc, index):
    bad = copy.deepcopy(doc)
    bad["cells"][index]["wrong"] = not bad["cells"][index]["wrong"]
    return bad


def test_cvc5_confirms_every_cell_and_refutes_a_flipped_claim():
    doc = _cert("2nd_argmax_2_3.cert.json")
    rep = crosscheck(doc, "cvc5")
    assert rep.counts() == {"confirmed": rep.cells_total, "refuted": 0, "unknown": 0}
    wrong = next(i for i, c in enumerate(doc["cells"]) if c["wrong"])
    right = next(i for i, c in enumerate(doc["cells"]) if not c["wrong"])
    for i in (wrong, right):
        rep = crosscheck(_flip(doc, i), "cvc5")
        assert [o.index for o in rep.outcomes if o.status == "refuted"] == [i]


def test_marabou_confirms_sampled_cells_and_refutes_a_flipped_claim():
    doc = _cert("2nd_argmax_4_3.cert.json")
    rep = crosscheck(doc, "marabou", cells=6, seed=3)
    c = rep.counts()
    assert c["refuted"] == 0 and c["confirmed"] >= 5
    i = next(i for i, cell in enumerate(doc["cells"]) if cell["wrong"])
    bad = _flip(doc, i)
    others = [j for j in range(len(doc["cells"])) if j != i][:3]
    rep = crosscheck(bad, "marabou", indices=[i] + others)
    assert [o.index for o in rep.outcomes if o.status == "refuted"] == [i]


def test_disc_certificates_are_cross_checked_too():
    rep = crosscheck(_cert("2nd_argmax_4_2.cert.json"), "cvc5")
    assert rep.counts()["confirmed"] == rep.cells_total > 0


def _run(*args):
    return subprocess.run([sys.executable, "-m", "verifier", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_crosscheck_json_and_exit_codes():
    p = _run("crosscheck", os.path.join(PROOFS, "2nd_argmax_2_2.cert.json"), "--solver", "cvc5", "--json",
             "--checkpoint", os.path.join(MODELS, "2nd_argmax_2_2.pth"))
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["confirmed"] == rep["cells_checked"] == rep["cells_total"] and rep["refuted"] == 0
    p = _run("crosscheck", os.path.join(PROOFS, "median_2_3.cert.json"), "--solver", "cvc5")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "MSE" in p.stderr
    p = _run("crosscheck", os.path.join(PROOFS, "2nd_argmax_2_2.cert.json"), "--solver", "yices")
    assert p.returncode == 2


def test_cli_export_writes_onnx_and_one_vnnlib_per_cell(tmp_path):
    cert = os.path.join(PROOFS, "2nd_argmax_2_3.cert.json")
    ck = os.path.join(MODELS, "2nd_argmax_2_3.pth")
    p = _run("export", ck, "--onnx", str(tmp_path / "m.onnx"), "--vnnlib", str(tmp_path / "props"),
             "--certificate", cert)
    assert p.returncode == 0, p.stderr
    files = sorted(os.listdir(tmp_path / "props"))
    assert len(files) == len(_cert("2nd_argmax_2_3.cert.json")["cells"])
    text = (tmp_path / "props" / files[0]).read_text()
    assert text.count("(declare-const X_") == 3 and "(assert (or " in text
    again = _run("export", ck, "--vnnlib", str(tmp_path / "props"), "--certificate", cert)
    assert again.returncode == 2 and "already exists" in again.stderr
    none = _run("export", ck)
    assert none.returncode == 2 and len(none.stderr.strip().splitlines()) == 1
