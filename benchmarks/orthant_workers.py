"""Per-cone cost of the rigorous orthant measure (seq_len 4) and the speed-up from 1 to N worker processes.

Usage: python benchmarks/orthant_workers.py [--cones 96] [--workers 2]
Takes the first simplicial cones of the shipped M(4,4) certificate's measured cells and encloses their
orthant probabilities with the kernel (80 bits), serially and on N processes; the exact bounds must be
equal. Baseline in the same run: float64 sampling of M(4,4) to +-1% relative at 95%.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from verifier.kernel import parse_json, read_certificate  # noqa: E402
from verifier.kernel.check import rules_for  # noqa: E402
from verifier.kernel.claim import Work  # noqa: E402
from verifier.kernel.measure import orthant_bounds  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cones", type=int, default=96)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    doc = parse_json(open(os.path.join(ROOT, "proofs", "2nd_argmax_4_4.cert.json")).read())
    c, w = read_certificate(doc), Work()
    for fn in rules_for(c):
        if fn.rule == "closed-form":
            break
        fn(c, w)
    cones = w.cones[: a.cones]
    t0 = time.perf_counter()
    one = orthant_bounds(cones, False, workers=1)(80)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    many = orthant_bounds(cones, False, workers=a.workers)(80)
    tn = time.perf_counter() - t0
    assert one == many, "bounds differ between worker counts"
    print(f"{len(cones)} simplicial cones of M(4,4) (of {len(w.cones)}), 80 bits")
    print(f"1 worker          {1e3 * t1 / len(cones):8.1f} ms per cone")
    print(f"{a.workers} workers         {1e3 * tn / len(cones):8.1f} ms per cone   speed-up {t1 / tn:.2f}x "
          "(includes starting the processes)")
    print(f"width per cone    {float(one[1] - one[0]) / len(cones):.2e}")
    import verifier
    from common import samples_for_relative_error, sampling_throughput

    lm = verifier.load(os.path.join(ROOT, "models", "2nd_argmax_4_4.pth"))
    rate = sampling_throughput(lm, dtype="float64")
    k = samples_for_relative_error(0.4067)
    whole = len(w.cones) * tn / len(cones)
    print(f"all {len(w.cones)} cones on {a.workers} workers: about {whole:.0f} s (a full enclosure, width ~1e-15)")
    print(f"sampling baseline: {rate:.3g} float64 samples/s; +-1% relative at 95% needs {k:.3g} samples = "
          f"{k / rate:.2f} s; ratio (measure / sampling) {whole / (k / rate):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
