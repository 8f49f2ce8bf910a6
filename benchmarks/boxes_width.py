"""Width of the boxes method's certified interval versus wall time, beside sampling's 95% confidence interval
at the same wall time (issue 15's yardstick).

For each model: `certify --method boxes --timeout T` (the search gets half of T, the kernel's re-check the
rest); the search's trace gives the (float-estimated) interval after every round, the certificate the final
rigorous one.  Sampling: float64 forward passes timed in the same run; its CI width at time t is
2 * 1.96 * sqrt(p (1 - p) / N(t)), N(t) the samples sampling draws in t seconds.

    python benchmarks/boxes_width.py --models 2nd_argmax_16_5,2nd_argmax_16_10 --timeout 600 [--png docs/figures/boxes_width.png]

Appends one JSON line per model to --log; `--table --log FILE [--png PNG]` prints the markdown table of a log
and draws width versus time (boxes and sampling's CI) from it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)


def sampling_rate(lm, seconds: float = 5.0) -> tuple[float, float]:
    """(samples per second, error estimate) of float64 sampling on this machine, measured now."""
    from verifier.empirical.sample import sample_error

    n = 1 << 18
    t0 = time.perf_counter()
    res = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=n, seed=1, dtype="float64")
    dt = time.perf_counter() - t0
    while dt < seconds:
        n *= 2
        t0 = time.perf_counter()
        res = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=n, seed=1, dtype="float64")
        dt = time.perf_counter() - t0
    return n / dt, res.error


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="2nd_argmax_16_5,2nd_argmax_16_10")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--log", default=None, help="append one JSON line per model here")
    ap.add_argument("--png", default=None, help="draw width versus time here")
    ap.add_argument("--out-dir", default="/tmp", help="where the certificates go")
    ap.add_argument("--table", action="store_true", help="only print the table (and draw --png) from --log")
    a = ap.parse_args()
    if a.table:
        rows = [json.loads(line) for line in open(a.log)]
        print(table(rows))
        if a.png:
            draw(rows, a.png)
        return 0
    from verifier.pipeline import certify
    from verifier.loading.loader import load

    rows = []
    for name in a.models.split(","):
        lm = load(os.path.join(ROOT, "models", f"{name}.pth"))
        rate, p = sampling_rate(lm)
        t0 = time.perf_counter()
        res = certify(lm, method="boxes", timeout=a.timeout, workers=a.workers, samples=0,
                      out=os.path.join(a.out_dir, f"{name}.boxes.cert.json"))
        wall = time.perf_counter() - t0
        st = res.details["search"]
        width = float(res.error_upper - res.error_lower)
        ci = lambda t: 2 * 1.96 * math.sqrt(max(p * (1 - p), 1e-12) / max(rate * t, 1))
        row = {"model": name, "timeout_s": a.timeout, "wall_s": round(wall, 1), "search_s": round(st["seconds"], 1),
               "check_s": round(res.timings.get("check", 0), 1), "boxes": st["boxes"], "right": res.details["right"],
               "wrong": res.details["wrong"], "undecided": res.details["undecided"],
               "lower": float(res.error_lower), "upper": float(res.error_upper), "width": width,
               "undecided_mass": st.get("undecided"), "sampling_per_s": round(rate), "sampled_error": p, "sampling_ci95_width_at_wall": ci(wall),
               "trace": [(t, b, round(1 - lo_ - (1 - up), 6)) for t, b, _, lo_, up in st["trace"][:: max(1, len(st["trace"]) // 40)]]}
        rows.append(row)
        if a.log:
            with open(a.log, "a") as fh:
                fh.write(json.dumps(row) + "\n")
        print(f"{name}: certified [{row['lower']:.6f}, {row['upper']:.6f}] width {width:.4g} after {wall:.0f}s "
              f"({st['boxes']:,} boxes, search {st['seconds']:.0f}s, check {row['check_s']:.0f}s); sampling's 95% CI "
              f"width at the same wall time {row['sampling_ci95_width_at_wall']:.2e} ({rate:,.0f} samples/s, "
              f"estimate {p:.5f}); width ratio boxes/sampling {width / row['sampling_ci95_width_at_wall']:.3g}",
              flush=True)
        u = st.get("undecided")
        if u:
            print(f"  undecided mass {u['open_mass']:.4f} in {u['open_boxes']:,} open boxes: target open (near ties: "
                  f"rank above {100 * u['target_open_tie_above']:.1f}%, below {100 * u['target_open_tie_below']:.1f}%, "
                  f"both {100 * u['target_open_both']:.1f}%), argmax open {100 * u['argmax_open']:.1f}% (no unstable "
                  f"unit {100 * u['argmax_open_no_unstable_unit']:.1f}%); unstable units per step "
                  f"{u['unstable_units_per_step']}; mean log2 box side {u['mean_log2_side']:.2f}", flush=True)
    if a.png:
        draw(rows, a.png)
    return 0


def table(rows) -> str:
    out = ["| model | budget | boxes | right / wrong boxes | certified interval | width | search / check (s) | "
           "sampling's 95% CI width at the same wall time |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['model']} | {r['timeout_s']:.0f} s | {r['boxes']:,} | {r['right']:,} / {r['wrong']:,} | "
                   f"[{r['lower']:.6f}, {r['upper']:.6f}] | {r['width']:.4g} | {r['search_s']:.0f} / {r['check_s']:.0f} "
                   f"| {r['sampling_ci95_width_at_wall']:.2e} (estimate {r['sampled_error']:.5f}) |")
    return "\n".join(out)


def draw(rows, png: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for row in rows:
        tr = row["trace"]
        ax.plot([t for t, _, _ in tr], [w for _, _, w in tr], label=f"{row['model']} boxes ({row['timeout_s']:.0f} s budget)")
        ts = [t for t, _, _ in tr if t > 0]
        p, rate = row["sampled_error"], row["sampling_per_s"]
        ax.plot(ts, [2 * 1.96 * math.sqrt(p * (1 - p) / (rate * t)) for t in ts], "--",
                label=f"{row['model']} sampling 95% CI" if row['timeout_s'] <= 600 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("search wall time (s)")
    ax.set_ylabel("interval width")
    ax.legend(fontsize=7)
    ax.set_title("boxes: certified interval width (search trace) vs sampling's 95% CI", fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
