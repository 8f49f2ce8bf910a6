"""Validate certified errors against float64 sampling (an independent estimate).

For every certificate in proofs/ (or those matching --only), sample the model in float64 with N
inputs (default 10^8) and report z = (sampled - certified) / sqrt(p (1 - p) / N), p the certified
value; for an anytime (partial) certificate, an interval, z is the sample's distance from the interval
(0 inside it).  Every certificate in proofs/ and its subfolders is read (plain, .gz or .xz).  Results go to
docs/validation.json as each finishes, keyed by the certificate's path under --proofs without a compression suffix,
with the SHA-256 of the model sampled (the sample is of the model: the table recomputes z against the certificate
as shipped now, and marks a row stale only when the model changed) and of the certificate's text then; then the
table in docs/VALIDATION.md is regenerated (scripts/render_docs.py, block "validation").
Usage: python scripts/validate.py [--samples 1e8] [--only REGEX] [--sigmas 4]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
from fractions import Fraction

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from verifier.kernel.read import certificate_bytes  # noqa: E402
from verifier.loading.loader import load  # noqa: E402
from verifier.loading.rational import certificate_files  # noqa: E402
from verifier.empirical.sample import sample_error  # noqa: E402



def key_of(path: str, proofs: str) -> str:
    """A certificate's key in docs/validation.json: its path under proofs/, without .gz or .xz."""
    rel = os.path.relpath(path, proofs).replace(os.sep, "/")
    for suffix in (".gz", ".xz"):
        if rel.endswith(suffix):
            rel = rel[: -len(suffix)]
    return rel


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", default="1e8")
    ap.add_argument("--only", default=".")
    ap.add_argument("--sigmas", type=float, default=4.0)
    ap.add_argument("--proofs", default="proofs")
    ap.add_argument("--models", default="models")
    ap.add_argument("--out", default="docs/validation.json")
    a = ap.parse_args()
    n_samples = int(float(a.samples))
    results = {}
    if os.path.exists(a.out):
        with open(a.out) as fh:
            results = json.load(fh)
    worst = 0.0
    for path in certificate_files(a.proofs):
        f = key_of(path, a.proofs)
        if not re.search(a.only, f):
            continue
        text = certificate_bytes(path)
        cert = json.loads(text)
        digest = {"certificate_sha256": hashlib.sha256(text).hexdigest(), "model_sha256": cert["checkpoint"]["sha256"]}
        if cert["task"] == "median":
            r = _median(cert, a, n_samples, f)
            r.update(digest)
            worst = max(worst, abs(r["z"]))
            results[f] = r
            with open(a.out, "w") as fh:
                json.dump(results, fh, indent=1, sort_keys=True)
            continue
        if "error" not in cert:
            continue  # a kind without a sampled counterpart here
        p = (Fraction(cert["error"]["lower"]) + Fraction(cert["error"]["upper"])) / 2
        lm = load(os.path.join(a.models, cert["checkpoint"]["name"]), task=cert["task"])
        t0 = time.perf_counter()
        seed = int(hashlib.sha256(f.encode()).hexdigest()[:8], 16)  # independent streams per certificate
        s = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=n_samples, seed=seed, dtype="float64",
                         batch=1 << 20)
        pf = float(p)
        se = math.sqrt(max(pf * (1 - pf), 1e-300) / n_samples)
        z = (s.error - pf) / se if pf > 0 else (0.0 if s.wrong == 0 else math.inf)
        lo, hi = float(Fraction(cert["error"]["lower"])), float(Fraction(cert["error"]["upper"]))
        interval = cert.get("coverage") == "partial" or cert.get("method") == "boxes"  # an anytime certificate
        if interval:  # z is the sample's distance from the interval, in standard errors (0 inside it)
            z = 0.0 if lo <= s.error <= hi else (s.error - (hi if s.error > hi else lo)) / se
        worst = max(worst, abs(z))
        certified = f"[{lo:.8g}, {hi:.8g}]" if interval else f"{pf:.12g}"
        results[f] = {"model": cert["checkpoint"]["name"], "task": cert["task"], "certified": certified,
                      "sampled": s.error, "wrong": s.wrong, "samples": n_samples, "z": round(z, 3), "seed": seed,
                      "seconds": round(time.perf_counter() - t0, 1), "within": abs(z) <= a.sigmas, **digest,
                      "date": time.strftime("%Y-%m-%d")}
        print(f"{f}: certified {certified}, sampled {s.error:.8g} ({s.wrong}/{n_samples}), z = {z:+.2f}", flush=True)
        with open(a.out, "w") as fh:
            json.dump(results, fh, indent=1, sort_keys=True)
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "render_docs.py"),
                    "--only", "docs/VALIDATION.md"], check=True)
    print(f"worst |z| = {worst:.2f}")
    return 0 if all(r["within"] for r in results.values()) else 1


def _median(cert, a, n_samples, f) -> dict:
    """A median certificate: z = (sampled MSE - certified MSE) / (the sample's own standard error)."""
    m = (Fraction(cert["mse"]["lower"]) + Fraction(cert["mse"]["upper"])) / 2
    n = cert["model"]["seq_len"]
    lm = load(os.path.join(a.models, cert["checkpoint"]["name"]), task="median", seq_len=n)
    t0 = time.perf_counter()
    seed = int(hashlib.sha256(f.encode()).hexdigest()[:8], 16)
    s = sample_error(lm.float_arrays(), n, "median", samples=n_samples, seed=seed, dtype="float64", batch=1 << 20)
    mf = float(m)
    z = (s.mse - mf) / s.stderr if s.stderr > 0 else (0.0 if s.mse == mf else math.inf)
    certified = f"{mf:.12g}"
    if cert.get("coverage") == "partial":  # an MSE interval: z is the sample's distance from it (0 inside)
        lo, hi = float(Fraction(cert["mse"]["lower"])), float(Fraction(cert["mse"]["upper"]))
        z = 0.0 if lo <= s.mse <= hi else (s.mse - (hi if s.mse > hi else lo)) / s.stderr
        certified = f"[{lo:.8g}, {hi:.8g}]"
    print(f"{f}: certified MSE {certified}, sampled {s.mse:.8g} +- {s.stderr:.3g}, z = {z:+.2f}", flush=True)
    return {"model": cert["checkpoint"]["name"], "task": "median", "certified": certified, "sampled": s.mse,
            "stderr": s.stderr, "samples": n_samples, "z": round(z, 3), "seed": seed,
            "seconds": round(time.perf_counter() - t0, 1), "within": abs(z) <= a.sigmas,
            "width": f"{float(Fraction(cert['mse']['upper']) - Fraction(cert['mse']['lower'])):.3g}",
            "date": time.strftime("%Y-%m-%d")}


if __name__ == "__main__":
    sys.exit(main())
