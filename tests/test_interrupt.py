"""Ctrl-C leaves nothing partial: exit 130, no certificate, no checkpoint, no temporary file."""

from __future__ import annotations

import os

from conftest import ROOT


def test_ctrl_c_during_certify_writes_nothing(tmp_path, monkeypatch, capsys):
    import verifier.cells.cones as cones
    from verifier.face.cli import main

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cones, "traverse", boom)
    out = tmp_path / "c.cert.json"
    code = main([os.path.join(ROOT, "models", "2nd_argmax_4_3.pth"), "--out", str(out), "--samples", "0"])
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() and os.listdir(tmp_path) == []


def test_ctrl_c_during_training_writes_nothing(tmp_path, monkeypatch, capsys):
    import verifier.empirical.train as train
    from verifier.face.cli import main

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


def test_an_exception_in_the_orthant_integrand_is_raised_not_swallowed(monkeypatch):
    """acb.integral swallows an exception raised in its Python callback and returns a value computed without
    it (measured: a Ctrl-C during the integrals of M(5,4) on one worker was lost and the run finished).  The
    kernel's integrand keeps the exception and raises it once acb.integral returns; the value is never used."""
    import flint
    import pytest

    from verifier.kernel.orthant import cone_bounds

    class Boom:
        @property
        def imag(self):
            raise KeyboardInterrupt

    real_integral = flint.acb.integral

    def integral(f, a, b, **kw):
        calls = []

        def g(t, analytic):  # inside acb.integral, the integrand is interrupted once, as a signal would
            if not calls:
                calls.append(1)
                f(Boom(), False)
            return f(t, analytic)

        return real_integral(g, a, b, **kw)

    monkeypatch.setattr(flint.acb, "integral", integral)
    rays = ((1, 0, 0, 0), (1, 1, 0, 0), (1, 1, 1, 0), (1, 1, 1, 1))
    with pytest.raises(KeyboardInterrupt):
        cone_bounds(rays, 80)
