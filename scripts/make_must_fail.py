"""Write the must-fail corpus tests/data/must_fail/: for every rule in the kernel's RULES table at least one
certificate that breaks exactly that rule first.  Each file is `<rule>__<what>.cert.json`, made by one
semantic mutation of a good certificate (a shipped one, or the tiny seq_len-4 certificate built here);
files whose rule starts with `checkpoint-` are checked against models/<checkpoint.name>; `z3__*` files
are refuted by Z3 alone (verifier.interop.second_opinion.confirm_document).

Usage: python scripts/make_must_fail.py    (rewrites the generated files; hand-written ones are kept)
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import sys
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

import verifier  # noqa: E402
from verifier.kernel import RULES, check, canonical_json  # noqa: E402
from verifier.loading.rational import q  # noqa: E402

OUT = os.path.join(ROOT, "tests", "data", "must_fail")


def load(name):
    with open(os.path.join(ROOT, "proofs", name)) as fh:
        return json.load(fh)


def tiny_n4():
    """A d = 1, seq_len 4 model (142 cells, 52 simplicial cones): small enough to ship mutants of."""
    rnn = verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0]], seq_len=4)
    return verifier.certify(rnn, task="2nd_argmax", z3=False).certificate


def tiny_median():
    """Median certificates (version 3): a d = 2, seq_len 2 and a d = 2, seq_len 3 model, small rationals."""
    from verifier.kernel import parse_json

    a = verifier.RNN.make([[1], [-1]], [[1, -1], [-1, 1]], [[Fraction(1, 3), Fraction(-1, 4)]], seq_len=2)
    b = verifier.RNN.make([[1], [-1]], [[1, -1], [Fraction(-1, 2), 1]], [[Fraction(1, 3), Fraction(-1, 4)]], seq_len=3)
    return [parse_json(json.dumps(verifier.certify(m, task="median", z3=False).certificate)) for m in (a, b)]


def tiny_median_n4():
    """A median certificate at seq_len 4 (version 3 with simplices): the d = 2 model of tiny_median at n = 4."""
    from verifier.kernel import parse_json

    a = verifier.RNN.make([[1], [-1]], [[1, -1], [Fraction(-1, 2), 1]], [[Fraction(1, 3), Fraction(-1, 4)]], seq_len=4)
    return parse_json(json.dumps(verifier.certify(a, task="median", z3=False).certificate))


def median_n4_mutants(m4, m2):
    def m(base, fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    def simplex_dropped(d):
        c = next(c for c in d["cells"] if len(c.get("simplices", [])) >= 2)
        c["simplices"].pop()
    yield "triangulation", "median_n4_simplex_dropped", m(m4, simplex_dropped)

    def simplices_at_n2(d):  # (seq_len 3 has polygon evidence, whose reader admits no simplices at all)
        d["cells"][0]["simplices"] = [[0, 1]]
    yield "triangulation", "median_n2_cell_with_simplices", m(m2, simplices_at_n2)
    yield "closed-form", "median_n4_sentence_changed", m(m4, lambda d: d["mse"].update(
        closed_form=d["mse"]["closed_form"].replace("simplicial cones", "cones")))

    def mse_doubled(d):
        for k in ("lower", "upper"):
            d["mse"][k] = q(2 * Fraction(d["mse"][k]))
    yield "enclosure", "median_n4_mse_doubled", m(m4, mse_doubled)


def tiny_n5():
    """Full seq_len-5 certificates of d = 1 models (a 2nd-argmax one, version 2, and a median one, version 3):
    their cells are measured at once by the conic Gauss-Bonnet identity (kernel/conic.py)."""
    from verifier.kernel import parse_json

    pos = verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0], [1]], seq_len=5)
    med = verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[Fraction(1, 3)]], seq_len=5)
    return (parse_json(json.dumps(verifier.certify(pos, task="2nd_argmax", z3=False).certificate)),
            parse_json(json.dumps(verifier.certify(med, task="median", z3=False).certificate)),
            parse_json(json.dumps(verifier.certify(pos, task="2nd_argmax", z3=False, width=Fraction(1, 4),
                                                   workers=1).certificate)))


def n5_mutants(pos, med, part):
    def m(base, fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    def recount(d):
        import re

        d["error"]["closed_form"] = re.sub(r"of the (\d+) ", lambda g: f"of the {int(g.group(1)) + 1} ",
                                           d["error"]["closed_form"], count=1)
    yield "closed-form", "n5_cells_sentence_miscounts", m(pos, recount)

    def shifted(d):
        shift = Fraction(1, 10 ** 6)
        for k in ("lower", "upper"):
            d["error"][k] = q(Fraction(d["error"][k]) + shift)
        d["accuracy"] = {"lower": q(1 - Fraction(d["error"]["upper"])), "upper": q(1 - Fraction(d["error"]["lower"]))}
    yield "enclosure", "n5_cells_interval_shifted", m(pos, shifted)

    def mse_doubled(d):
        for k in ("lower", "upper"):
            d["mse"][k] = q(2 * Fraction(d["mse"][k]))
    yield "enclosure", "median_n5_mse_doubled", m(med, mse_doubled)

    yield "edges", "n5_whole_cell_misses_a_ray", _ray_dropped(pos)

    def ray_twice(d):  # version 2 and version 3 alike
        c = next(c for c in d["cells"] if c.get("whole"))
        c["rays"].append(list(c["rays"][0]))
    yield "edges", "n5_whole_cell_lists_a_ray_twice", m(pos, ray_twice)

    yield "edges", "median_n5_whole_cell_lists_a_ray_twice", m(med, ray_twice)

    def whole_unmeasured(d):
        next(c for c in d["cells"] if not c.get("whole"))["whole"] = True
    yield "triangulation", "n5_whole_cell_not_measured", m(pos, whole_unmeasured)

    def whole_and_simplices(d):
        c = next(c for c in d["cells"] if c.get("whole"))
        c["simplices"] = [list(range(5))]
    yield "triangulation", "n5_whole_cell_with_simplices", m(pos, whole_and_simplices)

    assert all(c.get("whole") for c in part["cells"]), "a seq_len-5 anytime certificate measures whole cells"

    def whole_and_pulled(d):
        d["cells"][0]["pulled"] = [[0]]
    yield "partial", "n5_whole_cell_with_pulled_paths", m(part, whole_and_pulled)

    def partial_narrower(d):
        d["error"]["upper"] = q(Fraction(d["error"]["upper"]) - Fraction(1, 10 ** 4))
        d["accuracy"]["lower"] = q(1 - Fraction(d["error"]["upper"]))
    yield "enclosure", "n5_partial_whole_cells_narrower", m(part, partial_narrower)


def _ray_dropped(base):
    """A whole cell of `base` with one extreme ray left out (the facets' ray lists re-indexed), chosen so that every
    other rule still passes: only the edge rule sees that the listed rays are not all the cell's."""
    for ci, cell in enumerate(base["cells"]):
        if not cell.get("whole") or len(cell["rays"]) <= 5:
            continue
        for k in range(len(cell["rays"])):
            d = copy.deepcopy(base)
            c = d["cells"][ci]
            del c["rays"][k]
            ok = True
            for e in c["constraints"]:
                if "facet" in e:
                    e["facet"] = [r - (r > k) for r in e["facet"] if r != k]
                    ok = ok and bool(e["facet"])
            if ok and check(d).rule == "edges":
                return d
    raise SystemExit("no whole cell of the tiny seq_len-5 certificate loses a ray to the edge rule alone")


def tiny_median_partial():
    """An MSE interval (version 3, coverage 'partial') of the d = 1 median model of tiny_n5: a few whole cells and
    the tail's face boxes."""
    from verifier.kernel import parse_json

    med = verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[Fraction(1, 3)]], seq_len=5)
    return parse_json(json.dumps(verifier.certify(med, task="median", z3=False, width=Fraction(1, 2), max_cells=12,
                                                  workers=1).certificate))


def median_partial_mutants(mp):
    def m(fn):
        d = copy.deepcopy(mp)
        fn(d)
        return d

    def bound_too_small(d):  # the closed form names the bound: it is rule tail that must fail first
        d["tail"]["bound"] = q(Fraction(d["tail"]["bound"]) / 100)
    yield "tail", "median_n5_partial_bound_too_small", m(bound_too_small)

    def face_uncut(d):
        d["tail"]["faces"][0] = "B"
    yield "tail", "median_n5_partial_face_not_split", m(face_uncut)

    def cut_held(d):  # face 0 holds coordinate 0 at +D: a cut of coordinate 0 is not on its box
        d["tail"]["faces"][0] = "0:0 B B"
    yield "tail", "median_n5_partial_cut_on_the_held_coordinate", m(cut_held)

    def tree_short(d):
        d["tail"]["faces"][1] = " ".join(d["tail"]["faces"][1].split(" ")[:-1])
    yield "tail", "median_n5_partial_tree_ends_early", m(tree_short)

    def not_whole(d):
        del d["cells"][0]["whole"]
    yield "partial", "median_n5_partial_cell_not_whole", m(not_whole)

    def twice(d):
        d["cells"].append(copy.deepcopy(d["cells"][0]))
        d["cell_count"] += 1
    yield "partial", "median_n5_partial_cell_listed_twice", m(twice)

    def no_tail(d):
        del d["tail"]
    yield "schema", "median_n5_partial_without_tail", m(no_tail)

    def upper_without_tail(d):  # the listed cells' moments alone: the unmeasured cells left out of the upper end
        d["mse"]["upper"] = q(Fraction(d["mse"]["lower"]) * 2)
        d["rmse"]["upper"] = q(Fraction(d["mse"]["upper"]))
    yield "enclosure", "median_n5_partial_upper_without_the_tail", m(upper_without_tail)

    def other_bound_sentence(d):
        d["mse"]["closed_form"] = d["mse"]["closed_form"].replace("S^2 = ", "S^2 = 2*", 1)
    yield "closed-form", "median_n5_partial_sentence_names_another_bound", m(other_bound_sentence)


def redigest(d):
    w = {k: d["model"][k] for k in ("W_hi", "W_hh", "W_oh")}
    d["model"]["weights_sha256"] = hashlib.sha256(canonical_json(w).encode()).hexdigest()


def median_mutants(m2, m3):
    def m(base, fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    yield "method", "moments_called_cones", m(m3, lambda d: d.update(method="cones"))
    yield "model", "median_certificate_of_position_model", m(m2, lambda d: d["model"].update(family="position"))
    yield "task", "median_certificate_claims_2nd_argmax", m(m3, lambda d: d.update(task="2nd_argmax"))

    def roots_swapped(d):
        d["roots"][2], d["roots"][3] = d["roots"][3], d["roots"][2]
    yield "roots", "median_roots_swapped", m(m3, roots_swapped)

    def coefficient_changed(d):
        f = d["mse"]["closed_form"]
        i = f.index("/sqrt(")
        d["mse"]["closed_form"] = f[:i] + "1" + f[i:]
    yield "closed-form", "median_radical_coefficient_changed", m(m3, coefficient_changed)

    def neighbour_dropped(d):
        for c in d["cells"]:
            for e in c["constraints"]:
                if "facet" in e and e["neighbor"] is not None:
                    e["neighbor"] = None
                    return
        raise SystemExit("no facet with a neighbour")
    yield "cover", "median_neighbour_dropped", m(m2, neighbour_dropped)

    def mse_doubled(d):
        for k in ("lower", "upper"):
            d["mse"][k] = q(2 * Fraction(d["mse"][k]))
    yield "enclosure", "median_mse_doubled", m(m3, mse_doubled)
    yield "rmse", "median_rmse_upper_too_small", m(m3, lambda d: d["rmse"].update(upper=d["rmse"]["lower"]))
    yield "rmse", "median_rmse_negative_lower", m(m2, lambda d: d["rmse"].update(lower="-1"))


def tiny_cycles():
    """Two tiny longest-cycle transformers (n = 3, d = 2, 27 inputs): one with wrong inputs, and one whose
    logits 0 and 1 are equal in the reals but not as balls (9 inputs undecided)."""
    import verifier
    from verifier.families.transformer import make
    from verifier.loading.loader import loaded_transformer as as_loaded

    F = Fraction
    wrong = make([[1, 0], [0, 1], [-1, 1]], [[0, F(1, 2)], [F(1, 2), 0], [F(1, 4), F(-1, 4)]],
                 [([[1, F(-1, 2)], [0, 1], [F(1, 2), 1], [-1, 0], [1, 1], [F(-1, 2), 1]], [[1, 0], [F(1, 2), -1]]),
                  ([[0, 1], [1, F(1, 2)], [-1, 1], [F(1, 2), 0], [1, -1], [0, 1]], [[F(-1, 2), 1], [1, 1]])],
                 [[1, -1], [F(1, 2), 1], [-1, F(1, 4)]])
    tie = make([[1, 1], [-1, -1], [-2, -2]], [[0, 0], [F(1, 2), F(1, 2)], [F(1, 4), F(1, 4)]],
               [([[1, 1], [1, 1], [1, 0], [0, 1], [1, 0], [0, 1]], [[1, 0], [0, 1]])],
               [[1, 0], [0, 1], [0, 0]])
    return (verifier.certify(as_loaded(wrong, "tiny_cycle_2_3"), self_check=False).certificate,
            verifier.certify(as_loaded(tie, "tie_cycle_2_3"), self_check=False).certificate)


def cycle_mutants(cyc, tie):
    """Version 4 (enumeration): one mutant per new rule, and version-4 cases of the shared ones."""
    def m(base, fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    def recount(d, N=27):
        w, u = len(d["wrong"]), len(d["undecided"])
        d["counts"] = {"right": N - w - u, "wrong": w, "undecided": u}
        d["error"] = {"lower": q(Fraction(w, N)), "upper": q(Fraction(w + u, N))}
        d["accuracy"] = {"lower": q(1 - Fraction(w + u, N)), "upper": q(1 - Fraction(w, N))}

    def redigest4(d):
        w = {k: d["model"][k] for k in ("embed", "pos_embed", "layers", "unembed")}
        d["model"]["weights_sha256"] = hashlib.sha256(canonical_json(w).encode()).hexdigest()

    def wrong_claimed_right(d):
        d["wrong"].pop(0)
        recount(d)

    def right_claimed_decided(d):
        d["undecided"].pop(0)
        recount(d)

    def prediction_is_target(d):
        from verifier.families.transformer import target

        f = d["wrong"][0][0]
        d["wrong"][0][1] = target([int(ch) for ch in f])

    def weight_nudged(d):
        d["model"]["unembed"][0][0] = "2"
        redigest4(d)

    yield "schema", "cycle_input_not_digits", m(cyc, lambda d: d["wrong"][0].__setitem__(0, "01x"))
    yield "version", "cycle_version_6", m(cyc, lambda d: d.update(version=6))
    yield "method", "cycle_called_cones", m(cyc, lambda d: d.update(method="cones"))
    yield "model", "cycle_two_heads", m(cyc, lambda d: d["model"].update(heads=2))
    yield "task", "cycle_task_argmax", m(cyc, lambda d: d.update(task="argmax"))
    yield "weights-digest", "cycle_weight_changed", m(cyc, lambda d: d["model"]["unembed"][0].__setitem__(0, "2"))
    yield "inputs", "cycle_inputs_not_n_to_the_n", m(cyc, lambda d: d.update(inputs=26))
    yield "inputs", "cycle_counts_off", m(cyc, lambda d: d["counts"].update(right=d["counts"]["right"] + 1))
    yield "wrong-inputs", "cycle_prediction_is_target", m(cyc, prediction_is_target)
    yield "forward", "cycle_wrong_input_claimed_right", m(cyc, wrong_claimed_right)
    yield "forward", "cycle_tie_claimed_decided", m(tie, right_claimed_decided)
    yield "forward", "cycle_weight_changed_digest_recomputed", m(cyc, weight_nudged)
    yield "tally", "cycle_error_upper_widened", m(cyc, lambda d: d["error"].update(upper="1"))
    yield "accuracy", "cycle_not_one_minus_error", m(tie, lambda d: d["accuracy"].update(upper="1"))


def mutants(disc, zero, poly, n4):
    def m(base, fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    def wrong_sector(d):
        return next(i for i, s in enumerate(d["sectors"]) if s["wrong"])

    yield "schema", "unknown_top_key", m(disc, lambda d: d.update(extra=1))
    yield "format", "other_format", m(disc, lambda d: d.update(format="some-certificate"))
    yield "method", "disc_called_cones", m(disc, lambda d: d.update(method="cones"))
    yield "method", "cones_certificate_says_disc", m(poly, lambda d: d.update(version=2, method="disc"))
    yield "model", "scalar_family", m(disc, lambda d: d["model"].update(family="scalar"))
    yield "task", "argmedian_even_seq_len", m(disc, lambda d: d.update(task="argmedian"))
    yield "checkpoint", "not_a_digest", m(disc, lambda d: d["checkpoint"].update(sha256="0" * 63 + "g"))
    yield "checkpoint-hash", "other_digest", m(disc, lambda d: d["checkpoint"].update(sha256="0" * 64))

    def forge_weight(d):
        d["model"]["W_hi"][0][0] = q(Fraction(d["model"]["W_hi"][0][0]) + Fraction(1, 1 << 30))
        redigest(d)
    yield "checkpoint-weights", "weight_changed_digest_recomputed", m(disc, forge_weight)

    def label_flip(d):
        s = d["sectors"][0]
        s["label"] = 1 - s["label"]
    yield "label", "sector_label_flipped", m(disc, label_flip)

    def pattern_flip(d):
        p = d["sectors"][0]["pattern"]
        p[0] = ("1" if p[0][0] == "0" else "0") + p[0][1:]
    yield "pattern", "sector_pattern_flipped", m(disc, pattern_flip)
    yield "wrong", "sector_wrong_flipped", m(disc, lambda d: d["sectors"][0].update(wrong=not d["sectors"][0]["wrong"]))
    yield "wedges", "wedge_dropped", m(disc, lambda d: d["wedges"].pop())
    yield "closed-form", "term_changed", m(disc, lambda d: d["error"].update(
        closed_form=d["error"]["closed_form"].replace("atan2(", "atan2(1", 1)))
    yield "accuracy", "not_one_minus_error", m(disc, lambda d: d["accuracy"].update(lower="1/2"))
    yield "enclosure", "not_rigorous", m(zero, lambda d: d["error"].update(rigorous=False))

    def wrong_flip_only(d):
        k = wrong_sector(d)
        d["sectors"][k]["prediction"] = 1 - d["sectors"][k]["prediction"]
        d["sectors"][k]["wrong"] = False
        d["wedges"] = [w for w in d["wedges"] if k not in w]
    yield "z3", "sector_prediction_flipped", m(disc, wrong_flip_only)

    # version 2, seq_len 3 (polygons)
    def roots_swapped(d):
        d["roots"][0], d["roots"][1] = d["roots"][1], d["roots"][0]
    yield "roots", "two_roots_swapped", m(poly, roots_swapped)

    def polygon_edge(d):
        c = d["cells"][0]
        c["edges"][0] = c["edges"][1]
    yield "polygon", "edge_repeated", m(poly, polygon_edge)

    def neighbour_moved(d):
        c = next(c for c in d["cells"] if any(x is not None for x in c["neighbors"]))
        i = next(i for i, x in enumerate(c["neighbors"]) if x is not None)
        c["neighbors"][i] = None
    yield "cover", "neighbour_removed", m(poly, neighbour_moved)

    def decision_flip(d):
        c = d["cells"][0]
        k = c["decision"].index(".")
        j = next(j for j, ch in enumerate(c["decision"]) if ch in "+-" and j != k)
        c["decision"] = c["decision"][:j] + "0" + c["decision"][j + 1:]
    yield "prediction", "nonzero_difference_marked_tied", m(poly, decision_flip)

    # version 2, seq_len 4 (facets)
    def ray_dependent(d):
        r = d["cells"][0]["rays"][0]
        r[1] = r[0]
    yield "rays", "ray_constraints_repeated", m(n4, ray_dependent)

    def witness_on_facet(d):
        for c in d["cells"]:
            fac = [e["facet"] for e in c["constraints"] if "facet" in e]
            big = next((f for f in fac if len(f) >= 4), None)
            if big is not None and len(c["rays"]) > len(big):
                # every ray replaced by a ray of one facet: all are still rays, their sum lies on the facet
                c["rays"] = [c["rays"][big[i % len(big)]] for i in range(len(c["rays"]))]
                return
        raise SystemExit("no cell with a facet of >= 4 rays")
    yield "witness", "all_rays_on_one_facet", m(n4, witness_on_facet)

    def facet_points_inside(d):
        c = d["cells"][0]
        e = next(e for e in c["constraints"] if "facet" in e)
        e["facet"] = list(range(len(c["rays"])))
    yield "facet", "facet_rays_are_all_rays", m(n4, facet_points_inside)

    def same_wrong(d):
        for c in d["cells"]:
            for j, e in enumerate(c["constraints"]):
                if "same" in e:
                    other = next(i for i, f in enumerate(c["constraints"]) if "facet" in f and i != e["same"])
                    e["same"] = other
                    return
        raise SystemExit("no 'same' constraint")
    yield "redundant", "same_points_at_another_facet", m(n4, same_wrong)

    def simplex_dropped(d):
        c = next(c for c in d["cells"] if len(c.get("simplices", [])) >= 2)
        c["simplices"].pop()
    yield "triangulation", "simplex_dropped", m(n4, simplex_dropped)

    def pulled_in_full(d):
        next(c for c in d["cells"] if c.get("simplices"))["pulled"] = [[0]]
    yield "triangulation", "pulled_paths_in_a_full_certificate", m(n4, pulled_in_full)

    # top-two roots (2nd argmax, n >= 4): the family must be whole, for 2nd argmax only, at n >= 4 only
    assert len(n4["roots"][0]["ranking"]) == 2, "tiny_n4 is expected to have top-two roots"

    def top_two_pair_missing(d):  # (3, 2) replaced by a second (3, 1): the roots no longer tile R^n
        for r in d["roots"]:
            if r["ranking"] == [3, 2]:
                r["ranking"] = [3, 1]
    yield "roots", "top_two_pair_missing", m(n4, top_two_pair_missing)
    yield "roots", "top_two_roots_for_argmax", m(n4, lambda d: d.update(task="argmax"))

    def top_two_at_seq_len_3(d):  # 6 pairs x 2 signs: as many roots as the 6 chambers x 2
        d["roots"] = [{"ranking": [j, k], "x0_sign": s} for j in range(3) for k in range(3) if k != j for s in (1, -1)]
    yield "roots", "top_two_roots_at_seq_len_3", m(poly, top_two_at_seq_len_3)

    def ranking_of_three(d):
        d["roots"][0]["ranking"] = d["roots"][0]["ranking"] + [next(i for i in range(4) if i not in d["roots"][0]["ranking"])]
    yield "schema", "root_ranking_of_three_positions", m(n4, ranking_of_three)


def tiny_partial():
    """An anytime (coverage 'partial') certificate of the tiny seq_len-4 model: width 1/4 (some of its cells, some of
    their cones)."""
    from verifier.kernel import parse_json

    rnn = verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0]], seq_len=4)
    return parse_json(json.dumps(verifier.certify(rnn, task="2nd_argmax", z3=False, width=Fraction(1, 4)).certificate))


def tiny_partial_n6():
    """An anytime certificate of a d = 1, seq_len-6 model, width 9/10 (a few cells): its cones are measured by P_6."""
    from verifier.kernel import parse_json

    rnn = verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[1], [-1], [2], [0], [1], [-2]], seq_len=6)
    return parse_json(json.dumps(verifier.certify(rnn, task="2nd_argmax", z3=False, width=Fraction(9, 10),
                                                  workers=1, samples=0).certificate))


def n6_mutants(p6):
    d = copy.deepcopy(p6)
    d["error"]["lower"] = d["error"]["upper"]
    d["accuracy"]["upper"] = d["accuracy"]["lower"]
    yield "enclosure", "seq_len_6_interval_narrower_than_measured", d


def partial_mutants(p4, poly):
    def m(base, fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    def whole_at_n4(d):
        c = d["cells"][0]
        c.pop("pulled", None)
        c.pop("simplices", None)
        c["whole"] = True
    yield "edges", "n4_partial_cell_marked_whole", m(p4, whole_at_n4)

    def duplicate(d):
        d["cells"].append(copy.deepcopy(d["cells"][0]))
        d["cell_count"] += 1
    yield "partial", "cell_listed_twice", m(p4, duplicate)

    def neighbour(d):
        for c in d["cells"]:
            for e in c["constraints"]:
                if "facet" in e:
                    e["neighbor"] = 1 if d["cells"][0] is not c else 2
                    return
    yield "partial", "facet_with_a_neighbour", m(p4, neighbour)

    def no_simplices(d):
        del d["cells"][0]["pulled"]
    yield "partial", "cell_without_simplices", m(p4, no_simplices)
    yield "partial", "measured_named", m(p4, lambda d: d.update(measured="wrong"))
    yield "partial", "seq_len_3", m(poly, lambda d: d.update(coverage="partial"))
    yield "schema", "coverage_unknown", m(p4, lambda d: d.update(coverage="most"))
    yield "closed-form", "partial_sentence_miscounts", m(p4, lambda d: d["error"].update(
        closed_form=d["error"]["closed_form"].replace(" wrong cells listed", " wrong cells listed and more")))

    def narrower(d):
        d["error"]["lower"] = d["error"]["upper"]
        d["accuracy"]["upper"] = d["accuracy"]["lower"]
    yield "enclosure", "partial_interval_narrower_than_measured", m(p4, narrower)

    def flipped(d):
        c = next(c for c in d["cells"] if not c["wrong"])
        c["wrong"] = True
    yield "wrong", "partial_right_cell_called_wrong", m(p4, flipped)

    def same_twice(d):
        c = next(c for c in d["cells"] if c["pulled"])
        c["pulled"].append(list(c["pulled"][0]))
    yield "partial", "pulled_same_simplex_twice", m(p4, same_twice)

    def cut_short(d):  # the last face then has more rays than the simplex needs
        next(c for c in d["cells"] if any(len(p) >= 1 for p in c["pulled"]))["pulled"][0].pop()
    yield "partial", "pulled_path_cut_short", m(p4, cut_short)

    def apex_on_constraint(d):  # the cell's apex, ray 0, lies on the first constraint that defines it
        c = next(c for c in d["cells"] if c["pulled"] and c["pulled"][0])
        c["pulled"][0][0] = c["rays"][0][0]
    yield "partial", "pulled_apex_on_the_cutting_constraint", m(p4, apex_on_constraint)

    def fewer_measured(d):
        """A wrong cell's cones left out of the sum (the sentence's count follows) while the interval is kept."""
        import re

        c = next(c for c in d["cells"] if c["wrong"] and len(c["pulled"]) >= 2)
        had = len(c["pulled"])
        c["pulled"] = c["pulled"][:1]
        form = d["error"]["closed_form"]
        total = int(re.search(r"P_4 of the (\d+) simplicial cones of", form).group(1))
        d["error"]["closed_form"] = form.replace(f"P_4 of the {total} simplicial cones of",
                                                 f"P_4 of the {total - had + 1} simplicial cones of", 1)
    yield "enclosure", "partial_cones_left_out_interval_kept", m(p4, fewer_measured)


def tiny_boxes():
    """A boxes (version 5) certificate of the shipped M(2,3): 3,000 boxes."""
    from verifier.kernel import parse_json

    res = verifier.certify(os.path.join(ROOT, "models", "2nd_argmax_2_3.pth"), method="boxes", max_boxes=3000,
                           workers=1, samples=0)
    return parse_json(json.dumps(res.certificate))


def box_mutants(bx):
    from verifier.intervals.boxes import _leaves
    from verifier.kernel.boxes import box_prediction, box_target
    from verifier.kernel.model import Model

    def m(base, fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    def retag(d, pick, new):
        """Give the leaf that pick(lo, hi, flag) chooses first the flag `new` (counts kept right)."""
        tokens = d["tree"].split(" ")
        leaves = iter(_leaves(tokens, d["model"]["seq_len"]))
        for i, t in enumerate(tokens):
            if t in ("R", "W", "U"):
                lo, hi, flag = next(leaves)
                if pick(lo, hi, flag):
                    tokens[i] = new
                    names = {"R": "right", "W": "wrong", "U": "undecided"}
                    d["counts"][names[flag]] -= 1
                    d["counts"][names[new]] += 1
                    d["tree"] = " ".join(tokens)
                    return
        raise SystemExit("no such leaf")

    task, n = bx["task"], bx["model"]["seq_len"]
    mo = bx["model"]
    model = Model.of(*[[[Fraction(v) for v in r] for r in mo[k]] for k in ("W_hi", "W_hh", "W_oh")], n)

    def cut_outside(d):
        tokens = d["tree"].split(" ")
        i = tokens[0].split(":")[0]
        tokens[0] = f"{i}:{d['grid']['radius']}"
        d["tree"] = " ".join(tokens)
    yield "box-tree", "cut_outside_its_box", m(bx, cut_outside)
    yield "box-tree", "counts_off", m(bx, lambda d: d["counts"].update(right=d["counts"]["right"] + 1))
    yield "box-label", "open_order_called_right", m(bx, lambda d: retag(
        d, lambda lo, hi, f: f == "U" and box_target(task, n, lo, hi) is None, "R"))
    yield "box-prediction", "right_leaf_called_wrong", m(bx, lambda d: retag(d, lambda lo, hi, f: f == "R", "W"))
    yield "box-prediction", "unproven_argmax_called_right", m(bx, lambda d: retag(
        d, lambda lo, hi, f: f == "U" and box_target(task, n, lo, hi) is not None and box_prediction(model, lo, hi)
        is None, "R"))

    def narrower(d):
        d["error"]["lower"] = d["error"]["upper"]
        d["accuracy"]["upper"] = d["accuracy"]["lower"]
    yield "box-mass", "interval_narrower_than_the_leaves", m(bx, narrower)
    yield "box-mass", "not_rigorous", m(bx, lambda d: d["error"].update(rigorous=False))
    yield "method", "boxes_called_cones", m(bx, lambda d: d.update(method="cones"))
    yield "accuracy", "boxes_not_one_minus_error", m(bx, lambda d: d["accuracy"].update(upper="1"))


def main() -> int:
    disc, zero, poly = load("2nd_argmax_2_2.cert.json"), load("hand_2nd_argmax_2_2.cert.json"), \
        load("hand_2nd_argmax_4_3.cert.json")
    n4 = tiny_n4()
    from verifier.interop.second_opinion import confirm_document
    from verifier.kernel import Reject

    medians = tiny_median()
    for rule, what, doc in itertools.chain(mutants(disc, zero, poly, n4), median_mutants(*medians),
                                           median_n4_mutants(tiny_median_n4(), medians[0]),
                                           n5_mutants(*tiny_n5()), median_partial_mutants(tiny_median_partial()),
                                           cycle_mutants(*tiny_cycles()), partial_mutants(tiny_partial(), poly),
                                           n6_mutants(tiny_partial_n6()),
                                           box_mutants(tiny_boxes())):
        assert rule in RULES, rule
        path = os.path.join(OUT, f"{rule}__{what}.cert.json")
        if rule == "z3":
            try:
                confirm_document(doc)
                raise SystemExit(f"{path}: Z3 confirmed it")
            except Reject as exc:
                got = exc.rule
        else:
            ck = os.path.join(ROOT, "models", doc["checkpoint"]["name"]) if rule.startswith("checkpoint-") else None
            got = check(doc, checkpoint=ck).rule
        if got != rule:
            raise SystemExit(f"{path}: expected rule {rule}, the kernel says {got}")
        with open(path, "w") as fh:
            fh.write(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
        print(f"{rule:20s} {os.path.basename(path)}")
    missing = sorted(set(RULES) - {f.split("__")[0] for f in os.listdir(OUT)})
    if missing:
        raise SystemExit(f"rules without a must-fail certificate: {missing}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
