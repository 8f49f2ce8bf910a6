"""Frontier benchmark: how far exact certification reaches on this machine, seq_len n x hidden size d.

For each shipped 2nd-argmax model M(d, n): a full certificate within the budget (its wall time, certify with
the built-in kernel check), else for n = 4 to 7 an anytime certificate run for the budget (the width of the
interval reached), else for n >= 8 the boxes method (certificate version 5) run for the budget (the width of
its interval; "refused" where no model of the shape is shipped). Beside each finished entry, sampling's time
for +-1% relative error at 95% confidence, measured in the same run (float64 throughput of that model).
Each entry runs in its own process; results are appended to a JSON-lines log as they finish, so a long run
can be split over several invocations and the table rendered from the log.

Usage: python benchmarks/frontier.py [--budget 600] [--hidden 2,3,4,5,6,8,16,32] [--seq-lens 2,3,4,5,6,7]
                                     [--workers N] [--log docs/frontier.jsonl] [--mode auto|full|anytime]
       python benchmarks/frontier.py --table [--log docs/frontier.jsonl]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from fractions import Fraction

sys.path.insert(0, os.path.dirname(__file__))
ROOT = os.path.join(os.path.dirname(__file__), "..")


def _run(path, kind, budget, workers, q, keep=None, task=None):
    sys.path.insert(0, ROOT)
    import verifier
    from verifier.errors import LimitReached, UnsupportedError

    t0 = time.perf_counter()
    out = None
    if keep:  # the certificate, named by model and kind, e.g. 2nd_argmax_4_5.anytime.cert.json
        out = os.path.join(keep, os.path.basename(path).rsplit(".", 1)[0] + f".{kind}.cert.json")
    try:
        if kind == "full":
            res = verifier.certify(path, task, z3=False, timeout=budget, workers=workers, out=out)
        elif kind == "boxes":
            res = verifier.certify(path, task, method="boxes", timeout=budget, workers=workers, samples=0, out=out)
        else:
            # a width it will not reach in the budget (the interval reached is the entry), above 2^-30: measured at
            # the anytime precision (verifier/cells/measure.py ANYTIME_PREC)
            res = verifier.certify(path, task, z3=False, timeout=budget, workers=workers, width=Fraction(1, 1 << 20),
                                   out=out)
        q.put({"status": kind, "seconds": res.timings.get("total", time.perf_counter() - t0),
               "wall": time.perf_counter() - t0, "lower": float(res.error_lower),
               "upper": float(res.error_upper),
               "cells": res.details.get("cells_total", res.details.get("cell_count", res.regions)),
               "measured_cells": res.details.get("cell_count"), "timings": res.timings,
               **({"cones_measured": res.details["cones_measured"], "cones_total": res.details["cones_total"]}
                  if "cones_measured" in res.details else {})})
    except LimitReached as exc:
        q.put({"status": "timeout", "seconds": time.perf_counter() - t0, "why": str(exc)})
    except UnsupportedError as exc:
        q.put({"status": "refused", "seconds": time.perf_counter() - t0, "why": str(exc)})


def _attempt(path, kind, budget, workers, keep=None, task=None):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_run, args=(path, kind, budget, workers, q, keep, task))  # the task named, never assumed
    p.start()
    p.join(2 * budget + 120)  # the anytime re-check may run past the budget; never forever
    if p.is_alive():
        p.terminate()
        p.join()
        return {"status": "timeout", "seconds": 2 * budget + 120, "why": "killed"}
    return q.get() if not q.empty() else {"status": "error", "why": f"exit code {p.exitcode}"}


def _sampling_seconds(path, p, task=None):
    sys.path.insert(0, ROOT)
    from common import samples_for_relative_error, sampling_throughput

    import verifier

    lm = verifier.load(path, task=task)
    return samples_for_relative_error(max(p, 1e-9)) / sampling_throughput(lm, seconds=2.0, dtype="float64")


def _cell(r):
    if r is None:
        return "·"
    if r["status"] == "no model":
        return "no model"
    if r["status"] == "refused":
        return "refused"
    if r["status"] == "full":
        over = r.get("budget") is None and r["seconds"] > 600
        return (f"{r['seconds']:.0f} s" if r["seconds"] >= 1 else "< 1 s") + (" (over 10 min)" if over else "") + ("*" if r.get("budget") is None else "")
    if r["status"] == "not finished":
        return f"not finished in {r['seconds']:.0f} s*"
    if r["status"] == "anytime":
        return f"width {r['upper'] - r['lower']:.2g} ({r['seconds']:.0f} s)"
    if r["status"] == "boxes":
        return f"boxes: width {r['upper'] - r['lower']:.2g} ({r['seconds']:.0f} s)"
    return r["status"]


def table(log: str, task: str = "2nd_argmax", with_legend: bool = True) -> str:
    rows = {}
    for line in open(log):
        r = json.loads(line)
        if r.get("task", "2nd_argmax") == task:
            rows[(r["d"], r["n"])] = r  # the latest entry wins
    if not rows:
        return ""
    ds = sorted({d for d, _ in rows})
    ns = sorted({n for _, n in rows})
    out = [] if task == "2nd_argmax" else [f"{task}:", ""]
    out += ["| d \\ n | " + " | ".join(map(str, ns)) + " |", "|---|" + "---|" * len(ns)]
    for d in ds:
        out.append(f"| {d} | " + " | ".join(_cell(rows.get((d, n))) for n in ns) + " |")
    if with_legend:
        out += ["", legend(log, task)]
    return "\n".join(out)


def legend(log: str, task: str | None = None) -> str:
    """What the table's entries mean, with the budgets of the runs in the log (of one task, or all)."""
    budgets = sorted({r["budget"] for r in map(json.loads, open(log))
                      if r.get("budget") and (task is None or r.get("task", "2nd_argmax") == task)})
    return ("Full: wall time of `certify` (traversal, measure, the kernel's re-check; no Z3) within the budget; "
            "width: the anytime interval reached within the budget (seconds: certify + its re-check); "
            "boxes: the width of the boxes method's interval (certificate version 5; search for half the budget, "
            "then the kernel's re-check); refused: no model of the shape is shipped (seq_len >= 8 has no orthant "
            f"rule). Budgets (s): {', '.join(map(str, budgets))}; * a dedicated run without a time limit (its "
            "command is in its log entry); · not measured.")


def command(a, n: int, d: int) -> str:
    """The command that measures one entry again (recorded in each log entry)."""
    parts = ["python benchmarks/frontier.py", f"--budget {a.budget:g}", f"--seq-lens {n}", f"--hidden {d}",
             f"--workers {a.workers}", f"--mode {a.mode}"]
    if a.task != "2nd_argmax":
        parts.append(f"--task {a.task}")
    return " ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=600, help="seconds per attempt (default 600)")
    ap.add_argument("--hidden", default="2,3,4,5,6,8,16,32")
    ap.add_argument("--seq-lens", default="2,3,4,5,6,7")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--mode", choices=("auto", "full", "anytime"), default="auto",
                    help="auto: full certificate, then (n = 4, 5) anytime if the budget ran out")
    ap.add_argument("--log", default=os.path.join(ROOT, "docs", "frontier.jsonl"))
    ap.add_argument("--table", action="store_true", help="only print the table from the log")
    ap.add_argument("--keep", metavar="DIR", help="write each certificate made to DIR/<model>.<kind>.cert.json")
    ap.add_argument("--task", default="2nd_argmax", choices=("2nd_argmax", "argmedian"),
                    help="the family of models (the table is 2nd argmax's; argmedian entries are logged with a task)")
    a = ap.parse_args()
    if a.table:
        print(table(a.log))
        print(table(a.log, "argmedian"))
        return 0
    for n in [int(x) for x in a.seq_lens.split(",")]:
        for d in [int(x) for x in a.hidden.split(",")]:
            path = os.path.join(ROOT, "models", f"{a.task}_{d}_{n}.pth")
            entry = {"n": n, "d": d, "budget": a.budget, "workers": a.workers,
                     "date": time.strftime("%Y-%m-%d"), "command": command(a, n, d)}
            if a.task != "2nd_argmax":
                entry["task"] = a.task
            if n >= 8 and not os.path.exists(path):
                entry.update(status="refused", why="seq_len >= 8: no orthant rule (P_8 would need the pencil "
                             "reduction once more); no model of this shape is shipped")
            elif n >= 8:
                entry.update(_attempt(path, "boxes", a.budget, a.workers, a.keep, a.task))
            elif not os.path.exists(path):
                entry.update(status="no model")
            else:
                r = None
                if a.mode in ("auto", "full"):
                    r = _attempt(path, "full", a.budget, a.workers, a.keep, a.task)
                if n >= 4 and (a.mode == "anytime" or (a.mode == "auto" and r["status"] == "timeout")):
                    r = _attempt(path, "anytime", a.budget, a.workers, a.keep, a.task)
                entry.update(r)
                if entry["status"] in ("full", "anytime"):
                    p = (entry["lower"] + entry["upper"]) / 2
                    entry["sampling_seconds"] = _sampling_seconds(path, p, a.task)
            print(json.dumps(entry), flush=True)
            with open(a.log, "a") as fh:
                fh.write(json.dumps(entry) + "\n")
    print(table(a.log))
    print(table(a.log, "argmedian"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
