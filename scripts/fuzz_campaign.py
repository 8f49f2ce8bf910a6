"""Fuzz campaign: random and degenerate models, each certified, re-checked by the kernel, its cell claims
compared with exact evaluation at random rational inputs, and its value with float64 sampling.

Models: seq_len 2 to 4 (4 only with d <= 2: its measure is slow), hidden size 1 to 8, weights drawn from
small rationals with many zeros, equal rows, dead neurons (a zero row and column), huge (2^20) and tiny
(2^-20) magnitudes; every task that applies (2nd_argmax, argmax, argmedian for odd n, median for n = 2, 3).
Per model:
  1. certify (without the pipeline's own kernel re-check: step 2 is that check) — a crash is a failure;
  2. the certificate, serialised and parsed again, is accepted by the kernel;
  3. at 12 random integer inputs strictly inside some cell, the cell's claim (right/wrong; for median, the
     residual is not checked pointwise) agrees with the exact forward pass and the task's exact target;
  4. the certified interval agrees with 2^16 float64 samples within 5 standard errors of it (for an error p:
     sqrt(p (1 - p) / N), at least 1/N; for an MSE: the samples' own standard error, at least 1e-12).  When it
     does not, 3,000 of the same points are re-evaluated exactly: if those agree (5 standard errors), the
     difference is float64's (it breaks ties between identically equal logits that the exact model, like
     torch, breaks by the first index) and is listed as "explained".

Usage: python scripts/fuzz_campaign.py --models 200 [--seed 0] [--out docs/fuzz.json] [--minutes M] [--workers W]
       [--log run.jsonl]   (seconds: this invocation's wall time; model_seconds: the sum of the models' own times)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
import traceback
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)


def random_model(rng: random.Random, max_n: int = 4, n4_share: float | None = None):
    """(W_hi, W_hh, W_oh, n, task, kind) with degenerate features mixed in.  n = 4 comes with probability 1/6, or
    n4_share when given (a long campaign lowers it: a seq_len 4 model costs ~50x a seq_len 2 or 3 one)."""
    if n4_share is not None and max_n >= 4:
        n = 4 if rng.random() < n4_share else rng.choice([2, 2, 3, 3, 3])
    else:
        n = rng.choice([m for m in (2, 2, 3, 3, 3, 4) if m <= max_n])
    d = rng.randint(1, 2) if n == 4 else rng.randint(1, 8)
    task = rng.choice(["2nd_argmax", "argmax"] + (["argmedian"] if n % 2 else []) + (["median"] if n < 4 else []))
    out = 1 if task == "median" else n
    kinds = []

    def entry():
        r = rng.random()
        if r < 0.3:
            return Fraction(0)
        if r < 0.35:
            kinds.append("huge")
            return Fraction(rng.choice([1, -1]) * (1 << 20))
        if r < 0.40:
            kinds.append("tiny")
            return Fraction(rng.choice([1, -1]), 1 << 20)
        return Fraction(rng.randint(-4, 4), rng.choice([1, 2, 3, 4]))

    W_hi = [[entry()] for _ in range(d)]
    W_hh = [[entry() for _ in range(d)] for _ in range(d)]
    W_oh = [[entry() for _ in range(d)] for _ in range(out)]
    if d > 1 and rng.random() < 0.2:
        i, j = rng.sample(range(d), 2)
        W_hh[i] = list(W_hh[j])
        W_hi[i] = list(W_hi[j])
        kinds.append("equal_rows")
    if rng.random() < 0.2:
        i = rng.randrange(d)
        W_hi[i] = [Fraction(0)]
        W_hh[i] = [Fraction(0)] * d
        for row in W_hh:
            row[i] = Fraction(0)
        kinds.append("dead_neuron")
    if all(v == 0 for row in W_oh for v in row) and rng.random() < 0.5:
        W_oh[0][0] = Fraction(1)
    return W_hi, W_hh, W_oh, n, task, sorted(set(kinds))


def _sampled(rnn, n, task, samples, seed):
    import numpy as np

    W_hi = np.array([[float(v) for v in r] for r in rnn.W_hi])
    W_hh = np.array([[float(v) for v in r] for r in rnn.W_hh])
    W_oh = np.array([[float(v) for v in r] for r in rnn.W_oh])
    x = np.random.default_rng(seed).standard_normal((samples, n))
    h = np.zeros((samples, W_hh.shape[0]))
    for t in range(n):
        h = np.maximum(h @ W_hh.T + x[:, t:t + 1] @ W_hi.T, 0)
    y = h @ W_oh.T
    if task == "median":
        s = np.sort(x, axis=1)
        med = s[:, n // 2] if n % 2 else (s[:, n // 2 - 1] + s[:, n // 2]) / 2
        e = (y[:, 0] - med) ** 2
        return e.mean(), max(e.std() / math.sqrt(samples), 1e-12)
    order = np.argsort(-x, axis=1, kind="stable")
    rank = {"argmax": 0, "2nd_argmax": 1, "argmedian": (n - 1) // 2}[task]
    wrong = (np.argmax(y, axis=1) != order[:, rank]).mean()
    return wrong, None


def check_model(W_hi, W_hh, W_oh, n, task, rng, samples=1 << 16) -> dict:
    import verifier
    from verifier.errors import LimitReached
    from verifier.kernel import check, parse_json
    from verifier.kernel import read_certificate
    from verifier.kernel.check import run_rules
    from verifier.loading.model import argmax_first, forward
    from verifier.loading.tasks import label

    rnn = verifier.RNN.make(W_hi, W_hh, W_oh, seq_len=n)
    try:
        res = verifier.certify(rnn, task=task, z3=False, max_regions=20_000, timeout=90, self_check=False,
                               workers=1)
    except LimitReached as exc:
        return {"status": "skipped", "why": str(exc)}
    doc = parse_json(json.dumps(res.certificate, sort_keys=True))
    v = check(doc)
    if not v.accepted:
        return {"status": "rejected", "why": f"[{v.rule}] {v.message}"}
    c = read_certificate(doc)
    checked = 0
    if task != "median":
        w = run_rules(c)
        for _ in range(40):
            if checked >= 12:
                break
            x = [rng.randint(-1000, 1000) for _ in range(n)]
            if c.version == 1:
                found = [s for s in c.sectors if s.u[0] * x[1] - s.u[1] * x[0] > 0 and x[0] * s.v[1] - x[1] * s.v[0] > 0]
                flags = [s.wrong for s in found]
            else:
                found = [ci for ci in range(len(c.cells)) if all(sum(a * b for a, b in zip(g, x)) > 0 for g in w.cons[ci])]
                flags = [c.cells[ci].wrong for ci in found]
            if len(found) != 1:
                continue  # on a boundary (measure zero): not a point any cell claims
            xs = [Fraction(v) for v in x]
            wrong = argmax_first(forward(rnn, xs)) != label(task, xs)
            if wrong != flags[0]:
                return {"status": "disagreement", "why": f"x = {x}: exact says wrong={wrong}, the cell says {flags[0]}"}
            checked += 1
    lo, hi = float(res.error_lower), float(res.error_upper)
    mid = (lo + hi) / 2

    def gap(v):  # distance from the certified interval (an estimate inside it agrees with it)
        return 0.0 if lo <= v <= hi else (v - hi if v > hi else v - lo)

    sseed = rng.randrange(1 << 30)
    est, se = _sampled(rnn, n, task, samples, sseed)
    if se is None:
        se = max(math.sqrt(max(mid * (1 - mid), 0.0) / samples), 1.0 / samples)
    z = gap(est) / se
    if abs(z) > 5:
        why = f"certified [{lo:.6g}, {hi:.6g}], float64 sampled {est:.6g}, z = {z:+.2f} (from the interval)"
        if task == "median":
            return {"status": "disagreement", "why": why}
        # float64 is not the exact model: where two logits are identically equal on a set of positive measure
        # (decisions '0'), its rounding breaks the tie either way while the exact model takes the first index.
        # Re-evaluate the same Gaussian points exactly (their float64 values as rationals).
        import numpy as np

        k = 3000
        xs = np.random.default_rng(sseed).standard_normal((samples, n))[:k]
        wrong = sum(argmax_first(forward(rnn, [Fraction(float(v)) for v in x])) != label(task, [Fraction(float(v)) for v in x])
                    for x in xs)
        se_k = max(math.sqrt(max(mid * (1 - mid), 0.0) / k), 1.0 / k)
        z_exact = gap(wrong / k) / se_k
        if abs(z_exact) <= 5:
            return {"status": "explained", "why": why + f"; exact evaluation of {k} of the same points gives "
                    f"{wrong / k:.6g}, z = {z_exact:+.2f}: float64 rounding decides ties the exact model breaks "
                    "by the first index", "points": checked}
        return {"status": "disagreement", "why": why + f"; exact at {k} of the same points: z = {z_exact:+.2f}"}
    return {"status": "ok", "points": checked, "z": round(z, 2), "cells": res.details.get("cell_count", res.regions),
            "width": hi - lo}


def one(seed: int, i: int, max_n: int = 4, n4_share: float | None = None) -> dict:
    """Model i of the campaign with this seed: its own random stream (so a model is the same whichever worker
    runs it and however the run is split or resumed), checked; the record as the log keeps it."""
    rng = random.Random(f"{seed}:{i}")
    W_hi, W_hh, W_oh, n, task, kinds = random_model(rng, max_n, n4_share)
    t0 = time.perf_counter()
    try:
        r = check_model(W_hi, W_hh, W_oh, n, task, random.Random(rng.randrange(1 << 30)))
    except Exception as exc:  # a crash is a finding
        r = {"status": "crash", "why": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-800:]}
    rec = {"model": i, "n": n, "d": len(W_hh), "task": task, "kinds": kinds, "seconds": round(time.perf_counter() - t0, 3),
           **r}
    if r["status"] not in ("ok", "skipped"):  # explained ones are listed too, with their explanation
        rec["weights"] = [[[str(v) for v in row] for row in m] for m in (W_hi, W_hh, W_oh)]
    return rec


def _one(args):
    return one(*args)


def _quiet():
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def summarise(records, seed: int, seconds: float) -> dict:
    counts = {"ok": 0, "skipped": 0, "explained": 0, "rejected": 0, "disagreement": 0, "crash": 0}
    by_task: dict = {}
    by_n: dict = {}
    for r in records:
        counts[r["status"]] += 1
        by_task[r["task"]] = by_task.get(r["task"], 0) + 1
        by_n[str(r["n"])] = by_n.get(str(r["n"]), 0) + 1
    problems = [r for r in records if r["status"] not in ("ok", "skipped")]
    wide = [r["model"] for r in records if r.get("width", 0) > 1e-6]
    return {"models": len(records), **counts, "points_checked": sum(r.get("points", 0) for r in records),
            "wide_intervals": len(wide), "wide_models": wide[:50],
            "by_task": by_task, "by_n": by_n, "problems": problems, "seconds": round(seconds, 1),
            "model_seconds": round(sum(r.get("seconds", 0) for r in records), 1), "seed": seed}


def run(models: int, seed: int, minutes: float | None = None, log=print, max_n: int = 4, workers: int = 1,
        jsonl: str | None = None, n4_share: float | None = None) -> dict:
    """Models 0..models-1 of this seed (those already in `jsonl` are kept, not redone), on `workers` processes;
    each record is appended to `jsonl` as it finishes, so a long run that is stopped keeps what it did."""
    t0 = time.perf_counter()
    records = {}
    if jsonl and os.path.exists(jsonl):
        with open(jsonl) as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    if r.get("seed", seed) == seed:
                        records[r["model"]] = r
    todo = [(seed, i, max_n, n4_share) for i in range(models) if i not in records]
    pool = None
    if workers > 1 and len(todo) > 1:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_quiet, maxtasksperchild=200)
        results = pool.imap_unordered(_one, todo, chunksize=1)
    else:
        results = (_one(t) for t in todo)
    try:
        for rec in results:
            rec["seed"] = seed
            records[rec["model"]] = rec
            if jsonl:
                with open(jsonl, "a") as fh:
                    fh.write(json.dumps(rec, sort_keys=True) + "\n")
            if rec["status"] not in ("ok", "skipped"):
                log(f"model {rec['model']}: {rec['status']}: {rec['why']}")
            if len(records) % 100 == 0:
                log(f"{len(records)} models ({time.perf_counter() - t0:.0f} s)")
            if minutes is not None and time.perf_counter() - t0 > 60 * minutes:
                break
    finally:
        if pool is not None:
            pool.terminate()
    done = [records[i] for i in sorted(records)]
    return summarise(done, seed, time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long (the count reached is reported)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "fuzz.json"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    ap.add_argument("--log", default=None, help="JSON lines, one per model as it finishes; a rerun resumes from it")
    ap.add_argument("--n4-share", type=float, default=None, help="probability of a seq_len 4 model (default 1/6)")
    a = ap.parse_args()
    res = run(a.models, a.seed, a.minutes, workers=a.workers, jsonl=a.log, n4_share=a.n4_share)
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=1, sort_keys=True)
    print(f"{res['models']} models in {res['seconds']}s: {res['ok']} ok, {res['skipped']} skipped (limits), "
          f"{res['explained']} float64 differences explained by exact evaluation, "
          f"{res['rejected']} rejected, {res['disagreement']} disagreements, {res['crash']} crashes; "
          f"{res['points_checked']} exact point checks")
    return 0 if not any(p["status"] not in ("explained",) for p in res["problems"]) else 1


if __name__ == "__main__":
    sys.exit(main())
