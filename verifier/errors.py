"""One exception family for everything user input can reach; each carries its CLI exit code."""

from __future__ import annotations

import time

# Documented exit codes (README "Exit codes").
EXIT_OK = 0
EXIT_REJECTED = 1  # a certificate was rejected / a checked property fails
EXIT_INPUT = 2  # usage error or unreadable / unsupported input
EXIT_LIMIT = 3  # a resource limit (--max-regions, --timeout) stopped the work cleanly
EXIT_INTERNAL = 4  # a bug: the generator's own claim failed the kernel, or an unexpected exception
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_TERMINATED = 143  # SIGTERM (a job scheduler, `timeout`): 128 + 15, handled like Ctrl-C


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the CLI's handler: the work stops as for Ctrl-C (worker pools are
    shut down, nothing partial is written) and the exit code is 143."""


class VerifierError(Exception):
    """Base class: a one-line message naming the culprit, and the exit code the CLI uses."""

    exit_code = EXIT_REJECTED


class InputError(VerifierError):
    """Bad or unreadable input (file, flags, shapes): exit 2."""

    exit_code = EXIT_INPUT


class UnsupportedError(InputError):
    """Input that is well formed but outside what this version can certify: exit 2."""


class LimitReached(VerifierError):
    """A user-set limit stopped the work; nothing partial was written: exit 3."""

    exit_code = EXIT_LIMIT


class InternalError(VerifierError):
    """A claim the generator was about to make failed its own exact re-check (a bug, never a verdict): exit 4."""

    exit_code = EXIT_INTERNAL


def past(deadline: float | None, what: str) -> None:
    """The generator's deadline helper: LimitReached once a --timeout deadline (time.monotonic()) has passed,
    naming the phase (`what`).  The kernel has its own, which raises TimeoutError (kernel/work.py)."""
    if deadline is not None and time.monotonic() > deadline:
        raise LimitReached(f"timeout (--timeout) during {what}; stopped, nothing written")
