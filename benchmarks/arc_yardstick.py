"""ARC's yardstick: mean squared error of an accuracy estimate versus compute, against sampling.

Following the AlgZoo authors: add Gaussian noise (std 0.05) to the weights of a model, 256 noisy
copies; for each copy our estimate is the certified error (exact up to its enclosure), and sampling's
estimate at the same compute is a float32 sample of k = (our time) x (sampling throughput) inputs,
whose MSE is p(1 - p)/k. We print the mean squared error of both at equal compute (ours: the mean
squared enclosure half-width, a rigorous bound) and the compute sampling would need to match it.
Usage: python benchmarks/arc_yardstick.py [CHECKPOINT] [--copies 256] [--noise 0.05]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import sampling_throughput  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", nargs="?", default=os.path.join(ROOT, "models", "2nd_argmax_4_3.pth"))
    ap.add_argument("--copies", type=int, default=256)
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import numpy as np
    import torch

    import verifier
    from verifier.pipeline import _as_loaded
    from verifier.loading.model import RNN

    base = _as_loaded(a.checkpoint, None, None)
    W = [np.array([[float(v) for v in r] for r in m], dtype=np.float32) for m in
         (base.rnn.W_hi, base.rnn.W_hh, base.rnn.W_oh)]
    g = torch.Generator().manual_seed(a.seed)
    rate = sampling_throughput(base)
    secs, mse_ours, mse_sampling, errs = [], [], [], []
    for c in range(a.copies):
        noisy = [m + (a.noise * torch.randn(m.shape, generator=g)).numpy().astype(np.float32) for m in W]
        from fractions import Fraction

        rnn = RNN.make(*[[[Fraction(float(v)) for v in r] for r in m] for m in noisy], seq_len=base.seq_len)
        t0 = time.perf_counter()
        res = verifier.certify(rnn, task=base.task, self_check=False)
        dt = time.perf_counter() - t0
        p = float((res.error_lower + res.error_upper) / 2)
        half = float(res.error_upper - res.error_lower) / 2
        k = max(1.0, dt * rate)
        secs.append(dt)
        errs.append(p)
        mse_ours.append(half * half)
        mse_sampling.append(p * (1 - p) / k)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    m_s = mean(mse_sampling)
    print(f"{a.copies} noisy copies (std {a.noise}) of {os.path.basename(a.checkpoint)}: mean error {mean(errs):.6g} "
          f"(min {min(errs):.3g}, max {max(errs):.3g})")
    print(f"compute per copy: certify {mean(secs) * 1e3:.1f} ms (mean); sampling throughput {rate / 1e6:.2f} M/s "
          f"(measured now)")
    print(f"MSE at equal compute: ours <= {mean(mse_ours):.3g} (squared enclosure half-width), "
          f"sampling {m_s:.3g}")
    need = mean([p * (1 - p) / max(h, 1e-300) for p, h in zip(errs, mse_ours)]) / rate
    print(f"sampling would need about {need:.3g} s per copy to reach our MSE "
          f"(ratio {need / mean(secs):.3g}x our compute)")


if __name__ == "__main__":
    main()
