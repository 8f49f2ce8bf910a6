"""Shared helpers for benchmarks: sampling throughput measured in the same run (the baseline)."""

from __future__ import annotations

import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

Z95 = 1.959963984540054


def sampling_throughput(lm, dtype="float32", seconds=3.0, batch=1 << 18):
    """Samples per second of the vectorised sampler on this machine, for this model (measured now)."""
    from verifier.empirical.sample import sample_error

    sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=batch, seed=99, dtype=dtype, batch=batch)  # warm up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=batch * 4, seed=n, dtype=dtype, batch=batch)
        n += batch * 4
    return n / (time.perf_counter() - t0)


def samples_for_relative_error(p: float, rel: float = 0.01, z: float = Z95) -> float:
    """Samples k so that the 95% half-width z sqrt(p(1-p)/k) is rel * p."""
    return z * z * (1 - p) / (p * rel * rel)


def best_of(fn, repeat=5):
    """Minimum wall time of fn() over `repeat` runs, and its last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def certificate_cones(path: str) -> list:
    """The simplicial cones (lists of integer rays) that the kernel measures for a seq_len 4 to 7 certificate (a
    partial one: both sides' cones): its rules run up to the closed form, which is where the integrals start."""
    from verifier.kernel import parse_json, read_certificate
    from verifier.kernel.check import read_text, rules_for
    from verifier.kernel.claim import Work

    doc = parse_json(read_text(path))  # plain, .gz or .xz
    c, w = read_certificate(doc), Work()
    for fn in rules_for(c):
        if fn.rule == "closed-form":
            break
        fn(c, w)
    return list(w.cones or []) + list(getattr(w, "cones_wrong", None) or []) + list(getattr(w, "cones_right", None) or [])
