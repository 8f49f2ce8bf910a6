"""The independent checker: tampering must be rejected with the rule named; mutants of every good
certificate are rejected; the kernel runs without torch (tests/test_kernel.py keeps it closed)."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from conftest import ROOT, run_cli
import verifier
from verifier import check

MODELS = os.path.join(ROOT, "models")


@pytest.fixture(scope="module")
def disc_cert():
    return verifier.certify(os.path.join(MODELS, "2nd_argmax_2_2.pth"), z3=False).certificate


@pytest.fixture(scope="module")
def cone_cert():
    return verifier.certify(os.path.join(MODELS, "2nd_argmax_4_3.pth")).certificate


def rejected(doc, rule=None, **kw):
    v = check(doc, **kw)
    assert not v.accepted, "tampered certificate was accepted"
    if rule is not None:
        assert v.rule == rule, (v.rule, v.message)
    return v


def test_good_certificates_accepted(disc_cert, cone_cert):
    assert check(disc_cert).accepted
    assert check(cone_cert).accepted


def test_sector_removed(disc_cert):
    d = copy.deepcopy(disc_cert)
    del d["sectors"][3]
    rejected(d, "cover")


def test_two_sectors_swapped(disc_cert):
    d = copy.deepcopy(disc_cert)
    d["sectors"][2], d["sectors"][3] = d["sectors"][3], d["sectors"][2]
    rejected(d, "cover")


def test_boundary_ray_moved(disc_cert):
    d = copy.deepcopy(disc_cert)
    # the start ray of the first wrong sector is a true boundary (the model's decision ray)
    k = next(i for i, s in enumerate(d["sectors"]) if s["wrong"])
    u = [int(c) for c in d["sectors"][k]["u"]]
    moved = [str(u[0] * 1000 + 1), str(u[1] * 1000)]
    d["sectors"][k]["u"] = moved
    d["sectors"][k - 1]["v"] = moved
    rejected(d)


def test_claimed_class_flipped(disc_cert):
    d = copy.deepcopy(disc_cert)
    d["sectors"][0]["prediction"] = 1 - d["sectors"][0]["prediction"]
    d["sectors"][0]["wrong"] = not d["sectors"][0]["wrong"]
    rejected(d, "prediction")


def test_pattern_flipped(disc_cert):
    d = copy.deepcopy(disc_cert)
    p = d["sectors"][0]["pattern"]
    p[1] = ("1" if p[1][0] == "0" else "0") + p[1][1:]
    rejected(d, "pattern")


def _next_float32(s):
    v = np.float32(float(Fraction(s)))
    return Fraction(float(np.nextafter(v, np.float32(np.inf))))


def test_weight_changed_by_one_ulp(disc_cert):
    from verifier.loading.rational import q

    d = copy.deepcopy(disc_cert)
    d["model"]["W_hh"][0][0] = q(_next_float32(d["model"]["W_hh"][0][0]))
    rejected(d, "weights-digest")
    # a careful forger also recomputes the digest: the checkpoint itself then exposes the change
    import hashlib

    w = {k: d["model"][k] for k in ("W_hi", "W_hh", "W_oh")}
    d["model"]["weights_sha256"] = hashlib.sha256(verifier.loading.rational.dumps_canonical(w).encode()).hexdigest()
    v = check(d, checkpoint=os.path.join(MODELS, "2nd_argmax_2_2.pth"))
    assert not v.accepted and v.rule in ("checkpoint-weights", "pattern", "prediction", "label", "wrong",
                                         "closed-form", "enclosure")


def test_enclosure_shrunk_off_the_value(disc_cert, cone_cert):
    for cert in (disc_cert, cone_cert):
        d = copy.deepcopy(cert)
        hi = Fraction(d["error"]["upper"])
        from verifier.loading.rational import q

        d["error"]["lower"] = q(hi + Fraction(1, 10 ** 40))
        d["error"]["upper"] = q(hi + Fraction(2, 10 ** 40))
        d["accuracy"] = {"lower": q(1 - Fraction(d["error"]["upper"])), "upper": q(1 - Fraction(d["error"]["lower"]))}
        rejected(d, "enclosure")


def test_wrong_checkpoint_hash(disc_cert):
    rejected(disc_cert, "checkpoint-hash", checkpoint=os.path.join(MODELS, "2nd_argmax_3_2.pth"))
    assert check(disc_cert, checkpoint=os.path.join(MODELS, "2nd_argmax_2_2.pth")).accepted


def test_unknown_format_version(disc_cert):
    d = copy.deepcopy(disc_cert)
    d["version"] = 99
    rejected(d, "version")


@pytest.mark.parametrize("bad", [0, "2/4", "1.5", " 1/2", "1e-3", "-0", "3/1"])
def test_malformed_rationals(disc_cert, bad):
    d = copy.deepcopy(disc_cert)
    d["model"]["W_oh"][0][0] = bad
    rejected(d, "rational")


def test_json_number_in_text_and_floats(disc_cert):
    text = json.dumps(disc_cert).replace('"lower": "', '"lower": 0.5, "x": "', 1)
    assert not check(text).accepted
    d = copy.deepcopy(disc_cert)
    d["error"]["lower"] = 0
    rejected(d, "rational")


def test_duplicate_keys(disc_cert):
    text = json.dumps(disc_cert)
    text = text.replace('"task": ', '"task": "argmax", "task": ', 1)
    v = check(text)
    assert not v.accepted and v.rule == "json"


def test_nan(disc_cert):
    text = json.dumps(disc_cert).replace('"regions": ', '"regions": NaN, "r2": ', 1)
    v = check(text)
    assert not v.accepted and v.rule == "json"


# ---- cones (version 2) ------------------------------------------------------------------------


def test_cell_removed(cone_cert):
    d = copy.deepcopy(cone_cert)
    victim = next(i for i, c in enumerate(d["cells"]) if any(nb is not None for nb in c["neighbors"]))
    del d["cells"][victim]
    for c in d["cells"]:
        c["neighbors"] = [None if nb is None else (nb - 1 if nb > victim else nb) if nb != victim else 0
                          for nb in c["neighbors"]]
    d["cell_count"] -= 1
    rejected(d)


def test_neighbour_redirected(cone_cert):
    d = copy.deepcopy(cone_cert)
    c = next(c for c in d["cells"] if any(nb is not None for nb in c["neighbors"]))
    k = next(i for i, nb in enumerate(c["neighbors"]) if nb is not None)
    c["neighbors"][k] = (c["neighbors"][k] + 1) % len(d["cells"])
    rejected(d)


def test_facet_dropped_from_polygon(cone_cert):
    d = copy.deepcopy(cone_cert)
    c = next(c for c in d["cells"] if len(c["edges"]) > 3)
    del c["edges"][1]
    del c["neighbors"][1]
    rejected(d)


def test_cell_wrong_flag_and_decision_flipped(cone_cert):
    d = copy.deepcopy(cone_cert)
    d["cells"][0]["wrong"] = not d["cells"][0]["wrong"]
    rejected(d, "wrong")
    d = copy.deepcopy(cone_cert)
    c = next(c for c in d["cells"] if "+" in c["decision"])
    c["decision"] = c["decision"].replace("+", "-", 1)
    c["wrong"] = any((j < c["decision"].index(".") and ch != "+") or (j > c["decision"].index(".") and ch == "-")
                     for j, ch in enumerate(c["decision"]))
    rejected(d)


def test_closed_form_altered(cone_cert):
    d = copy.deepcopy(cone_cert)
    d["error"]["closed_form"] = d["error"]["closed_form"].replace("atan2(", "atan2(1", 1)
    rejected(d, "closed-form")


def test_polygon_rotation_is_still_valid(cone_cert):
    """Rotating a polygon's edge list (with its neighbours) describes the same cell: accepted."""
    d = copy.deepcopy(cone_cert)
    for c in d["cells"]:
        if c["wrong"]:
            continue
        c["edges"] = c["edges"][1:] + c["edges"][:1]
        c["neighbors"] = c["neighbors"][1:] + c["neighbors"][:1]
    assert check(d).accepted


# ---- mutants of every good certificate --------------------------------------------------------


def _cycle_mutants(doc, rng):
    """Version 4 (longest cycle): semantic mutations that must all be rejected."""
    out = []
    n = doc["model"]["seq_len"]
    m = copy.deepcopy(doc)  # a right input claimed wrong with some other prediction (counts kept consistent)
    listed = {w[0] for w in m["wrong"]}
    f = next(s for s in ("".join(str((i * 7 + k) % n) for k in range(n)) for i in range(n ** n)) if s not in listed)
    m["wrong"] = sorted(m["wrong"] + [[f, 0]])
    out.append(("input added to wrong", m))
    if doc["wrong"]:
        m = copy.deepcopy(doc)
        m["wrong"][rng.randrange(len(m["wrong"]))][1] = n  # not a class
        out.append(("prediction out of range", m))
        m = copy.deepcopy(doc)
        del m["wrong"][rng.randrange(len(m["wrong"]))]
        out.append(("wrong input deleted", m))
    m = copy.deepcopy(doc)
    m["task"] = "argmax"
    out.append(("task changed", m))
    m = copy.deepcopy(doc)
    m["model"]["embed"][0][0] = "7"
    out.append(("weight changed", m))
    m = copy.deepcopy(doc)
    m["checkpoint"]["sha256"] = "0" * 64
    out.append(("hash changed", m))  # rejected only with --checkpoint
    return out


def _mutants(doc, rng):
    """Semantic mutations that must all be rejected."""
    if doc["version"] == 4:
        return _cycle_mutants(doc, rng)
    if doc["version"] == 3:
        return _median_mutants(doc, rng)
    out = []
    key = "sectors" if doc["version"] == 1 else "cells"
    items = doc[key]
    i = rng.randrange(len(items))
    m = copy.deepcopy(doc)
    m[key][i]["wrong"] = not m[key][i]["wrong"]
    out.append(("wrong flipped", m))
    m = copy.deepcopy(doc)
    del m[key][rng.randrange(len(items))]
    out.append(("item deleted", m))
    m = copy.deepcopy(doc)
    pat = m[key][i]["pattern"]
    t = rng.randrange(len(pat))
    j = rng.randrange(len(pat[t]))
    pat[t] = pat[t][:j] + ("1" if pat[t][j] == "0" else "0") + pat[t][j + 1:]
    out.append(("pattern bit flipped", m))
    m = copy.deepcopy(doc)
    m["task"] = {"2nd_argmax": "argmax", "argmax": "2nd_argmax", "argmedian": "argmax"}[m["task"]]
    out.append(("task changed", m))
    m = copy.deepcopy(doc)
    m["checkpoint"]["sha256"] = "0" * 64
    out.append(("hash changed", m))  # rejected only with --checkpoint
    return out


def _median_mutants(doc, rng):
    from verifier.loading.rational import q

    out = []
    cells = doc["cells"]
    m = copy.deepcopy(doc)
    del m["cells"][rng.randrange(len(cells))]
    out.append(("item deleted", m))
    m = copy.deepcopy(doc)
    pat = m["cells"][rng.randrange(len(cells))]["pattern"]
    t = rng.randrange(len(pat))
    j = rng.randrange(len(pat[t]))
    pat[t] = pat[t][:j] + ("1" if pat[t][j] == "0" else "0") + pat[t][j + 1:]
    out.append(("pattern bit flipped", m))
    m = copy.deepcopy(doc)
    m["task"] = "argmax"
    out.append(("task changed", m))
    m = copy.deepcopy(doc)
    hi = Fraction(m["mse"]["upper"])
    m["mse"]["lower"] = m["mse"]["upper"] = q(2 * hi + Fraction(1, 10 ** 9))
    out.append(("mse moved", m))
    m = copy.deepcopy(doc)
    m["checkpoint"]["sha256"] = "0" * 64
    out.append(("hash changed", m))  # rejected only with --checkpoint
    return out


def _proof_files():
    """The certificates in proofs/ itself (seq_len 2 and 3, longest cycle n <= 5; plain or .xz)."""
    from verifier.kernel.read import CERT_SUFFIXES

    d = os.path.join(ROOT, "proofs")
    return sorted(f for f in os.listdir(d) if f.endswith(CERT_SUFFIXES))


@pytest.mark.parametrize("name", _proof_files())
def test_mutants_of_shipped_certificates_rejected(name):
    from verifier.loading.rational import load_certificate

    doc = load_certificate(os.path.join(ROOT, "proofs", name))
    rng = random.Random(name)
    for what, m in _mutants(doc, rng):
        ckpt = os.path.join(MODELS, doc["checkpoint"]["name"])
        v = check(m, checkpoint=ckpt if what == "hash changed" else None)
        if what == "pattern bit flipped" and v.accepted:
            # flipping the bit of a neuron that is identically zero on the cell is not a change of claim
            continue
        assert not v.accepted, f"{name}: mutant '{what}' was accepted"


def test_check_runs_where_torch_cannot_be_imported(tmp_path):
    """`python -m verifier check proofs/` with torch made unimportable (sys.modules['torch'] = None)."""
    code = ("import sys, runpy; sys.modules['torch'] = None; "
            "sys.argv = ['verifier', 'check', 'proofs/hand_2nd_argmax_2_2.cert.json', "
            "'proofs/hand_2nd_argmax_4_3.cert.json', '--checkpoint', 'models/hand_2nd_argmax_2_2.pth'];"
            "runpy.run_module('verifier', run_name='__main__')")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    # two certificates with one --checkpoint is a usage error; use one at a time
    assert p.returncode == 2
    for cert, ck in (("hand_2nd_argmax_2_2", "hand_2nd_argmax_2_2.pth"), ("2nd_argmax_4_3", "2nd_argmax_4_3.pth")):
        code = ("import sys, runpy; sys.modules['torch'] = None; "
                f"sys.argv = ['verifier', 'check', 'proofs/{cert}.cert.json', '--checkpoint', 'models/{ck}'];"
                "runpy.run_module('verifier', run_name='__main__')")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "ACCEPTED" in p.stdout


def test_check_cli_exit_codes(tmp_path):
    good = os.path.join(ROOT, "proofs", "hand_2nd_argmax_2_2.cert.json")
    code, out, err = run_cli("check", good)
    assert code == 0 and "ACCEPTED" in out
    doc = json.load(open(good))
    doc["sectors"][0]["wrong"] = True
    bad = tmp_path / "bad.cert.json"
    bad.write_text(json.dumps(doc))
    code, out, err = run_cli("check", good, bad)
    assert code == 1 and "REJECTED" in out and "[wrong]" in out
    assert "1 of 2 accepted; 1 rejected" in out
    junk = tmp_path / "junk.cert.json"
    junk.write_bytes(b"\xff\xfe not json")
    code, out, err = run_cli("check", junk)
    assert code == 2
    code, out, err = run_cli("check", tmp_path / "missing.json")
    assert code == 2 and "no such file" in err
