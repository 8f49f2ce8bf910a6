"""Per-cone cost of the kernel's P_6 and P_7 (the pencil through an (n - 2)-face integrated by parts: n - 1
P_{n-2} and one integral of elementary functions, since 2026-11-29) on the cones of a seq_len-6 or -7
certificate.

Usage: python benchmarks/pencil_cost.py CERT [--cones 200] [--seed 0] [--checkpoint CKPT]
Takes a seeded random sample of the certificate's simplicial cones (a full or an anytime certificate) and
encloses each cone's orthant probability at 80 bits, one process: the kernel's choice (`p6`, `p7`), and for
comparison at n = 6 the face its score ranks last (the same measure by another integrand), at n = 7 the odd-n
identity over the marginals (the method before): every pair of balls must overlap. Prints ms per cone and the
widest ball. Baseline in the same run: float64 sampling of the model to +-1% relative at 95%, against
measuring all of the certificate's cones on one process.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import certificate_cones  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("certificate")
    ap.add_argument("--cones", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", help="the model, for the sampling baseline (default: models/<checkpoint.name>)")
    a = ap.parse_args()
    import flint

    from verifier.kernel import measure as KM

    every = certificate_cones(a.certificate)
    if not every or len(every[0]) not in (6, 7):
        raise SystemExit(f"{a.certificate}: not a seq_len-6 or -7 certificate with simplicial cones")
    n_dim = len(every[0])
    cones = list(every)
    random.Random(a.seed).shuffle(cones)
    cones = cones[: a.cones]
    print(f"{len(cones)} simplicial cones (of {len(every)}; seed {a.seed}), one process, 80 bits")
    t_best = t_last = 0.0
    rad_best = rad_last = 0.0
    with flint.ctx.workprec(80):
        for rays in cones:
            normals = KM.simplex_normals(rays)
            G = [[KM.dot(x, y) for y in normals] for x in normals]
            t0 = time.perf_counter()
            best = (KM.p6 if n_dim == 6 else KM.p7)(G, flint, 80, rays)
            t1 = time.perf_counter()
            if n_dim == 6:
                V = KM._balanced([[KM.dot(x, y) for y in rays] for x in rays])
                scores = KM._pencil_scores([[x / 2 ** 60 for x in row] for row in KM._float_gram(V)])
                last = min(scores, key=lambda f: scores[f])
                other = KM._pencil_face(KM._pencil_terms(V, last), flint, 80, eval_limit=20000)
            else:
                other = KM.odd_identity(G, flint, 80)
            t2 = time.perf_counter()
            if other.is_finite():
                assert best.overlaps(other), f"two enclosures disagree: {best} vs {other}"
            t_best, t_last = t_best + t1 - t0, t_last + t2 - t1
            rad_best = max(rad_best, float(best.rad()))
            rad_last = max(rad_last, float(other.rad()) if other.is_finite() else float("inf"))
    n = len(cones)
    what = "the face ranked last" if n_dim == 6 else "the odd-n identity"
    print(f"P_{n_dim}, the kernel's choice: {1e3 * t_best / n:6.1f} ms per cone (widest radius {rad_best:.1e}); "
          f"{what}: {1e3 * t_last / n:6.1f} ms (widest {rad_last:.1e}); ratio {t_last / t_best:.2f}x")
    import verifier
    from common import samples_for_relative_error, sampling_throughput

    from verifier.loading.rational import load_certificate

    doc = load_certificate(a.certificate)
    ckpt = a.checkpoint or os.path.join(ROOT, "models", doc["checkpoint"]["name"])
    lm = verifier.load(ckpt, task=doc["task"])
    rate = sampling_throughput(lm, dtype="float64")
    p = float(Fraction(doc["error"]["lower"]))
    k = samples_for_relative_error(max(p, 1e-3))
    whole = len(every) * t_best / n
    print(f"all {len(every)} cones at 80 bits, one process: about {whole:.0f} s")
    print(f"sampling baseline: {rate:.3g} float64 samples/s; +-1% relative at 95% needs {k:.3g} samples = "
          f"{k / rate:.2f} s; ratio (measure / sampling) {whole / (k / rate):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
