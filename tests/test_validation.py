"""Every shipped certificate's value agrees with float64 sampling within 5 standard errors (CI-sized;
scripts/validate.py does the same with 10^8 samples per model, recorded in docs/VALIDATION.md)."""

from __future__ import annotations

import hashlib
import math
import os
from fractions import Fraction

import pytest

from conftest import ROOT

PROOFS = os.path.join(ROOT, "proofs")


def _certificates():
    """Every certificate in proofs/ and its subfolders but the longest-cycle ones (exact enumerations of every input:
    tests/test_cycle.py), by path under proofs/."""
    from verifier.loading.rational import certificate_files

    return [os.path.relpath(p, PROOFS) for p in certificate_files(PROOFS)
            if not os.path.basename(p).startswith("longest_cycle_")]


@pytest.mark.parametrize("name", _certificates())
def test_certified_error_matches_float64_sampling(name):
    """A full certificate's value within 5 standard errors of the sampled error; an interval (anytime cells, boxes)
    within 5 standard errors of containing it."""
    from verifier.loading.loader import load
    from verifier.loading.rational import load_certificate
    from verifier.empirical.sample import sample_error

    cert = load_certificate(os.path.join(PROOFS, name))
    if cert["task"] == "median":  # the MSE against the samples' own standard error
        mlo, mhi = Fraction(cert["mse"]["lower"]), Fraction(cert["mse"]["upper"])
        lm = load(os.path.join(ROOT, "models", cert["checkpoint"]["name"]), task="median",
                  seq_len=cert["model"]["seq_len"])
        s = sample_error(lm.float_arrays(), lm.seq_len, "median", samples=1 << 18, dtype="float64",
                         seed=int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
        if cert.get("coverage") == "partial":  # an MSE interval: the point of it nearest the sample
            m = min(max(s.mse, float(mlo)), float(mhi))
        else:
            m = float((mlo + mhi) / 2)
        assert abs(s.mse - m) <= 5 * s.stderr, (name, float(mlo), float(mhi), s.mse, s.stderr)
        return
    lo, hi = float(Fraction(cert["error"]["lower"])), float(Fraction(cert["error"]["upper"]))
    lm = load(os.path.join(ROOT, "models", cert["checkpoint"]["name"]), task=cert["task"])
    n = 1 << 18
    s = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=n, dtype="float64",
                     seed=int(hashlib.sha256(os.path.basename(name).encode()).hexdigest()[:8], 16))
    p = min(max(s.error, lo), hi)  # the point of the certified interval nearest the sample
    se = math.sqrt(max(p * (1 - p), 1.0 / n) / n)
    assert abs(s.error - p) <= 5 * se, (name, lo, hi, s.error, se)
