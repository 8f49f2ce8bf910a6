"""Per-cone cost of the kernel's P_5: the pencil formula through a 3-face (one integral per cone, since
2026-11-29) against the odd-n identity over five pencil-formula P_4 (before), on the same cones.

Usage: python benchmarks/p5_pencil.py [--cones 200] [--seed 0]
Takes a seeded random sample of the simplicial cones of the shipped M(2,5) certificate
(proofs/n5/2nd_argmax_2_5.cert.json.xz) and encloses each cone's orthant probability both ways at 53 bits (anytime
certificates) and 80 bits (full certificates), one process; every pair of balls must overlap. Prints ms per
cone, the ratio, and the widest ball of each. Baseline in the same run: float64 sampling of M(2,5) to +-1%
relative at 95%, against measuring all of the certificate's cones.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import certificate_cones  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cones", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import flint

    from verifier.kernel import measure as KM

    every = certificate_cones(os.path.join(ROOT, "proofs", "n5", "2nd_argmax_2_5.cert.json.xz"))
    cones = list(every)
    random.Random(a.seed).shuffle(cones)
    cones = cones[: a.cones]
    print(f"{len(cones)} simplicial cones of M(2,5) (of {len(every)}; seed {a.seed}), one process")
    per_cone = {}
    for prec in (53, 80):
        t_pen = t_id = 0.0
        rad_pen = rad_id = 0.0
        with flint.ctx.workprec(prec):
            for rays in cones:
                normals = KM.simplex_normals(rays)
                G = [[KM.dot(x, y) for y in normals] for x in normals]
                t0 = time.perf_counter()
                pen = KM.p5(G, flint, prec, rays)
                t1 = time.perf_counter()
                ident = KM.p5_identity(G, flint, prec)
                t2 = time.perf_counter()
                assert pen.overlaps(ident), f"the two P_5 enclosures do not overlap: {pen} vs {ident}"
                t_pen, t_id = t_pen + t1 - t0, t_id + t2 - t1
                rad_pen, rad_id = max(rad_pen, float(pen.rad())), max(rad_id, float(ident.rad()))
        n = len(cones)
        per_cone[prec] = t_pen / n
        print(f"{prec} bits: pencil {1e3 * t_pen / n:6.1f} ms per cone (widest radius {rad_pen:.1e}); "
              f"odd-n identity {1e3 * t_id / n:6.1f} ms (widest {rad_id:.1e}); identity / pencil {t_id / t_pen:.2f}x")
    import verifier
    from common import samples_for_relative_error, sampling_throughput

    lm = verifier.load(os.path.join(ROOT, "models", "2nd_argmax_2_5.pth"))
    rate = sampling_throughput(lm, dtype="float64")
    k = samples_for_relative_error(0.695)
    whole = len(every) * per_cone[80]
    print(f"all {len(every)} cones at 80 bits, one process: about {whole:.0f} s (a full enclosure)")
    print(f"sampling baseline: {rate:.3g} float64 samples/s; +-1% relative at 95% needs {k:.3g} samples = "
          f"{k / rate:.2f} s; ratio (measure / sampling) {whole / (k / rate):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
