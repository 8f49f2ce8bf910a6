"""Ctrl-C leaves nothing partial: exit 130, no certificate, no checkpoint, no temporary file."""

from __future__ import annotations

import os

from conftest import ROOT


def test_ctrl_c_during_certify_writes_nothing(tmp_path, monkeypatch, capsys):
    import verifier.cones as cones
    from verifier.cli import main

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cones, "traverse", boom)
    out = tmp_path / "c.cert.json"
    code = main([os.path.join(ROOT, "models", "2nd_argmax_4_3.pth"), "--out", str(out), "--samples", "0"])
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() and os.listdir(tmp_path) == []


def test_ctrl_c_during_training_writes_nothing(tmp_path, monkeypatch, capsys):
    import verifier.train as train
    from verifier.cli import main

    real = train.train_seed
    calls = []

    def second_seed_interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(train, "train_seed", second_seed_interrupted)
    out = tmp_path / "models"
    code = main(["train", "--task", "2nd_argmax", "--hidden", "2", "--seq-len", "2", "--seeds", "0-1",
                 "--sequences", "2^12", "--batch", "256", "--out", str(out), "--quiet"])
    assert code == 130
    assert not out.exists() or [f for f in os.listdir(out) if not f.startswith(".")] == []
