"""Anytime (partial) certificates, seq_len 4: the interval from a subset of cells contains the exact error
(from the full certificate, which rests on a different argument: the cover), narrows with the width asked,
is the same for any number of workers, is re-checked by the kernel, and the CLI writes it (exit 3 when
--timeout comes before the width)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from fractions import Fraction

import pytest
from conftest import TickClock, load_proof

import verifier
from verifier.kernel import check, parse_json
from verifier.loading.rational import dumps_compact

ROOT = os.path.join(os.path.dirname(__file__), "..")


def tiny_n4():
    return verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0]], seq_len=4)


@pytest.fixture(scope="module")
def full():
    return verifier.certify(tiny_n4(), task="2nd_argmax", z3=False)


@pytest.fixture(scope="module")
def partial():
    return verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, width=Fraction(1, 10))


def test_the_partial_interval_contains_the_exact_error_and_meets_the_width(full, partial):
    assert partial.error_lower <= full.error_lower and full.error_upper <= partial.error_upper
    assert partial.error_upper - partial.error_lower <= Fraction(1, 10)
    assert partial.details["width_reached"]
    assert 0 < partial.details["cell_count"] <= partial.details["cells_total"] <= full.details["cell_count"]


def test_a_narrower_width_measures_more_cells(partial):
    wide = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, width=Fraction(1, 2))
    assert wide.details["cell_count"] < partial.details["cell_count"]
    assert wide.error_lower <= partial.error_lower and partial.error_upper <= wide.error_upper


def test_the_kernel_accepts_it_and_rejects_a_forged_interval(partial):
    doc = parse_json(json.dumps(partial.certificate))
    assert doc["coverage"] == "partial"
    assert check(doc).accepted
    forged = copy.deepcopy(doc)
    forged["error"]["lower"] = forged["error"]["upper"]
    forged["accuracy"]["upper"] = forged["accuracy"]["lower"]
    assert check(forged).rule == "enclosure"
    dropped = copy.deepcopy(doc)  # leaving a cell out keeps it valid: its claim is only as wide
    dropped["cells"].pop()
    dropped["cell_count"] -= 1
    assert check(dropped).rule in ("closed-form", "schema")  # the sentence counts the cells listed


def test_byte_identical_for_one_and_two_workers():
    a = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, width=Fraction(1, 4), workers=1).certificate
    b = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, width=Fraction(1, 4), workers=2).certificate
    assert dumps_compact(a) == dumps_compact(b)


def test_width_is_refused_where_it_does_not_apply():
    from verifier.errors import UnsupportedError

    rnn = verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1]], seq_len=3)
    with pytest.raises(UnsupportedError, match="seq_len 4 to 7"):
        verifier.certify(rnn, task="2nd_argmax", z3=False, width=Fraction(1, 10))


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "verifier", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": os.path.abspath(ROOT)}, timeout=600)


def test_cli_width_and_timeout(tmp_path):
    ck = tmp_path / "tiny.json"
    from verifier.loading.loader import weights_json

    ck.write_text(json.dumps(weights_json(tiny_n4(), task="2nd_argmax")))
    out = tmp_path / "tiny.partial.cert.json"
    r = _cli(str(ck), "--width", "1/10", "--samples", "0", "--out", str(out), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["partial"]["width_reached"] is True
    assert Fraction(rep["partial"]["width"]) <= Fraction(1, 10)
    assert _cli("check", str(out), cwd=tmp_path).returncode == 0
    bad = _cli(str(ck), "--width", "2", cwd=tmp_path)
    assert bad.returncode == 2 and "width" in bad.stderr and "Traceback" not in bad.stderr
    # a timeout too short for the width: the interval reached is still written and certified, exit 3
    out2 = tmp_path / "short.cert.json"
    r = _cli(str(ck), "--width", "0", "--timeout", "20", "--samples", "0", "--out", str(out2), cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "not reached" in r.stderr and out2.exists()
    assert _cli("check", str(out2), cwd=tmp_path).returncode == 0


def test_the_cells_measured_are_cells_of_the_full_certificate(full, partial):
    """Cells found from samples (exact keys of integer points) are cells of the full traversal, whole: the same
    constraints, rays and verdict, listed in the full certificate's canonical order."""
    every = {(c.root, c.sigma, c.tau): c for c in full.details["cells"]}
    some = partial.details["cells"]
    assert 0 < len(some) < len(every)
    for c in some:
        twin = every[(c.root, c.sigma, c.tau)]
        assert (c.constraints, c.rays, c.wrong) == (twin.constraints, twin.rays, twin.wrong)
    order = [(c.root, c.sigma, c.tau) for c in some]
    assert order == [k for k in ((c.root, c.sigma, c.tau) for c in full.details["cells"]) if k in set(order)]


def test_width_zero_finds_and_measures_every_cell(full):
    """After the sampled keys the cells' neighbours follow breadth-first: every cell is found and measured (the
    interval is then the full certificate's, to the precision of the enclosures)."""
    res = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, width=Fraction(0), samples=0)
    d = res.details
    assert d["traversal_complete"] and d["cell_count"] == d["cells_total"] == full.details["cell_count"]
    assert not d["width_reached"]
    # both enclose the exact error (the full one by its cover): they overlap, and this one is as narrow
    assert res.error_lower <= full.error_upper and full.error_lower <= res.error_upper
    assert res.error_upper - res.error_lower < Fraction(1, 10**15)


def test_discovery_starts_with_the_sampled_cells_most_hit_first():
    """The keys of the samples, re-derived exactly, are cells; the most hit come first."""
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.cells.cones import Traversal
    from verifier.loading.loader import load

    lm = load(os.path.join(ROOT, "models", "2nd_argmax_4_4.pth"))
    tr = Traversal(lm.rnn, lm.task)
    x, hits = sampled_keys(lm, tr, samples=1 << 14)
    counts = [c for c, _ in hits]
    assert counts == sorted(counts, reverse=True) and sum(counts) == 1 << 14
    for count, i in hits[:20]:
        root, sigma, tau = exact_key(tr, x[i])
        cell = tr.process(tr.roots[root], sigma, tau)
        assert cell.rays and (root, sigma, tau) == (cell.root, cell.sigma, cell.tau)


def test_a_timeout_before_the_traversal_ends_still_gives_a_certificate(monkeypatch):
    """M(8,4) (9,682 cells with top-two roots): a budget of 400 looks at a clock that ticks once per look (the
    measure gets 3/4 of it, looked at per cone and per chunk of cells) stops the discovery and the measure long
    before the end; the cells measured by then give an interval that, re-checked by the kernel, contains the full
    certificate's value.  1 and 2 workers give the same certificate: the budget is counted, not timed."""
    import verifier.intervals.anytime
    import verifier.kinds.cones
    import verifier.pipeline

    path = os.path.join(ROOT, "models", "2nd_argmax_8_4.pth")
    exact = Fraction("0.0461323884520579")  # proofs/n4/2nd_argmax_8_4.cert.json.xz (the cover's argument)
    documents = []
    for workers in (1, 2):
        clock = TickClock()
        monkeypatch.setattr(verifier.pipeline, "time", clock)
        monkeypatch.setattr(verifier.kinds.cones, "time", clock)
        monkeypatch.setattr(verifier.intervals.anytime, "time", clock)
        res = verifier.certify(path, z3=False, width=Fraction(1, 1000), timeout=400, workers=workers, samples=0)
        monkeypatch.undo()
        d = res.details
        assert d["traversal_complete"] is False and 0 < d["cell_count"] <= d["cells_total"] < 9682
        assert 0 < d["cones_measured"] < 300 and not d["width_reached"]
        assert res.error_lower <= exact <= res.error_upper < 1
        assert check(parse_json(json.dumps(res.certificate))).accepted
        documents.append(dumps_compact(res.certificate))
    assert documents[0] == documents[1]


def test_a_cone_budget_gives_the_same_certificate_anywhere():
    """--max-cones: the measure stops after exactly that many cones (mid-batch), the certificate is the same for 1
    and 2 workers and for a second run, and it is a function of the model alone (no clock)."""
    path = os.path.join(ROOT, "models", "2nd_argmax_3_4.pth")
    exact = Fraction(load_proof("2nd_argmax_3_4.cert.json")["error"]["lower"])
    docs = []
    for workers in (1, 2, 1):
        res = verifier.certify(path, z3=False, width=Fraction(1, 10 ** 6), max_cones=300, workers=workers, samples=0)
        d = res.details
        assert d["cones_measured"] == 300 and not d["width_reached"]
        assert res.error_lower <= exact <= res.error_upper
        docs.append(dumps_compact(res.certificate))
    assert docs[0] == docs[1] == docs[2]
    assert check(parse_json(docs[0])).accepted
    with pytest.raises(verifier.errors.InputError, match="--max-cones goes with --width"):
        verifier.certify(path, z3=False, max_cones=10)


def test_the_deadline_is_looked_at_per_cone(monkeypatch):
    """A deadline that passes inside the first batch of cones stops the measure there: the cones that came back
    are counted, in the cells they belong to (a P_7 cone can take a second; batches are 256 cones)."""
    import itertools
    import time

    from verifier.intervals.anytime import BATCH_CONES, discover_and_measure
    from verifier.loading.loader import load

    lm = load(os.path.join(ROOT, "models", "2nd_argmax_4_4.pth"))
    clock = itertools.count()  # one tick per look at the clock
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    tr, done, w, r, reached, stats = discover_and_measure(lm, Fraction(0), deadline=60.0, samples=1 << 12)
    monkeypatch.undo()
    cones = sum(len(c.pulled) for c in done)
    assert 0 < cones == stats["cones"] < BATCH_CONES and stats["found"] > len(done) and not reached
    assert 0 < w + r < 1
    _, none, *_ = discover_and_measure(lm, Fraction(0), deadline=time.monotonic() - 1, samples=1 << 12)
    assert none == []


def test_the_largest_cones_of_a_cell_are_measured_first():
    """The unit measured is a simplicial cone, largest float estimate first across cells: stopped by the width,
    some cell has only some of its cones measured, and those are its largest by the estimate; the certificate
    gives them by their pulling paths (`pulled`) and the kernel, re-deriving each cone from its path, accepts
    it; the interval contains the full certificate's value."""
    from verifier.intervals.anytime import discover_and_measure
    from verifier.loading.loader import load

    lm = load(os.path.join(ROOT, "models", "2nd_argmax_4_4.pth"))
    tr, done, w, r, reached, stats = discover_and_measure(lm, Fraction(1, 4), samples=1 << 14)
    assert reached and 0 < stats["cones"] < stats["cones_total"]
    partly = [c for c in done if len(c.pulled) < len(c.simplices)]
    assert partly
    for c in partly:
        ms = {c.paths.index(p) for p in c.pulled}
        assert 0 < len(ms) == len(c.pulled) < len(c.simplices)
        assert min(c.estimates[i] for i in ms) >= max(c.estimates[i] for i in range(len(c.simplices)) if i not in ms)
    res = verifier.certify(lm, z3=False, width=Fraction(1, 4), samples=0)
    doc = res.certificate
    assert all("pulled" in c and "simplices" not in c for c in doc["cells"])
    assert check(parse_json(json.dumps(doc))).accepted
    exact = Fraction(load_proof("2nd_argmax_4_4.cert.json")["error"]["lower"])
    assert res.error_lower <= exact <= res.error_upper


def test_a_pulled_path_gives_the_cone_of_the_triangulation():
    """The kernel's cone from a pulling path is the generator's simplex of that path, rays in the same order (so
    the kernel's ball is the generator's, in a fresh `check` too), for every simplex of a cell's triangulation
    (a partial certificate with every path of a cell measures the whole cell)."""
    from verifier.intervals.anytime import exact_key, sampled_keys
    from verifier.cells.cones import Traversal
    from verifier.cells.triangulate import triangulate
    from verifier.kernel.cones import _pulled
    from verifier.loading.loader import load

    lm = load(os.path.join(ROOT, "models", "2nd_argmax_8_5.pth"))
    tr = Traversal(lm.rnn, lm.task)
    x, hits = sampled_keys(lm, tr, samples=1 << 12)
    for _, i in hits[:3]:
        root, sigma, tau = exact_key(tr, x[i])
        c = tr.process(tr.roots[root], sigma, tau)
        paths = []
        sx = triangulate(c.rays, c.masks, tr.n, len(c.constraints), paths)
        on = [sum(1 << j for j in range(len(c.constraints)) if c.masks[a] >> j & 1) for a in range(len(c.rays))]
        cones = _pulled("cell", {"rays": c.rays, "on": on}, c.constraints, paths, tr.n)
        assert cones == [[c.rays[r] for r in s] for s in sx]  # the same rays in the same order: the same ball


def test_seq_len_5_measures_whole_cells_with_a_cell_budget():
    """Seq_len 5: the unit measured is a whole cell (conic Gauss-Bonnet; its rays proven complete by rule edges),
    most hit first.  --max-cells stops after exactly that many cells, the certificate is the same for 1 and 2
    workers, every listed cell is whole (no simplices, no paths), the kernel accepts it, and the interval contains
    the shipped full certificate's value.  --max-cones is refused at seq_len 5 and --max-cells at
    seq_len 4, each with a message naming the other."""
    path = os.path.join(ROOT, "models", "2nd_argmax_2_5.pth")
    full = load_proof("n5/2nd_argmax_2_5.cert.json.xz")
    lo_x, hi_x = Fraction(full["error"]["lower"]), Fraction(full["error"]["upper"])
    docs = []
    for workers in (1, 2):
        res = verifier.certify(path, z3=False, width=Fraction(1, 10 ** 6), max_cells=40, workers=workers, samples=0)
        d = res.details
        assert d["whole"] and d["cones_measured"] == 40 and not d["width_reached"]
        assert res.error_lower <= lo_x and hi_x <= res.error_upper
        docs.append(dumps_compact(res.certificate))
    assert docs[0] == docs[1]
    doc = parse_json(docs[0])
    assert doc["cells"] and all(c.get("whole") and "simplices" not in c and "pulled" not in c for c in doc["cells"])
    assert "whole cells" in doc["error"]["closed_form"]
    assert check(doc).accepted
    with pytest.raises(verifier.errors.InputError, match="--max-cells"):
        verifier.certify(path, z3=False, width=Fraction(1, 10), max_cones=10, samples=0)
    with pytest.raises(verifier.errors.InputError, match="--max-cones"):
        verifier.certify(os.path.join(ROOT, "models", "2nd_argmax_3_4.pth"), z3=False, width=Fraction(1, 10),
                         max_cells=10, samples=0)
