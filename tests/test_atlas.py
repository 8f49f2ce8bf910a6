"""The error atlas (verifier/views/atlas.py), the sphere picture and the disc picture (verifier/views/explain.py).

Known answers are derived by symmetry, independently of the code; the rest is compared with float64
sampling (numpy, scripts/validate_atlas.py's own forward pass) at a stated number of standard errors.
"""

from __future__ import annotations

import json
import math
import os
import sys
from fractions import Fraction

import numpy as np
import pytest

import verifier
from verifier.views.atlas import analyse, breakdown, clip

from conftest import ROOT, load_proof, run_cli

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from validate_atlas import confusion  # noqa: E402

TASK_RANK = {"argmax": 0, "2nd_argmax": 1}


def _cert(name):
    return load_proof(name)


def _pairs(res):
    return {(r["true"], r["predicted"]): (Fraction(r["lower"]), Fraction(r["upper"])) for r in res["breakdown"]}


def _sums_contain_certified(res):
    s_lo, s_hi = Fraction(res["sum"]["lower"]), Fraction(res["sum"]["upper"])
    lo_sum = sum(Fraction(r["lower"]) for r in res["breakdown"])
    hi_sum = sum(Fraction(r["upper"]) for r in res["breakdown"])
    e_lo, e_hi = Fraction(res["error"]["lower"]), Fraction(res["error"]["upper"])
    return (s_lo, s_hi) == (lo_sum, hi_sum) and lo_sum <= e_lo and e_hi <= hi_sum


def _within_sigmas(res, doc, samples, seed, sigmas):
    mats = [np.array([[float(Fraction(v)) for v in row] for row in doc["model"][k]]) for k in ("W_hi", "W_hh", "W_oh")]
    n = doc["model"]["seq_len"]
    counts = confusion(*mats, n, doc["task"], samples, seed, chunk=1 << 18)
    pairs = _pairs(res)
    worst = 0.0
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            lo, hi = pairs.get((i, j), (Fraction(0), Fraction(0)))
            p = float((lo + hi) / 2)
            if p == 0:
                assert counts[i, j] == 0, (i, j)
                continue
            worst = max(worst, abs(counts[i, j] / samples - p) / math.sqrt(p * (1 - p) / samples))
    assert worst <= sigmas, worst
    return worst


# ---- known answers (symmetry) ---------------------------------------------------------------------------


def test_known_answer_sign_of_last_input():
    """logits (0, relu(x2), relu(-x2)), 2nd_argmax, n = 3: the prediction is 1 when x2 > 0, else 2.  By the
    reflection x -> -x (which keeps 'x_i is the middle value' and flips the sign of x2) each of
    (true 0, pred 1), (0, 2), (1, 2), (2, 1) has probability exactly 1/6 and nothing else is wrong."""
    rnn = verifier.RNN.make([[1], [-1]], [[0, 0], [0, 0]], [[0, 0], [1, 0], [0, 1]], seq_len=3)
    res = breakdown(verifier.certify(rnn, task="2nd_argmax", z3=False).certificate)
    pairs = _pairs(res)
    assert set(pairs) == {(0, 1), (0, 2), (1, 2), (2, 1)}
    for lo, hi in pairs.values():
        assert lo <= Fraction(1, 6) <= hi and hi - lo < Fraction(1, 10 ** 15)
    assert _sums_contain_certified(res)


@pytest.mark.parametrize("n, expected", [(2, {(1, 0): Fraction(1, 2)}),
                                         (3, {(1, 0): Fraction(1, 3), (2, 0): Fraction(1, 3)})])
def test_known_answer_zero_model(n, expected):
    """All logits 0: torch's argmax is position 0 everywhere, so the error is P(target = j) for j > 0, which is
    1/n for each position by exchangeability."""
    rnn = verifier.RNN.make([[0], [0]], [[0, 0], [0, 0]], [[0, 0]] * n, seq_len=n)
    res = breakdown(verifier.certify(rnn, task="2nd_argmax", z3=False).certificate)
    pairs = _pairs(res)
    assert set(pairs) == set(expected)
    for k, v in expected.items():
        assert pairs[k][0] <= v <= pairs[k][1]


def test_clip_halves_the_octant():
    """The positive octant (Gaussian measure 1/8) cut by x0 = x1: two pieces of exactly 1/16 each (the swap
    of x0 and x1 maps one to the other); the cut point is on the plane and the pieces are exact."""
    from verifier.cells.measure import enclose, spherical_sum_ball, spherical_terms

    octant = [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    pos, neg = clip(octant, (1, -1, 0))
    assert (1, 1, 0) in pos and (1, 1, 0) in neg and (0, 0, 1) in pos and (0, 0, 1) in neg
    for part in (pos, neg):
        terms = spherical_terms([part])
        lo, hi, _ = enclose(lambda prec, t=terms: spherical_sum_ball(t, prec), 25)
        assert lo <= Fraction(1, 16) <= hi
    assert clip(octant, (1, 1, 1)) == (octant, None)


# ---- against sampling ------------------------------------------------------------------------------------


def test_cells_cut_by_the_argmax_agree_with_sampling():
    """A model whose wrong cells contain the boundary l_1 = l_2 (logits 0, 2 relu(x2), relu(x1)): some cell's
    mass is split between two predicted labels; every (true, predicted) mass agrees with 4e5 float64 samples
    within 5 standard errors."""
    rnn = verifier.RNN.make([[1], [0]], [[0, 0], [1, 0]], [[0, 0], [2, 0], [0, 1]], seq_len=3)
    doc = verifier.certify(rnn, task="2nd_argmax", z3=False).certificate
    res = breakdown(doc, top=50)
    cells_per_pair = [{c["cell"] for c in r["largest"]} for r in res["breakdown"]]
    shared = set.union(*cells_per_pair)
    assert sum(len(s) for s in cells_per_pair) > len(shared)  # some cell is in two pairs: it was cut
    assert _sums_contain_certified(res)
    _within_sigmas(res, doc, 400_000, 7, 5.0)


def test_shipped_m43_agrees_with_sampling():
    """The shipped M(4,3): each (true, predicted) mass against 10^6 float64 samples, 5 standard errors (the
    10^7-sample, 4-sigma comparison is scripts/validate_atlas.py, docs/VALIDATION.md)."""
    doc = _cert("2nd_argmax_4_3.cert.json")
    res = breakdown(doc, top=0)
    assert len(res["breakdown"]) == 6 and res["wrong_cells"] == 127
    assert _sums_contain_certified(res)
    _within_sigmas(res, doc, 1_000_000, 11, 5.0)


def test_disc_pairs_and_representatives():
    """seq_len 2: the pairs come from the sectors; every listed input really lies in its cell (the generator's
    own exact forward pass, not the kernel's: pattern, target and torch's argmax)."""
    from verifier.loading.loader import load
    from verifier.loading.model import argmax_first, forward, pattern

    lm = load(os.path.join(ROOT, "models", "2nd_argmax_8_2.pth"))
    doc = _cert("2nd_argmax_8_2.cert.json")
    res = breakdown(doc, checkpoint=os.path.join(ROOT, "models", "2nd_argmax_8_2.pth"))
    assert _sums_contain_certified(res)
    for r in res["breakdown"]:
        for c in r["largest"]:
            x = [Fraction(v) for v in c["input"]]
            assert ["".join(map(str, row)) for row in pattern(lm.rnn, x)] == c["pattern"]
            assert argmax_first(forward(lm.rnn, x)) == r["predicted"]
            order = sorted(range(2), key=lambda i: (-x[i], i))
            assert order[TASK_RANK["2nd_argmax"]] == r["true"]
            assert max(abs(int(v)) for v in c["input"]) < 1 << 20  # small integers


# ---- the command line -------------------------------------------------------------------------------------


def test_explain_json(tmp_path):
    code, out, err = run_cli("explain", "models/2nd_argmax_4_3.pth", "--certificate", "proofs/2nd_argmax_4_3.cert.json",
                             "--json", "--no-plot", "--top", "2")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["certificate"] == "proofs/2nd_argmax_4_3.cert.json" and doc["figures"] == []
    rows = doc["breakdown"]
    assert len({(r["true"], r["predicted"]) for r in rows}) == len(rows) == 6
    for r in rows:
        assert r["true"] != r["predicted"] and Fraction(r["lower"]) > 0 and len(r["largest"]) == 2
        assert Fraction(r["lower"]) <= Fraction(r["upper"])
    assert _sums_contain_certified(doc)


def test_explain_bad_input(tmp_path):
    stem = str(tmp_path / "pic")
    for args in (["--certificate", "proofs/2nd_argmax_8_3.cert.json"],  # another checkpoint's
                 ["--certificate", str(tmp_path / "missing.cert.json")],
                 ["--top", "-1"]):
        code, out, err = run_cli("explain", "models/2nd_argmax_4_3.pth", "--out", stem, *args)
        assert code == 2 and err.count("\n") == 1, (args, err)
    bad = _cert("2nd_argmax_4_3.cert.json")
    i = next(i for i, c in enumerate(bad["cells"]) if c["wrong"])
    bad["cells"][i]["wrong"] = False
    path = tmp_path / "bad.cert.json"
    path.write_text(json.dumps(bad))
    code, out, err = run_cli("explain", "models/2nd_argmax_4_3.pth", "--out", stem, "--certificate", str(path))
    assert code == 1 and "[wrong]" in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == ["bad.cert.json"]  # nothing drawn


# ---- the sphere --------------------------------------------------------------------------------------------


def _spherical_area(P):
    """Area of a spherical polygon with unit vertices P (k x 3): fan of Van Oosterom-Strackee triangles."""
    a, tot = P[0], 0.0
    for b, c in zip(P[1:-1], P[2:]):
        tot += 2 * math.atan2(float(np.dot(a, np.cross(b, c))), 1 + a @ b + a @ c + b @ c)
    return abs(tot)


@pytest.mark.parametrize("name", ["hand_2nd_argmax_4_3", "2nd_argmax_4_3"])
def test_sphere_picture_areas_match_the_certificate(tmp_path, name):
    """The picture is written, and the wrong pieces as drawn (the plane polygons given to matplotlib) re-measure
    to the certificate's masses: mapped back to the sphere, numerical spherical area / 4 pi within 1e-6
    relative per pair; and, since the projection is equal-area, their plane area / 4 pi within 2e-3 (the
    drawn edges are chords of the projected arcs)."""
    from verifier.views.explain import _plane_area, draw_sphere, unlambert

    doc = _cert(name + ".cert.json")
    at = analyse(doc)
    res = breakdown(doc, atlas=at, top=0)
    files, drawn = draw_sphere(at, str(tmp_path / "s"), name)
    assert [os.path.basename(f) for f in files] == ["s.png", "s.svg"]
    assert all(os.path.getsize(f) > 10_000 for f in files)
    sph, plane = {}, {}
    for t, p, s, xy in drawn:
        sph[(t, p)] = sph.get((t, p), 0.0) + _spherical_area(unlambert(xy, s)) / (4 * math.pi)
        plane[(t, p)] = plane.get((t, p), 0.0) + _plane_area(xy) / (4 * math.pi)
    pairs = _pairs(res)
    assert set(sph) == set(pairs)
    for k, (lo, hi) in pairs.items():
        m = float((lo + hi) / 2)
        assert abs(sph[k] / m - 1) < 1e-6, (k, sph[k], m)
        assert abs(plane[k] / m - 1) < 2e-3, (k, plane[k], m)


def test_explain_cli_draws_the_sphere(tmp_path):
    stem = tmp_path / "sphere"
    code, out, err = run_cli("explain", "models/hand_2nd_argmax_4_3.pth", "--out", stem)
    assert code == 0, err
    assert (tmp_path / "sphere.png").stat().st_size > 10_000 and (tmp_path / "sphere.svg").stat().st_size > 10_000
    assert "2 -> 0" in out and "contains the certified error" in out


# ---- the disc ---------------------------------------------------------------------------------------------


def test_disc_never_paints_a_right_sector_wrong_and_labels_stay_off_the_disc():
    """On the d = 8 disc (two wedges of 5e-5 and 5e-4 rad): every patch in the wrong colour on the disc lies
    inside a wrong sector, widened markers lie outside the disc, no pattern colour is near the wrong colour,
    and no label's box meets the disc."""
    import matplotlib.colors as mcolors
    from matplotlib.patches import Wedge

    from verifier.cells.disc import wrong_wedges
    from verifier.views.explain import WRONG_COLOUR, disc_figure, sector_rows
    from verifier.loading.loader import load

    lm = load(os.path.join(ROOT, "models", "2nd_argmax_8_2.pth"))
    rows = sector_rows(lm.rnn, lm.task)
    fig = disc_figure(rows, wrong_wedges([r["sector"] for r in rows]), "t")
    ax = fig.axes[0]
    wrong_rgb = np.array(mcolors.to_rgb(WRONG_COLOUR))
    wrong_spans = [(r["from_deg"], r["to_deg"]) for r in rows if r["wrong"]]
    seen_marker = 0
    for patch in ax.patches:
        if not isinstance(patch, Wedge):
            continue
        rgb = np.array(patch.get_facecolor()[:3])
        if np.allclose(rgb, wrong_rgb):
            if patch.width is not None:  # an annulus marker
                assert patch.r - patch.width > 1.0
                seen_marker += 1
            else:
                assert any(a - 1e-9 <= patch.theta1 and patch.theta2 <= b + 1e-9 for a, b in wrong_spans)
        else:
            assert np.linalg.norm(rgb - wrong_rgb) > 0.35, rgb  # no pattern colour looks like the wrong one
    assert seen_marker == 2
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inv = ax.transData.inverted()
    labels = [t for t in ax.texts if t.get_text().startswith("wrong")]
    assert len(labels) == 2
    for t in labels:
        (x0, y0), (x1, y1) = inv.transform(t.get_window_extent(renderer).get_points())
        nx, ny = np.clip(0.0, min(x0, x1), max(x0, x1)), np.clip(0.0, min(y0, y1), max(y0, y1))
        assert math.hypot(nx, ny) > 1.0, t.get_text()  # the box's nearest point to the centre is off the disc
    import matplotlib.pyplot as plt

    plt.close(fig)


# ---- median models: the MSE by ordering chamber ------------------------------------------------------------


def test_median_zero_output_splits_evenly_over_the_chambers():
    """Output 0, n = 3: MSE = E[median^2] = 1 - sqrt(3)/pi (tests/test_median.py derives it); the six ordering
    chambers are exchanged by permuting coordinates, which keeps the median's square, so each holds exactly
    a sixth, and each median position a third."""
    import flint

    rnn = verifier.RNN.make([[1], [-1]], [[1, -1], [-1, 1]], [[0, 0]], seq_len=3)
    res = breakdown(verifier.certify(rnn, task="median").certificate)
    assert len(res["breakdown"]) == 6 and [r["median"] for r in res["by_median"]] == [[0], [1], [2]]
    with flint.ctx.workprec(256):
        sixth = (1 - flint.arb(3).sqrt() / flint.arb.pi()) / 6
        from verifier.cells.measure import arb_to_bounds

        s_lo, s_hi = arb_to_bounds(sixth)
    for r in res["breakdown"]:
        assert Fraction(r["lower"]) <= s_lo and s_hi <= Fraction(r["upper"])
    for r in res["by_median"]:
        assert Fraction(r["lower"]) <= 2 * s_lo and 2 * s_hi <= Fraction(r["upper"])
    s_lo_sum = sum(Fraction(r["lower"]) for r in res["breakdown"])
    assert s_lo_sum <= Fraction(res["mse"]["lower"]) and Fraction(res["mse"]["upper"]) <= Fraction(res["sum"]["upper"])


def test_median_chambers_agree_with_sampling():
    """The shipped median_4_3: each chamber's share of the MSE against 2e5 float64 samples (numpy), within 5
    standard errors of the sample mean of the squared residual on that chamber."""
    doc = _cert("median_4_3.cert.json")
    res = breakdown(doc, top=1)
    W_hi, W_hh, W_oh = [np.array([[float(Fraction(v)) for v in row] for row in doc["model"][k]])
                        for k in ("W_hi", "W_hh", "W_oh")]
    rng = np.random.default_rng(5)
    N = 200_000
    x = rng.standard_normal((N, 3))
    h = np.zeros((N, W_hh.shape[0]))
    for t in range(3):
        h = np.maximum(h @ W_hh.T + x[:, t:t + 1] * W_hi[:, 0], 0.0)
    sq = ((h @ W_oh.T)[:, 0] - np.median(x, axis=1)) ** 2
    order = np.argsort(-x, axis=1, kind="stable")
    for r in res["breakdown"]:
        on = np.all(order == np.array(r["chamber"]), axis=1)
        v = sq * on
        z = (v.mean() - float(Fraction(r["lower"]))) / (v.std() / math.sqrt(N))
        assert abs(z) <= 5, (r["chamber"], z)
        cell = r["largest"][0]
        assert np.argsort([-int(t) for t in cell["input"]], kind="stable").tolist() == r["chamber"]


# ---- the zoo dashboard -------------------------------------------------------------------------------------


def test_zoo_page_is_up_to_date():
    """docs/ZOO.md is exactly what scripts/render_zoo.py writes now from models/index.json and proofs/ (no
    timings in it): a model or certificate added or changed without re-rendering fails here."""
    import render_zoo

    with open(os.path.join(ROOT, "docs", "ZOO.md")) as fh:
        committed = fh.read()
    assert committed == render_zoo.render(ROOT), "docs/ZOO.md is stale: run python scripts/render_zoo.py"
    with open(os.path.join(ROOT, "models", "index.json")) as fh:
        files = [m["file"] for m in json.load(fh)["models"]]
    assert all(f"`{f}`" in committed for f in files)  # every shipped model is listed


def test_seq_len_4_counts_cells_per_pair():
    """n = 4 (masses not computed: the certificate measures one side): logits (0, relu(x3), relu(-x3), 0)
    predict 1 when x3 > 0 and 2 when x3 < 0, so the wrong pairs are exactly (t, 1) for t != 1 and (t, 2) for
    t != 2, the prediction is constant on every cell (no 'mixed'), and the counts add up to the wrong cells."""
    rnn = verifier.RNN.make([[1], [-1]], [[0, 0], [0, 0]], [[0, 0], [1, 0], [0, 1], [0, 0]], seq_len=4)
    doc = verifier.certify(rnn, task="2nd_argmax", z3=False).certificate
    res = breakdown(doc)
    assert res["measured"] is False and "lower" not in res["breakdown"][0]
    assert {(r["true"], r["predicted"]) for r in res["breakdown"]} == {(0, 1), (0, 2), (1, 2), (2, 1), (3, 1), (3, 2)}
    assert sum(r["cells"] for r in res["breakdown"]) == res["wrong_cells"] == sum(c["wrong"] for c in doc["cells"])
