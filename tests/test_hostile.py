"""Hostile files (issue 12, item 5): every entry point that reads a user file refuses hostile input with one
line, exit 2, no traceback and nothing written, in bounded time and memory.  The files are built by
scripts/hostile_files.py (which also measures time and peak memory for docs/VALIDATION.md).

CLI runs that could hang or allocate much if a guard regressed (special files, 1 GiB files, the zip bomb) run
as subprocesses with a timeout and a memory check; the others run in this process (fast: torch imports once)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import hostile_files as hf  # noqa: E402

from verifier.face.cli import main  # noqa: E402

MAX_CPU_SECONDS = 20.0  # CPU seconds per run (not wall-clock: load does not change them); each uses well under a
# second here (docs/VALIDATION.md, "Hostile files")
HANG_SECONDS = 300  # a run still going after this wall-clock time is killed (exit -9): a hang fails the test
MAX_RSS_MIB = 300  # a kernel-only run peaks near 55 MiB, one that imports torch near 230 MiB


def refused(code, out, err, needle, exit_code=2):
    """Exactly one diagnostic line (stderr; `check` reports on stdout), naming the problem; no traceback."""
    text = err if err.strip() else out
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert code == exit_code, (code, out, err)
    assert len(lines) == 1, text
    assert "Traceback" not in out + err
    assert needle.lower() in lines[0].lower(), lines[0]
    return lines[0]


def sub(*args, needle, exit_code=2):
    """Run the CLI in a subprocess: refused within MAX_CPU_SECONDS of CPU time and MAX_RSS_MIB."""
    code, out, err, secs, rss = hf.run(args, timeout=HANG_SECONDS, cpu=True)
    assert secs < MAX_CPU_SECONDS, (secs, args)
    assert rss < MAX_RSS_MIB, (rss, args)
    return refused(code, out, err, needle, exit_code)


def here(capsys, *args, needle, exit_code=2):
    """Run the CLI in this process (for runs that import torch)."""
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return refused(code, cap.out, cap.err, needle, exit_code)


def no_temp_files(folder):
    assert [f for f in os.listdir(folder) if f.startswith(".tmp")] == []


def kernel_refuses(tmp_path, ckpt, needle, capsys=None):
    """check --checkpoint: the certificate carries the file's digest, so the kernel reaches its tensors (in a
    subprocess, or in this process when capsys is given)."""
    cert = hf.certificate_for(str(tmp_path / "for.cert.json"), ckpt)
    if capsys is None:
        sub("check", cert, "--checkpoint", ckpt, needle=needle)
    else:
        here(capsys, "check", cert, "--checkpoint", ckpt, needle=needle)


# 1. ------------------------------------------------------------------------------------------------------
def test_zip_bomb(tmp_path):
    bomb = hf.zip_bomb(str(tmp_path / "bomb.pth"), crc=False)  # the CRC is never reached: sizes refuse first
    assert os.path.getsize(bomb) < 4 << 20
    out = tmp_path / "bomb.cert.json"
    sub(bomb, "--out", out, "--samples", "0", needle="before decompressing")
    assert not out.exists()
    no_temp_files(tmp_path)
    sub("inspect", bomb, needle="2147483648 bytes")
    kernel_refuses(tmp_path, bomb, "before decompressing")


def test_zip_with_too_many_members(tmp_path, capsys):
    many = hf.zip_many_members(str(tmp_path / "many.pth"), 5000)
    here(capsys, "inspect", many, needle="members")
    kernel_refuses(tmp_path, many, "members", capsys)


# 2. ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, loader_needle, kernel_needle", [
    (hf.oversized_view, "reaches beyond its stored data", "more than 1048576 numbers"),
    (hf.expanded_view, "larger than the supported maximum", "more than 1048576 numbers"),
    (hf.storage_bigger_than_file, "record size", "declares 17179869184 numbers"),
])
def test_oversized_tensor(tmp_path, capsys, build, loader_needle, kernel_needle):
    p = build(str(tmp_path / "over.pth"))
    assert os.path.getsize(p) < 10_000
    here(capsys, "inspect", p, needle=loader_needle)
    kernel_refuses(tmp_path, p, kernel_needle, capsys)


# 3. ------------------------------------------------------------------------------------------------------
def test_deeply_nested_pickle(tmp_path, capsys):
    p = hf.deep_pickle(str(tmp_path / "deep.pth"))
    here(capsys, "inspect", p, needle="not an AlgZoo RNN checkpoint")
    kernel_refuses(tmp_path, p, "not a state_dict of tensors", capsys)


# 4. ------------------------------------------------------------------------------------------------------
def test_cyclic_pickle(tmp_path, capsys):
    p = hf.cyclic_pickle(str(tmp_path / "cyclic.pth"))
    here(capsys, "inspect", p, needle="not an AlgZoo RNN checkpoint")
    kernel_refuses(tmp_path, p, "not a state_dict of tensors", capsys)


# 5. ------------------------------------------------------------------------------------------------------
def test_symlinks_and_special_files(tmp_path, capsys):
    t = tmp_path
    os.symlink("/dev/zero", t / "zero.pth")
    os.symlink("/dev/zero", t / "zero.cert.json")
    os.mkfifo(t / "fifo.pth")
    os.mkfifo(t / "fifo.cert.json")
    (t / "dir").mkdir()
    os.symlink(t / "dir", t / "dir.pth")
    os.symlink(t / "nowhere", t / "dangling.pth")
    os.symlink(t / "nowhere", t / "dangling.cert.json")
    os.symlink(t / "b", t / "a")
    os.symlink(t / "a", t / "b")
    # special files (a regression would hang or read forever): subprocesses with a timeout
    sub("inspect", t / "zero.pth", needle="character device")
    sub("check", t / "zero.cert.json", needle="character device")
    sub("check", hf.GOOD_CERT, "--checkpoint", t / "fifo.pth", needle="FIFO")
    sub("inspect", t / "fifo.pth", needle="FIFO")
    sub("check", t / "fifo.cert.json", needle="FIFO")
    here(capsys, "check", hf.GOOD_CERT, "--checkpoint", t / "zero.pth", needle="character device")
    here(capsys, "inspect", t / "dir.pth", needle="directory")
    here(capsys, "inspect", t / "dangling.pth", needle="dangling symbolic link")
    here(capsys, "check", t / "dangling.cert.json", needle="dangling symbolic link")
    here(capsys, "inspect", t / "a", needle="symbolic link loop")
    here(capsys, "check", t / "a", needle="symbolic link loop")
    here(capsys, "check", hf.GOOD_CERT, "--checkpoint", t / "a", needle="symbolic link loop")
    # the policy: a symbolic link to a regular file is read like the file
    os.symlink(hf.GOOD_CKPT, t / "good.pth")
    os.symlink(hf.GOOD_CERT, t / "good.cert.json")
    assert main(["inspect", str(t / "good.pth"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hidden_size"] == 4
    assert main(["check", str(t / "good.cert.json"), "--checkpoint", str(t / "good.pth")]) == 0
    assert capsys.readouterr().out.startswith("ACCEPTED")


def test_output_symlink_or_directory_refused(tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    os.symlink(victim, tmp_path / "link.cert.json")
    here(capsys, hf.GOOD_CKPT, "--out", tmp_path / "link.cert.json", "--samples", "0", needle="symbolic link")
    assert victim.read_text() == "keep me\n" and os.path.islink(tmp_path / "link.cert.json")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.cert.json")
    here(capsys, hf.GOOD_CKPT, "--out", tmp_path / "dangling.cert.json", "--samples", "0", needle="symbolic link")
    assert not os.path.exists(tmp_path / "nowhere")
    (tmp_path / "dir.cert.json").mkdir()
    here(capsys, hf.GOOD_CKPT, "--out", tmp_path / "dir.cert.json", "--samples", "0", needle="directory")
    assert os.listdir(tmp_path / "dir.cert.json") == []
    no_temp_files(tmp_path)


def test_write_atomic_refuses_links_and_leaves_nothing(tmp_path):
    from verifier.errors import InputError
    from verifier.loading.rational import write_atomic

    os.symlink(tmp_path / "target", tmp_path / "link")
    with pytest.raises(InputError, match="symbolic link"):
        write_atomic(str(tmp_path / "link"), "x")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="cannot write"):
        write_atomic(str(tmp_path / "file" / "below"), "x")  # a file where a folder should be
    assert sorted(os.listdir(tmp_path)) == ["file", "link"]


# 6. ------------------------------------------------------------------------------------------------------
def test_non_utf8_json(tmp_path, capsys):
    text = open(hf.GOOD_CERT, "rb").read()
    hf.write(tmp_path / "utf16.cert.json", b"\xff\xfe" + text.decode().encode("utf-16-le"))
    here(capsys, "check", tmp_path / "utf16.cert.json", needle="not UTF-8 text: byte 0xff at offset 0")
    hf.write(tmp_path / "latin1.cert.json", text.replace(b'"generator":"verifier', b'"generator":"v\xe9rifier'))
    here(capsys, "check", tmp_path / "latin1.cert.json", needle="byte 0xe9")
    hf.write(tmp_path / "w.json", hf.weights_json(note="caf\xe9").encode("latin-1"))
    here(capsys, "inspect", tmp_path / "w.json", needle="not UTF-8 text")


# 7. ------------------------------------------------------------------------------------------------------
def test_one_gib_files_refused_before_reading(tmp_path):
    cert = hf.sparse(str(tmp_path / "huge.cert.json"), hf.GIB, b"{")
    pth = hf.sparse(str(tmp_path / "huge.pth"), hf.GIB, b"PK")
    weights = hf.sparse(str(tmp_path / "huge.json"), hf.GIB, b"{")
    sub("check", cert, needle="1073741824 bytes, more than the limit for a certificate")
    sub("inspect", pth, needle="larger than any supported model")
    sub("check", hf.GOOD_CERT, "--checkpoint", pth, needle="more than the limit for a checkpoint file")
    sub("inspect", weights, needle="larger than a verifier-weights JSON file may be")
    out = tmp_path / "x.cert.json"
    sub(pth, "--out", out, "--samples", "0", needle="refused before reading")
    assert not out.exists()


# 8. ------------------------------------------------------------------------------------------------------
def test_million_cells_and_deep_json(tmp_path, capsys):
    cells = hf.many_cells(str(tmp_path / "cells.cert.json"))  # 3 MB: under the size limit, over the cell limit
    here(capsys, "check", cells, needle="lists 1000000 cells, more than this kernel reads (500000)")
    here(capsys, "check", cells, "--max-certificate-mb", "1", needle="more than the limit for a certificate (1048576 bytes)")
    hf.write(tmp_path / "deep.cert.json", "[" * 100_000)
    here(capsys, "check", tmp_path / "deep.cert.json", needle="nested too deeply")
    hf.write(tmp_path / "deep.json", '{"format": "verifier-weights", "W_hi": ' + "[" * 100_000)
    here(capsys, "inspect", tmp_path / "deep.json", needle="nested too deeply")


def test_numbers_nan_and_duplicates(tmp_path, capsys):
    text = open(hf.GOOD_CERT, "rb").read()
    here(capsys, "check", hf.huge_digits_certificate(str(tmp_path / "d.cert.json")), needle="10000000 digits")
    hf.write(tmp_path / "lit.cert.json", '{"format": "verifier-certificate", "version": ' + "9" * 10 ** 6 + "}")
    here(capsys, "check", tmp_path / "lit.cert.json", needle="1000000 digits")
    hf.write(tmp_path / "d.json", hf.weights_json(W_hi=[["9" * 10 ** 6], ["1"]]))
    here(capsys, "inspect", tmp_path / "d.json", needle="1000000 digits")
    hf.write(tmp_path / "nan.cert.json", text.replace(b'"regions":70', b'"regions":NaN'))
    here(capsys, "check", tmp_path / "nan.cert.json", needle="[json] JSON contains NaN", exit_code=1)  # a verdict
    hf.write(tmp_path / "inf.json", hf.weights_json().replace('"seq_len": 2', '"seq_len": Infinity'))
    here(capsys, "inspect", tmp_path / "inf.json", needle="Infinity")
    hf.write(tmp_path / "dup.json", hf.weights_json()[:-1] + ', "W_hi": [["1"], ["1"]]}')
    here(capsys, "inspect", tmp_path / "dup.json", needle="duplicate key")


def test_messages_stay_one_printable_line(tmp_path, capsys):
    """A key with a newline and an escape sequence in a hostile checkpoint: still one line, escaped."""
    p = hf.pth(str(tmp_path / "keys.pth"), hf.tensor_pickle(hf.rnn_tensors(**{"evil\n\x1b[2Jkey": ("0", 2, 0, (2, 1),
                                                                                                        (1, 1))})),
               hf.RECORDS)
    line = here(capsys, "inspect", p, needle="unexpected")
    assert "\x1b" not in line and "\\n" in line
