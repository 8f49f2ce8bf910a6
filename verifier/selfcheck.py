"""The kernel re-checks every new certificate before anything is written (certify and the longest-cycle
path share this; a module of its own so that neither imports the other)."""

from __future__ import annotations

import time

from .errors import InternalError, LimitReached


def kernel_self_check(doc: dict, deadline, timeout, timings: dict, workers: int = 1) -> None:
    """The kernel re-checks a new certificate before anything is written: LimitReached past the deadline,
    InternalError (a bug of ours, never the user's) when it rejects."""
    from .kernel import check as kernel_check

    t0 = time.perf_counter()
    try:
        verdict = kernel_check(doc, deadline=deadline, workers=workers)
    except TimeoutError:
        raise LimitReached(f"timeout after {timeout:g}s (--timeout) while the kernel re-checked the new "
                           "certificate; stopped, nothing written") from None
    timings["check"] = time.perf_counter() - t0
    if not verdict.accepted:
        raise InternalError(f"the kernel rejected the new certificate: [{verdict.rule}] {verdict.message}")
