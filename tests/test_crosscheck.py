"""Export (ONNX, VNN-LIB) and the independent solvers' cross-check (cvc5 exact, Marabou floating point)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from verifier.crosscheck import crosscheck
from verifier.loader import load
from verifier.zoo import read_index

ROOT = os.path.join(os.path.dirname(__file__), "..")
MODELS = os.path.join(ROOT, "models")
PROOFS = os.path.join(ROOT, "proofs")


def _cert(name):
    with open(os.path.join(PROOFS, name)) as fh:
        return json.load(fh)


def _rnn_models():
    out = []
    for m in read_index(MODELS)["models"]:
        if m["family"] in ("position", "scalar") and m["file"].endswith(".pth"):
            out.append((m["file"], m["seq_len"]))
    return out


@pytest.mark.parametrize("name,n", _rnn_models())
def test_onnx_export_equals_torch_float32(name, n, tmp_path):
    """onnxruntime on the exported graph vs torch's float32 forward (nn.RNN + Linear) on 10^4 inputs."""
    import onnxruntime as ort
    import torch

    from verifier.export import write_onnx

    lm = load(os.path.join(MODELS, name), seq_len=n)
    r = lm.rnn
    path = str(tmp_path / "m.onnx")
    write_onnx(path, r.W_hi, r.W_hh, r.W_oh, n, batch="batch")
    W_hi, W_hh, W_oh = (torch.tensor(a, dtype=torch.float32) for a in lm.float_arrays())
    rnn = torch.nn.RNN(1, r.d, nonlinearity="relu", bias=False, batch_first=True)
    lin = torch.nn.Linear(r.d, W_oh.shape[0], bias=False)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_hi)
        rnn.weight_hh_l0.copy_(W_hh)
        lin.weight.copy_(W_oh)
        x = torch.randn(10_000, n, generator=torch.Generator().manual_seed(5))
        h = rnn(x.unsqueeze(-1))[1][0]
        want = lin(h).numpy()
        # the size of the terms summed into each output (float32 rounding is relative to it)
        terms = (h.abs() @ W_oh.abs().T).numpy()
    sess = ort.InferenceSession(path)
    got = sess.run(None, {"X": x.numpy()})[0]
    # relative error, measured against the size of the terms summed into each output: float32 sums taken in
    # another order differ by rounding relative to those terms, not to an output that cancels to near 0
    scale = np.maximum(terms, 1e-30)
    assert np.max(np.abs(got - want) / scale) <= 1e-5


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
