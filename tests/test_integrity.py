"""What is shipped is checked: `check DIR` walks subfolders, `check --models` flags every model without a
certificate (or excused by models/uncertified.json, a list kept exact), compressed certificates are read under
limits that stop a decompression bomb, and certify compresses what is large."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import shutil
import sys

import pytest

from conftest import ROOT, run_cli

PROOFS = os.path.join(ROOT, "proofs")
MODELS = os.path.join(ROOT, "models")
SMALL = ("2nd_argmax_2_2", "2nd_argmax_2_3", "hand_2nd_argmax_2_2")  # certificates of a few kB


def _layout(tmp_path, names=SMALL, sub=("2nd_argmax_2_3",)):
    """A proofs folder (names in `sub` placed in proofs/sub/) and a models folder holding their checkpoints."""
    proofs, models = tmp_path / "proofs", tmp_path / "models"
    (proofs / "sub").mkdir(parents=True)
    models.mkdir()
    for name in names:
        shutil.copy(os.path.join(PROOFS, name + ".cert.json"),
                    proofs / ("sub" if name in sub else "") / (name + ".cert.json"))
        shutil.copy(os.path.join(MODELS, name + ".pth"), models / (name + ".pth"))
    return proofs, models


def test_check_walks_subfolders_in_a_stable_order(tmp_path):
    proofs, models = _layout(tmp_path)
    code, out, err = run_cli("check", proofs, "--models", models)
    assert code == 0, out + err
    lines = [ln for ln in out.splitlines() if ln.startswith("ACCEPTED")]
    named = [ln.split()[1] for ln in lines]
    assert named == [str(proofs / "2nd_argmax_2_2.cert.json"), str(proofs / "hand_2nd_argmax_2_2.cert.json"),
                     str(proofs / "sub" / "2nd_argmax_2_3.cert.json")]  # folder-relative parts, sorted


def test_a_flipped_cell_in_a_subfolder_is_rejected_and_named(tmp_path):
    proofs, models = _layout(tmp_path)
    path = proofs / "sub" / "2nd_argmax_2_3.cert.json"
    doc = json.loads(path.read_text())
    doc["cells"][0]["wrong"] = not doc["cells"][0]["wrong"]
    path.write_text(json.dumps(doc))
    code, out, err = run_cli("check", proofs, "--models", models)
    assert code == 1
    assert f"REJECTED  {path}" in out


def test_a_deleted_certificate_is_reported_missing(tmp_path):
    proofs, models = _layout(tmp_path)
    os.remove(proofs / "sub" / "2nd_argmax_2_3.cert.json")
    code, out, err = run_cli("check", proofs, "--models", models)
    assert code == 1
    assert f"MISSING   {models / '2nd_argmax_2_3.pth'}" in out
    code, out, err = run_cli("check", proofs, "--models", models, "--json")
    rep = json.loads(out)
    assert not rep["all_accepted"]
    assert [r["checkpoint"] for r in rep["results"] if r["rule"] == "missing"] == [str(models / "2nd_argmax_2_3.pth")]


def test_a_model_of_any_family_and_seq_len_counts(tmp_path):
    """A median model at seq_len 5 and a longest-cycle model at seq_len 6 have no certificate here: both are
    MISSING (the old rule asked only for some seq_lens)."""
    proofs, models = _layout(tmp_path)
    for name in ("median_2_5.pth", "longest_cycle_2_6.pth"):
        shutil.copy(os.path.join(MODELS, name), models / name)
    code, out, err = run_cli("check", proofs, "--models", models)
    assert code == 1
    assert f"MISSING   {models / 'median_2_5.pth'}" in out and f"MISSING   {models / 'longest_cycle_2_6.pth'}" in out


def test_the_list_of_uncertified_models_excuses_and_must_be_exact(tmp_path):
    proofs, models = _layout(tmp_path)
    shutil.copy(os.path.join(MODELS, "median_2_5.pth"), models / "median_2_5.pth")
    listed = models / "uncertified.json"
    listed.write_text(json.dumps({"models": {"median_2_5.pth": "no MSE certificate at seq_len 5 yet"}}))
    code, out, err = run_cli("check", proofs, "--models", models)
    assert code == 0, out + err
    assert f"EXCUSED   {models / 'median_2_5.pth'}  no certificate: no MSE certificate at seq_len 5 yet" in out
    # a listed model that has a certificate, and a listed file that is not there: the list is not exact
    listed.write_text(json.dumps({"models": {"median_2_5.pth": "x", "2nd_argmax_2_2.pth": "y", "gone.pth": "z"}}))
    code, out, err = run_cli("check", proofs, "--models", models)
    assert code == 1
    assert "INEXACT" in out and "2nd_argmax_2_2.pth is listed as uncertified but has a certificate" in out
    assert "gone.pth is listed as uncertified but is not a model file" in out
    listed.write_text('{"models": {"median_2_5.pth": ""}}')  # a reason is required
    code, out, err = run_cli("check", proofs, "--models", models)
    assert code == 2 and "uncertified.json" in err and "Traceback" not in err


def test_every_shipped_model_has_a_certificate_or_is_listed_with_its_reason():
    """The exactness of models/uncertified.json for what is shipped (CI's `check proofs/ --models models/` says
    the same after checking every certificate; this reads only the names the certificates give)."""
    import re

    from verifier.face.check import models_without_certificates
    from verifier.kernel.read import certificate_bytes
    from verifier.loading.rational import certificate_files

    names = set()
    for f in certificate_files(PROOFS):  # canonical compact JSON: the checkpoint's name is found without parsing
        found = re.findall(rb'"checkpoint":\{"name":"([^"]+)"', certificate_bytes(f))
        assert len(found) == 1, f
        names.add(found[0].decode())
    missing, excused, inexact = models_without_certificates(MODELS, names)
    assert missing == [] and inexact == []
    assert all(reason.strip() for _, reason in excused)


@pytest.mark.parametrize("suffix,compress", [(".gz", lambda b: gzip.compress(b, mtime=0)),
                                             (".xz", lambda b: lzma.compress(b))])
def test_compressed_certificates_are_checked_like_plain_ones(tmp_path, suffix, compress):
    plain = os.path.join(PROOFS, "2nd_argmax_2_3.cert.json")
    with open(plain, "rb") as fh:
        text = fh.read()
    packed = tmp_path / ("2nd_argmax_2_3.cert.json" + suffix)
    packed.write_bytes(compress(text))
    code, out, err = run_cli("check", packed, "--checkpoint", os.path.join(MODELS, "2nd_argmax_2_3.pth"))
    assert code == 0 and "ACCEPTED" in out, out + err
    doc = json.loads(text)
    doc["cells"][0]["wrong"] = not doc["cells"][0]["wrong"]
    bad = tmp_path / ("bad.cert.json" + suffix)
    bad.write_bytes(compress(json.dumps(doc).encode()))
    code, out, err = run_cli("check", bad)
    assert code == 1 and "REJECTED" in out and "[wrong]" in out
    truncated = tmp_path / ("cut.cert.json" + suffix)
    truncated.write_bytes(compress(text)[:-20])
    code, out, err = run_cli("check", truncated)
    assert code == 2 and "corrupt" in out + err and "Traceback" not in out + err


def test_a_decompression_bomb_is_refused_in_bounded_memory(tmp_path):
    """1 GiB of spaces compresses to about 1 MB (gzip) or 150 kB (xz): each is refused after decompressing at most
    100 times its size, in a subprocess whose peak memory stays far below the bomb's size."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import hostile_files as hf

    text_size = 1 << 30
    for suffix in (".gz", ".xz"):
        bomb = tmp_path / ("bomb.cert.json" + suffix)
        if suffix == ".gz":
            with gzip.open(bomb, "wb", compresslevel=9) as fh:
                fh.write(b"{")
                chunk = b" " * (1 << 24)
                for _ in range(text_size // len(chunk)):
                    fh.write(chunk)
        else:
            comp = lzma.LZMACompressor(preset=1)
            with open(bomb, "wb") as fh:
                fh.write(comp.compress(b"{"))
                chunk = b" " * (1 << 24)
                for _ in range(text_size // len(chunk)):
                    fh.write(comp.compress(chunk))
                fh.write(comp.flush())
        code, out, err, secs, rss = hf.run(["check", str(bomb)], timeout=300, cpu=True)
        assert code == 2, out + err
        assert "decompresses to more than 100 times" in out + err and "Traceback" not in out + err
        assert rss < 300  # MiB: the text it would expand to is 1 GiB


def test_the_text_limit_applies_after_decompression(tmp_path):
    with open(os.path.join(PROOFS, "2nd_argmax_2_3.cert.json"), "rb") as fh:
        text = fh.read()
    packed = tmp_path / "c.cert.json.xz"
    big = json.loads(text)
    big["padding_for_the_test"] = "x" * (2 << 20)  # 2 MiB of text, compressing to a few kB
    packed.write_bytes(lzma.compress(json.dumps(big).encode()))
    code, out, err = run_cli("check", packed, "--max-certificate-mb", "1")
    assert code == 2 and ("more than the limit for a certificate (1048576 bytes)" in out + err
                          or "more than 100 times" in out + err)


def test_certify_compresses_a_large_certificate_by_default(tmp_path, monkeypatch, capsys):
    """Without --out, a certificate of more text than COMPRESS_ABOVE is written as .cert.json.xz (here the limit is
    lowered to a few bytes); its text is the plain certificate's, byte for byte, and `check` accepts it."""
    import verifier.loading.rational
    from verifier.face.cli import main

    ck = tmp_path / "m.pth"
    shutil.copy(os.path.join(MODELS, "2nd_argmax_2_2.pth"), ck)
    monkeypatch.setattr(verifier.loading.rational, "COMPRESS_ABOVE", 100)
    assert main([str(ck), "--samples", "0"]) == 0
    assert (tmp_path / "m.cert.json.xz").exists() and not (tmp_path / "m.cert.json").exists()
    assert main([str(ck), "--samples", "0", "--out", str(tmp_path / "plain.cert.json")]) == 0  # --out: as named
    assert main([str(ck), "--samples", "0", "--out", str(tmp_path / "g.cert.json.gz")]) == 0
    capsys.readouterr()
    plain = (tmp_path / "plain.cert.json").read_bytes()
    assert lzma.decompress((tmp_path / "m.cert.json.xz").read_bytes()) == plain
    assert gzip.decompress((tmp_path / "g.cert.json.gz").read_bytes()) == plain
    assert main(["check", str(tmp_path / "m.cert.json.xz"), str(tmp_path / "g.cert.json.gz")]) == 0
