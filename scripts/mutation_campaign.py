"""Mutation campaign against the trusted kernel: semantic mutants of real certificates, each of which must be
rejected by the rule it targets, and a round-trip set (re-serialised, keys reordered, whitespace changed)
that must all be accepted.

Every operator below changes one claim of a certificate in a way that exactly one rule of the kernel's
table is responsible for catching first (the rules run in a fixed order: FORMAT.md, "The rules").
Operators are applied at seeded random positions (cells, sectors, weights, bits) of several shipped
certificates: small v1 (disc), v2 (seq_len 3 polygons), v3 (median) ones, and a tiny seq_len-4 certificate
built here (facets, triangulation).

Usage: python scripts/mutation_campaign.py [--per-operator 40] [--seed 0] [--out docs/mutation.json]
A summary by rule is printed and written to --out; docs/VALIDATION.md shows the last full run.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import sys
import time
from collections import Counter
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from verifier.kernel import canonical_json, check  # noqa: E402
from verifier.kernel.rules import RULES  # noqa: E402

V1 = ("2nd_argmax_2_2", "2nd_argmax_4_2", "2nd_argmax_8_2", "hand_2nd_argmax_2_2")
V2 = ("2nd_argmax_2_3", "argmedian_2_3", "hand_2nd_argmax_4_3")
V3 = ("median_2_2", "median_4_2", "median_2_3")


def _q(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def redigest(d):
    w = {k: d["model"][k] for k in ("W_hi", "W_hh", "W_oh")}
    d["model"]["weights_sha256"] = hashlib.sha256(canonical_json(w).encode()).hexdigest()


def load_bases():
    out = {}
    for name in V1 + V2 + V3:
        with open(os.path.join(ROOT, "proofs", name + ".cert.json")) as fh:
            out[name] = json.load(fh)
    import verifier

    rnn = verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0]], seq_len=4)
    out["tiny_n4"] = json.loads(json.dumps(verifier.certify(rnn, task="2nd_argmax", z3=False).certificate))
    out["tiny_partial"] = json.loads(json.dumps(verifier.certify(rnn, task="2nd_argmax", z3=False,
                                                                 width=Fraction(1, 4)).certificate))
    pos5 = verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0], [1]], seq_len=5)
    out["tiny_n5"] = json.loads(json.dumps(verifier.certify(pos5, task="2nd_argmax", z3=False, workers=1).certificate))
    out["tiny_n5_partial"] = json.loads(json.dumps(verifier.certify(pos5, task="2nd_argmax", z3=False, workers=1,
                                                                    width=Fraction(1, 4)).certificate))
    med5 = verifier.RNN.make([[1]], [[Fraction(1, 2)]], [[Fraction(1, 3)]], seq_len=5)
    out["tiny_median_n5_partial"] = json.loads(json.dumps(verifier.certify(med5, task="median", z3=False, workers=1,
                                                                           width=Fraction(1, 2),
                                                                           max_cells=12).certificate))
    out["tiny_boxes"] = json.loads(json.dumps(verifier.certify(os.path.join(ROOT, "models", "2nd_argmax_2_3.pth"),
                                                               method="boxes", max_boxes=3000, workers=1,
                                                               samples=0).certificate))
    return out


def _weight_paths(d):
    return [(k, i, j) for k in ("W_hi", "W_hh", "W_oh") for i, row in enumerate(d["model"][k]) for j in range(len(row))]


def _set_weight(d, path, delta):
    k, i, j = path
    d["model"][k][i][j] = _q(Fraction(d["model"][k][i][j]) + delta)


# ---- operators: (rule, name, applicable(base_name, doc), mutate(doc, rng) -> doc | text | None) ---------------


def op_json_float(d, rng):
    text = json.dumps(d, sort_keys=True, indent=1)
    key = rng.choice(['"lower": "', '"upper": "'])
    i = text.index(key) + len(key) - 1
    j = text.index('"', i + 1)
    return text[:i] + "0.5" + text[j + 1:]


def op_json_duplicate(d, rng):
    text = json.dumps(d, sort_keys=True, indent=1)
    key = rng.choice(["task", "method", "format", "regions"])
    return text.replace("{", '{"%s": %s, ' % (key, json.dumps(d[key])), 1)


def op_rational(d, rng):
    path = rng.choice(_weight_paths(d))
    k, i, j = path
    v = Fraction(d["model"][k][i][j])
    form = rng.choice(["double", "decimal", "space", "plus"])
    bad = {"double": f"{2 * v.numerator}/{2 * v.denominator}", "decimal": f"{float(v)!r}",
           "space": " " + _q(v), "plus": "+" + _q(v) if v >= 0 else _q(v) + " "}[form]
    d["model"][k][i][j] = bad
    return d


def _objects(d):
    """(parent object, key) of every key of the certificate's nested objects (dicts only)."""
    out = []

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                out.append((o, k))
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(d)
    return out


def op_schema_drop_key(d, rng):
    # format and version are their own rules; optional keys (coverage, measured, simplices) change the kind of
    # certificate or the set of measured cells, which other rules judge
    skip = ("format", "version", "coverage", "measured", "simplices")
    obj, key = rng.choice([(o, k) for o, k in _objects(d) if k not in skip and o is not d["model"] or k == "W_oh"])
    del obj[key]
    return d


def op_schema_extra_key(d, rng):
    dicts = [o for o, _ in _objects(d)]
    rng.choice(dicts)["unexpected"] = "1"
    return d


def op_format(d, rng):
    d["format"] = rng.choice(["verifier-cert", "", "VERIFIER-CERTIFICATE"])
    return d


def op_version(d, rng):
    d["version"] = rng.choice([0, 6 + rng.randrange(100), "2", True])
    return d


def op_method(d, rng):
    d["method"] = rng.choice([m for m in ("disc", "cones", "moments", "boxes", "sampling") if m != d["method"]])
    return d


def op_model_family(d, rng):
    d["model"]["family"] = {"position": "scalar", "scalar": "position"}[d["model"]["family"]]
    return d


def op_task(d, rng):
    if d["task"] == "median":
        d["task"] = rng.choice(["argmax", "2nd_argmax"])
    else:
        d["task"] = rng.choice(["3rd_argmax", "median", "argmin"] + (["argmedian"] if d["model"]["seq_len"] % 2 == 0
                                                                      else []))
    return d


def op_weights_digest(d, rng):
    _set_weight(d, rng.choice(_weight_paths(d)), Fraction(rng.choice([1, -1]), 1 << rng.randrange(10, 40)))
    return d


def op_checkpoint(d, rng):
    d["checkpoint"]["sha256"] = rng.choice(["0" * 63, "g" * 64, d["checkpoint"]["sha256"].upper(), ""])
    if d["checkpoint"]["sha256"] == d["checkpoint"]["sha256"].lower() and len(d["checkpoint"]["sha256"]) == 64 \
            and "g" not in d["checkpoint"]["sha256"]:
        d["checkpoint"]["sha256"] = "0" * 63
    return d


def op_checkpoint_hash(d, rng):
    d["checkpoint"]["sha256"] = "%064x" % rng.getrandbits(256)
    return d


def op_checkpoint_weights(d, rng):
    _set_weight(d, rng.choice(_weight_paths(d)), Fraction(rng.choice([1, -1]), 1 << rng.randrange(20, 60)))
    redigest(d)
    return d


def op_roots(d, rng):
    r = d["roots"]
    i, j = rng.sample(range(len(r)), 2)
    r[i], r[j] = r[j], r[i]
    return d


def op_v1_pattern(d, rng):
    s = rng.choice(d["sectors"])
    t = rng.randrange(len(s["pattern"]))
    i = rng.randrange(len(s["pattern"][t]))
    row = s["pattern"][t]
    s["pattern"][t] = row[:i] + ("1" if row[i] == "0" else "0") + row[i + 1:]
    return d


def op_v1_label(d, rng):
    s = rng.choice(d["sectors"])
    s["label"] = 1 - s["label"]
    return d


def op_v1_prediction(d, rng):
    s = rng.choice(d["sectors"])
    s["prediction"] = 1 - s["prediction"]
    return d


def op_wrong(d, rng):
    key = "sectors" if "sectors" in d else "cells"
    s = rng.choice(d[key])
    s["wrong"] = not s["wrong"]
    return d


def op_v1_cover(d, rng):
    secs = d["sectors"]
    i = rng.randrange(len(secs))
    j = (i + rng.randrange(1, len(secs))) % len(secs)
    secs[i], secs[j] = secs[j], secs[i]
    return d


def op_wedges(d, rng):
    if not d["wedges"]:
        return None
    d["wedges"].pop(rng.randrange(len(d["wedges"])))
    return d


def op_v2_prediction(d, rng):
    """A nonzero logit difference marked tied ('0')."""
    cands = [(c, j) for c in d["cells"] if "decision" in c for j, ch in enumerate(c["decision"]) if ch in "+-"]
    if not cands:
        return None
    c, j = rng.choice(cands)
    c["decision"] = c["decision"][:j] + "0" + c["decision"][j + 1:]
    return d


def op_polygon(d, rng):
    """Drop one edge (and its neighbour entry) of a polygon with more than 3 edges, or repeat one."""
    cells = [c for c in d["cells"] if "edges" in c]
    c = rng.choice(cells)
    k = len(c["edges"])
    i = rng.randrange(k)
    if k > 3 and rng.random() < 0.5:
        del c["edges"][i]
        del c["neighbors"][i]
    else:
        c["edges"][i] = c["edges"][(i + 1) % k]
    return d


def op_cover_neighbour(d, rng):
    spots = []
    for ci, c in enumerate(d["cells"]):
        if "neighbors" in c:
            spots += [(c["neighbors"], i) for i, x in enumerate(c["neighbors"]) if x is not None]
        else:
            spots += [(e, "neighbor") for e in c["constraints"] if "facet" in e and e["neighbor"] is not None]
    if not spots:
        return None
    holder, key = rng.choice(spots)
    holder[key] = None
    return d


def op_rays(d, rng):
    c = rng.choice(d["cells"])
    r = rng.choice(c["rays"])
    r[1] = r[0]
    return d


def op_witness(d, rng):
    """Every ray replaced by a ray of one facet: each is still a ray of the cell, but their sum lies on the facet."""
    n = d["model"]["seq_len"]
    spots = []
    for c in d["cells"]:
        for e in c["constraints"]:
            if "facet" in e and len(e["facet"]) >= n and len(c["rays"]) > len(e["facet"]):
                spots.append((c, e["facet"]))
    if not spots:
        return None
    c, big = rng.choice(spots)
    c["rays"] = [c["rays"][big[i % len(big)]] for i in range(len(c["rays"]))]
    return d


def op_facet(d, rng):
    c = rng.choice(d["cells"])
    e = rng.choice([e for e in c["constraints"] if "facet" in e])
    e["facet"] = list(range(len(c["rays"])))
    return d


def op_redundant(d, rng):
    spots = []
    for c in d["cells"]:
        facets = [i for i, e in enumerate(c["constraints"]) if "facet" in e]
        for e in c["constraints"]:
            if "same" in e:
                spots.append((e, [f for f in facets if f != e["same"]]))
    spots = [s for s in spots if s[1]]
    if not spots:
        return None
    e, others = rng.choice(spots)
    e["same"] = rng.choice(others)
    return d


def op_triangulation(d, rng):
    cells = [c for c in d["cells"] if len(c.get("simplices", [])) >= 2]
    if not cells:
        return None
    c = rng.choice(cells)
    c["simplices"].pop(rng.randrange(len(c["simplices"])))
    return d


def op_edges(d, rng):
    """A whole cell (seq_len 5) that lists one of its rays twice (appended: the facets' ray indices stay right), so
    its rays are not distinct extreme rays and its Gauss-Bonnet measure would count one twice."""
    cells = [c for c in d["cells"] if c.get("whole")]
    if not cells:
        return None
    c = rng.choice(cells)
    c["rays"].append(list(rng.choice(c["rays"])))
    return d


def op_partial(d, rng):
    """An anytime certificate's own rule: a cell listed twice, a neighbour claimed, a cell without simplices,
    or a 'measured' side named."""
    kind = rng.choice(["twice", "neighbour", "no_simplices", "measured"])
    if kind == "twice":
        d["cells"].insert(rng.randrange(len(d["cells"]) + 1), copy.deepcopy(rng.choice(d["cells"])))
        d["cell_count"] += 1
    elif kind == "neighbour":
        ci = rng.randrange(len(d["cells"]))
        facets = [e for e in d["cells"][ci]["constraints"] if "facet" in e]
        rng.choice(facets)["neighbor"] = rng.choice([i for i in range(len(d["cells"])) if i != ci])
    elif kind == "no_simplices":
        c = rng.choice(d["cells"])
        for key in ("simplices", "pulled", "whole"):  # whichever measure the cell carries
            c.pop(key, None)
    else:
        d["measured"] = rng.choice(["wrong", "right"])
    return d


def op_median_partial(d, rng):
    """A median MSE interval's own rule: a cell listed twice, a neighbour claimed, or a cell not whole."""
    kind = rng.choice(["twice", "neighbour", "not_whole"])
    if kind == "twice":
        d["cells"].insert(rng.randrange(len(d["cells"]) + 1), copy.deepcopy(rng.choice(d["cells"])))
        d["cell_count"] += 1
    elif kind == "neighbour":
        ci = rng.randrange(len(d["cells"]))
        facets = [e for e in d["cells"][ci]["constraints"] if "facet" in e]
        rng.choice(facets)["neighbor"] = rng.choice([i for i in range(len(d["cells"])) if i != ci])
    else:
        del rng.choice(d["cells"])["whole"]
    return d


def op_tail(d, rng):
    """The tail's proof of |model - median| <= S |x|: S^2 divided by 4 to 100 (below the true sup of the ratio,
    which no boxes can prove), or one token of a face tree dropped (a full binary tree has one more leaf than cuts,
    so no tree uses every remaining token)."""
    if rng.random() < 0.5:
        d["tail"]["bound"] = _q(Fraction(d["tail"]["bound"]) / rng.randint(4, 100))
    else:
        f = rng.randrange(len(d["tail"]["faces"]))
        toks = d["tail"]["faces"][f].split(" ")
        if len(toks) < 2:
            return None
        del toks[rng.randrange(len(toks))]
        d["tail"]["faces"][f] = " ".join(toks)
    return d


def _error_key(d):
    return "mse" if d.get("version") == 3 else "error"


def op_closed_form(d, rng):
    e = d[_error_key(d)]
    f = e["closed_form"]
    if f == "0":
        e["closed_form"] = "(atan2(1, 1))/(2*pi)"
        return d
    digits = [i for i, ch in enumerate(f) if ch.isdigit()]
    i = rng.choice(digits)
    e["closed_form"] = f[:i] + str((int(f[i]) + rng.randrange(1, 10)) % 10) + f[i + 1:]
    if e["closed_form"] == f:
        return None
    return d


def op_enclosure(d, rng):
    e = d[_error_key(d)]
    lo, hi = Fraction(e["lower"]), Fraction(e["upper"])
    kind = rng.choice(["not_rigorous", "shifted", "too_narrow", "inverted"])
    if kind == "not_rigorous":
        e["rigorous"] = False
    elif kind == "shifted":
        w = max(hi - lo, Fraction(1, 10 ** 6))
        e["lower"], e["upper"] = _q(hi + w), _q(hi + 2 * w)
    elif kind == "too_narrow":
        if lo == hi:
            e["lower"] = e["upper"] = _q(hi + Fraction(1, 10 ** 40) if hi else Fraction(1, 10 ** 40))
        else:
            mid = (lo + hi) / 2
            e["lower"], e["upper"] = _q(mid + (hi - lo)), _q(mid + (hi - lo))
    else:
        e["lower"], e["upper"] = _q(hi + 1), _q(lo)
    if d.get("version") == 3:  # keep rmse consistent so the enclosure rule is the first to object
        d["rmse"] = {"lower": "0", "upper": "2"}
    else:
        d["accuracy"] = {"lower": _q(1 - Fraction(e["upper"])), "upper": _q(1 - Fraction(e["lower"]))}
    return d


def op_accuracy(d, rng):
    a = d["accuracy"]
    key = rng.choice(["lower", "upper"])
    a[key] = _q(Fraction(a[key]) + Fraction(rng.choice([1, -1]), 1 << rng.randrange(1, 80)))
    return d


def op_rmse(d, rng):
    r = d["rmse"]
    kind = rng.choice(["upper_small", "lower_big", "negative"])
    if kind == "upper_small":
        r["upper"] = _q(Fraction(r["upper"]) * Fraction(999, 1000))
    elif kind == "lower_big":
        r["lower"] = _q(Fraction(r["lower"]) * Fraction(1001, 1000) + Fraction(1, 10 ** 12))
    else:
        r["lower"] = "-1"
    return d


def _box_leaves(d):
    """(token index, lo, hi, flag) of every leaf of a boxes certificate's tree."""
    from verifier.intervals.boxes import _leaves

    tokens = d["tree"].split(" ")
    at = [i for i, t in enumerate(tokens) if t in ("R", "W", "U")]
    return tokens, [(i, lo, hi, f) for i, (lo, hi, f) in zip(at, _leaves(tokens, d["model"]["seq_len"]))]


def _retag(d, tokens, i, old, new):
    names = {"R": "right", "W": "wrong", "U": "undecided"}
    tokens[i] = new
    d["counts"][names[old]] -= 1
    d["counts"][names[new]] += 1
    d["tree"] = " ".join(tokens)
    return d


def op_box_tree(d, rng):
    tokens = d["tree"].split(" ")
    kind = rng.choice(["drop", "extra", "outside", "coordinate", "count"])
    cuts = [i for i, t in enumerate(tokens) if ":" in t]
    if kind == "drop":
        del tokens[rng.randrange(len(tokens))]
    elif kind == "extra":
        tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(["R", "W", "U"]))
    elif kind == "outside":
        i = rng.choice(cuts)
        tokens[i] = tokens[i].split(":")[0] + ":" + rng.choice([d["grid"]["radius"], "-" + d["grid"]["radius"]])
    elif kind == "coordinate":
        i = rng.choice(cuts)
        tokens[i] = str(d["model"]["seq_len"] + rng.randrange(3)) + ":" + tokens[i].split(":")[1]
    else:
        d["counts"][rng.choice(["right", "wrong", "undecided"])] += rng.choice([1, -1])
    d["tree"] = " ".join(tokens)
    return d


def op_box_label(d, rng):
    from verifier.kernel.boxes import box_target

    tokens, leaves = _box_leaves(d)
    n = d["model"]["seq_len"]
    open_ = [i for i, lo, hi, f in leaves if f == "U" and box_target(d["task"], n, lo, hi) is None]
    return _retag(d, tokens, rng.choice(open_), "U", rng.choice(["R", "W"])) if open_ else None


def op_box_prediction(d, rng):
    tokens, leaves = _box_leaves(d)
    decided = [(i, f) for i, _, _, f in leaves if f != "U"]
    i, f = rng.choice(decided)
    return _retag(d, tokens, i, f, {"R": "W", "W": "R"}[f])


def op_box_mass(d, rng):
    e, a = d["error"], d["accuracy"]
    kind = rng.choice(["lower_up", "upper_down", "not_rigorous"])
    if kind == "lower_up":
        e["lower"] = _q(Fraction(e["lower"]) + Fraction(1, 10 ** rng.randrange(3, 12)))
        a["upper"] = _q(1 - Fraction(e["lower"]))
    elif kind == "upper_down":
        e["upper"] = _q(Fraction(e["upper"]) - Fraction(1, 10 ** rng.randrange(3, 12)))
        a["lower"] = _q(1 - Fraction(e["upper"]))
    else:
        e["rigorous"] = False
    return d


ALL = V1 + V2 + V3 + ("tiny_n4", "tiny_partial")
B = ("tiny_boxes",)
OPERATORS = [
    ("json", "float_number", ALL + B, op_json_float),
    ("json", "duplicate_key", ALL + B, op_json_duplicate),
    ("rational", "non_canonical_weight", ALL + B, op_rational),
    ("schema", "key_dropped", ALL + B, op_schema_drop_key),
    ("schema", "unknown_key", ALL + B, op_schema_extra_key),
    ("format", "other_format", ALL + B, op_format),
    ("version", "unknown_version", ALL + B, op_version),
    ("method", "other_method", ALL + B, op_method),
    ("model", "other_family", ALL + B, op_model_family),
    ("task", "other_task", ALL + B, op_task),
    ("weights-digest", "weight_changed", ALL + B, op_weights_digest),
    ("checkpoint", "not_a_digest", ALL + B, op_checkpoint),
    ("checkpoint-hash", "other_digest", V1 + V2 + V3 + B, op_checkpoint_hash),
    ("checkpoint-weights", "weight_changed_redigested", V1 + V2 + V3 + B, op_checkpoint_weights),
    ("roots", "roots_swapped", V2 + V3 + ("tiny_n4", "tiny_partial"), op_roots),
    ("pattern", "sector_bit_flipped", V1, op_v1_pattern),
    ("label", "sector_label_flipped", V1, op_v1_label),
    ("prediction", "sector_prediction_flipped", V1, op_v1_prediction),
    ("prediction", "difference_marked_tied", V2 + ("tiny_n4", "tiny_partial"), op_v2_prediction),
    ("wrong", "flag_flipped", V1 + V2 + ("tiny_n4", "tiny_partial"), op_wrong),
    ("cover", "sectors_swapped", V1, op_v1_cover),
    ("cover", "neighbour_removed", V2 + V3 + ("tiny_n4",), op_cover_neighbour),
    ("wedges", "wedge_dropped", V1, op_wedges),
    ("polygon", "edge_dropped_or_repeated", V2 + ("median_2_3",), op_polygon),
    ("rays", "ray_constraints_repeated", ("tiny_n4", "tiny_partial"), op_rays),
    ("witness", "all_rays_on_one_facet", ("tiny_n4", "tiny_partial"), op_witness),
    ("facet", "facet_rays_are_all_rays", ("tiny_n4", "tiny_partial", "median_2_2", "median_4_2"), op_facet),
    ("redundant", "same_points_at_another_facet", ("tiny_n4", "tiny_partial"), op_redundant),
    ("triangulation", "simplex_dropped", ("tiny_n4", "tiny_partial"), op_triangulation),
    ("edges", "whole_cell_ray_repeated", ("tiny_n5", "tiny_n5_partial"), op_edges),
    ("partial", "cell_twice_neighbour_no_simplices_or_measured", ("tiny_partial",), op_partial),
    ("partial", "median_cell_twice_neighbour_or_not_whole", ("tiny_median_n5_partial",), op_median_partial),
    ("tail", "bound_below_the_sup_or_tree_token_dropped", ("tiny_median_n5_partial",), op_tail),
    ("closed-form", "digit_changed", ALL, op_closed_form),
    ("enclosure", "bounds_broken", V1 + V2 + V3 + ("tiny_partial",), op_enclosure),
    ("accuracy", "not_one_minus_error", V1 + V2 + ("tiny_n4", "tiny_partial"), op_accuracy),
    ("rmse", "rmse_inconsistent", V3, op_rmse),
    ("box-tree", "tree_token_dropped_added_or_moved", B, op_box_tree),
    ("box-label", "open_order_called_decided", B, op_box_label),
    ("box-prediction", "decided_box_flipped", B, op_box_prediction),
    ("box-mass", "interval_claims_more_than_the_masses", B, op_box_mass),
    ("accuracy", "boxes_not_one_minus_error", B, op_accuracy),
]


def mutants(bases, per_operator: int, seed: int):
    """(rule, operator, base, document or JSON text, checkpoint or None) for per_operator positions each."""
    rng = random.Random(seed)
    for rule, name, where, fn in OPERATORS:
        made, tries = 0, 0
        while made < per_operator and tries < 20 * per_operator:
            tries += 1
            base = rng.choice(where)
            doc = fn(copy.deepcopy(bases[base]), rng)
            if doc is None:
                continue
            ck = None
            if rule.startswith("checkpoint-"):
                ck = os.path.join(ROOT, "models", bases[base]["checkpoint"]["name"])
            made += 1
            yield rule, name, base, doc, ck


def round_trips(bases, seed: int):
    """Equivalent re-serialisations that must be accepted."""
    rng = random.Random(seed)

    def shuffled(o):
        if isinstance(o, dict):
            items = list(o.items())
            rng.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(o, list):
            return [shuffled(v) for v in o]
        return o

    for name in V1 + V2 + V3:
        d = bases[name]
        yield name, "compact", json.dumps(d, separators=(",", ":"))
        yield name, "indent_4", json.dumps(d, indent=4)
        yield name, "keys_shuffled", json.dumps(shuffled(d))
        yield name, "whitespace", json.dumps(d, indent="\t", separators=(" ,", " :\t ")).replace("\n", "\r\n")
        yield name, "ascii_escaped", json.dumps(d, ensure_ascii=True, indent=2)


def run(per_operator: int, seed: int, progress=print) -> dict:
    bases = load_bases()
    by_rule: Counter = Counter()
    wrong_rule = []
    t0 = time.perf_counter()
    total = 0
    for rule, name, base, doc, ck in mutants(bases, per_operator, seed):
        v = check(doc, checkpoint=ck)
        total += 1
        if v.accepted or v.rule != rule:
            wrong_rule.append({"rule": rule, "operator": name, "base": base, "got": v.rule, "message": v.message})
        else:
            by_rule[rule] += 1
    accepted = Counter()
    false_rejections = []
    for name, kind, text in round_trips(bases, seed):
        v = check(text)
        if v.accepted:
            accepted[kind] += 1
        else:
            false_rejections.append({"base": name, "kind": kind, "rule": v.rule, "message": v.message})
    out = {"mutants": total, "rejected_by_targeted_rule": sum(by_rule.values()), "by_rule": dict(sorted(by_rule.items())),
           "missed_or_other_rule": wrong_rule, "round_trips": sum(accepted.values()) + len(false_rejections),
           "round_trips_accepted": sum(accepted.values()), "false_rejections": false_rejections,
           "rules_targeted": sorted({r for r, *_ in OPERATORS}),
           "rules_not_targeted": sorted(set(RULES) - {r for r, *_ in OPERATORS}),
           "seconds": round(time.perf_counter() - t0, 1), "per_operator": per_operator, "seed": seed}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-operator", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "mutation.json"))
    a = ap.parse_args()
    res = run(a.per_operator, a.seed)
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=1, sort_keys=True)
    print(f"{res['mutants']} mutants: {res['rejected_by_targeted_rule']} rejected by the rule they target, "
          f"{len(res['missed_or_other_rule'])} not; {res['round_trips_accepted']} of {res['round_trips']} round trips "
          f"accepted; {res['seconds']}s")
    for rule, k in res["by_rule"].items():
        print(f"  {rule:20s} {k}")
    for m in res["missed_or_other_rule"][:20]:
        print("  MISSED", m)
    for m in res["false_rejections"][:20]:
        print("  FALSE REJECTION", m)
    return 0 if not res["missed_or_other_rule"] and not res["false_rejections"] else 1


if __name__ == "__main__":
    sys.exit(main())
