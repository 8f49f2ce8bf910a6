"""Shared helpers: building checkpoints and running the CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from fractions import Fraction

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def save_state(path, sd) -> str:
    """torch.save a state_dict of tensors to path."""
    import torch

    buf = io.BytesIO()
    torch.save(sd, buf)
    with open(path, "wb") as fh:
        fh.write(buf.getvalue())
    return str(path)


def rnn_state(W_hi, W_hh, W_oh, dtype="float32"):
    import torch

    dt = getattr(torch, dtype)
    return {"rnn.weight_ih_l0": torch.tensor(W_hi, dtype=torch.float64).to(dt),
            "rnn.weight_hh_l0": torch.tensor(W_hh, dtype=torch.float64).to(dt),
            "linear.weight": torch.tensor(W_oh, dtype=torch.float64).to(dt)}


class TickClock:
    """A stand-in for the `time` module whose monotonic clock advances one second per look: a deadline or a
    period then passes after a fixed number of looks, whatever the machine's speed or load (the rest is the real
    `time`).  Tests patch it into the module under test (monkeypatch.setattr(module, "time", TickClock()))."""

    def __init__(self):
        import time

        self.time, self.now = time, 0.0

    def monotonic(self):
        self.now += 1.0
        return self.now

    def __getattr__(self, name):
        return getattr(self.time, name)


def proof_path(*parts) -> str:
    """The path of a shipped certificate under proofs/, given its plain name (a large one is stored as .xz)."""
    path = os.path.join(ROOT, "proofs", *parts)
    for suffix in ("", ".xz", ".gz"):
        if os.path.exists(path + suffix):
            return path + suffix
    raise FileNotFoundError(path)


def load_proof(*parts):
    """A shipped certificate's document (plain JSON, however it is stored)."""
    from verifier.loading.rational import load_certificate

    return load_certificate(proof_path(*parts))


def run_cli(*args, cwd=None, env=None):
    """Run `python -m verifier ARGS` in a subprocess; return (code, stdout, stderr)."""
    e = dict(os.environ)
    e["PYTHONPATH"] = ROOT + os.pathsep + e.get("PYTHONPATH", "")
    if env:
        e.update(env)
    p = subprocess.run([sys.executable, "-m", "verifier", *map(str, args)], capture_output=True, text=True,
                       cwd=cwd or ROOT, env=e, timeout=600)
    return p.returncode, p.stdout, p.stderr


def linear_readout_model(a: int, b: int):
    """A d = 4, n = 2 model whose logits are exactly (-(a x0 + b x1), a x0 + b x1) (see test_disc)."""
    from verifier.loading.model import RNN

    W_hi = [[1], [-1], [b], [-b]]
    W_hh = [[0, 0, 0, 0], [0, 0, 0, 0], [a, -a, 0, 0], [-a, a, 0, 0]]
    W_oh = [[0, 0, -1, 1], [0, 0, 1, -1]]
    return RNN.make(W_hi, W_hh, W_oh, seq_len=2)


def linear_logits_model(A):
    """An n = 3 model whose logits are exactly A x (A an n x 3 integer matrix), via carry neurons.

    Neurons (P, N) read the current input (P - N = x_t); (Q, M) carry the previous input; (R, S) the one
    before: at the last step P - N = x_2, Q - M = x_1, R - S = x_0.
    """
    from verifier.loading.model import RNN

    W_hi = [[1], [-1], [0], [0], [0], [0]]
    W_hh = [[0] * 6, [0] * 6,
            [1, -1, 0, 0, 0, 0], [-1, 1, 0, 0, 0, 0],
            [0, 0, 1, -1, 0, 0], [0, 0, -1, 1, 0, 0]]
    W_oh = [[a2, -a2, a1, -a1, a0, -a0] for a0, a1, a2 in A]
    return RNN.make(W_hi, W_hh, W_oh, seq_len=3)


@pytest.fixture
def tmpdir_path(tmp_path):
    return tmp_path


F = Fraction
