"""The empirical baseline: vectorised sampling of the error (or MSE) under standard Gaussian input.

Float32 as AlgZoo evaluates (float64 on request), seeded, in batches, GPU when present.
Everything here is an estimate and is labelled so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..errors import InputError
from ..loading.tasks import torch_labels

Z95 = 1.959963984540054


@dataclass(frozen=True)
class SampleResult:
    """A sampled estimate: error rate (position tasks) or MSE (median), with its uncertainty."""

    task: str
    samples: int
    dtype: str
    seed: int
    device: str
    seconds: float
    wrong: int | None = None  # position tasks
    error: float | None = None
    mse: float | None = None  # median
    stderr: float = 0.0
    ci95: tuple[float, float] = (0.0, 0.0)

    def to_json(self) -> dict:
        out = {"estimate": True, "task": self.task, "samples": self.samples, "dtype": self.dtype,
               "seed": self.seed, "device": self.device, "seconds": round(self.seconds, 3),
               "stderr": self.stderr, "ci95": list(self.ci95)}
        if self.mse is not None:
            out["mse"] = self.mse
            out["rmse"] = math.sqrt(self.mse)
        else:
            out["error"] = self.error
            out["wrong"] = self.wrong
            out["accuracy"] = 1.0 - self.error
        return out


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def _device(name: str | None):
    import torch

    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_tensors(W_hi, W_hh, W_oh, dtype, device):
    """Torch tensors of the float weights (numpy float64 arrays in, rounded to dtype)."""
    import torch

    return tuple(torch.as_tensor(m, dtype=torch.float64).to(dtype).to(device) for m in (W_hi, W_hh, W_oh))


def rnn_logits(x, W_hi, W_hh, W_oh):
    """Batched forward pass, as torch.nn.RNN(relu, no bias) + Linear: x (B, n) -> (B, out)."""
    import torch

    B, n = x.shape
    h = torch.zeros(B, W_hh.shape[0], dtype=x.dtype, device=x.device)
    for t in range(n):
        h = torch.relu(h @ W_hh.T + x[:, t:t + 1] @ W_hi.T)
    return h @ W_oh.T


def sample_error(arrays, seq_len: int, task: str, samples: int = 1 << 20, seed: int = 0,
                 dtype: str = "float32", batch: int = 1 << 18, device: str | None = None,
                 progress: bool = False) -> SampleResult:
    """Estimate the error rate (or MSE for median) of the model on `samples` Gaussian inputs."""
    import torch

    if samples < 1:
        raise InputError("--samples must be at least 1")
    tdt = {"float32": torch.float32, "float64": torch.float64}.get(dtype)
    if tdt is None:
        raise InputError(f"dtype must be float32 or float64, not {dtype}")
    dev = _device(device)
    W_hi, W_hh, W_oh = model_tensors(*arrays, tdt, dev)
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=samples, unit="x", unit_scale=True, desc="sampling", leave=False)
    t0 = time.perf_counter()
    done = 0
    wrong = 0
    sq_sum = 0.0
    sq_sq_sum = 0.0
    with torch.no_grad():
        while done < samples:
            b = min(batch, samples - done)
            x = torch.randn(b, seq_len, generator=gen, dtype=tdt, device=dev)
            out = rnn_logits(x, W_hi, W_hh, W_oh)
            if task == "median":
                err = (out[:, 0].double() - torch_labels(task, x.double())) ** 2
                sq_sum += float(err.sum())
                sq_sq_sum += float((err * err).sum())
            else:
                pred = torch.argmax(out, dim=1)
                wrong += int((pred != torch_labels(task, x)).sum())
            done += b
            if bar is not None:
                bar.update(b)
    if bar is not None:
        bar.close()
    secs = time.perf_counter() - t0
    if task == "median":
        mse = sq_sum / samples
        var = max(0.0, sq_sq_sum / samples - mse * mse)
        se = math.sqrt(var / samples)
        return SampleResult(task, samples, dtype, seed, str(dev), secs, mse=mse, stderr=se,
                            ci95=(max(0.0, mse - Z95 * se), mse + Z95 * se))
    p = wrong / samples
    return SampleResult(task, samples, dtype, seed, str(dev), secs, wrong=wrong, error=p,
                        stderr=math.sqrt(p * (1 - p) / samples), ci95=wilson(wrong, samples))


def task_errors(arrays, seq_len: int, samples: int = 1 << 14, seed: int = 20261128) -> dict:
    """Sampled (float64) error of a position model under every position task that has a distinct target
    for this seq_len: {task: error}.  Cheap (2^14 samples by default); an estimate, used to sense-check
    an assumed task."""
    import torch

    from ..loading.tasks import POSITION_TASKS, TARGET_RANK

    W_hi, W_hh, W_oh = model_tensors(*arrays, torch.float64, torch.device("cpu"))
    gen = torch.Generator()
    gen.manual_seed(seed)
    with torch.no_grad():
        x = torch.randn(samples, seq_len, generator=gen, dtype=torch.float64)
        pred = torch.argmax(rnn_logits(x, W_hi, W_hh, W_oh), dim=1)
        out, ranks = {}, set()
        for task in POSITION_TASKS:
            if task == "argmedian" and seq_len % 2 == 0:
                continue
            rank = TARGET_RANK[task](seq_len)
            if rank in ranks:
                continue  # same target as a task already listed (argmedian is 2nd_argmax at n = 3)
            ranks.add(rank)
            out[task] = float((pred != torch_labels(task, x)).double().mean())
    return out


def task_warning(task: str, seq_len: int, errors: dict, given: bool) -> str | None:
    """A one-line warning when the model errs more often than chance on its task, or another position task
    fits it much better (half the error and at least 5 points less); None otherwise."""
    from ..loading.tasks import TARGET_RANK

    rank = TARGET_RANK[task](seq_len)
    mine = next((e for t, e in errors.items() if TARGET_RANK[t](seq_len) == rank), None)
    if mine is None:
        return None
    best, best_err = min(errors.items(), key=lambda kv: kv[1])
    how = "given" if given else "assumed: AlgZoo checkpoints do not store their task"
    if TARGET_RANK[best](seq_len) != rank and best_err <= mine / 2 and mine - best_err >= 0.05:
        return (f"task {task} ({how}) looks wrong for this model: it errs on {100 * mine:.1f}% of inputs under "
                f"{task} but {100 * best_err:.1f}% under {best} (sampled); did you mean --task {best}?")
    if mine > 1 - 1 / seq_len:
        return (f"the model errs on {100 * mine:.1f}% of inputs under task {task} ({how}), worse than chance "
                f"({100 * (1 - 1 / seq_len):.1f}%); is --task right?")
    return None
