"""Per-cone cost of the rigorous orthant measure (seq_len 4) and the speed-up from 1 to N worker processes.

Usage: python benchmarks/orthant_workers.py [--cones 96] [--workers 2]
Takes the first simplicial cones of the shipped M(4,4) certificate's measured cells and encloses their
orthant probabilities with the kernel (80 bits), serially and on N processes; the exact bounds must be
equal. Also, on the same cones, the kernel's P_4 as it was until 2026-11-28 (Plackett's reduction: six
one-dimensional integrals per cone, whose integrands have singularities within ~1e-3..1e-6 of the end of
the interval on thin cones): per-cone time before/after (now: the pencil formula, one integral per cone)
and both enclosures' widths, which must overlap. Baseline in the same run: float64 sampling of M(4,4) to +-1% relative at 95%.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import certificate_cones  # noqa: E402
from verifier.kernel.orthant import orthant_bounds  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cones", type=int, default=96)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-before", action="store_true", help="do not time Plackett's integrals (70+ ms per cone)")
    a = ap.parse_args()
    every = certificate_cones(os.path.join(ROOT, "proofs", "2nd_argmax_4_4.cert.json.xz"))
    cones = every[: a.cones]
    import flint

    from verifier.kernel import measure as KM

    def before(rays):  # the kernel's P_4 until 2026-11-28: Plackett's reduction, six one-dimensional integrals
        import itertools

        normals = KM.simplex_normals(rays)
        G = [[KM.dot(x, y) for y in normals] for x in normals]
        acb, arb = flint.acb, flint.arb

        def padd(a, b):
            return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(max(len(a), len(b)))]

        def pmul(a, b):
            out = [0] * (len(a) + len(b) - 1)
            for i, x in enumerate(a):
                for j, y in enumerate(b):
                    out[i + j] += x * y
            return out

        def pdet(M):  # determinant of a matrix of integer polynomials (coefficient lists)
            if len(M) == 1:
                return M[0][0]
            out = [0]
            for c in range(len(M)):
                term = pmul(M[0][c], pdet([row[:c] + row[c + 1:] for row in M[1:]]))
                out = padd(out, [(1 if c % 2 == 0 else -1) * x for x in term])
            return out

        with flint.ctx.workprec(80):
            I_, pi, tol = acb(0, 1), arb.pi(), arb(2) ** -61
            A = [[[G[i][i]] if i == j else [G[i][j], -G[i][j]] for j in range(4)] for i in range(4)]
            detA = pdet(A)
            total, quad = arb(1) / 16, arb(0)
            for i, j in itertools.combinations(range(4), 2):
                k, l = [x for x in range(4) if x not in (i, j)]
                total += (arb(G[i][j]) / (arb(G[i][i]) * arb(G[j][j])).sqrt()).asin() / (8 * pi)
                if G[i][j] == 0:
                    continue
                Q = pdet([[A[i][i], A[i][j]], [A[j][i], A[j][j]]])
                M = pdet([[A[k][l], A[k][i], A[k][j]], [A[i][l], A[i][i], A[i][j]], [A[j][l], A[j][i], A[j][j]]])
                Qp, QDp, Mp, g = flint.acb_poly(Q), flint.acb_poly(pmul(Q, detA)), flint.acb_poly(M), arb(G[i][j])

                def f(u, an, Qp=Qp, QDp=QDp, Mp=Mp, g=g):
                    if not an:
                        return g * (Mp(u) / QDp(u).sqrt()).atan() / Qp(u).sqrt()
                    iw = I_ * (Mp(u) / QDp(u).sqrt(analytic=True))
                    return g * (I_ / 2 * ((1 - iw).log(analytic=True) - (1 + iw).log(analytic=True))) \
                        / Qp(u).sqrt(analytic=True)

                quad += acb.integral(f, 0, 1, rel_tol=tol, abs_tol=tol).real
            return KM.bounds(total + quad / (4 * pi * pi))

    t0 = time.perf_counter()
    old = [] if a.skip_before else [before(r) for r in cones]
    t_old = time.perf_counter() - t0
    KM._MEMO.clear()  # the kernel memoizes per-cone bounds in this process: each timing starts empty
    t0 = time.perf_counter()
    one = orthant_bounds(cones, False, workers=1)(80)
    t1 = time.perf_counter() - t0
    KM._MEMO.clear()
    t0 = time.perf_counter()
    many = orthant_bounds(cones, False, workers=a.workers)(80)
    tn = time.perf_counter() - t0
    assert one == many, "bounds differ between worker counts"
    print(f"{len(cones)} simplicial cones of M(4,4) (of {len(every)}), 80 bits")
    print(f"1 worker          {1e3 * t1 / len(cones):8.1f} ms per cone")
    print(f"{a.workers} workers         {1e3 * tn / len(cones):8.1f} ms per cone   speed-up {t1 / tn:.2f}x "
          "(includes starting the processes)")
    print(f"width per cone    {float(one[1] - one[0]) / len(cones):.2e}")
    lo_old, hi_old = sum(b[0] for b in old), sum(b[1] for b in old)
    assert a.skip_before or (lo_old <= one[1] and one[0] <= hi_old), "the two enclosures do not overlap"
    if not a.skip_before:
        print(f"before (Plackett, six integrals), 1 worker: {1e3 * t_old / len(cones):8.1f} ms per cone, width per cone "
              f"{float(hi_old - lo_old) / len(cones):.2e}; after / before time {t1 / t_old:.2f}")
    import verifier
    from common import samples_for_relative_error, sampling_throughput

    lm = verifier.load(os.path.join(ROOT, "models", "2nd_argmax_4_4.pth"))
    rate = sampling_throughput(lm, dtype="float64")
    k = samples_for_relative_error(0.4067)
    whole = len(every) * tn / len(cones)
    print(f"all {len(every)} cones on {a.workers} workers: about {whole:.0f} s (a full enclosure, width ~1e-15)")
    print(f"sampling baseline: {rate:.3g} float64 samples/s; +-1% relative at 95% needs {k:.3g} samples = "
          f"{k / rate:.2f} s; ratio (measure / sampling) {whole / (k / rate):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
