"""The rules every certificate runs: what the claim is about (method, model, task, weights, checkpoint) and
how its number is stated (enclosure, accuracy).  `Work` carries what earlier rules derived to later ones."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

from .certificate import Certificate
from .model import TASK_RANK, Forms, Model
from .read import MAX_CHECKPOINT_BYTES, canonical_json, checkpoint_tensors, read_regular
from .rules import RULES, Reject


def rule(name: str):
    """Mark a function as the check of rule `name`; its docstring is the rule's statement for its version."""
    if name not in RULES:
        raise KeyError(f"kernel bug: {name!r} is not in RULES")

    def mark(fn):
        fn.rule = name
        return fn

    return mark


@dataclass
class Work:
    """Facts derived by earlier rules for later ones (never read from the certificate unchecked)."""

    checkpoint: str | None = None
    deadline: float | None = None  # time.monotonic() after which measuring stops with TimeoutError
    workers: object = 1  # processes for the orthant integrals, or an ordered map (.map); the result does not depend on it
    m: Model | None = None
    forms: Forms | None = None
    roots: list = field(default_factory=list)  # (ranking, x0 sign, target) per root
    cons: list = field(default_factory=list)  # per cell: constraint vectors g (cell = {g.x > 0})
    shapes: list = field(default_factory=list)  # per cell: interior point, vertices or rays, facet points
    wedges: list = field(default_factory=list)  # n = 2: (u, v) per wrong wedge
    cones: list = field(default_factory=list)  # n >= 4: simplicial cones (n rays each) of the measured cells
    form: str | None = None  # the closed form the kernel rebuilt
    bounds: Callable | None = None  # prec -> exact rational (lower, upper) enclosing the error
    empty: bool = False  # nothing is measured and the error is exactly 0
    precision: tuple = (320, 1 << 13)  # start and largest precision for the enclosure
    span: tuple | None = None  # (lo, hi): the per-cell rules check only these cells (a worker's share)

    def each(self, cells):
        """(index, cell) for the cells the per-cell rules check here: all of them, or this worker's span."""
        lo, hi = self.span or (0, len(cells))
        return ((ci, cells[ci]) for ci in range(lo, hi))


def method_is(c, version: int, method: str) -> None:
    """The part of each version's `method` rule they share: version v certificates name method m."""
    if c.method != method:
        raise Reject("method", f"version {version} certificates use method {method!r}, not {c.method!r}")


@rule("model")
def model(c: Certificate, w: Work):
    """The model is a position-family RNN: W_hi is d x 1, W_hh d x d, W_oh n x d (one logit per position);
    for version 3 a scalar-family RNN with W_oh 1 x d (one output); the kernel builds its exact and
    integer-scaled forms."""
    if c.version == 3:
        if c.family != "scalar" or len(c.W_oh) != 1:
            raise Reject("model", "a version 3 (median) certificate is about a scalar-family model with one output")
        w.m = Model.of(c.W_hi, c.W_hh, c.W_oh, c.n)
        w.forms = Forms(w.m)
        return
    if c.family != "position":
        raise Reject("model", f"family {c.family!r} is not supported by this kernel")
    if len(c.W_oh) != c.n:
        raise Reject("model", f"W_oh has {len(c.W_oh)} rows; a position model has seq_len = {c.n}")
    w.m = Model.of(c.W_hi, c.W_hh, c.W_oh, c.n)
    w.forms = Forms(w.m)


@rule("task")
def task(c: Certificate, w: Work):
    """The task is argmax, 2nd_argmax or argmedian, and argmedian needs an odd seq_len (versions 1, 2); the
    task of version 3 is median."""
    if (c.version == 3) != (c.task == "median"):
        raise Reject("task", f"task {c.task!r} does not fit version {c.version} (median is version 3's only task)")
    if c.version == 3:
        return
    if c.task not in TASK_RANK:
        raise Reject("task", f"unknown task {c.task!r}")
    if c.task == "argmedian" and c.n % 2 == 0:
        raise Reject("task", "argmedian needs an odd seq_len")


@rule("weights-digest")
def weights_digest(c: Certificate, w: Work):
    """model.weights_sha256 is the SHA-256 of the canonical JSON of {W_hi, W_hh, W_oh} as written."""
    digest = hashlib.sha256(canonical_json(c.weights_text).encode()).hexdigest()
    if digest != c.weights_sha256:
        raise Reject("weights-digest", "the weights do not match model.weights_sha256 (weights were altered)")


@rule("checkpoint")
def checkpoint(c: Certificate, w: Work):
    """checkpoint.sha256 is 64 lower-case hex digits."""
    if re.fullmatch(r"[0-9a-f]{64}", c.checkpoint_sha256) is None:
        raise Reject("checkpoint", "checkpoint.sha256 is not a SHA-256 hex digest")


def _checkpoint_bytes(path: str) -> bytes:
    """The checkpoint's bytes: a regular file (a symbolic link to one is followed) of at most
    MAX_CHECKPOINT_BYTES, else Unreadable."""
    return read_regular(path, MAX_CHECKPOINT_BYTES, "checkpoint file")


@rule("checkpoint-hash")
def checkpoint_hash(c: Certificate, w: Work):
    """With a checkpoint given, its bytes hash to checkpoint.sha256."""
    if w.checkpoint is None:
        return
    if hashlib.sha256(_checkpoint_bytes(w.checkpoint)).hexdigest() != c.checkpoint_sha256:
        raise Reject("checkpoint-hash", f"{w.checkpoint} does not hash to the certificate's checkpoint.sha256")


@rule("checkpoint-weights")
def checkpoint_weights(c: Certificate, w: Work):
    """With a checkpoint given, its tensors (read without torch) are exactly the certificate's weights."""
    if w.checkpoint is None:
        return
    tensors = checkpoint_tensors(w.checkpoint, _checkpoint_bytes(w.checkpoint))
    for name, mine in (("W_hi", c.W_hi), ("W_hh", c.W_hh), ("W_oh", c.W_oh)):
        if [tuple(r) for r in tensors[name]] != list(mine):
            raise Reject("checkpoint-weights", f"{name} in the certificate is not the exact value of "
                         f"{w.checkpoint}'s")


@rule("schema")
def counts(c: Certificate, w: Work):
    """regions is the number of sectors (version 1) or of distinct patterns among the cells (version 2), and
    cell_count the number of cells."""
    if c.version == 1:
        if c.regions != len(c.sectors):
            raise Reject("schema", "regions is not the number of sectors")
    elif c.cell_count != len(c.cells) or c.regions != len({cell.pattern for cell in c.cells}):
        raise Reject("schema", "cell_count / regions do not match the cells listed")


def subject(method) -> tuple:
    """The rules every RNN certificate runs first: its version's own `method` rule, then what the claim is about
    (the model, the task, the weights and their binding to the checkpoint)."""
    return (method, model, task, weights_digest, checkpoint, checkpoint_hash, checkpoint_weights)


@rule("enclosure")
def enclosure(c: Certificate, w: Work):
    """The certificate calls its enclosure rigorous, and [lower, upper] contains the kernel's own enclosure of
    the measure it rebuilt (arb balls, recomputed at rising precision), or contains 0 when nothing is wrong."""
    lo, hi = c.error.lower, c.error.upper
    if c.error.rigorous is not True:
        raise Reject("enclosure", "this certificate's enclosure must be rigorous")
    if lo > hi:
        raise Reject("enclosure", "error.lower > error.upper")
    if w.empty:
        if lo > 0 or hi < 0:
            raise Reject("enclosure", "the error is exactly 0 but the enclosure excludes 0")
        return
    prec, top = w.precision
    while True:
        blo, bhi = w.bounds(prec)
        if lo <= blo and bhi <= hi:
            return
        if bhi < lo or blo > hi:
            raise Reject("enclosure", "the enclosure does not contain the value recomputed from the regions")
        if prec >= top:
            raise Reject("enclosure", "the enclosure is narrower than the kernel can confirm")
        prec *= 2


@rule("accuracy")
def accuracy(c: Certificate, w: Work):
    """accuracy.lower = 1 - error.upper and accuracy.upper = 1 - error.lower, exactly."""
    if c.accuracy != (1 - c.error.upper, 1 - c.error.lower):
        raise Reject("accuracy", "accuracy is not exactly 1 - error")


CLOSING = (enclosure, accuracy)
