"""(Re)generate the certificate of every certifiable model in models/ into proofs/.

Usage: python scripts/make_proofs.py [--only REGEX] [--no-z3] [--workers N] [--seq-lens 2,3]
       python scripts/make_proofs.py --budgets [--only REGEX] [--workers N]
Z3 confirms every cell by default (slow for d = 32, n = 3: minutes). Certificates are deterministic,
so regenerating an unchanged model rewrites identical bytes.

--budgets makes the interval certificates of proofs/anytime/: for each model in BUDGETS, an anytime certificate
(cells, `--width 1e-6 --max-cones K`; at seq_len 5, whole cells: `--max-cells K`) or a boxes certificate
(`--method boxes --max-boxes K`).  The budgets are
counts, not seconds, so each certificate is the same on any machine and for any number of workers; they are sized
so that CI's re-check of each takes about a minute or less on 2 cores (the widths reached are in docs/STATUS.md).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import verifier  # noqa: E402
from verifier.pipeline import CERTIFIABLE_SEQ_LENS  # noqa: E402
from verifier.empirical.zoo import read_index  # noqa: E402


# model stem -> ("cones", K), ("cells", K) (seq_len 5 and 7: whole cells) or ("boxes", K): the budgets of the interval
# certificates in proofs/anytime/
BUDGETS = {
    "2nd_argmax_16_4": ("cones", 25000), "2nd_argmax_32_4": ("cones", 25000),
    # seq_len 5: whole cells (Gauss-Bonnet, rule edges) since 2026-12-07; until then ("cones", 14000) each
    "2nd_argmax_6_5": ("cells", 2000), "2nd_argmax_8_5": ("cells", 2000),
    "2nd_argmax_16_5": ("cells", 1500), "2nd_argmax_32_5": ("cells", 1500),
    "argmedian_8_5": ("cells", 2000), "argmedian_16_5": ("cells", 1500),
    "argmedian_32_5": ("cells", 1500),
    "2nd_argmax_2_6": ("cones", 2200), "2nd_argmax_4_6": ("cones", 2200), "2nd_argmax_16_6": ("cones", 2200),
    # seq_len 7: whole cells (Gauss-Bonnet on the faces, kernel/conic.odd_measure) since 2026-12-08; until then
    # ("cones", 250) each
    "2nd_argmax_2_7": ("cells", 8), "2nd_argmax_4_7": ("cells", 4),
    # trained 2026-12-07 (issue 31): the budgets of the models above at the same seq_len
    "2nd_argmax_3_6": ("cones", 2200), "2nd_argmax_5_6": ("cones", 2200), "2nd_argmax_6_6": ("cones", 2200),
    "2nd_argmax_8_6": ("cones", 2200), "2nd_argmax_32_6": ("cones", 2200),
    "argmedian_2_7": ("cells", 6), "argmedian_4_7": ("cells", 6), "argmedian_8_7": ("cells", 6),
    "argmedian_16_7": ("cells", 6), "argmedian_32_7": ("cells", 6),
    # a median MSE interval (issue 32): whole cells plus the tail |model - median| <= S |x| on face boxes
    "median_8_5": ("cells", 3000),
}  # 2nd_argmax_5_5 and argmedian_4_5 have full certificates since 2026-12-07 (proofs/n5/); 2nd_argmax_16_10: 1,000,000 boxes decide none (models/uncertified.json says why it has no certificate)


def budget_certificates(a) -> None:
    from fractions import Fraction

    tasks = {m["file"].rsplit(".", 1)[0]: m["task"] for m in read_index(a.models)["models"]}
    for stem, (kind, k) in BUDGETS.items():
        if not re.search(a.only, stem):
            continue
        if stem not in tasks:
            print(f"{stem}: not in {a.models}/index.json, skipped", flush=True)
            continue
        path = os.path.join(a.models, stem + ".pth")
        out = os.path.join(a.proofs, "anytime", f"{stem}.{'boxes' if kind == 'boxes' else 'anytime'}.cert.json")
        t0 = time.perf_counter()
        if kind in ("cones", "cells"):
            budget = {"max_cones": k} if kind == "cones" else {"max_cells": k}
            if tasks[stem] == "median":
                budget["seq_len"] = int(stem.rsplit("_", 1)[1])
            res = verifier.certify(path, task=tasks[stem], z3=False, width=Fraction(1, 10 ** 6), **budget,
                                   workers=a.workers, out=out, compress_large=True)
        else:
            res = verifier.certify(path, task=tasks[stem], method="boxes", max_boxes=k, workers=a.workers, out=out,
                                   compress_large=True)
        print(f"{res.certificate_path}: {'MSE' if res.measure == 'mse' else 'error'} in [{float(res.error_lower):.6g}, {float(res.error_upper):.6g}] "
              f"(width {float(res.error_upper - res.error_lower):.3g}), {kind} budget {k}, "
              f"{time.perf_counter() - t0:.1f}s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--proofs", default="proofs")
    ap.add_argument("--only", default=".", help="regex on the model file name")
    ap.add_argument("--no-z3", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seq-lens", default=",".join(map(str, CERTIFIABLE_SEQ_LENS)),
                    help="which seq_lens to certify (default: those CI requires)")
    ap.add_argument("--budgets", action="store_true", help="make the interval certificates of proofs/anytime/ "
                    "(BUDGETS) instead")
    a = ap.parse_args()
    if a.budgets:
        budget_certificates(a)
        return 0
    for m in read_index(a.models)["models"]:
        if (m["family"] != "position" or m["seq_len"] not in {int(x) for x in a.seq_lens.split(",")}
                or not re.search(a.only, m["file"])):
            continue
        stem = m["file"].rsplit(".", 1)[0]
        out = os.path.join(a.proofs, stem + ".cert.json")
        t0 = time.perf_counter()
        res = verifier.certify(os.path.join(a.models, m["file"]), task=m["task"], z3=not a.no_z3, out=out,
                               workers=a.workers)
        print(f"{out}: error in [{float(res.error_lower):.10g}, {float(res.error_upper):.10g}], "
              f"{res.regions} regions, {res.details.get('cell_count', res.regions)} cells, "
              f"z3 {'yes' if 'z3' in res.timings else 'no'}, {time.perf_counter() - t0:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
