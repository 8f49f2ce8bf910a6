"""Work spread over processes, for the kernel and the generator alike: one ordered map, and deadlines.

An ordered map is anything with `.map(fn, items, chunksize=1)` that yields fn(item) in the items' order: the
caller's own (a Ray cluster, `verifier.interop.scale.RayMapper`: the kernel never imports Ray), a `LocalPool` of
spawn processes, or `IN_PROCESS`.  `mapper(workers, stack)` turns a worker count (or a mapper) into one, so every
place that spreads work reads the same: results come back in order, which is why a certificate or a verdict is
the same for any number of workers.
"""

from __future__ import annotations

import contextlib
import time


def quiet_worker() -> None:
    """A worker process's initializer: Ctrl-C is the parent's to handle (it shuts the pool down)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def check_deadline(deadline) -> None:
    """TimeoutError once `deadline` (time.monotonic()) has passed: the caller asked for a time limit, which is no
    verdict on a certificate."""
    if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError("the time limit passed while the kernel was measuring")


class _InProcess:
    """The ordered map of one process: the builtin map."""

    @staticmethod
    def map(fn, items, chunksize: int = 1):
        return map(fn, items)

    def __repr__(self) -> str:
        return "IN_PROCESS"


IN_PROCESS = _InProcess()


class LocalPool:
    """`workers` spawn processes as an ordered map (lazy: results are yielded as they come back, in order).  A
    context manager: leaving it terminates the processes, also on an exception or Ctrl-C."""

    def __init__(self, workers: int):
        import multiprocessing

        self.workers = workers
        self._pool = multiprocessing.get_context("spawn").Pool(workers, initializer=quiet_worker)

    def map(self, fn, items, chunksize: int = 1):
        return self._pool.imap(fn, items, chunksize=max(1, chunksize))

    def map_unordered(self, fn, items):
        """fn over items, each result as soon as it is ready (for work whose results say where they belong)."""
        return self._pool.imap_unordered(fn, items)

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, *exc) -> None:
        self._pool.__exit__(*exc)

    def __repr__(self) -> str:
        return f"LocalPool({self.workers})"


def mapper(workers, stack: contextlib.ExitStack):
    """The ordered map for `workers`: the caller's own when it has .map (a Ray mapper, a LocalPool), a LocalPool
    entered into `stack` for a count above 1 (shut down when the stack closes), else IN_PROCESS."""
    if hasattr(workers, "map"):
        return workers
    if workers > 1:
        return stack.enter_context(LocalPool(workers))
    return IN_PROCESS


def local_count(workers) -> int:
    """How many processes a worker argument stands for, to size shares of work (a cluster counts as 8)."""
    if isinstance(workers, LocalPool):
        return workers.workers
    return workers if isinstance(workers, int) else 8
