"""Benchmark: the trained M(4,3) (32 parameters) certified and checked in-process, against sampling.

Prints the exact error, the region and cell counts, certify and check times (exact evidence; and with
the Z3 confirmation of every cell), and the ratio to the time sampling needs for +-1% relative error
at 95% confidence on this machine (measured in the same run).
Usage: python benchmarks/m43.py [CHECKPOINT]
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
                                                               "2nd_argmax_4_3.pth")
    lm = _as_loaded(path, None, None)
    t_cert, res = best_of(lambda: verifier.certify(lm, self_check=False))
    t_z3, _ = best_of(lambda: verifier.certify(lm, z3=True, self_check=False), repeat=1)
    t_check, v = best_of(lambda: check(res.certificate))
    assert v.accepted
    p = float((res.error_lower + res.error_upper) / 2)
    k = samples_for_relative_error(p)
    rate = sampling_throughput(lm)
    t_sample = k / rate
    print(f"model {os.path.basename(path)}: d={lm.hidden_size}, n={lm.seq_len}, {lm.parameters} parameters")
    print(f"exact error {p:.12g} (enclosure width {float(res.error_upper - res.error_lower):.1e}), "
          f"accuracy {100 * (1 - p):.6f}%")
    print(f"{res.regions} regions (activation patterns), {res.details['cell_count']} cells, "
          f"{res.wrong_regions} wrong cells")
    print(f"certify (exact evidence)      {t_cert:8.3f} s")
    print(f"certify (+ Z3 on every cell)  {t_z3:8.3f} s")
    print(f"check (kernel)                {t_check:8.3f} s")
    print(f"sampling: {rate / 1e6:.2f} M samples/s (float32, measured now); +-1% at 95% needs {k:.3g} samples "
          f"= {t_sample:.2f} s")
    print(f"ratio sampling / (certify + check) = {t_sample / (t_cert + t_check):.1f}x")


if __name__ == "__main__":
    main()
