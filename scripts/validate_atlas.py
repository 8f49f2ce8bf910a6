"""Validate the error atlas against a float64 confusion matrix (an independent estimate).

For each certificate given (default: the shipped M(4,3) and M(8,3)), compute the atlas
(verifier.views.atlas.breakdown: exact per (true, predicted) enclosures) and sample the model in float64 with
numpy (its own forward pass, written here: h <- ReLU(W_hh h + W_hi x_t), argmax first index as torch,
targets by a stable ranking, largest first) on N fresh Gaussian inputs (default 10^7, in chunks of 10^6).
Per off-diagonal entry z = (count/N - p) / sqrt(p (1 - p) / N), p the atlas's mass (midpoint of its
enclosure); entries the atlas does not list have p = 0 exactly and must have count 0.  Also checks, exactly,
that the pairs' enclosures sum to an interval containing the certified error.

Usage: python scripts/validate_atlas.py [--samples 1e7] [--sigmas 4] [--write] [CERT ...]
--write records the results in docs/atlas_validation.json (with the date, the command, and the SHA-256 of each
certificate's text, so that a row whose certificate changed shows as stale) and regenerates the table in
docs/VALIDATION.md from it (scripts/render_docs.py, block "atlas").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from fractions import Fraction

os.environ.setdefault("OMP_NUM_THREADS", "1")  # modest CPU use: one thread for numpy's BLAS
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from verifier.views.atlas import breakdown  # noqa: E402

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "atlas_validation.json")
DEFAULT = ["proofs/2nd_argmax_4_3.cert.json", "proofs/2nd_argmax_8_3.cert.json"]  # paths relative to the root
RANK = {"argmax": lambda n: 0, "2nd_argmax": lambda n: 1, "argmedian": lambda n: (n - 1) // 2}


def confusion(W_hi, W_hh, W_oh, n, task, samples, seed, chunk=1 << 20):
    """counts[true, predicted] over `samples` float64 Gaussian inputs (numpy, independent of the verifier)."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((n, n), dtype=np.int64)
    done = 0
    while done < samples:
        b = min(chunk, samples - done)
        x = rng.standard_normal((b, n))
        h = np.zeros((b, W_hh.shape[0]))
        for t in range(n):
            h = np.maximum(h @ W_hh.T + x[:, t:t + 1] * W_hi[:, 0], 0.0)
        pred = np.argmax(h @ W_oh.T, axis=1)  # first index on ties, as torch
        true = np.argsort(-x, axis=1, kind="stable")[:, RANK[task](n)]
        counts += np.bincount(true * n + pred, minlength=n * n).reshape(n, n)
        done += b
    return counts


def validate(path, samples, seed, sigmas):
    import hashlib

    from verifier.kernel.read import certificate_bytes

    text = certificate_bytes(path)
    doc = json.loads(text)
    t0 = time.perf_counter()
    atlas = breakdown(doc, top=0)
    t_atlas = time.perf_counter() - t0
    mats = [np.array([[float(Fraction(v)) for v in row] for row in doc["model"][k]]) for k in ("W_hi", "W_hh", "W_oh")]
    n = doc["model"]["seq_len"]
    t0 = time.perf_counter()
    counts = confusion(*mats, n, doc["task"], samples, seed)
    t_sample = time.perf_counter() - t0
    masses = {(r["true"], r["predicted"]): (Fraction(r["lower"]), Fraction(r["upper"])) for r in atlas["breakdown"]}
    rows, ok = [], True
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            lo, hi = masses.get((i, j), (Fraction(0), Fraction(0)))
            p = float((lo + hi) / 2)
            c = int(counts[i, j])
            if p > 0:
                z = (c / samples - p) / math.sqrt(p * (1 - p) / samples)
            else:
                z = 0.0 if c == 0 else math.inf
            ok &= abs(z) <= sigmas
            rows.append({"true": i, "predicted": j, "certified": p, "count": c, "z": z,
                         "cells": next((r["cells"] for r in atlas["breakdown"]
                                        if (r["true"], r["predicted"]) == (i, j)), 0)})
    s_lo, s_hi = Fraction(atlas["sum"]["lower"]), Fraction(atlas["sum"]["upper"])
    e_lo, e_hi = Fraction(atlas["error"]["lower"]), Fraction(atlas["error"]["upper"])
    contains = s_lo <= e_lo and e_hi <= s_hi
    ok &= contains
    return {"certificate": os.path.basename(path), "certificate_sha256": hashlib.sha256(text).hexdigest(),
            "rows": rows, "samples": samples, "seed": seed,
            "contains": contains, "ok": ok, "t_atlas": t_atlas, "t_sample": t_sample,
            "error": float(e_lo), "sampled_error": int(counts.sum() - np.trace(counts)) / samples}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("certificates", nargs="*", default=DEFAULT)
    ap.add_argument("--samples", default="1e7")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--sigmas", type=float, default=4.0)
    ap.add_argument("--write", action="store_true", help="update the atlas table in docs/VALIDATION.md")
    a = ap.parse_args()
    samples = int(float(a.samples))
    results = []
    for k, path in enumerate(a.certificates):
        r = validate(path, samples, a.seed + k, a.sigmas)
        results.append(r)
        worst = max(abs(row["z"]) for row in r["rows"])
        print(f"{r['certificate']}: worst |z| = {worst:.2f} over {len(r['rows'])} entries, sum contains certified "
              f"error: {r['contains']}; atlas {r['t_atlas']:.1f}s, sampling {r['t_sample']:.1f}s", flush=True)
    if a.write:
        import subprocess

        log = {"date": time.strftime("%Y-%m-%d"), "command": "python scripts/validate_atlas.py " + " ".join(sys.argv[1:]),
               "results": [{k: v for k, v in r.items() if k not in ("t_atlas", "t_sample", "ok")} for r in results]}
        with open(LOG, "w") as fh:
            json.dump(log, fh, indent=1, sort_keys=True)
            fh.write("\n")
        subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "render_docs.py"),
                        "--only", "docs/VALIDATION.md"], check=True)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
