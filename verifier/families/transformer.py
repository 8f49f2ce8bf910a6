"""The longest-cycle transformers (AlgZoo's fourth family): the task, the exact model, and its exact accuracy.

Input: a function f: {0..n-1} -> {0..n-1} as the tokens (f(0), ..., f(n-1)); all n^n inputs are equally
likely.  Target: the length of the longest cycle of f, minus 1 (a class in 0..n-1).

Model (AlgZoo; one head per layer, no bias, no MLP, no LayerNorm, no attention mask):

    x_i   = E[f(i)] + P[i]                                   (token + position embedding, i = 0..n-1)
    x_i  += Wo sum_j softmax_j(q_i . k_j / sqrt(d)) v_j      (each layer; q = Wq x, k = Wk x, v = Wv x,
                                                              [Wq; Wk; Wv] = in_proj_weight, Wo = out_proj)
    logits = U x_{n-1}                                       (the unembedding at the last position)

The prediction is torch's argmax (first index on ties).  The attention is full (bidirectional): the
zoo's description names no mask, and `torch.nn.MultiheadAttention` applies none unless given one.  The
head count is an assumption: the weights of a multi-head attention have the same shapes as one head's;
the zoo uses one head, and so do we (softmax scale 1/sqrt(d)).

Exact accuracy: every input is evaluated with the exact rational weights in arb ball arithmetic (the
scale 1/sqrt(d) and exp are irrational), at rising precision until the predicted class is proven; a
true tie is decided only when the ball of the two logits' difference is exactly zero (midpoint and radius
0, e.g. identical unembedding rows);
an input still open at the largest precision is *undecided* and widens the interval, never guessed.
Nothing here is trusted: the kernel (verifier/kernel/cycle.py) re-derives every prediction itself.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

from ..errors import InputError

TASK = "longest_cycle"
PRECISIONS = (64, 128, 256, 512, 1024)  # bits; an input still open at the last is undecided


# ------------------------------------------------------------------------------------------------
# The task


def longest_cycle(f) -> int:
    """Length of the longest cycle of the function i -> f[i] on {0..n-1}."""
    n = len(f)
    best = 0
    for s in range(n):
        y = s
        for _ in range(n):  # after n steps y is on a cycle
            y = f[y]
        length, z = 1, f[y]
        while z != y:
            z = f[z]
            length += 1
        best = max(best, length)
    return best


def target(f) -> int:
    """The class the model should predict: longest cycle length - 1."""
    return longest_cycle(f) - 1


def inputs(n: int):
    """All n^n functions in lexicographic order of (f(0), ..., f(n-1)); input number = that order."""
    return itertools.product(range(n), repeat=n)


def input_index(f, n: int) -> int:
    k = 0
    for v in f:
        k = k * n + v
    return k


def torch_targets(tokens):
    """Vectorised targets of a (batch, n) long tensor of functions."""
    import torch

    b, n = tokens.shape
    y = torch.arange(n).expand(b, n).clone()
    for _ in range(n):  # every start moves onto its cycle
        y = torch.gather(tokens, 1, y)
    length = torch.zeros_like(y)
    z = torch.gather(tokens, 1, y)
    for k in range(1, n + 1):  # the first return to y is the cycle length
        hit = (z == y) & (length == 0)
        length[hit] = k
        z = torch.gather(tokens, 1, z)
    return length.max(dim=1).values - 1


def torch_module(d: int, n: int, layers: int = 2):
    """The AlgZoo module (keys embed.weight, pos_embed.weight, attns.{i}.in_proj_weight,
    attns.{i}.out_proj.weight, unembed.weight)."""
    import torch

    class AlgZooTransformer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(n, d)
            self.pos_embed = torch.nn.Embedding(n, d)
            self.attns = torch.nn.ModuleList(
                [torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True) for _ in range(layers)])
            self.unembed = torch.nn.Linear(d, n, bias=False)

        def forward(self, tokens):
            x = self.embed(tokens) + self.pos_embed.weight[: tokens.shape[1]]
            for attn in self.attns:
                x = x + attn(x, x, x, need_weights=False)[0]
            return self.unembed(x[:, -1])

    return AlgZooTransformer()


# ------------------------------------------------------------------------------------------------
# The exact model


Matrix = tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class Transformer:
    """Exact weights: embed (n x d), pos_embed (n x d), per layer (in_proj 3d x d, out_proj d x d),
    unembed (n x d)."""

    embed: Matrix
    pos_embed: Matrix
    layers: tuple  # ((in_proj, out_proj), ...)
    unembed: Matrix

    @property
    def d(self) -> int:
        return len(self.embed[0])

    @property
    def n(self) -> int:
        return len(self.embed)

    @property
    def parameters(self) -> int:
        d, n = self.d, self.n
        return 3 * n * d + len(self.layers) * 4 * d * d

    def weights_doc(self) -> dict:
        from ..loading.rational import q_matrix

        return {"embed": q_matrix(self.embed), "pos_embed": q_matrix(self.pos_embed),
                "layers": [{"in_proj": q_matrix(a), "out_proj": q_matrix(o)} for a, o in self.layers],
                "unembed": q_matrix(self.unembed)}

    def float_arrays(self):
        import numpy as np

        def f(m):
            return np.array([[float(v) for v in r] for r in m], dtype=np.float64)

        return f(self.embed), f(self.pos_embed), [(f(a), f(o)) for a, o in self.layers], f(self.unembed)


def _mat(rows) -> Matrix:
    return tuple(tuple(Fraction(v) for v in r) for r in rows)


def _mul(A, B):
    """A B over the rationals."""
    cols = list(zip(*B))
    return tuple(tuple(sum((a * b for a, b in zip(r, c) if a and b), Fraction(0)) for c in cols) for r in A)


def _t(A):
    return tuple(zip(*A))


class _Plan:
    """The exact rational pieces of the forward pass, and their arb images at one precision.

    Layer l (0-based) has B_l = Wq^T Wk (scores are x_i^T B_l x_j / sqrt(d)) and M_l = Wo Wv (the value
    written back).  The first layer's inputs are x0(t, i) = E[t] + P[i], so its scores and written values
    are tables over (token, position).  Only the last position matters after the last layer:
    logits = U x_{n-1} + sum_j p_j (U M_L) x_j; the difference of two logits uses the exact difference of
    the rows, so identical rows give an exactly zero difference (a proven tie)."""

    def __init__(self, m: Transformer):
        d, n = m.d, m.n
        self.m, self.d, self.n = m, d, n
        self.x0 = [[tuple(m.embed[t][c] + m.pos_embed[i][c] for c in range(d)) for i in range(n)] for t in range(n)]
        self.B, self.M = [], []
        for in_proj, out_proj in m.layers:
            Wq, Wk, Wv = in_proj[:d], in_proj[d:2 * d], in_proj[2 * d:]
            self.B.append(_mul(_t(Wq), Wk))
            self.M.append(_mul(out_proj, Wv))
        self.UM = _mul(m.unembed, self.M[-1]) if m.layers else None

    def at(self, prec: int):
        from flint import ctx

        ctx.prec = prec
        return _Balls(self, prec)


def _arb(q: Fraction):
    from flint import arb, fmpq

    return arb(fmpq(q.numerator, q.denominator))


class _Balls:
    """The plan's tables as arb balls at one precision (ctx.prec set by the caller)."""

    def __init__(self, p: _Plan, prec: int):
        from flint import arb

        d, n = p.d, p.n
        self.prec = prec
        self.scale = 1 / arb(d).sqrt()
        self.B = [[[_arb(v) for v in r] for r in B] for B in p.B]
        self.M = [[[_arb(v) for v in r] for r in M] for M in p.M]
        self.x0 = [[[_arb(v) for v in p.x0[t][i]] for i in range(n)] for t in range(n)]
        L = len(p.B)
        if L:
            # first layer tables: exp(score) over ((t, i), (s, j)) and M_0 x0(s, j)
            Bx = [[[sum((B0v * xv for B0v, xv in zip(row, self.x0[s][j])), arb(0)) for row in self.B[0]]
                   for j in range(n)] for s in range(n)]  # B_0 x0(s, j)
            self.E0 = [[[[(sum((a * b for a, b in zip(self.x0[t][i], Bx[s][j])), arb(0)) * self.scale).exp()
                          for j in range(n)] for s in range(n)] for i in range(n)] for t in range(n)]
            self.V0 = [[[sum((mv * xv for mv, xv in zip(row, self.x0[s][j])), arb(0)) for row in self.M[0]]
                        for j in range(n)] for s in range(n)]
        U, UM = p.m.unembed, p.UM
        self.dU = {}  # (a, b) -> (U_a - U_b, UM_a - UM_b), differences taken exactly, as balls
        for a in range(n):
            for b in range(n):
                if a != b:
                    du = [U[a][c] - U[b][c] for c in range(d)]
                    dm = [UM[a][c] - UM[b][c] for c in range(d)] if UM is not None else [Fraction(0)] * d
                    self.dU[a, b] = ([_arb(v) for v in du], [_arb(v) for v in dm])
        self.U = [[_arb(v) for v in r] for r in U]
        self.UM = [[_arb(v) for v in r] for r in UM] if UM is not None else None


def _dot(a, b):
    s = a[0] * b[0]
    for i in range(1, len(a)):
        s += a[i] * b[i]
    return s


def _final(bl: _Balls, f, n: int, d: int, L: int):
    """(x_{n-1} after the layers before the last, g = sum_j p_j x_j of the last layer) as ball vectors; for
    L = 0, (x0_{n-1}, None)."""
    if L == 0:
        return bl.x0[f[n - 1]][n - 1], None
    if L == 1:
        xs = [bl.x0[f[j]][j] for j in range(n)]
    else:
        xs = []
        for i in range(n):
            e = bl.E0[f[i]][i]
            w = [e[f[j]][j] for j in range(n)]
            tot = w[0]
            for j in range(1, n):
                tot += w[j]
            acc = [bl.x0[f[i]][i][c] * tot for c in range(d)]
            for j in range(n):
                v, wj = bl.V0[f[j]][j], w[j]
                for c in range(d):
                    acc[c] += wj * v[c]
            xs.append([a / tot for a in acc])
        for layer in range(1, L - 1):  # middle layers: all positions
            B, M = bl.B[layer], bl.M[layer]
            Bx = [[_dot(row, x) for row in B] for x in xs]
            Mx = [[_dot(row, x) for row in M] for x in xs]
            new = []
            for i in range(n):
                w = [(_dot(xs[i], Bx[j]) * bl.scale).exp() for j in range(n)]
                tot = w[0]
                for j in range(1, n):
                    tot += w[j]
                new.append([xs[i][c] + sum((w[j] * Mx[j][c] for j in range(1, n)), w[0] * Mx[0][c]) / tot
                            for c in range(d)])
            xs = new
    B = bl.B[L - 1]
    last = xs[n - 1]
    y = [_dot([B[r][c] for r in range(d)], last) for c in range(d)]  # B^T x_last
    w = [(_dot(y, xs[j]) * bl.scale).exp() for j in range(n)]
    tot = w[0]
    for j in range(1, n):
        tot += w[j]
    g = [sum((w[j] * xs[j][c] for j in range(1, n)), w[0] * xs[0][c]) / tot for c in range(d)]
    return last, g


def _decide(bl: _Balls, last, g, n: int):
    """torch's argmax at this precision, proven, or None.  l_a - l_b is computed from the exact difference of
    the rows of U (and U M_L), so identical rows give an exactly zero ball; a ball that is exactly zero
    (midpoint 0, radius 0) proves a true tie, any other ball must exclude 0."""

    def diff(a, b):
        du, dm = bl.dU[a, b]
        s = _dot(du, last)
        if g is not None:
            s += _dot(dm, g)
        return s

    logits = [_dot(bl.U[a], last) + (_dot(bl.UM[a], g) if g is not None else 0) for a in range(n)]
    mids = [float(v.mid()) for v in logits]
    k = max(range(n), key=lambda a: (mids[a], -a))
    for j in range(k):  # an earlier index exactly tied with k is the argmax
        if diff(k, j).is_zero():
            k = j
            break
    for j in range(n):
        if j == k:
            continue
        dj = diff(k, j)
        if dj.is_zero():  # a proven tie: torch picks the lower index
            if j < k:
                return None
            continue
        if not dj > 0:
            return None
    return k


@dataclass
class Evaluation:
    """Every input's proven prediction (or None: undecided), with the precision each needed."""

    n: int
    predictions: list  # per input index: class or None
    precision_counts: dict  # bits -> inputs decided at that precision


def evaluate(m: Transformer, precisions=PRECISIONS, deadline: float | None = None) -> Evaluation:
    """Prove torch's argmax of the exact model at every one of the n^n inputs."""
    from flint import ctx

    old = ctx.prec
    try:
        return _evaluate(m, precisions, deadline)
    finally:
        ctx.prec = old


def _evaluate(m: Transformer, precisions, deadline) -> Evaluation:
    import time

    plan = _Plan(m)
    n, d, L = m.n, m.d, len(m.layers)
    preds: list = [None] * (n ** n)
    todo = list(range(n ** n))
    counts = {}
    for prec in precisions:
        if not todo:
            break
        bl = plan.at(prec)
        left = []
        for idx in todo:
            if deadline is not None and (idx & 1023) == 0 and time.monotonic() > deadline:
                raise TimeoutError("exact evaluation of the inputs")
            f = unindex(idx, n)
            last, g = _final(bl, f, n, d, L)
            k = _decide(bl, last, g, n)
            if k is None:
                left.append(idx)
            else:
                preds[idx] = k
        counts[prec] = len(todo) - len(left)
        todo = left
    return Evaluation(n, preds, counts)


def unindex(idx: int, n: int) -> tuple:
    out = [0] * n
    for i in range(n - 1, -1, -1):
        idx, out[i] = divmod(idx, n)
    return tuple(out)


def all_tokens(n: int):
    """The (n^n, n) long tensor of every input, in input order."""
    import torch

    return torch.tensor(list(inputs(n)), dtype=torch.long)


def torch_predictions(state_dict, n: int, d: int, layers: int, dtype=None) -> list:
    """The torch model's argmax at every input (float32 unless dtype is given), in input order."""
    import torch

    mod = torch_module(d, n, layers)
    mod.load_state_dict(state_dict)
    if dtype is not None:
        mod = mod.to(dtype)
    mod.eval()
    with torch.no_grad():
        out = mod(all_tokens(n)).argmax(dim=1)
    return [int(v) for v in out]


def numpy_logits(m: Transformer):
    """float64 logits of every input (an independent numpy forward pass, for validation only)."""
    import numpy as np

    E, P, layers, U = m.float_arrays()
    n, d = m.n, m.d
    toks = np.array(list(inputs(n)), dtype=np.int64)
    x = E[toks] + P[None, :, :]
    for in_proj, out_proj in layers:
        q, k, v = (x @ in_proj[a * d:(a + 1) * d].T for a in range(3))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = s - s.max(axis=2, keepdims=True)
        p = np.exp(s)
        p = p / p.sum(axis=2, keepdims=True)
        x = x + (p @ v) @ out_proj.T
    return x[:, -1] @ U.T


def check_sizes(n: int, d: int):
    if n ** n > 10 ** 7:
        raise InputError(f"seq_len {n}: {n ** n} inputs is too many to enumerate (the limit is 10^7)")


# ------------------------------------------------------------------------------------------------
# The certificate (version 4) and the pipeline

CLAIM = ("For the attention-only transformer with the exact rational weights below (the exact values of the "
         "checkpoint's floats; one head per layer, softmax scale 1/sqrt(d), no mask) and f uniform over the n^n "
         "functions {0..n-1} -> {0..n-1} given as the tokens f(0) .. f(n-1), the probability that "
         "argmax(logits) (first index on ties, as torch) differs from the longest cycle length of f minus 1 "
         "lies in [error.lower, error.upper]: the wrong inputs are exactly those listed (with torch's "
         "prediction), every other input not listed undecided is classified right.")
VERSION = 4


def fn_text(f) -> str:
    return "".join(str(v) for v in f)


def model_block(m: Transformer) -> dict:
    import hashlib

    from ..loading.rational import dumps_canonical

    w = m.weights_doc()
    return {"family": "transformer", "hidden_size": m.d, "seq_len": m.n, "heads": 1, **w,
            "weights_sha256": hashlib.sha256(dumps_canonical(w).encode()).hexdigest()}


def state_dict(m: Transformer, dtype: str = "float32") -> dict:
    """torch tensors of the exact weights (exact when they came from floats of this dtype)."""
    import torch

    tdt = {"float32": torch.float32, "float64": torch.float64}[dtype]

    def t(rows):
        return torch.tensor([[float(v) for v in r] for r in rows], dtype=torch.float64).to(tdt)

    sd = {"embed.weight": t(m.embed), "pos_embed.weight": t(m.pos_embed), "unembed.weight": t(m.unembed)}
    for i, (a, o) in enumerate(m.layers):
        sd[f"attns.{i}.in_proj_weight"] = t(a)
        sd[f"attns.{i}.out_proj.weight"] = t(o)
    return sd


def certificate(lm, ev: Evaluation) -> dict:
    from .._version import __version__
    from ..loading.rational import q

    m = lm.transformer
    n, N = m.n, m.n ** m.n
    wrong, undecided = [], []
    for idx, f in enumerate(inputs(n)):
        p = ev.predictions[idx]
        if p is None:
            undecided.append(fn_text(f))
        elif p != target(f):
            wrong.append([fn_text(f), p])
    lo, hi = Fraction(len(wrong), N), Fraction(len(wrong) + len(undecided), N)
    import os

    return {"format": "verifier-certificate", "version": VERSION, "generator": f"verifier {__version__}",
            "claim": CLAIM, "checkpoint": {"name": os.path.basename(lm.path), "sha256": lm.sha256},
            "model": model_block(m), "task": TASK, "method": "enumeration", "inputs": N,
            "counts": {"right": N - len(wrong) - len(undecided), "wrong": len(wrong), "undecided": len(undecided)},
            "wrong": wrong, "undecided": undecided,
            "error": {"lower": q(lo), "upper": q(hi)}, "accuracy": {"lower": q(1 - hi), "upper": q(1 - lo)}}


def make(embed, pos_embed, layers, unembed) -> Transformer:
    """Exact weights from rows of ints, Fractions or rational strings."""
    return Transformer(_mat(embed), _mat(pos_embed), tuple((_mat(a), _mat(o)) for a, o in layers), _mat(unembed))
