"""Training: a tiny end-to-end job, determinism, and the shipped manifest."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from conftest import ROOT, run_cli


def test_tiny_training_job_end_to_end(tmp_path):
    out = tmp_path / "models"
    args = ("train", "--task", "2nd_argmax", "--hidden", "3", "--seq-len", "2", "--seeds", "0-1",
            "--sequences", "2^16", "--batch", "256", "--eval-samples", "2^12", "--out", out, "--quiet")
    code, stdout, err = run_cli(*args)
    assert code == 0, err
    ck = out / "2nd_argmax_3_2.pth"
    assert ck.exists()
    index = json.loads((out / "index.json").read_text())
    (entry,) = index["models"]
    assert entry["file"] == "2nd_argmax_3_2.pth" and entry["seed"] in (0, 1) and entry["sequences"] == 2 ** 16
    assert entry["sha256"] == hashlib.sha256(ck.read_bytes()).hexdigest()
    assert "--sequences 2^16" in entry["command"] and "--seeds 0-1" in entry["command"]
    assert (out / "README.md").read_text().count("2nd_argmax_3_2.pth") == 1
    # the checkpoint is AlgZoo format and certifiable
    code, _, err = run_cli(ck, "--samples", "0", "--out", tmp_path / "c.json")
    assert code == 0, err
    # deterministic: the same command reproduces the same bytes
    out2 = tmp_path / "again"
    code, _, err = run_cli(*args[:-3], "--out", out2, "--quiet")
    assert code == 0, err
    assert (out2 / "2nd_argmax_3_2.pth").read_bytes() == ck.read_bytes()


def test_schedule_warmup_and_floor():
    from verifier.empirical.train import lr_factor

    steps, warm = 1024, 16
    assert lr_factor(0, steps, warm) == pytest.approx(1 / 16)
    assert lr_factor(15, steps, warm) == pytest.approx(1.0)
    assert lr_factor(steps // 4, steps, warm) == pytest.approx(0.1)
    assert lr_factor(steps - 1, steps, warm) == pytest.approx(0.01)


def test_manifest_schema_and_hashes():
    import jsonschema

    from verifier.empirical.zoo import INDEX_SCHEMA, render_readme

    with open(os.path.join(ROOT, "models", "index.json")) as fh:
        index = json.load(fh)
    jsonschema.validate(index, INDEX_SCHEMA)
    files = {m["file"] for m in index["models"]}
    assert len(files) == len(index["models"])
    for m in index["models"]:
        path = os.path.join(ROOT, "models", m["file"])
        assert os.path.exists(path), m["file"]
        with open(path, "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == m["sha256"], m["file"]
        if m["task"] == "longest_cycle":  # every one of the n^n inputs evaluated, not sampled
            assert m["sampled"]["samples"] == m["seq_len"] ** m["seq_len"]
        else:
            assert m["sampled"]["samples"] >= 2 ** 24
    shipped = {f for f in os.listdir(os.path.join(ROOT, "models")) if f.endswith((".pth", ".json"))
               and f not in ("index.json", "uncertified.json")}
    assert shipped == files
    with open(os.path.join(ROOT, "models", "README.md")) as fh:
        assert fh.read() == render_readme(index), "models/README.md is stale: python scripts/render_models_readme.py"
