"""Version 4, enumeration (the longest-cycle transformers): the input space is the n^n functions
f: {0..n-1} -> {0..n-1}, so the claim is a count.  The kernel recomputes, by its own forward pass in arb ball
arithmetic, torch's argmax at every input the certificate calls decided, and the longest-cycle target of
every input; the error bounds are then exact rationals.

Written independently of the generator (verifier/families/transformer.py): here the forward pass applies in_proj and
out_proj row by row as the module does (q, k, v per position, softmax, the weighted sum of values, the out
projection), memoising only what depends on one (token, position) pair in the first layer; and instead of
searching for the argmax it proves the claimed class: the target for an input not listed, the listed
prediction for a wrong one.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from fractions import Fraction

from .certificate import MAX_DIM, MAX_INDEX, Subject, capped
from .claim import Work, _checkpoint_bytes, checkpoint, checkpoint_hash, rule
from .read import canonical_json, checkpoint_tensors, lst, obj, qmat, rat, small_int, string
from .rules import Reject, Unreadable

PRECISIONS = (64, 128, 256, 512, 1024)  # bits; a claim still unproven at the last is rejected
MAX_SEQ_LEN = 8


# ---- reading ----------------------------------------------------------------------------------------

MAX_INPUTS = 8 ** 8  # wrong + undecided inputs listed (enumeration covers seq_len 2 to 8)
_TOP_V4 = ("format", "version", "generator", "claim", "checkpoint", "model", "task", "method", "inputs", "counts",
           "wrong", "undecided", "error", "accuracy")


@dataclass(frozen=True)
class CycleCertificate(Subject):
    """Version 4: a transformer's exact weights and the claimed outcome at each of the n^n inputs."""

    heads: int
    embed: tuple  # weights_text: embed, pos_embed, layers, unembed as written
    pos_embed: tuple
    layers: tuple  # ((in_proj, out_proj), ...)
    unembed: tuple
    inputs: int
    counts: tuple  # (right, wrong, undecided)
    wrong: tuple  # ((f as a tuple, prediction), ...)
    undecided: tuple  # (f, ...)
    error: tuple  # (lower, upper)
    accuracy: tuple  # (lower, upper)


def _function(v, where: str, n: int) -> tuple:
    """An input written as the string of its values f(0) f(1) ... f(n-1), one decimal digit each."""
    if not isinstance(v, str) or len(v) != n or any(ch not in "0123456789" for ch in v):
        raise Reject("schema", f"{where}: expected a string of {n} digits (the values f(0) .. f({n - 1}))")
    return tuple(int(ch) for ch in v)


def read(doc) -> CycleCertificate:
    """A version-4 certificate as named parts; Reject (json, rational, schema) on a malformed one."""
    obj(doc, "certificate", _TOP_V4)
    if len(capped(doc["wrong"], "wrong", MAX_INPUTS)) + len(capped(doc["undecided"], "undecided", MAX_INPUTS)) \
            > MAX_INPUTS:
        raise Unreadable(f"the certificate lists more than {MAX_INPUTS} wrong and undecided inputs (n^n for n = 8), "
                         "more than this kernel reads")
    mo = obj(doc["model"], "model", ("family", "hidden_size", "seq_len", "heads", "embed", "pos_embed", "layers",
                                     "unembed", "weights_sha256"))
    d = small_int(mo["hidden_size"], "model.hidden_size", 1, MAX_DIM)
    n = small_int(mo["seq_len"], "model.seq_len", 2, 10)
    layers = []
    for i, layer in enumerate(lst(mo["layers"], "model.layers")):
        layer = obj(layer, f"model.layers[{i}]", ("in_proj", "out_proj"))
        layers.append((qmat(layer["in_proj"], f"model.layers[{i}].in_proj", 3 * d, d),
                       qmat(layer["out_proj"], f"model.layers[{i}].out_proj", d, d)))
    ck = obj(doc["checkpoint"], "checkpoint", ("name", "sha256"))
    cnt = obj(doc["counts"], "counts", ("right", "wrong", "undecided"))
    wrong = []
    for k, e in enumerate(lst(doc["wrong"], "wrong")):
        e = lst(e, f"wrong[{k}]", 2)
        wrong.append((_function(e[0], f"wrong[{k}][0]", n), small_int(e[1], f"wrong[{k}][1]", 0, n - 1)))
    err = obj(doc["error"], "error", ("lower", "upper"))
    acc = obj(doc["accuracy"], "accuracy", ("lower", "upper"))
    return CycleCertificate(
        version=4, method=string(doc["method"], "method"), task=string(doc["task"], "task"),
        family=string(mo["family"], "model.family"), d=d, n=n, heads=small_int(mo["heads"], "model.heads", 1, MAX_DIM),
        weights_text={k: mo[k] for k in ("embed", "pos_embed", "layers", "unembed")},
        weights_sha256=string(mo["weights_sha256"], "model.weights_sha256"),
        embed=qmat(mo["embed"], "model.embed", n, d), pos_embed=qmat(mo["pos_embed"], "model.pos_embed", n, d),
        layers=tuple(layers), unembed=qmat(mo["unembed"], "model.unembed", n, d),
        checkpoint_name=string(ck["name"], "checkpoint.name"), checkpoint_sha256=string(ck["sha256"], "checkpoint.sha256"),
        inputs=small_int(doc["inputs"], "inputs", 1, MAX_INDEX),
        counts=tuple(small_int(cnt[k], f"counts.{k}", 0, MAX_INDEX) for k in ("right", "wrong", "undecided")),
        wrong=tuple(wrong),
        undecided=tuple(_function(e, f"undecided[{k}]", n) for k, e in enumerate(lst(doc["undecided"], "undecided"))),
        error=(rat(err["lower"], "error.lower"), rat(err["upper"], "error.upper")),
        accuracy=(rat(acc["lower"], "accuracy.lower"), rat(acc["upper"], "accuracy.upper")))



def cycle_target(f) -> int:
    """Longest cycle length of i -> f[i], minus 1: follow every start until a value repeats."""
    best = 0
    for start in range(len(f)):
        seen = {}
        y, step = start, 0
        while y not in seen:
            seen[y] = step
            y = f[y]
            step += 1
        best = max(best, step - seen[y])  # the walk closed a cycle of this length
    return best - 1


def _inputs(n):
    """Every function as a tuple, in lexicographic order (input number = the base-n reading)."""
    out = [()]
    for _ in range(n):
        out = [t + (v,) for t in out for v in range(n)]
    return out


@rule("method")
def method(c: CycleCertificate, w: Work):
    """Version 4 uses method 'enumeration' and covers seq_len 2 to 8 (n^n inputs, every one evaluated)."""
    if c.method != "enumeration":
        raise Reject("method", f"version 4 certificates use method 'enumeration', not {c.method!r}")
    if not 2 <= c.n <= MAX_SEQ_LEN:
        raise Reject("method", f"method enumeration covers seq_len 2 to {MAX_SEQ_LEN}, not {c.n}")


@rule("model")
def model(c: CycleCertificate, w: Work):
    """The model is an attention-only transformer of the longest-cycle family with one head per layer: token
    and position embeddings n x d, per layer in_proj 3d x d and out_proj d x d without bias, unembedding
    n x d read at the last position."""
    if c.family != "transformer":
        raise Reject("model", f"family {c.family!r} is not the transformer family of version 4")
    if c.heads != 1:
        raise Reject("model", f"{c.heads} heads: the kernel's forward pass has one head per layer")


@rule("task")
def task(c: CycleCertificate, w: Work):
    """The task is longest_cycle: the target of f is the length of its longest cycle minus 1."""
    if c.task != "longest_cycle":
        raise Reject("task", f"version 4 certifies the task longest_cycle, not {c.task!r}")


@rule("weights-digest")
def weights_digest(c: CycleCertificate, w: Work):
    """model.weights_sha256 is the SHA-256 of the canonical JSON of {embed, pos_embed, layers, unembed}."""
    digest = hashlib.sha256(canonical_json(c.weights_text).encode()).hexdigest()
    if digest != c.weights_sha256:
        raise Reject("weights-digest", "the weights do not match model.weights_sha256 (weights were altered)")


@rule("checkpoint-weights")
def checkpoint_weights(c: CycleCertificate, w: Work):
    """With a checkpoint given, its tensors (read without torch) are exactly the certificate's weights."""
    if w.checkpoint is None:
        return
    tensors = checkpoint_tensors(w.checkpoint, _checkpoint_bytes(w.checkpoint))
    if "embed" not in tensors:
        raise Reject("checkpoint-weights", f"{w.checkpoint} is not a transformer checkpoint")

    def same(a, b):
        return [tuple(r) for r in a] == [tuple(r) for r in b]

    ok = (same(tensors["embed"], c.embed) and same(tensors["pos_embed"], c.pos_embed)
          and same(tensors["unembed"], c.unembed) and len(tensors["layers"]) == len(c.layers)
          and all(same(a, b) and same(o, p) for (a, o), (b, p) in zip(tensors["layers"], c.layers)))
    if not ok:
        raise Reject("checkpoint-weights", f"the certificate's weights are not the exact values of "
                     f"{w.checkpoint}'s tensors")


@rule("inputs")
def inputs(c: CycleCertificate, w: Work):
    """inputs is n^n; the wrong and undecided inputs are functions {0..n-1} -> {0..n-1}, each list strictly
    increasing (lexicographic), the two disjoint; counts.wrong and counts.undecided are their lengths and
    counts.right = n^n - wrong - undecided."""
    n, N = c.n, c.n ** c.n
    if c.inputs != N:
        raise Reject("inputs", f"inputs is {c.inputs}, but there are {N} functions on {n} points")
    for name, listed in (("wrong", [f for f, _ in c.wrong]), ("undecided", list(c.undecided))):
        if any(v >= n for f in listed for v in f):
            raise Reject("inputs", f"a {name} input has a value outside 0..{n - 1}")
        if any(a >= b for a, b in zip(listed, listed[1:])):
            raise Reject("inputs", f"the {name} inputs are not strictly increasing")
    if set(f for f, _ in c.wrong) & set(c.undecided):
        raise Reject("inputs", "an input is listed both wrong and undecided")
    right, wrong, undecided = c.counts
    if wrong != len(c.wrong) or undecided != len(c.undecided) or right != N - wrong - undecided:
        raise Reject("inputs", "counts do not match the inputs listed")


@rule("wrong-inputs")
def wrong_inputs(c: CycleCertificate, w: Work):
    """Every listed wrong input's prediction differs from its target, the longest cycle length minus 1 (the
    kernel follows the function from every start)."""
    for f, p in c.wrong:
        if p >= c.n:
            raise Reject("wrong-inputs", f"input {''.join(map(str, f))}: prediction {p} is not a class 0..{c.n - 1}")
        if p == cycle_target(f):
            raise Reject("wrong-inputs", f"input {''.join(map(str, f))} is listed wrong, but its prediction {p} "
                         "is its target")


class _Pass:
    """The forward pass at one precision: arb balls of the weights and the first layer's tables."""

    def __init__(self, c: CycleCertificate, prec: int):
        from flint import arb, ctx, fmpq

        ctx.prec = prec
        d, n = c.d, c.n
        self.d, self.n = d, n

        def A(v: Fraction):
            return arb(fmpq(v.numerator, v.denominator))

        self.inv = 1 / arb(d).sqrt()
        self.layers = [([[A(v) for v in r] for r in ip], [[A(v) for v in r] for r in op]) for ip, op in c.layers]
        # l_k - l_j = (U_k - U_j) . z with the rows' difference taken exactly: identical rows give exactly 0
        self.diffs = [[[A(a - b) for a, b in zip(c.unembed[k], c.unembed[j])] for j in range(n)] for k in range(n)]
        self.x0 = {(t, i): [A(c.embed[t][a] + c.pos_embed[i][a]) for a in range(d)]
                   for t in range(n) for i in range(n)}
        self.zero = arb(0)
        if self.layers:
            ip, op = self.layers[0]
            self.qkv0 = {key: [self._row(ip[r], x) for r in range(3 * d)] for key, x in self.x0.items()}
            self.ov0 = {key: [self._row(op[a], qkv[2 * d:]) for a in range(d)] for key, qkv in self.qkv0.items()}
            self.e0 = {}

    def _row(self, r, x):
        s = self.zero
        for a, b in zip(r, x):
            s = s + a * b
        return s

    def _exp0(self, ki, kj):
        key = (ki, kj)
        e = self.e0.get(key)
        if e is None:
            d = self.d
            e = (self._row(self.qkv0[ki][:d], self.qkv0[kj][d:2 * d]) * self.inv).exp()
            self.e0[key] = e
        return e

    def final(self, f):
        """The residual stream at the last position after every layer, as d balls."""
        n, d = self.n, self.d
        keys = [(f[i], i) for i in range(n)]
        xs = [self.x0[k] for k in keys]
        L = len(self.layers)
        for layer, (ip, op) in enumerate(self.layers):
            rows = range(n) if layer < L - 1 else (n - 1,)
            new = {}
            if layer == 0:
                for i in rows:
                    es = [self._exp0(keys[i], keys[j]) for j in range(n)]
                    tot = sum(es[1:], es[0])
                    new[i] = [xs[i][a] + sum((es[j] * self.ov0[keys[j]][a] for j in range(1, n)),
                                             es[0] * self.ov0[keys[0]][a]) / tot for a in range(d)]
            else:
                kv = [[self._row(ip[r], x) for r in range(d, 3 * d)] for x in xs]
                for i in rows:
                    q = [self._row(ip[r], xs[i]) for r in range(d)]
                    es = [(self._row(q, kv[j][:d]) * self.inv).exp() for j in range(n)]
                    tot = sum(es[1:], es[0])
                    mix = [sum((es[j] * kv[j][d + a] for j in range(1, n)), es[0] * kv[0][d + a]) / tot
                           for a in range(d)]
                    new[i] = [xs[i][a] + self._row(op[a], mix) for a in range(d)]
            xs = [new.get(i) for i in range(n)]
        return xs[n - 1]

    def proves(self, f, k) -> bool:
        """torch's argmax of the logits U z is k, proven: l_k - l_j > 0 for j < k and > 0 or exactly 0 (a
        ball of radius 0 at 0) for j > k."""
        z = self.final(f)
        for j in range(self.n):
            if j == k:
                continue
            g = self._row(self.diffs[k][j], z)
            if g.is_zero():
                if j < k:
                    return False
            elif not g > 0:
                return False
        return True


@rule("forward")
def forward(c: CycleCertificate, w: Work):
    """At every input not listed undecided, the kernel's own forward pass in arb ball arithmetic (exact
    rational weights, 1/sqrt(d) and exp as balls, at 64 bits and more up to 1024) proves that torch's argmax
    (first index on ties; a tie only where the logits' difference is exactly zero) is the claimed class: the
    listed prediction of a wrong input, the target of any other."""
    from flint import ctx

    n = c.n
    wrong = dict(c.wrong)
    undecided = set(c.undecided)
    todo = [(f, wrong.get(f, None)) for f in _inputs(n) if f not in undecided]
    todo = [(f, cycle_target(f) if p is None else p) for f, p in todo]
    old = ctx.prec
    try:
        for prec in PRECISIONS:
            ev = _Pass(c, prec)
            left = []
            for idx, (f, k) in enumerate(todo):
                if w.deadline is not None and idx % 1024 == 0 and time.monotonic() > w.deadline:
                    raise TimeoutError("the kernel's forward passes")
                if not ev.proves(f, k):
                    left.append((f, k))
            todo = left
            if not todo:
                return
    finally:
        ctx.prec = old
    f, k = todo[0]
    raise Reject("forward", f"{len(todo)} input(s) not proven, e.g. {''.join(map(str, f))}: torch's argmax is not "
                 f"proven to be {k} (list it as undecided, or it is not the prediction)")


@rule("tally")
def tally(c: CycleCertificate, w: Work):
    """error.lower = wrong / n^n and error.upper = (wrong + undecided) / n^n, exactly (each undecided input
    may be right or wrong)."""
    N = c.n ** c.n
    if c.error != (Fraction(len(c.wrong), N), Fraction(len(c.wrong) + len(c.undecided), N)):
        raise Reject("tally", "error is not [wrong / n^n, (wrong + undecided) / n^n]")


@rule("accuracy")
def accuracy(c: CycleCertificate, w: Work):
    """accuracy.lower = 1 - error.upper and accuracy.upper = 1 - error.lower, exactly."""
    if c.accuracy != (1 - c.error[1], 1 - c.error[0]):
        raise Reject("accuracy", "accuracy is not exactly 1 - error")


def summary(c: CycleCertificate) -> dict:
    """A version-4 verdict's summary: the regions are the inputs."""
    q = lambda x: str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"  # noqa: E731
    return {"method": c.method, "task": c.task, "hidden_size": c.d, "seq_len": c.n, "regions": c.inputs,
            "inputs": c.inputs, "error_lower": q(c.error[0]), "error_upper": q(c.error[1]),
            "closed_form": f"{len(c.wrong)}/{c.inputs}" + (f" + up to {len(c.undecided)}/{c.inputs} undecided"
                                                            if c.undecided else ""),
            "wrong": len(c.wrong), "undecided": len(c.undecided)}


RULES_V4 = (method, model, task, weights_digest, checkpoint, checkpoint_hash, checkpoint_weights, inputs,
            wrong_inputs, forward, tally, accuracy)
