"""A short slice of the fuzz campaign (scripts/fuzz_campaign.py; the long run is in docs/VALIDATION.md):
random and degenerate models are certified, re-checked, compared with exact evaluation at rational points
and with float64 sampling (5 standard errors)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))

import fuzz_campaign  # noqa: E402


def test_a_slice_of_random_models_has_no_crash_rejection_or_disagreement():
    res = fuzz_campaign.run(models=8, seed=20261128, max_n=3, log=lambda s: None)
    assert [p for p in res["problems"] if p["status"] != "explained"] == [], res["problems"]
    assert res["ok"] + res["skipped"] + res["explained"] == res["models"] == 8
    assert res["points_checked"] > 0
