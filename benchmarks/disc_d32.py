"""Benchmark: certify + check of the d = 32, n = 2 model in-process, against sampling measured in the same run.

Prints the time to certify (exact evidence only, and with the Z3 confirmation that `certify` runs by
default for seq_len 2), the time to check, and the ratio to the time sampling needs for a +-1%
relative error at 95% confidence on the same machine.
Usage: python benchmarks/disc_d32.py [CHECKPOINT]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import best_of, samples_for_relative_error, sampling_throughput  # noqa: E402

import verifier  # noqa: E402
from verifier.kernel import check  # noqa: E402
from verifier.pipeline import _as_loaded  # noqa: E402


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "models",
                                                               "2nd_argmax_32_2.pth")
    lm = _as_loaded(path, None, None)
    t_cert, res = best_of(lambda: verifier.certify(lm, z3=False, self_check=False))
    t_cert_z3, _ = best_of(lambda: verifier.certify(lm, z3=True, self_check=False), repeat=3)
    t_check, v = best_of(lambda: check(res.certificate))
    assert v.accepted
    p = float((res.error_lower + res.error_upper) / 2)
    k = samples_for_relative_error(p)
    rate = sampling_throughput(lm)
    t_sample = k / rate
    print(f"model {os.path.basename(path)}: d={lm.hidden_size}, n={lm.seq_len}, error {p:.6g}, {res.regions} sectors")
    print(f"certify (exact evidence)        {t_cert * 1e3:8.1f} ms")
    print(f"certify (+ Z3 confirmation)     {t_cert_z3 * 1e3:8.1f} ms")
    print(f"check (kernel)                  {t_check * 1e3:8.1f} ms")
    print(f"certify + check                 {(t_cert + t_check) * 1e3:8.1f} ms   (with Z3: "
          f"{(t_cert_z3 + t_check) * 1e3:.1f} ms)")
    print(f"sampling: {rate / 1e6:.2f} M samples/s (float32, measured now); +-1% at 95% needs {k:.3g} samples "
          f"= {t_sample:.1f} s")
    print(f"ratio sampling / (certify + check) = {t_sample / (t_cert + t_check):.0f}x  "
          f"(with Z3: {t_sample / (t_cert_z3 + t_check):.0f}x)")


if __name__ == "__main__":
    main()
