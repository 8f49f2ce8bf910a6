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


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(PROOFS) if f.endswith(".cert.json")))
def test_certified_error_matches_float64_sampling(name):
    from verifier.loader import load
    from verifier.sample import sample_error

    with open(os.path.join(PROOFS, name)) as fh:
        cert = json.load(fh)
    p = float((Fraction(cert["error"]["lower"]) + Fraction(cert["error"]["upper"])) / 2)
    lm = load(os.path.join(ROOT, "models", cert["checkpoint"]["name"]), task=cert["task"])
    n = 1 << 18
    s = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=n, dtype="float64",
                     seed=int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
    se = math.sqrt(max(p * (1 - p), 1.0 / n) / n)
    assert abs(s.error - p) <= 5 * se, (name, p, s.error, se)
