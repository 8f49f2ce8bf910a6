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


MEMO_LIMIT = 1 << 20  # entries a memo of memoized_map may hold before it is emptied


def memoized_map(memo: dict, keys: list, task, workers, stack: contextlib.ExitStack):
    """task(key) of each key, in the keys' order, yielded one by one: the keys not yet in `memo` (each once) are
    computed on the caller's ordered map, on a local process pool entered into `stack`, or here, and kept in
    `memo` (one per caller and process; emptied past MEMO_LIMIT).  `task` must be a picklable, pure function of
    its key, so a value computed once in a process (by the generator, say, before its built-in self-check) need
    not be computed again; `check` in a fresh process computes every one."""
    if len(memo) + len(keys) > MEMO_LIMIT:
        memo.clear()
    missing = [k for k in dict.fromkeys(keys) if k not in memo]
    if not missing:
        results = iter(())
    elif hasattr(workers, "map") or len(missing) > 1:
        chunk = min(16, len(missing) // (4 * local_count(workers))) if isinstance(workers, int) else 1
        results = iter(mapper(workers, stack).map(task, missing, chunksize=chunk))
    else:
        results = (task(k) for k in missing)
    fresh = zip(missing, results)
    for k in keys:
        while k not in memo:
            done, value = next(fresh)
            memo[done] = value
        yield memo[k]
