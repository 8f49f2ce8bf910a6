"""Frontier benchmark: for trained d = 16 models, certify seq_len n = 2, 3, 4, ... each within a time
budget (default 10 minutes) on this machine, and report cells, regions and time per n; the frontier is
the largest n certified in time.  Sampling's time for +-1% relative error at 95% confidence is printed
beside each (measured in the same run).
Usage: python benchmarks/frontier.py [--budget 600] [--hidden 16] [--max-n 5]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import samples_for_relative_error, sampling_throughput  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _run(path, q):
    sys.path.insert(0, ROOT)
    import verifier

    t0 = time.perf_counter()
    try:
        res = verifier.certify(path, self_check=True)
        q.put(("ok", time.perf_counter() - t0, res.regions, res.details.get("cell_count", res.regions),
               float(res.error_lower), float(res.error_upper), res.timings))
    except Exception as exc:
        q.put(("error", time.perf_counter() - t0, str(exc)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=600)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--max-n", type=int, default=5)
    a = ap.parse_args()
    sys.path.insert(0, ROOT)
    from verifier.certification import _as_loaded

    frontier = None
    for n in range(2, a.max_n + 1):
        path = os.path.join(ROOT, "models", f"2nd_argmax_{a.hidden}_{n}.pth")
        if not os.path.exists(path):
            print(f"n={n}: no trained model {os.path.basename(path)}")
            break
        q = mp.Queue()
        p = mp.Process(target=_run, args=(path, q))
        p.start()
        p.join(a.budget)
        if p.is_alive():
            p.terminate()
            p.join()
            print(f"n={n}: not certified within {a.budget:.0f}s (stopped)")
            break
        out = q.get()
        if out[0] != "ok":
            print(f"n={n}: failed: {out[2]}")
            break
        _, secs, regions, cells, lo, hi, timings = out
        lm = _as_loaded(path, None, None)
        p_mid = (lo + hi) / 2
        t_sample = samples_for_relative_error(p_mid) / sampling_throughput(lm, seconds=2.0)
        print(f"n={n}: certified in {secs:.1f}s (certify + self-check), {regions} regions, {cells} cells, "
              f"error in [{lo:.12g}, {hi:.12g}]; sampling for +-1% at 95%: {t_sample:.2f}s "
              f"(ratio {t_sample / secs:.2f}x); phases {', '.join(f'{k} {v:.1f}s' for k, v in timings.items())}",
              flush=True)
        frontier = n
    print(f"frontier: largest n certified within {a.budget:.0f}s for d = {a.hidden}: {frontier}")


if __name__ == "__main__":
    main()
