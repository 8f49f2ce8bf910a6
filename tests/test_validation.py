"""Every shipped certificate's value agrees with float64 sampling within 5 standard errors (CI-sized;
scripts/validate.py does the same with 10^8 samples per model, recorded in docs/VALIDATION.md)."""

from __future__ import annotations

import hashlib
import json
import math
import os
from fractions import Fraction

import pytest

from conftest import ROOT

PROOFS = os.path.join(ROOT, "proofs")


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(PROOFS) if f.endswith(".cert.json")
                                        and not f.startswith("longest_cycle_")))  # exact: tests/test_cycle.py
def test_certified_error_matches_float64_sampling(name):
    from verifier.loader import load
    from verifier.sample import sample_error

    with open(os.path.join(PROOFS, name)) as fh:
        cert = json.load(fh)
    if cert["task"] == "median":  # the MSE against the samples' own standard error
        m = float((Fraction(cert["mse"]["lower"]) + Fraction(cert["mse"]["upper"])) / 2)
        lm = load(os.path.join(ROOT, "models", cert["checkpoint"]["name"]), task="median",
                  seq_len=cert["model"]["seq_len"])
        s = sample_error(lm.float_arrays(), lm.seq_len, "median", samples=1 << 18, dtype="float64",
                         seed=int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
        assert abs(s.mse - m) <= 5 * s.stderr, (name, m, s.mse, s.stderr)
        return
    p = float((Fraction(cert["error"]["lower"]) + Fraction(cert["error"]["upper"])) / 2)
    lm = load(os.path.join(ROOT, "models", cert["checkpoint"]["name"]), task=cert["task"])
    n = 1 << 18
    s = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=n, dtype="float64",
                     seed=int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
    se = math.sqrt(max(p * (1 - p), 1.0 / n) / n)
    assert abs(s.error - p) <= 5 * se, (name, p, s.error, se)
