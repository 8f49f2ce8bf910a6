"""Median models: the exact MSE (certificate version 3).

Known answers are derived by hand (docstrings), the trained models' values are compared with float64
sampling at a stated tolerance in standard errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import verifier
from verifier.pipeline import certify
from verifier.errors import UnsupportedError
from verifier.kernel import check

ROOT = os.path.join(os.path.dirname(__file__), "..")
MODELS = os.path.join(ROOT, "models")

F = Fraction
# A ReLU RNN that carries the running sum s: P = ReLU(s), N = ReLU(-s) with P - N = s after every step
# (P' - N' = (P - N + x_t) whatever the signs), so W_oh = (1/2, -1/2) outputs (x_0 + x_1)/2, the median
# of two numbers: its MSE is exactly 0.
MEAN_2 = dict(W_hi=[[1], [-1]], W_hh=[[1, -1], [-1, 1]], W_oh=[[F(1, 2), F(-1, 2)]])


def _rnn(W_hi, W_hh, W_oh, n):
    return verifier.RNN.make(W_hi, W_hh, W_oh, seq_len=n)


def _contains(lo, hi, x_lo, x_hi):
    return lo <= x_lo and x_hi <= hi


def _arb_bounds(expr):
    import flint

    with flint.ctx.workprec(256):
        x = expr(flint.arb)
        m, e = x.mid().man_exp()
        r, f = x.rad().man_exp()
        mid, rad = F(int(m)) * F(2) ** int(e), F(int(r)) * F(2) ** int(f)
        return mid - rad, mid + rad


def test_the_mean_model_has_mse_exactly_zero():
    res = certify(_rnn(**MEAN_2, n=2), task="median")
    assert (res.error_lower, res.error_upper) == (0, 0)
    assert res.closed_form == "0"
    assert res.rmse == (0, 0)
    assert check(res.certificate).accepted


def test_zero_output_n2_is_the_variance_of_the_mean():
    """Output 0: MSE = E[((x_0 + x_1)/2)^2] = (1 + 1)/4 = 1/2."""
    res = certify(_rnn([[1], [-1]], [[1, -1], [-1, 1]], [[0, 0]], 2), task="median")
    assert res.error_lower <= F(1, 2) <= res.error_upper
    assert res.error_upper - res.error_lower < F(1, 10 ** 25)


def _median3_second_moment_quadrature():
    """E[X_(2)^2] for three standard normals by quadrature of x^2 * 6 phi(x) Phi(x) (1 - Phi(x))."""
    from math import erf

    x = np.linspace(-12, 12, 480001)
    phi = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    Phi = 0.5 * (1 + np.vectorize(erf)(x / math.sqrt(2)))
    f = x * x * 6 * phi * Phi * (1 - Phi)
    return float(np.sum((f[1:] + f[:-1]) / 2 * np.diff(x)))


def test_zero_output_n3_is_the_second_moment_of_the_median():
    """Output 0: MSE = E[median^2] for n = 3.  By hand: the three order statistics' second moments sum to 3,
    the extremes have equal ones and E[max^2] = 1 + sqrt(3)/(2 pi), so E[X_(2)^2] = 1 - sqrt(3)/pi
    (0.44867...); a quadrature of the median's density checks the number independently."""
    res = certify(_rnn([[1], [-1]], [[1, -1], [-1, 1]], [[0, 0]], 3), task="median")
    lo, hi = _arb_bounds(lambda arb: 1 - arb(3).sqrt() / arb.pi())
    assert _contains(res.error_lower, res.error_upper, lo, hi)
    assert abs(_median3_second_moment_quadrature() - float(lo)) < 1e-9
    rlo, rhi = res.rmse
    assert rlo * rlo <= res.error_lower and res.error_upper <= rhi * rhi


def _sampled_mse(rnn, n, samples, seed):
    W_hi = np.array([[float(v) for v in r] for r in rnn.W_hi])
    W_hh = np.array([[float(v) for v in r] for r in rnn.W_hh])
    W_oh = np.array([[float(v) for v in r] for r in rnn.W_oh])
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, n))
    h = np.zeros((samples, W_hh.shape[0]))
    for t in range(n):
        h = np.maximum(h @ W_hh.T + x[:, t:t + 1] @ W_hi.T, 0)
    y = (h @ W_oh.T)[:, 0]
    s = np.sort(x, axis=1)
    med = s[:, n // 2] if n % 2 else (s[:, n // 2 - 1] + s[:, n // 2]) / 2
    e = (y - med) ** 2
    return e.mean(), e.std() / math.sqrt(samples)


@pytest.mark.parametrize("name,n", [("median_2_3.pth", 3), ("median_4_3.pth", 3), ("median_2_2.pth", 2)])
def test_certified_mse_agrees_with_float64_sampling(name, n):
    """2^20 float64 samples; the certified MSE lies within 5 standard errors of their mean."""
    res = certify(os.path.join(MODELS, name), seq_len=n)
    mse = float(res.error_lower)
    est, se = _sampled_mse(res.model.rnn, n, 1 << 20, seed=7)
    assert abs(est - mse) <= 5 * se, (est, se, mse)
    assert res.error_upper - res.error_lower <= F(1, 10 ** 20) * max(res.error_upper, F(1, 10 ** 30))


def test_asymmetric_model_random_weights_agree_with_sampling():
    """A hand-made model with dead and live neurons at n = 3 (the kernel accepts, sampling agrees)."""
    rnn = _rnn([[1], [-1], [F(1, 2)]], [[F(1, 2), -1, 0], [-1, F(1, 3), 1], [0, 1, F(-1, 2)]],
               [[F(1, 3), F(-1, 4), F(1, 5)]], 3)
    res = certify(rnn, task="median")
    assert check(res.certificate).accepted
    est, se = _sampled_mse(rnn, 3, 1 << 20, seed=11)
    assert abs(est - float(res.error_lower)) <= 5 * se


def test_seq_len_10_is_refused_with_what_it_would_need(tmp_path):
    rnn = _rnn([[1]], [[F(1, 2)]], [[1]], 10)
    with pytest.raises(UnsupportedError, match="10- and 8-dimensional cones"):
        certify(rnn, task="median")


def _median_second_moment(n):
    """E[median^2] of n standard normals for odd n, by scipy quadrature of x^2 times the density of the middle
    order statistic k = (n + 1)/2: n!/((k-1)!(n-k)!) Phi^(k-1) (1 - Phi)^(n-k) phi (to ~1e-13)."""
    from scipy import integrate, stats

    k = n // 2 + 1
    c = math.factorial(n) / (math.factorial(k - 1) * math.factorial(n - k))
    f = lambda x: x * x * c * stats.norm.cdf(x) ** (k - 1) * stats.norm.sf(x) ** (n - k) * stats.norm.pdf(x)  # noqa: E731
    return integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-14)[0]


def test_the_mean_model_at_seq_len_5_has_the_median_second_moment_minus_one_fifth():
    """MEAN_2's running sum read out as (P - N)/5 outputs the mean of five numbers.  E[(mean - median)^2] =
    E[median^2] - 1/5: the mean is independent of x - mean (Basu), so E[mean (median - mean)] = 0 and
    E[mean median] = E[mean^2] = 1/n.  E[median^2] comes from a quadrature of the median's density, not from
    the cells: the certified enclosure (each cell's P_5 by the conic Gauss-Bonnet identity plus its ridges' Van
    Oosterom-Strackee terms) must contain it to the quadrature's accuracy, and the kernel must accept the certificate."""
    res = certify(_rnn(**{**MEAN_2, "W_oh": [[F(1, 5), F(-1, 5)]]}, n=5), task="median", workers=2)
    known = _median_second_moment(5) - 0.2
    assert float(res.error_lower) - 1e-12 <= known <= float(res.error_upper) + 1e-12, (res.error_lower, known)
    assert res.error_upper - res.error_lower < F(1, 10 ** 12)
    v = check(res.certificate)
    assert v.accepted, v.reason
    assert res.certificate["cells"][0]["whole"] and "simplices" not in res.certificate["cells"][0]


def test_seq_len_5_cell_moments_by_gauss_bonnet_agree_with_their_simplicial_cones():
    """At n = 5 the kernel takes each cell's second moment at once (|c|^2 P(K) by the conic Gauss-Bonnet identity,
    plus the cell's own ridges, polygons fanned); the sum over the cell's simplicial cones (each cone's P_5 by the
    pencil formula and its own ridges, interior ones included) is a different decomposition of the same number:
    on every cell the two exact enclosures must overlap.  The cells are whole (rule edges: their rays are all
    their extreme rays), so the test triangulates each itself, by pulling, from the kernel's rays and facets."""
    from verifier.cells.triangulate import triangulate
    from verifier.kernel import parse_json, read_certificate
    from verifier.kernel.check import run_rules
    from verifier.kernel.geometry import dot
    from verifier.kernel.moments import cell_moment_bounds, cone_moment_bounds

    rnn = _rnn([[1], [-1]], [[1, -1], [F(-1, 2), 1]], [[F(1, 3), F(-1, 4)]], 5)
    doc = certify(rnn, task="median", z3=False).certificate
    w = run_rules(read_certificate(parse_json(json.dumps(doc))))
    items = w.moment_cell_items
    assert len(items) > 1000 and all(tiles is None for *_, tiles in items)
    for res, rays, normals, _ in items[::40]:
        a, b = cell_moment_bounds(res, rays, normals, None, 80)
        masks = [sum(1 << j for j, g in enumerate(normals) if dot(g, r) == 0) for r in rays]
        tiles = [[rays[i] for i in sx] for sx in triangulate(rays, masks, 5, len(normals))]
        lo = hi = F(0)
        for t in tiles:
            p, q = cone_moment_bounds(res, t, 80)
            lo, hi = lo + p, hi + q
        assert a <= hi and lo <= b, (a, b, lo, hi)
        assert b - a < F(1, 10 ** 15)


def test_zero_and_mean_models_at_seq_len_4_differ_by_exactly_one_quarter():
    """n = 4 (P_4 cones, ridges are angles): output 0 gives E[median^2], the mean model E[median^2] - 1/4 (the
    same argument as for n = 5); the two enclosures, shifted by 1/4, must overlap."""
    zero = certify(_rnn(MEAN_2["W_hi"], MEAN_2["W_hh"], [[0, 0]], 4), task="median")
    mean = certify(_rnn(**{**MEAN_2, "W_oh": [[F(1, 4), F(-1, 4)]]}, n=4), task="median")
    assert zero.error_lower - F(1, 4) <= mean.error_upper and mean.error_lower <= zero.error_upper - F(1, 4)
    assert zero.error_upper - zero.error_lower < F(1, 10 ** 12)
    # and E[median^2] of four normals by float64 sampling, within 5 standard errors
    rng = np.random.default_rng(3)
    s = np.sort(rng.standard_normal((1 << 20, 4)), axis=1)
    m2 = ((s[:, 1] + s[:, 2]) / 2) ** 2
    assert abs(m2.mean() - float(zero.error_lower)) <= 5 * m2.std() / math.sqrt(len(m2))


def _n4_document():
    rnn = _rnn([[1], [-1]], [[1, -1], [F(-1, 2), 1]], [[F(1, 3), F(-1, 4)]], 4)
    return json.loads(json.dumps(certify(rnn, task="median").certificate))


def test_seq_len_4_model_agrees_with_sampling_and_any_number_of_workers():
    rnn = _rnn([[1], [-1]], [[1, -1], [F(-1, 2), 1]], [[F(1, 3), F(-1, 4)]], 4)
    one = certify(rnn, task="median", workers=1)
    two = certify(rnn, task="median", workers=2).certificate
    assert json.dumps(one.certificate, sort_keys=True) == json.dumps(two, sort_keys=True)
    est, se = _sampled_mse(rnn, 4, 1 << 20, seed=5)
    assert abs(est - float(one.error_lower)) <= 5 * se


@pytest.mark.parametrize("mend,rule", [
    ("drop-simplices", "triangulation"), ("duplicate-simplex", "triangulation"), ("drop-one-simplex", "triangulation"),
    ("mse-shifted", "enclosure"), ("sentence", "closed-form")])
def test_a_forged_seq_len_4_certificate_is_rejected(mend, rule):
    import copy

    doc = copy.deepcopy(_n4_document())
    cells = doc["cells"]
    with_s = [c for c in cells if c.get("simplices")]
    if mend == "drop-simplices":
        del with_s[0]["simplices"]
    elif mend == "duplicate-simplex":
        with_s[0]["simplices"] = with_s[0]["simplices"] + with_s[0]["simplices"][:1]
    elif mend == "drop-one-simplex":
        big = next(c for c in with_s if len(c["simplices"]) > 1)
        big["simplices"] = big["simplices"][1:]
    elif mend == "mse-shifted":  # an enclosure just above the true one
        lo, hi = F(doc["mse"]["lower"]), F(doc["mse"]["upper"])
        doc["mse"]["lower"], doc["mse"]["upper"] = str(2 * hi - lo), str(3 * hi - 2 * lo)
    else:
        doc["mse"]["closed_form"] = doc["mse"]["closed_form"].replace("simplicial cones", "cones")
    v = check(doc)
    assert not v.accepted and v.rule == rule, (v.rule, v.reason)


def test_the_certificate_is_the_same_for_any_number_of_workers():
    rnn = _rnn([[1], [-1]], [[1, -1], [F(-1, 2), 1]], [[F(1, 3), F(-1, 4)]], 3)
    one = certify(rnn, task="median", workers=1).certificate
    two = certify(rnn, task="median", workers=2).certificate
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_cli_json_reports_mse_and_rmse_as_rationals(tmp_path):
    out = tmp_path / "m.cert.json"
    p = subprocess.run([sys.executable, "-m", "verifier", os.path.join(MODELS, "median_4_2.pth"), "--seq-len", "2",
                        "--json", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    lo, hi = F(rep["mse"]["lower"]), F(rep["mse"]["upper"])
    rlo, rhi = F(rep["rmse"]["lower"]), F(rep["rmse"]["upper"])
    assert 0 <= lo <= hi and rlo * rlo <= lo and hi <= rhi * rhi
    q = subprocess.run([sys.executable, "-m", "verifier", "check", str(out), "--checkpoint",
                        os.path.join(MODELS, "median_4_2.pth")], capture_output=True, text=True, cwd=ROOT)
    assert q.returncode == 0 and "ACCEPTED" in q.stdout and "mse in" in q.stdout


def test_cli_refuses_a_median_model_without_seq_len(tmp_path):
    p = subprocess.run([sys.executable, "-m", "verifier", os.path.join(MODELS, "median_4_2.pth"), "--out",
                        str(tmp_path / "x.json")], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "--seq-len" in p.stderr
    assert not os.path.exists(tmp_path / "x.json")


def test_a_forged_residual_is_rejected():
    """Change the output weight and recompute the digest: the closed form no longer matches."""
    import copy
    import hashlib

    from verifier.kernel import canonical_json

    rnn = _rnn([[1], [-1]], [[1, -1], [F(-1, 2), 1]], [[F(1, 3), F(-1, 4)]], 3)
    doc = copy.deepcopy(json.loads(json.dumps(certify(rnn, task="median").certificate)))
    doc["model"]["W_oh"][0][0] = "1/2"
    w = {k: doc["model"][k] for k in ("W_hi", "W_hh", "W_oh")}
    doc["model"]["weights_sha256"] = hashlib.sha256(canonical_json(w).encode()).hexdigest()
    v = check(doc)
    assert not v.accepted and v.rule == "closed-form"


def test_the_atlas_splits_a_seq_len_4_mse_by_chamber():
    """explain's breakdown at n = 4: one row per ordering chamber (4! = 24), each from the kernel's per-cone
    bounds; the rows' enclosures sum to an interval that holds the certified MSE."""
    from verifier.views.atlas import breakdown

    doc = _n4_document()
    b = breakdown(doc, top=1)
    assert len(b["breakdown"]) == 24
    lo = sum(F(r["lower"]) for r in b["breakdown"])
    hi = sum(F(r["upper"]) for r in b["breakdown"])
    assert lo <= F(doc["mse"]["upper"]) and F(doc["mse"]["lower"]) <= hi
    assert F(b["sum"]["lower"]) <= F(doc["mse"]["lower"]) and F(doc["mse"]["upper"]) <= F(b["sum"]["upper"])


def test_width_on_a_median_model_says_the_exact_mse_answered_it(tmp_path):
    """--width on a median model: the exact MSE is certified and a note on stderr says that --width did not
    shorten the work (no partial median certificate) and that --timeout bounds it."""
    rnn_path = os.path.join(MODELS, "median_4_2.pth")
    p = subprocess.run([sys.executable, "-m", "verifier", rnn_path, "--seq-len", "2", "--width", "0.01", "--samples",
                        "0", "--out", str(tmp_path / "m.cert.json")], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "--width 0.01: the exact MSE was certified" in p.stderr and "--timeout" in p.stderr


def test_version_3_per_cell_rules_spread_over_workers(monkeypatch):
    """A version-3 certificate's per-cell rules (PER_CELL_V3: no decisions) run on shares of the cells with two
    workers, and the verdict and first failure are those of one process."""
    import copy
    import importlib

    check_module = importlib.import_module("verifier.kernel.check")
    monkeypatch.setattr(check_module, "SPREAD_MIN_CELLS", 0)
    spread, calls = check_module._spread, []
    monkeypatch.setattr(check_module, "_spread", lambda c, w, *per: calls.append(per) or spread(c, w, *per))
    doc = _n4_document()
    bad = copy.deepcopy(doc)
    bad["cells"][-1]["rays"][0] = bad["cells"][-1]["rays"][1]  # one ray listed twice
    for d in (doc, bad):
        one, two = check(copy.deepcopy(d), workers=1), check(copy.deepcopy(d), workers=2)
        assert (one.accepted, one.rule, one.message) == (two.accepted, two.rule, two.message)
    assert calls and all(per == (check_module.PER_CELL_V3,) for per in calls)
    assert check(doc, workers=2).accepted and not check(bad, workers=2).accepted


# ---- MSE intervals at seq_len 5 (version 3, coverage "partial": listed cells + the tail, kernel/tail.py) ----

def test_partial_mse_interval_contains_the_mean_models_known_mse():
    """The mean model's MSE is E[median^2] - 1/5 (Basu; the quadrature above, not the cells).  An MSE interval from
    a few whole cells plus the tail n S^2 (1 - their mass) must contain it, the kernel must accept it, and its
    lower end is the listed cells' exact second moments (so at most the known value)."""
    rnn = _rnn(**{**MEAN_2, "W_oh": [[F(1, 5), F(-1, 5)]]}, n=5)
    res = certify(rnn, task="median", width=F(1, 2), max_cells=40, workers=1)
    doc = res.certificate
    assert doc["coverage"] == "partial" and doc["tail"]["bound"] and len(doc["tail"]["faces"]) == 10
    assert 0 < len(doc["cells"]) <= 40 and all(c["whole"] for c in doc["cells"])
    known = _median_second_moment(5) - 0.2
    assert float(res.error_lower) - 1e-12 <= known <= float(res.error_upper) + 1e-12, (res.error_lower, known)
    assert res.error_upper - res.error_lower > 0
    v = check(doc)
    assert v.accepted, v.reason
    assert v.summary["mse_lower"] == doc["mse"]["lower"]


def test_partial_mse_tail_cannot_prove_less_than_the_true_sup():
    """Output 0: r = -median, and on the unit sphere sup |median| = 1/sqrt(3) exactly (three coordinates are at
    least the median: 3 m^2 <= 1; equality at (1, 1, 1, 0, 0)/sqrt 3).  The tail's proven S^2 must be at least
    1/3, the interval must contain E[median^2] (quadrature), and a certificate claiming S^2 just under 1/3 with
    the same boxes must be refused by rule tail, whatever the rest says."""
    from verifier.kernel import parse_json

    rnn = _rnn([[1]], [[F(1, 2)]], [[0]], 5)
    res = certify(rnn, task="median", width=F(1, 100), max_cells=30, workers=1)
    doc = res.certificate
    S2 = F(doc["tail"]["bound"])
    assert S2 >= F(1, 3)
    known = _median_second_moment(5)
    assert float(res.error_lower) - 1e-12 <= known <= float(res.error_upper) + 1e-12
    bad = parse_json(json.dumps(doc))
    bad["tail"]["bound"] = str(F(1, 3) - F(1, 1000))
    v = check(bad)
    assert not v.accepted and v.rule == "tail", v.reason


def test_tail_residual_bounds_hold_at_every_point_tried():
    """kernel/tail.residual_bounds encloses K (model - median) on a box: at seeded random integer points of
    seeded random boxes on the faces, the exact forward pass (kernel/model.forward) and the exact median must
    land inside, for a d = 3 model with mixed-sign weights (stable, unstable and dead units all occur)."""
    import random

    from verifier.kernel.model import Model, forward
    from verifier.kernel.tail import _median, output_scale, residual_bounds

    rnn = _rnn([[1], [F(-2, 3)], [F(1, 2)]], [[F(1, 2), -1, F(1, 3)], [F(-1, 4), F(3, 4), 1], [1, F(1, 2), F(-1, 2)]],
               [[F(1, 3), F(-1, 2), F(3, 4)]], 5)
    m = Model.of(rnn.W_hi, rnn.W_hh, rnn.W_oh, 5)
    rng = random.Random(7)
    D = 1 << 8
    for _ in range(200):
        j, s = rng.randrange(5), rng.choice((1, -1))
        lo, hi = [], []
        for i in range(5):
            if i == j:
                lo.append(s * D)
                hi.append(s * D)
                continue
            w = rng.choice((1, 8, 64, 2 * D))
            a = -D if w == 2 * D else rng.randint(-D, D - w)
            lo.append(a)
            hi.append(a + w)
        rl, rh, K = residual_bounds(m, lo, hi)
        assert rl <= rh
        for _ in range(10):
            u = [rng.randint(a, b) for a, b in zip(lo, hi)]
            val = F(forward(m, u)[1][0], output_scale(m)) - _median(u)
            assert rl <= K * val <= rh


def test_mse_interval_is_the_same_for_one_and_two_workers():
    """Determinism: the tail's face trees (float proposals, exact confirmations in fixed chunks) and the cells
    (fixed batches, most hit first) do not depend on the number of workers when a cell budget stops the run."""
    from verifier.kernel import canonical_json

    rnn = _rnn([[1], [-1]], [[1, -1], [F(-1, 2), 1]], [[F(1, 3), F(-1, 4)]], 5)
    one = certify(rnn, task="median", width=F(1, 10 ** 6), max_cells=40, workers=1, samples=0).certificate
    two = certify(rnn, task="median", width=F(1, 10 ** 6), max_cells=40, workers=2, samples=0).certificate
    strip = lambda d: {k: v for k, v in d.items() if k != "generator"}  # noqa: E731
    assert canonical_json(strip(one)) == canonical_json(strip(two))
    assert one["coverage"] == "partial" and len(one["cells"]) == 40


def test_width_on_a_seq_len_5_median_model_writes_an_mse_interval(tmp_path):
    """The CLI: --width at seq_len 5 writes a partial (interval) certificate that `check` accepts; the width asked
    is not reached within --max-cells, so the exit code is 3 and stderr says why; --max-cones is refused."""
    path = os.path.join(MODELS, "median_2_5.pth")
    out = tmp_path / "m.cert.json"
    p = subprocess.run([sys.executable, "-m", "verifier", path, "--seq-len", "5", "--width", "0.001", "--max-cells",
                        "30", "--samples", "0", "--no-z3", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 3, p.stderr
    assert "MSE in  [" in p.stdout and "boxes of directions" in p.stdout and "was not reached" in p.stderr
    q = subprocess.run([sys.executable, "-m", "verifier", "check", str(out), "--checkpoint", path],
                       capture_output=True, text=True, cwd=ROOT)
    assert q.returncode == 0 and "ACCEPTED" in q.stdout, q.stdout + q.stderr
    r = subprocess.run([sys.executable, "-m", "verifier", path, "--seq-len", "5", "--width", "0.001", "--max-cones",
                        "30", "--samples", "0", "--out", str(tmp_path / "x.cert.json")], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 2 and "--max-cells" in r.stderr and not (tmp_path / "x.cert.json").exists()
