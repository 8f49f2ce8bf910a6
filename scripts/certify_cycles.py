"""Certify every shipped longest-cycle transformer (issue 10) and validate it against float64.

For each models/longest_cycle_{d}_{n}.pth: certify (exact accuracy by enumeration, certificate version 4) into
proofs/ (seq_len 6 into proofs/n6/; CI checks both), re-check the written
certificate with the kernel against the checkpoint (timed), compare with an independent float64 numpy forward
pass of all n^n inputs, record the certified accuracy in models/index.json, and print a markdown table.

Usage: python scripts/certify_cycles.py [FILTER-REGEX]
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)


def main() -> int:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from verifier.pipeline import certify
    from verifier.families.transformer import inputs, numpy_logits, target
    from verifier.kernel import check
    from verifier.empirical.zoo import read_index, update_index

    filt = re.compile(sys.argv[1] if len(sys.argv) > 1 else ".")
    models = os.path.join(ROOT, "models")
    rows = []
    for name in sorted(os.listdir(models), key=lambda s: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", s)]):
        m = re.fullmatch(r"longest_cycle_(\d+)_(\d+)\.pth", name)
        if not m or not filt.search(name):
            continue
        d, n = int(m.group(1)), int(m.group(2))
        folder = os.path.join(ROOT, "proofs", "n6") if n == 6 else os.path.join(ROOT, "proofs")
        os.makedirs(folder, exist_ok=True)
        ckpt = os.path.join(models, name)
        out = os.path.join(folder, name.replace(".pth", ".cert.json"))
        t0 = time.perf_counter()
        res = certify(ckpt, out=out)
        t_cert = time.perf_counter() - t0
        t0 = time.perf_counter()
        v = check(out, checkpoint=ckpt)
        t_check = time.perf_counter() - t0
        assert v.accepted, (name, v.rule, v.message)
        doc = res.certificate
        # independent float64 forward pass (numpy), compared wherever its top-two margin exceeds 1e-9
        lg = numpy_logits(res.model.transformer)
        top = np.sort(lg, axis=1)
        clear = (top[:, -1] - top[:, -2]) > 1e-9
        wrong = {w[0]: w[1] for w in doc["wrong"]}
        und = set(doc["undecided"])
        p64 = lg.argmax(1)
        disagree64 = 0
        right64 = 0
        for i, f in enumerate(inputs(n)):
            key = "".join(map(str, f))
            t = target(f)
            right64 += int(p64[i]) == t
            if clear[i] and (key in und or int(p64[i]) != wrong.get(key, t)):
                disagree64 += 1
        N = n ** n
        acc = Fraction(doc["accuracy"]["lower"]), Fraction(doc["accuracy"]["upper"])
        det = res.details
        row = {"file": name, "d": d, "n": n, "inputs": N, "wrong": det["wrong"], "undecided": det["undecided"],
               "accuracy": [str(acc[0]), str(acc[1])], "accuracy_percent": 100 * float(acc[0]),
               "float64_accuracy_percent": 100 * right64 / N, "float64_small_margin": int((~clear).sum()),
               "float64_disagreements_where_clear": disagree64,
               "float32_disagreements": det["torch_disagreements"], "certify_s": round(t_cert, 2),
               "check_s": round(t_check, 2), "certificate": os.path.relpath(out, ROOT),
               "bytes": os.path.getsize(out)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        entry = next((e for e in read_index(models)["models"] if e["file"] == name), None)
        if entry is not None:
            entry = dict(entry)
            entry["certified"] = {"accuracy": row["accuracy"], "wrong": det["wrong"], "undecided": det["undecided"],
                                  "inputs": N, "float32_disagreements": det["torch_disagreements"],
                                  "certificate": row["certificate"]}
            update_index(models, entry)
    print()
    print("| model | inputs | certified accuracy | wrong | undecided | float64 agrees (margin > 1e-9) | "
          "margin <= 1e-9 | float32 disagreements | certify s | check s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| `{r['file']}` | {r['inputs']} | {r['accuracy'][0]} ({r['accuracy_percent']:.4f}%) | {r['wrong']} | "
              f"{r['undecided']} | {'yes' if r['float64_disagreements_where_clear'] == 0 else 'NO: ' + str(r['float64_disagreements_where_clear'])} | "
              f"{r['float64_small_margin']} | {r['float32_disagreements']} | {r['certify_s']} | {r['check_s']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
