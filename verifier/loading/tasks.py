"""Tasks and their targets, with the tie convention written down.

Ties between inputs have probability zero under Gaussian input; the convention only matters for
reproducibility.  We rank positions by value, largest first, breaking ties by the lower index
(a stable descending sort).  Then:
  argmax      = the position ranked 0 (the first maximal index, as torch.argmax)
  2nd_argmax  = the position ranked 1
  argmedian   = the position ranked (n-1)/2 (n odd)
  median      = the middle value (n odd) or the mean of the two middle values (n even)
Predictions of position models are torch's argmax of the logits: the first maximal index.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from ..errors import InputError

POSITION_TASKS = ("2nd_argmax", "argmax", "argmedian")
SCALAR_TASKS = ("median",)
TASKS = POSITION_TASKS + SCALAR_TASKS
# the rank (0 = largest) whose position is the target, for seq_len n
TARGET_RANK = {"argmax": lambda n: 0, "2nd_argmax": lambda n: 1, "argmedian": lambda n: (n - 1) // 2}


def check_task(task: str, family: str, n: int | None) -> None:
    """Raise InputError unless the task fits the model family and sequence length."""
    if task == "longest_cycle" and family != "transformer":
        raise InputError(f"task longest_cycle is the transformers' (the longest-cycle family); this is a {family} RNN "
                         f"(tasks: {', '.join(SCALAR_TASKS if family == 'scalar' else POSITION_TASKS)})")
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if family == "scalar" and task not in SCALAR_TASKS:
        raise InputError(f"task {task} needs one logit per position, but the model has a single output")
    if family == "position" and task in SCALAR_TASKS:
        raise InputError(f"task {task} needs a single output, but the model has {n} outputs")
    if task == "argmedian" and n is not None and n % 2 == 0:
        raise InputError(f"argmedian needs an odd seq_len, got {n}")


def ranking(x: Sequence) -> list[int]:
    """Positions sorted by value, largest first, ties broken by the lower index."""
    return sorted(range(len(x)), key=lambda i: (-x[i], i))


def label(task: str, x: Sequence[Fraction]):
    """The exact target of task at input x (a position, or a rational for median)."""
    r = ranking(x)
    n = len(x)
    if task == "median":
        if n % 2:
            return Fraction(x[r[n // 2]])
        return (Fraction(x[r[n // 2 - 1]]) + Fraction(x[r[n // 2]])) / 2
    return label_of_ranking(task, r)


def label_of_ranking(task: str, r: Sequence[int], n: int | None = None) -> int:
    """The position target of a task for an ordering chamber given by its ranking (largest first) of n positions
    (a prefix of the ranking will do when the task's rank falls inside it)."""
    if task in TARGET_RANK:
        return r[TARGET_RANK[task](len(r) if n is None else n)]
    raise InputError(f"unknown task {task!r}" if task not in TASKS else f"task {task!r} has no position target")


def torch_labels(task: str, x):
    """Vectorised targets for a (batch, n) torch tensor (same convention as `label`)."""
    import torch

    n = x.shape[1]
    if task == "argmax":
        return torch.argmax(x, dim=1)
    order = torch.sort(x, dim=1, descending=True, stable=True).indices
    if task == "2nd_argmax":
        return order[:, 1]
    if task == "argmedian":
        return order[:, (n - 1) // 2]
    if task == "median":
        vals = torch.sort(x, dim=1, descending=True, stable=True).values
        if n % 2:
            return vals[:, n // 2]
        return (vals[:, n // 2 - 1] + vals[:, n // 2]) / 2
    raise InputError(f"unknown task {task!r}")
