"""The exact model: a bias-free ReLU RNN over the rationals.

    h_0 = 0,  h_{t+1} = ReLU(W_hh h_t + W_hi x_t)  (t = 0..n-1),  output = W_oh h_n

A pattern sigma is the tuple over steps t of the tuple over neurons i of [pre_{t,i} > 0]
(ReLU(0) = 0, so a neuron at exactly 0 counts as off).  On the cone of points with pattern
sigma the network equals a linear map; `forms` returns it as integer coefficient rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from ..kernel.geometry import dot

Matrix = tuple[tuple[Fraction, ...], ...]
Pattern = tuple[tuple[int, ...], ...]

FAMILY_POSITION = "position"  # one logit per position; prediction = argmax (first index on ties)
FAMILY_SCALAR = "scalar"  # one output (median task)


def _matrix(rows) -> Matrix:
    return tuple(tuple(Fraction(v) for v in row) for row in rows)


@dataclass(frozen=True)
class RNN:
    """Exact weights of a bias-free ReLU RNN: W_hi (d x 1), W_hh (d x d), W_oh (m x d), and seq_len n."""

    W_hi: Matrix
    W_hh: Matrix
    W_oh: Matrix
    seq_len: int
    family: str

    @staticmethod
    def make(W_hi, W_hh, W_oh, seq_len: int, family: str | None = None) -> "RNN":
        """Build from exact nested numbers: lists (or tuples) of rows whose entries are ints, Fractions or
        strings like "3/4" / "-2" (anything `fractions.Fraction` reads exactly).  Shapes: W_hi d x 1,
        W_hh d x d, W_oh n x d (one logit per position) or 1 x d (median).  Floats are refused because a
        float is rarely the number meant (0.1 is not 1/10): use `RNN.from_floats` to take float weights
        (numpy arrays, torch tensors' .tolist(), nested lists) at their exact binary values."""
        for m in (W_hi, W_hh, W_oh):
            for row in m:
                for v in row:
                    if isinstance(v, float):
                        raise TypeError("RNN.make takes exact numbers (int, Fraction, 'p/q' strings); for float "
                                        "weights use RNN.from_floats, which converts every entry exactly")
        W_oh_m = _matrix(W_oh)
        fam = family or (FAMILY_SCALAR if len(W_oh_m) == 1 else FAMILY_POSITION)
        return RNN(_matrix(W_hi), _matrix(W_hh), W_oh_m, int(seq_len), fam)

    @staticmethod
    def from_floats(W_hi, W_hh, W_oh, seq_len: int, family: str | None = None) -> "RNN":
        """Build from float matrices (nested lists, numpy arrays, or anything with .tolist()): every float
        becomes its exact rational value (float32 0.1 is 13421773/134217728), as the loader does."""
        def exact(m):
            m = m.tolist() if hasattr(m, "tolist") else m
            return [[exact_from_float(float(v)) for v in row] for row in m]

        return RNN.make(exact(W_hi), exact(W_hh), exact(W_oh), seq_len, family)

    @property
    def d(self) -> int:
        return len(self.W_hh)

    @property
    def out_dim(self) -> int:
        return len(self.W_oh)

    @property
    def parameters(self) -> int:
        return self.d + self.d * self.d + self.out_dim * self.d


def exact_from_float(value: float) -> Fraction:
    """The exact rational value of a finite float (float32 0.1 -> 13421773/134217728)."""
    if not math.isfinite(value):
        raise ValueError(f"non-finite weight {value!r}")
    return Fraction(value)  # exact for any binary float


def preactivations(rnn: RNN, x: Sequence[Fraction]) -> list[tuple[Fraction, ...]]:
    """The pre-activation vector of every step at input x, exactly."""
    if len(x) != rnn.seq_len:
        raise ValueError(f"input has length {len(x)}, model seq_len is {rnn.seq_len}")
    d = rnn.d
    h = [Fraction(0)] * d
    out = []
    for xt in x:
        xt = Fraction(xt)
        pre = tuple(sum((rnn.W_hh[i][j] * h[j] for j in range(d) if h[j]), Fraction(0)) + rnn.W_hi[i][0] * xt
                    for i in range(d))
        out.append(pre)
        h = [p if p > 0 else Fraction(0) for p in pre]
    return out


def forward(rnn: RNN, x: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """The exact output (logits) at input x."""
    pre = preactivations(rnn, x)[-1]
    h = [p if p > 0 else Fraction(0) for p in pre]
    return tuple(sum((w * hj for w, hj in zip(row, h) if hj), Fraction(0)) for row in rnn.W_oh)


def pattern(rnn: RNN, x: Sequence[Fraction]) -> Pattern:
    """The activation pattern sigma at x: sigma[t][i] = 1 iff pre-activation (t, i) is > 0."""
    return tuple(tuple(1 if p > 0 else 0 for p in pre) for pre in preactivations(rnn, x))


def linear_map(rnn: RNN, sigma: Pattern):
    """Exact forms on the cone of pattern sigma: (pre-activation rows per step, output rows), each row the
    coefficients of x_0..x_{n-1} as Fractions."""
    n, d = rnn.seq_len, rnn.d
    steps = []
    prev = None
    for t in range(n):
        cur = []
        for i in range(d):
            row = [Fraction(0)] * n
            if prev is not None:
                for j in range(d):
                    w = rnn.W_hh[i][j]
                    if w and sigma[t - 1][j]:
                        for k in range(n):
                            row[k] += w * prev[j][k]
            row[t] += rnn.W_hi[i][0]
            cur.append(tuple(row))
        steps.append(cur)
        prev = cur
    out = []
    for r in rnn.W_oh:
        row = [Fraction(0)] * n
        for j in range(d):
            if r[j] and sigma[n - 1][j]:
                for k in range(n):
                    row[k] += r[j] * prev[j][k]
        out.append(tuple(row))
    return steps, out


def argmax_first(values: Sequence) -> int:
    """torch's argmax convention: the first index of a maximal value."""
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best


def standardize(rnn: RNN) -> tuple[RNN, tuple[Fraction, ...]]:
    """Rescale each hidden neuron i by c_i = 1/|W_hi[i]| (1 where W_hi[i] = 0): same function, exactly.

    h'_i = c_i h_i, so W_hi' = C W_hi, W_hh' = C W_hh C^-1, W_oh' = W_oh C^-1 (ReLU commutes with c_i > 0).
    Returns the new model and the factors c.
    """
    c = tuple(Fraction(1) / abs(w[0]) if w[0] != 0 else Fraction(1) for w in rnn.W_hi)
    d = rnn.d
    W_hi = tuple((c[i] * rnn.W_hi[i][0],) for i in range(d))
    W_hh = tuple(tuple(c[i] * rnn.W_hh[i][j] / c[j] for j in range(d)) for i in range(d))
    W_oh = tuple(tuple(row[j] / c[j] for j in range(d)) for row in rnn.W_oh)
    return RNN(W_hi, W_hh, W_oh, rnn.seq_len, rnn.family), c


# ----------------------------------------------------------------------------------------------
# Integer linear forms (the fast exact path used by the cone machinery)


def _lcm_den(values) -> int:
    out = 1
    for v in values:
        out = math.lcm(out, v.denominator)
    return out


@dataclass(frozen=True)
class IntRNN:
    """W_hh, W_hi, W_oh scaled by positive integers to integer matrices (signs and cones are unchanged).

    With c = lcm of the denominators of W_hh and W_hi, P_t = c^(t+1) pre_t has integer coefficients:
    P_0 = In e_0 and P_{t+1} = Hn D_t P_t + c^(t+1) In e_{t+1}; the logits scale by c_o c^n > 0.
    """

    In: tuple[int, ...]
    Hn: tuple[tuple[int, ...], ...]
    On: tuple[tuple[int, ...], ...]
    c: int
    n: int

    @staticmethod
    def of(rnn: RNN) -> "IntRNN":
        c = _lcm_den([w[0] for w in rnn.W_hi] + [v for row in rnn.W_hh for v in row])
        co = _lcm_den([v for row in rnn.W_oh for v in row])
        In = tuple(int(w[0] * c) for w in rnn.W_hi)
        Hn = tuple(tuple(int(v * c) for v in row) for row in rnn.W_hh)
        On = tuple(tuple(int(v * co) for v in row) for row in rnn.W_oh)
        return IntRNN(In, Hn, On, c, rnn.seq_len)

    @property
    def d(self) -> int:
        return len(self.In)

    def step_forms(self, t: int, prev_forms, prev_sigma) -> list[tuple[int, ...]]:
        """Pre-activation forms of step t given step t-1's forms and pattern (None for t = 0)."""
        n, d = self.n, self.d
        scale = self.c ** t
        forms = []
        active = [j for j in range(d) if prev_sigma is not None and prev_sigma[j]]
        for i in range(d):
            row = [0] * n
            Hi = self.Hn[i]
            for j in active:
                w = Hi[j]
                if w:
                    pj = prev_forms[j]
                    for k in range(t):
                        row[k] += w * pj[k]
            row[t] += scale * self.In[i]
            forms.append(tuple(row))
        return forms

    def output_forms(self, last_forms, last_sigma) -> list[tuple[int, ...]]:
        """Output (logit) forms given the last step's forms and pattern."""
        n = self.n
        active = [j for j in range(self.d) if last_sigma[j]]
        out = []
        for row_o in self.On:
            row = [0] * n
            for j in active:
                w = row_o[j]
                if w:
                    pj = last_forms[j]
                    for k in range(n):
                        row[k] += w * pj[k]
            out.append(tuple(row))
        return out

    def forms(self, sigma: Pattern):
        """All pre-activation forms (per step) and the output forms for pattern sigma."""
        steps = []
        prev_f, prev_s = None, None
        for t in range(self.n):
            f = self.step_forms(t, prev_f, prev_s)
            steps.append(f)
            prev_f, prev_s = f, sigma[t]
        return steps, self.output_forms(prev_f, prev_s)

    def pattern_and_forms(self, x: Sequence[int | Fraction]):
        """Pattern at x (exact), with its pre-activation and output forms."""
        steps, sig = [], []
        prev_f, prev_s = None, None
        for t in range(self.n):
            f = self.step_forms(t, prev_f, prev_s)
            s = tuple(1 if dot(row, x) > 0 else 0 for row in f)
            steps.append(f)
            sig.append(s)
            prev_f, prev_s = f, s
        return tuple(sig), steps, self.output_forms(prev_f, prev_s)
