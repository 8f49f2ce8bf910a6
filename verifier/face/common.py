"""What the commands share: one JSON object on stdout, one-line messages, the worker argument (--ray or
--workers), the task sense-check."""

from __future__ import annotations

import json
import sys

from ..kinds.base import fmt, shorten  # noqa: F401  (fmt: the commands' number format)


def emit_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=True, indent=1) + "\n")


def workers_of(a):
    """--ray ADDRESS (an ordered map over a Ray cluster, interop/scale.py) or --workers N (local processes)."""
    if getattr(a, "ray", None):
        if not hasattr(a, "_ray_mapper"):
            from ..interop.scale import RayMapper

            a._ray_mapper = RayMapper(a.ray)
        return a._ray_mapper
    return a.workers


def task_warnings(lm) -> list[str]:
    """The task sense-check: a warning when another position task fits the model much better, or the
    model is worse than chance on its task (sampled, 2^14 float64 inputs)."""
    if lm.rnn is None or lm.family != "position":
        return []
    from ..empirical.sample import task_errors, task_warning

    w = task_warning(lm.task, lm.seq_len, task_errors(lm.float_arrays(), lm.seq_len), lm.task_given)
    return [w] if w else []


def one_line(text: str, limit: int = 600) -> str:
    """A message as one printable line: control characters (a newline in a hostile file's key, an escape
    sequence) are written escaped, and a very long message is cut."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit] + " ..."


def cut(text: str, limit: int) -> str:
    return shorten(text.splitlines()[0] if text else "", limit)
