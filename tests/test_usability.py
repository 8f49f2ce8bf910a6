"""What a new user trips over (issue 14): a silently assumed task, long output lines, limits and Ctrl-C in
every phase, `check --models` without an index, output paths, plain messages, the float helper."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction

import pytest

from conftest import ROOT, linear_logits_model, run_cli

MODELS = os.path.join(ROOT, "models")


@pytest.fixture(scope="module")
def argmax_ckpt(tmp_path_factory):
    """A checkpoint 'trained by other code' for argmax (logits = x exactly), which stores no task."""
    from verifier.loading.loader import state_dict_bytes

    path = tmp_path_factory.mktemp("other") / "mystery_model.pth"
    path.write_bytes(state_dict_bytes(linear_logits_model([[1, 0, 0], [0, 1, 0], [0, 0, 1]])))
    return str(path)


def test_assumed_task_is_said_and_a_better_task_is_named(argmax_ckpt, tmp_path):
    out = tmp_path / "c.cert.json"
    code, so, se = run_cli(argmax_ckpt, "--out", out, "--samples", "0")
    assert code == 0, se
    assert "2nd_argmax (assumed" in so
    assert "--task argmax" in se and "warning" in se
    code, so, se = run_cli(argmax_ckpt, "--out", out, "--samples", "0", "--json")
    rep = json.loads(so)
    assert any("--task argmax" in w for w in rep["warnings"])
    code, so, se = run_cli("inspect", argmax_ckpt)
    assert "2nd_argmax (assumed" in so
    code, so, se = run_cli("sample", argmax_ckpt, "--samples", "20000")
    assert "--task argmax" in se
    # with the right task: no warning, and `check` shows the task on its line
    code, so, se = run_cli(argmax_ckpt, "--task", "argmax", "--out", out, "--samples", "0")
    assert code == 0 and "warning" not in se and "(assumed" not in so
    code, so, se = run_cli("check", out)
    assert code == 0 and "ACCEPTED" in so and " argmax d=6 n=3" in so


def test_human_output_lines_stay_short(tmp_path):
    """d = 8, n = 3: the closed form is ~200,000 characters; on screen it is summarised."""
    out = tmp_path / "m83.cert.json"
    code, so, se = run_cli(os.path.join(MODELS, "2nd_argmax_8_3.pth"), "--out", out, "--samples", "0")
    assert code == 0, se
    assert max(len(line) for line in so.splitlines()) <= 400
    assert "atan2 terms" in so and "--closed-form" in so
    form = json.load(open(out))["error"]["closed_form"]
    code, so, se = run_cli(os.path.join(MODELS, "2nd_argmax_8_3.pth"), "--out", out, "--samples", "0",
                           "--closed-form")
    assert code == 0 and form in so


class StoppedClock:
    """A stand-in for the `time` module whose clocks read a fixed value (the rest is the real `time`): a phase
    given one that reads 0 never sees its deadline pass, a phase given one that reads 10^12 sees it passed at its
    first look.  So the phase a --timeout stops in is chosen by the test, not by the machine's speed or load."""

    def __init__(self, now: float):
        self.now = now

    def monotonic(self):
        return self.now

    perf_counter = monotonic

    def __getattr__(self, name):
        return getattr(time, name)


def test_timeout_holds_in_the_measure_phase(tmp_path, monkeypatch, capsys):
    """M(3,4) on one worker, --timeout 40, with the clock stopped at 0 for the pipeline and the traversal and
    far past the deadline for the measure: the run reaches the orthant integrals, stops there at the first look
    (exit 3, the phase named), and writes nothing."""
    import verifier.cells.cones
    import verifier.errors
    import verifier.kinds.cones
    import verifier.pipeline
    from verifier.face.cli import main

    monkeypatch.setattr(verifier.pipeline, "time", StoppedClock(0.0))
    monkeypatch.setattr(verifier.kinds.cones, "time", StoppedClock(0.0))
    monkeypatch.setattr(verifier.cells.cones, "time", StoppedClock(0.0))
    monkeypatch.setattr(verifier.errors, "time", StoppedClock(1e12))  # the generator's deadline helper, `past`
    out = tmp_path / "m34.cert.json"
    code = main([os.path.join(MODELS, "2nd_argmax_3_4.pth"), "--out", str(out), "--timeout", "40", "--workers", "1",
                 "--samples", "0", "--quiet", "--no-z3"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "timeout (--timeout) during the orthant integrals" in err and "nothing written" in err
    assert not out.exists()


def test_ctrl_c_in_the_measure_phase_exits_130(tmp_path):
    """SIGINT while arb integrates (inside acb.integral's callback), with and without a progress bar.  M(8,4) on one
    worker (traversal ~26 s, the generator's integrals ~30 s): the run with a bar is interrupted as soon as the bar
    appears, the quiet run, which has no bar to watch, 4 s after the time the first run took to reach the
    integrals, inside them even when the machine is busy."""
    out = tmp_path / "m84.cert.json"
    env = dict(os.environ, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "verifier", os.path.join(MODELS, "2nd_argmax_8_4.pth"), "--out", str(out),
           "--samples", "0", "--no-z3", "--workers", "1"]
    t_measure = None
    for quiet in (False, True):
        t0 = time.monotonic()
        # a shell's background job inherits SIGINT ignored, and Python then installs no handler: restore the
        # default in the child so that the test is about our handling, not about how the suite was started
        p = subprocess.Popen(cmd + (["--quiet"] if quiet else []), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        if not quiet:
            seen = b""
            while b"orthant integrals" not in seen:  # the bar says the measure phase has begun
                chunk = os.read(p.stderr.fileno(), 4096)
                assert chunk, "the process ended before measuring"
                seen += chunk
            t_measure = time.monotonic() - t0
            time.sleep(0.5)
        else:
            time.sleep(t_measure + 4)  # same model, same machine: inside the ~30 s of integrals
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 130, err[-500:]
        assert b"interrupted; nothing partial was written" in err
        assert b"internal error" not in err
        assert not out.exists()


def test_a_long_full_run_says_so_first_and_sigterm_stops_it_cleanly(tmp_path):
    """M(16,5) (about two million cells): before the traversal a first look of 2^16 samples hits ~20,000 distinct
    cells and a note suggests an anytime certificate; SIGTERM (a scheduler's stop, `timeout`) during the
    traversal exits 143 with one line, the worker pool shut down, nothing written."""
    out = tmp_path / "m165.cert.json"
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, "-m", "verifier", os.path.join(MODELS, "2nd_argmax_16_5.pth"), "--out",
                          str(out), "--samples", "0", "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, cwd=ROOT)
    seen = b""
    while b"cells:" not in seen:  # the traversal's bar: the first look is over
        chunk = os.read(p.stderr.fileno(), 4096)
        assert chunk, "the process ended before traversing"
        seen += chunk
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    err = seen + err
    assert p.returncode == 143, err[-500:]
    assert b"verifier: note: " in err and b"--width 0.01 --timeout 600" in err
    hit = int(err.split(b"verifier: note: ")[1].split(b" distinct")[0].replace(b",", b""))
    assert hit >= 10000  # the first look's count; the model has ~2 million cells (docs/STATUS.md)
    assert b"terminated (SIGTERM); nothing partial was written" in err
    assert b"internal error" not in err and b"Traceback" not in err
    assert not out.exists()


def test_a_short_full_run_has_no_long_run_note(tmp_path):
    """M(2,4): the first look hits a few hundred cells; no note, and the certificate is written."""
    out = tmp_path / "m24.cert.json"
    p = subprocess.run([sys.executable, "-m", "verifier", os.path.join(MODELS, "2nd_argmax_2_4.pth"), "--out",
                        str(out), "--samples", "0", "--workers", "1"], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-500:]
    assert "note:" not in p.stderr and out.exists()


def test_check_models_finds_missing_certificates_without_an_index(tmp_path):
    models, proofs = tmp_path / "m", tmp_path / "p"
    models.mkdir()
    proofs.mkdir()
    for stem in ("2nd_argmax_2_2", "2nd_argmax_3_2", "2nd_argmax_4_3", "hand_2nd_argmax_2_2"):
        shutil.copy(os.path.join(MODELS, stem + ".pth"), models)
        shutil.copy(os.path.join(ROOT, "proofs", stem + ".cert.json"), proofs)
    shutil.copy(os.path.join(MODELS, "2nd_argmax_5_2.pth"), models)  # certifiable, no certificate
    (models / "notes.json").write_text('{"not": "a model"}')
    assert not (models / "index.json").exists()
    code, so, se = run_cli("check", proofs, "--models", models)
    assert code == 1, so + se
    assert "MISSING" in so and "2nd_argmax_5_2.pth" in so
    assert "4 of 5 accepted" in so


def test_default_output_never_lands_in_an_unrelated_folder(tmp_path):
    """From a folder that has proofs/ (our repository, say), a checkpoint from elsewhere gets its
    certificate next to itself; a checkpoint inside the folder uses its proofs/."""
    here, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (here / "proofs").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(os.path.join(MODELS, "2nd_argmax_2_2.pth"), elsewhere / "mine.pth")
    shutil.copy(os.path.join(MODELS, "2nd_argmax_2_2.pth"), here / "ours.pth")
    code, so, se = run_cli(elsewhere / "mine.pth", "--samples", "0", cwd=here)
    assert code == 0, se
    assert (elsewhere / "mine.cert.json").exists() and not os.listdir(here / "proofs")
    assert str(elsewhere / "mine.cert.json") in so
    code, so, se = run_cli("ours.pth", "--samples", "0", cwd=here)
    assert code == 0, se
    assert (here / "proofs" / "ours.cert.json").exists()


def test_messages_name_the_file_in_plain_words(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("these are my notes, not a model\n")
    code, so, se = run_cli("inspect", text)
    assert code == 2 and str(text) in se and "text file" in se and "pop from" not in se
    good = open(os.path.join(MODELS, "2nd_argmax_2_2.pth"), "rb").read()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good[: len(good) // 2])
    code, so, se = run_cli("inspect", cut)
    assert code == 2 and str(cut) in se and "truncated or damaged" in se
    assert len(se.strip().splitlines()) == 1
    code, so, se = run_cli("check", os.path.join(MODELS, "2nd_argmax_2_2.pth"))
    assert code == 2 and "binary data, not a certificate" in so + se and "codec" not in so + se
    empty = tmp_path / "empty.cert.json"
    empty.write_text("")
    code, so, se = run_cli("check", empty)
    assert code == 2 and "empty" in so + se
    code, so, se = run_cli("inspect", os.path.join(MODELS, "2nd_argmax_2_2.pth"), "--task", "argmedian")
    assert code == 2 and "2nd_argmax_2_2.pth" in se and "odd seq_len" in se
    # every task is accepted by the parser; one that does not fit the model is refused naming the file and why
    code, so, se = run_cli("certify", os.path.join(MODELS, "2nd_argmax_2_2.pth"), "--task", "median")
    assert code == 2 and "2nd_argmax_2_2.pth" in se and "single output" in se and "Traceback" not in se


def test_every_option_has_help_text():
    from verifier.face.cli import _build_parser

    parser = _build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sp in sub.choices.items():
        for action in sp._actions:
            if action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"


def test_rnn_from_floats_is_exact():
    import numpy as np

    from verifier import RNN

    r = RNN.from_floats(np.array([[0.1], [-2.0]]), [[0.5, 0.25], [1e-3, 3.0]], [[1.0, -1.0], [0.0, 2.0]], seq_len=2)
    assert r.W_hi[0][0] == Fraction(0.1) and r.W_hi[0][0] != Fraction(1, 10)
    with pytest.raises(TypeError, match="from_floats"):
        RNN.make([[0.1]], [[0]], [[1], [1]], seq_len=2)


def test_internal_errors_have_their_own_exit_code(monkeypatch, capsys):
    """A bug is exit 4 (one line, 'please report'), never 1, the code of a rejected certificate."""
    import verifier.pipeline as certification
    from verifier.face.cli import main
    from verifier.errors import EXIT_INTERNAL, InternalError

    def broken(*a, **k):
        raise RuntimeError("an unexpected state")

    monkeypatch.setattr(certification, "certify", broken)
    assert main([os.path.join(MODELS, "2nd_argmax_2_2.pth"), "--samples", "0"]) == EXIT_INTERNAL == 4
    assert "internal error (please report)" in capsys.readouterr().err

    def rejected_by_kernel(*a, **k):
        raise InternalError("the kernel rejected the new certificate: [cover] ...")

    monkeypatch.setattr(certification, "certify", rejected_by_kernel)
    assert main([os.path.join(MODELS, "2nd_argmax_2_2.pth"), "--samples", "0"]) == 4


def test_check_shows_progress_on_a_terminal():
    """On a terminal `check` says which certificate it is on; piped, it prints only result lines."""
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, "-m", "verifier", "check", os.path.join(ROOT, "proofs", "2nd_argmax_2_2.cert.json"),
                          os.path.join(ROOT, "proofs", "2nd_argmax_3_2.cert.json")],
                         stdout=slave, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=60)
    os.close(master)
    assert p.returncode == 0
    assert b"checking 1/2" in seen and b"checking 2/2" in seen and b"2 of 2 accepted" in seen
    code, so, se = run_cli("check", os.path.join(ROOT, "proofs", "2nd_argmax_2_2.cert.json"))
    assert "checking" not in so + se


def test_a_certificate_over_checks_size_limit_says_how_to_check_it():
    """certify warns when the text it wrote is over `check`'s default limit (M(6,5)'s full certificate: 96,266
    cells, more than 128 MiB of text), naming the --max-certificate-mb that reads it; at the limit, no warning."""
    from types import SimpleNamespace

    from verifier.face.certify import size_warnings
    from verifier.kernel.read import MAX_CERT_BYTES

    assert size_warnings(SimpleNamespace(details={"text_bytes": MAX_CERT_BYTES})) == []
    assert size_warnings(SimpleNamespace(details={})) == []
    (w,) = size_warnings(SimpleNamespace(details={"text_bytes": MAX_CERT_BYTES + 1}))
    assert f"--max-certificate-mb {(MAX_CERT_BYTES >> 20) + 1}" in w
