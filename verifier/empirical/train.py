"""Training our own AlgZoo with the published recipe (docs/ALGZOO.md).

AdamW (weight decay 0.001), lr 0.04/sqrt(d), linear warm-up over 2^14 steps at the zoo's 2^20
steps (scaled in proportion for fewer sequences), then exponential decay lr * 0.01^(2 step/steps)
floored at 0.01 lr; batch 1024 of fresh standard-normal sequences; cross-entropy (position tasks)
or MSE (median).  Best of several seeds by sampled accuracy (or MSE).  Deterministic on CPU for a
given seed and thread count (default one thread).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass

from ..errors import InputError
from ..loading.rational import write_atomic
from ..loading.tasks import TASKS, torch_labels

CYCLE_TASK = "longest_cycle"  # the transformer family (verifier/families/transformer.py)
ZOO_STEPS = 1 << 20  # 2^30 sequences / batch 1024
ZOO_WARMUP = 1 << 14


def parse_count(text: str) -> int:
    """An integer, optionally written as 2^k."""
    t = str(text).strip()
    try:
        if "^" in t:
            base, exp = t.split("^")
            return int(base) ** int(exp)
        return int(t)
    except ValueError:
        raise InputError(f"{text!r} is not a count (an integer or 2^k)") from None


def parse_seeds(text: str) -> list[int]:
    """Seeds as "0-4", "3" or "0,2,5"."""
    out = []
    try:
        for part in str(text).split(","):
            if "-" in part:
                a, b = part.split("-")
                out.extend(range(int(a), int(b) + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise InputError(f"{text!r} is not a seed list (e.g. 0-4 or 0,2)") from None
    if not out or any(s < 0 for s in out):
        raise InputError(f"{text!r} is not a seed list (e.g. 0-4 or 0,2)")
    return out


def lr_factor(step: int, steps: int, warmup: int) -> float:
    """The schedule's multiplier of the base learning rate at `step`."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.01, 0.01 ** (2 * step / steps))


def build_module(d: int, out: int):
    """The AlgZoo module: nn.RNN(1, d, relu, no bias) + Linear(d, out, no bias) on the final state."""
    import torch

    class AlgZooRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.RNN(input_size=1, hidden_size=d, nonlinearity="relu", bias=False,
                                    batch_first=True)
            self.linear = torch.nn.Linear(d, out, bias=False)

        def forward(self, x):
            _, h = self.rnn(x.unsqueeze(-1))
            return self.linear(h[-1])

    return AlgZooRNN()


@dataclass
class SeedResult:
    seed: int
    state_bytes: bytes
    sha256: str
    metric: float  # accuracy (position) or MSE (median), sampled on the selection set
    final_loss: float
    seconds: float


def state_bytes(module) -> bytes:
    """torch.save bytes of the state_dict (float32, AlgZoo keys); byte-stable for equal tensors."""
    import torch

    sd = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in module.state_dict().items()}
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


def train_seed(task: str, d: int, n: int, seed: int, sequences: int, batch: int, device: str,
               progress: bool = True, select_samples: int = 1 << 20) -> SeedResult:
    """Train one seed; return its checkpoint bytes and selection metric."""
    import torch

    out = 1 if task == "median" else n
    torch.manual_seed(seed)
    cycle = task == CYCLE_TASK
    if cycle:
        from ..families.transformer import torch_module, torch_targets

        module = torch_module(d, n).to(device)
    else:
        module = build_module(d, out).to(device)
    steps = max(1, sequences // batch)
    warmup = max(1, round(ZOO_WARMUP * steps / ZOO_STEPS))
    base_lr = 0.04 / math.sqrt(d)
    opt = torch.optim.AdamW(module.parameters(), lr=base_lr, weight_decay=0.001)
    gen = torch.Generator(device=device)
    gen.manual_seed(1_000_003 * seed + 17)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc=f"{task} d={d} n={n} seed {seed}", unit="step", leave=False,
                   file=sys.stderr, mininterval=0.5)
    t0 = time.perf_counter()
    ema_loss, ema_acc = None, None
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = base_lr * lr_factor(step, steps, warmup)
        if cycle:  # uniformly random functions {0..n-1} -> {0..n-1}
            x = torch.randint(0, n, (batch, n), generator=gen, device=device)
            y = torch_targets(x)
        else:
            x = torch.randn(batch, n, generator=gen, device=device)
            y = torch_labels(task, x)
        logits = module(x)
        if task == "median":
            loss = torch.nn.functional.mse_loss(logits[:, 0], y)
            acc = None
        else:
            loss = torch.nn.functional.cross_entropy(logits, y)
            acc = float((logits.argmax(1) == y).float().mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        lv = float(loss.detach())
        ema_loss = lv if ema_loss is None else 0.98 * ema_loss + 0.02 * lv
        if acc is not None:
            ema_acc = acc if ema_acc is None else 0.98 * ema_acc + 0.02 * acc
        if bar is not None:
            bar.update(1)
            if step % 200 == 0 or step == steps - 1:
                post = {"loss": f"{ema_loss:.4f}"}
                if ema_acc is not None:
                    post["acc"] = f"{ema_acc:.4f}"
                bar.set_postfix(post, refresh=False)
    if bar is not None:
        bar.close()
    secs = time.perf_counter() - t0
    data = state_bytes(module)
    if cycle:
        metric = cycle_accuracy_bytes(data, d, n, device)
        return SeedResult(seed, data, hashlib.sha256(data).hexdigest(), metric, ema_loss, secs)
    metric = evaluate_bytes(data, task, n, select_samples, seed=10_000 + seed, device=device)
    return SeedResult(seed, data, hashlib.sha256(data).hexdigest(), metric, ema_loss, secs)


def cycle_accuracy_bytes(data: bytes, d: int, n: int, device: str = "cpu") -> float:
    """float32 accuracy of longest-cycle checkpoint bytes over all n^n inputs (no sampling needed)."""
    import torch

    from ..families.transformer import all_tokens, torch_module, torch_targets

    sd = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    layers = len({k.split(".")[1] for k in sd if k.startswith("attns.")})
    mod = torch_module(d, n, layers).to(device)
    mod.load_state_dict(sd)
    mod.eval()
    x = all_tokens(n).to(device)
    with torch.no_grad():
        return float((mod(x).argmax(1) == torch_targets(x)).double().mean())


def evaluate_bytes(data: bytes, task: str, n: int, samples: int, seed: int, device: str = "cpu") -> float:
    """Sampled accuracy (position tasks) or MSE (median) of checkpoint bytes, float32."""
    import torch

    from .sample import rnn_logits

    sd = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    W_hi, W_hh, W_oh = sd["rnn.weight_ih_l0"], sd["rnn.weight_hh_l0"], sd["linear.weight"]
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    total, done = 0.0, 0
    with torch.no_grad():
        while done < samples:
            b = min(1 << 18, samples - done)
            x = torch.randn(b, n, generator=gen, device=device)
            o = rnn_logits(x, W_hi, W_hh, W_oh)
            if task == "median":
                total += float(((o[:, 0].double() - torch_labels(task, x).double()) ** 2).sum())
            else:
                total += float((o.argmax(1) == torch_labels(task, x)).sum())
            done += b
    return total / samples


def command_line(task, d, n, seeds, sequences, batch, threads, out) -> str:
    """The exact `train` command that reproduces a run (recorded in the manifest)."""
    seq = f"2^{sequences.bit_length() - 1}" if sequences & (sequences - 1) == 0 else str(sequences)
    seed_s = ",".join(str(s) for s in seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1:
        seed_s = f"{seeds[0]}-{seeds[-1]}"
    return (f"python -m verifier train --task {task} --hidden {d} --seq-len {n} --seeds {seed_s} "
            f"--sequences {seq} --batch {batch} --threads {threads} --out {shlex.quote(out)}")


def run_training(task: str, d: int, n: int, seeds: list[int], sequences: int, batch: int, out: str,
                 threads: int = 1, device: str | None = None, progress: bool = True,
                 eval_samples: int = 1 << 24, runs_dir: str | None = None, log=print) -> dict:
    """Train every seed, keep the best, write `{task}_{d}_{n}.pth` and its manifest entry."""
    import torch

    from .zoo import published, update_index

    if task not in TASKS and task != CYCLE_TASK:
        raise InputError(f"unknown task {task!r}; choose one of {', '.join(TASKS + (CYCLE_TASK,))}")
    if task == CYCLE_TASK and not 2 <= n <= 8:
        raise InputError("longest_cycle needs 2 <= --seq-len <= 8 (n^n inputs)")
    if not 1 <= d <= 4096 or not 2 <= n <= 4096:
        raise InputError("need 1 <= --hidden <= 4096 and 2 <= --seq-len <= 4096")
    if task == "argmedian" and n % 2 == 0:
        raise InputError("argmedian needs an odd --seq-len")
    if batch < 1 or sequences < batch:
        raise InputError("--sequences must be at least --batch (and --batch at least 1)")
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    stem = f"{task}_{d}_{n}"
    results = []
    for s in seeds:
        r = train_seed(task, d, n, s, sequences, batch, dev, progress)
        results.append(r)
        if runs_dir:
            write_atomic(os.path.join(runs_dir, stem, f"seed{s}.pth"), r.state_bytes)
        what = "mse" if task == "median" else "accuracy"
        log(f"{stem} seed {s}: {what} {r.metric:.6f} (selection sample), loss {r.final_loss:.5f}, "
            f"{r.seconds:.1f}s")
    if task == "median":
        best = min(results, key=lambda r: (r.metric, r.seed))
    else:
        best = max(results, key=lambda r: (r.metric, -r.seed))
    path = os.path.join(out, stem + ".pth")
    write_atomic(path, best.state_bytes)
    if task == CYCLE_TASK:
        return _cycle_entry(path, best, results, d, n, seeds, sequences, batch, threads, out)
    # Manifest entry: accuracy on fresh samples (a different seed from selection).
    from ..loading.loader import load
    from .zoo import sampled_figures

    lm = load(path, task=task, seq_len=n if task == "median" else None)
    sampled = sampled_figures(lm, eval_samples, dev)
    entry = {"file": stem + ".pth", "task": task, "family": "scalar" if task == "median" else "position",
             "hidden_size": d, "seq_len": n, "parameters": lm.parameters, "sha256": lm.sha256,
             "origin": "trained", "seed": best.seed, "sequences": sequences,
             "command": command_line(task, d, n, seeds, sequences, batch, threads, out),
             "seed_results": [{"seed": r.seed, "selection_metric": r.metric, "sha256": r.sha256} for r in results],
             "published": published(task, d, n), "sampled": sampled}
    update_index(out, entry)
    return entry


def _cycle_entry(path, best, results, d, n, seeds, sequences, batch, threads, out) -> dict:
    """The manifest entry of a longest-cycle transformer: its float32 accuracy over all n^n inputs."""
    from ..loading.loader import load
    from .zoo import published, update_index

    lm = load(path)
    N = n ** n
    acc = best.metric  # every input evaluated: the interval is the point
    entry = {"file": os.path.basename(path), "task": CYCLE_TASK, "family": "transformer", "hidden_size": d,
             "seq_len": n, "parameters": lm.parameters, "sha256": lm.sha256, "origin": "trained",
             "seed": best.seed, "sequences": sequences,
             "command": command_line(CYCLE_TASK, d, n, seeds, sequences, batch, threads, out),
             "seed_results": [{"seed": r.seed, "selection_metric": r.metric, "sha256": r.sha256} for r in results],
             "published": published(CYCLE_TASK, d, n),
             "sampled": {"samples": N, "seed": 0, "dtype": "float32", "accuracy": acc,
                         "accuracy_ci95": [acc, acc]},
             "note": "accuracy over all n^n inputs (float32 torch), not sampled"}
    update_index(out, entry)
    return entry
