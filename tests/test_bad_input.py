"""Bad input: a clear one-line error, exit 2, nothing written (each case a test)."""

from __future__ import annotations

import os
import pickle

import pytest

from conftest import rnn_state, run_cli, save_state

GOOD = ([[1.0], [-1.0]], [[-1.0, 1.0], [1.0, -1.0]], [[1.0, -1.0], [-1.0, 1.0]])


def assert_clean_failure(code, out, err, *needles, exit_code=2):
    assert code == exit_code, (code, out, err)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n.lower() in lines[0].lower(), lines[0]


def certify_fails(tmp_path, path, *needles, extra=()):
    out_cert = tmp_path / "out.cert.json"
    code, out, err = run_cli(path, "--out", out_cert, "--samples", "0", *extra)
    assert_clean_failure(code, out, err, *needles)
    assert not out_cert.exists()
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp")] == []
    for cmd in ("inspect", "sample"):
        code, out, err = run_cli(cmd, path, *extra)
        assert_clean_failure(code, out, err, *needles)


def test_missing_file(tmp_path):
    certify_fails(tmp_path, tmp_path / "nope.pth", "no such file")


def test_directory(tmp_path):
    d = tmp_path / "dir.pth"
    d.mkdir()
    certify_fails(tmp_path, d, "directory")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.pth"
    p.write_bytes(b"")
    certify_fails(tmp_path, p, "empty")


def test_truncated_file(tmp_path):
    p = save_state(tmp_path / "full.pth", rnn_state(*GOOD))
    data = open(p, "rb").read()
    t = tmp_path / "trunc.pth"
    t.write_bytes(data[: len(data) // 2])
    certify_fails(tmp_path, t, "not a readable")


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "notes.pth"
    p.write_text("hello, I am a text file\n")
    certify_fails(tmp_path, p, "text file", "not a PyTorch checkpoint")


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_pickle_payload_never_runs(tmp_path):
    target = tmp_path / "pwned.txt"
    p = tmp_path / "evil.pth"
    p.write_bytes(pickle.dumps({"rnn.weight_ih_l0": _Payload(str(target))}))
    certify_fails(tmp_path, p, "refused")
    assert not target.exists()
    # the same payload inside a torch zip archive
    import torch

    z = tmp_path / "evil_zip.pth"
    torch.save({"x": _Payload(str(target))}, str(z))
    assert not target.exists()
    certify_fails(tmp_path, z, "refused")
    assert not target.exists()


def test_missing_key(tmp_path):
    sd = rnn_state(*GOOD)
    del sd["linear.weight"]
    certify_fails(tmp_path, save_state(tmp_path / "m.pth", sd), "missing linear.weight")


def test_extra_key(tmp_path):
    import torch

    sd = rnn_state(*GOOD)
    sd["something.else"] = torch.zeros(2)
    certify_fails(tmp_path, save_state(tmp_path / "m.pth", sd), "unexpected something.else")


@pytest.mark.parametrize("which,shape,needle", [
    ("rnn.weight_hh_l0", (2, 3), "weight_hh_l0"),
    ("linear.weight", (2, 3), "linear.weight"),
    ("rnn.weight_ih_l0", (2, 2), "weight_ih_l0"),
])
def test_wrong_shapes(tmp_path, which, shape, needle):
    import torch

    sd = rnn_state(*GOOD)
    sd[which] = torch.zeros(*shape)
    certify_fails(tmp_path, save_state(tmp_path / "m.pth", sd), needle)


@pytest.mark.parametrize("dtype", ["int64", "float16", "complex64", "bfloat16"])
def test_wrong_dtypes(tmp_path, dtype):
    import torch

    sd = rnn_state(*GOOD)
    sd["rnn.weight_hh_l0"] = sd["rnn.weight_hh_l0"].to(getattr(torch, dtype))
    certify_fails(tmp_path, save_state(tmp_path / "m.pth", sd), "dtype")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_weights(tmp_path, value):
    sd = rnn_state(*GOOD)
    sd["rnn.weight_hh_l0"][1, 0] = value
    certify_fails(tmp_path, save_state(tmp_path / "m.pth", sd), "finite", "weight_hh_l0")


def test_bias_keys(tmp_path):
    import torch

    sd = rnn_state(*GOOD)
    sd["rnn.bias_ih_l0"] = torch.zeros(2)
    certify_fails(tmp_path, save_state(tmp_path / "m.pth", sd), "biases are not supported yet")


def test_scalar_family_needs_seq_len(tmp_path):
    p = save_state(tmp_path / "med.pth", rnn_state([[1.0], [-1.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.5, -0.5]]))
    certify_fails(tmp_path, p, "--seq-len")


def test_absurd_size_refused_before_work(tmp_path):
    import torch

    big = torch.zeros(1).expand(5000, 5000)  # a 5000 x 5000 view of one float: a tiny file
    sd = {"rnn.weight_ih_l0": torch.zeros(1).expand(5000, 1), "rnn.weight_hh_l0": big,
          "linear.weight": torch.zeros(1).expand(2, 5000)}
    p = save_state(tmp_path / "big.pth", sd)
    assert os.path.getsize(p) < 100_000
    certify_fails(tmp_path, p, "larger than the supported maximum")


def test_unknown_task_and_usage_errors(tmp_path):
    code, out, err = run_cli("models/hand_2nd_argmax_2_2.pth", "--task", "median", "--samples", "0",
                             "--out", tmp_path / "x.json")
    # every task is offered; one that does not fit the model is refused by the loader, naming the file
    assert_clean_failure(code, out, err, "single output", "hand_2nd_argmax_2_2.pth")
    assert not (tmp_path / "x.json").exists()
    code, out, err = run_cli("sample", "models/hand_2nd_argmax_2_2.pth", "--task", "median")
    assert_clean_failure(code, out, err, "single output", "hand_2nd_argmax_2_2.pth")
    code, out, err = run_cli("sample", "models/hand_2nd_argmax_2_2.pth", "--samples", "many")
    assert_clean_failure(code, out, err, "samples")
    code, out, err = run_cli("inspect")
    assert code == 2 and "Traceback" not in err


def test_transformer_is_recognised(tmp_path):
    import torch

    n, d = 4, 3
    sd = {"embed.weight": torch.randn(n, d), "pos_embed.weight": torch.randn(n, d),
          "attns.0.in_proj_weight": torch.randn(3 * d, d), "attns.0.out_proj.weight": torch.randn(d, d),
          "attns.1.in_proj_weight": torch.randn(3 * d, d), "attns.1.out_proj.weight": torch.randn(d, d),
          "unembed.weight": torch.randn(n, d)}
    p = save_state(tmp_path / "cycle.pth", sd)
    code, out, err = run_cli("inspect", p, "--json")
    assert code == 0, err
    assert '"family": "transformer"' in out
    code, out, err = run_cli(p, "--samples", "0", "--out", tmp_path / "c.json")  # certified: tests/test_cycle.py
    assert code == 0, err
    assert (tmp_path / "c.json").exists()


def test_safetensors_accepted(tmp_path):
    from safetensors.torch import save_file

    p = tmp_path / "m.safetensors"
    save_file(rnn_state(*GOOD), str(p))
    code, out, err = run_cli(p, "--samples", "0", "--out", tmp_path / "m.cert.json", "--json")
    assert code == 0, err
    assert '"lower": "0"' in out
    code, out, err = run_cli("check", tmp_path / "m.cert.json", "--checkpoint", p)
    assert code == 0, out + err
