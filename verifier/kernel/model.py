"""The exact model, recomputed here on purpose (not imported from the generator): integer pre-activation
forms under a pattern, the exact forward pass, torch's argmax rule, and the tasks' targets."""

from __future__ import annotations

import math
from dataclasses import dataclass

TASK_RANK = {"argmax": lambda n: 0, "2nd_argmax": lambda n: 1, "argmedian": lambda n: (n - 1) // 2}


def _lcm_den(vals) -> int:
    out = 1
    for v in vals:
        out = math.lcm(out, v.denominator)
    return out


@dataclass(frozen=True)
class Model:
    """Exact weights, and the same weights scaled to integers: with c the lcm of the denominators of
    W_hi and W_hh, In = c W_hi, Hn = c W_hh, On = c_o W_oh.  Positive scaling commutes with ReLU, so the
    integer recurrence P_0 = In x_0, P_{t+1} = Hn ReLU(P_t) + c^(t+1) In x_{t+1} has P_t = c^(t+1) pre_t
    and logits scaled by c_o c^n > 0: every sign, pattern and argmax is the same as the exact model's."""

    W_hi: tuple
    W_hh: tuple
    W_oh: tuple
    n: int
    In: tuple = ()
    Hn: tuple = ()
    On: tuple = ()
    c: int = 1

    @staticmethod
    def of(W_hi, W_hh, W_oh, n):
        c = _lcm_den([w[0] for w in W_hi] + [v for r in W_hh for v in r])
        co = _lcm_den([v for r in W_oh for v in r])
        return Model(W_hi, W_hh, W_oh, n, tuple(int(w[0] * c) for w in W_hi),
                     tuple(tuple(int(v * c) for v in r) for r in W_hh),
                     tuple(tuple(int(v * co) for v in r) for r in W_oh), c)

    @property
    def d(self) -> int:
        return len(self.W_hh)


def lin(coeffs, x):
    return sum(c * v for c, v in zip(coeffs, x) if c)


class Forms:
    """Integer pre-activation forms per step and output forms under a pattern (cached by pattern prefix)."""

    def __init__(self, m: Model):
        self.m = m
        self._cache: dict = {}

    def step(self, prefix) -> list:
        """Forms of step t = len(prefix), given the pattern `prefix` of the earlier steps."""
        got = self._cache.get(prefix)
        if got is None:
            m, t = self.m, len(prefix)
            prev = self.step(prefix[:-1]) if t else None
            scale = m.c ** t
            got = []
            for i in range(m.d):
                row = [0] * m.n
                if prev is not None:
                    hi = m.Hn[i]
                    for j in range(m.d):
                        w = hi[j]
                        if w and prefix[-1][j]:
                            pj = prev[j]
                            for k in range(t):
                                row[k] += w * pj[k]
                row[t] += scale * m.In[i]
                got.append(tuple(row))
            self._cache[prefix] = got
        return got

    def output(self, pattern) -> list:
        """Logit forms under the whole pattern."""
        key = ("out", pattern)
        got = self._cache.get(key)
        if got is None:
            m = self.m
            last = self.step(pattern[:m.n - 1])
            got = []
            for r in m.On:
                row = [0] * m.n
                for j in range(m.d):
                    if r[j] and pattern[m.n - 1][j]:
                        for k in range(m.n):
                            row[k] += r[j] * last[j][k]
                got.append(tuple(row))
            self._cache[key] = got
        return got

    def all(self, pattern):
        return [self.step(pattern[:t]) for t in range(self.m.n)], self.output(pattern)


def forward(m: Model, x):
    """Exact forward pass at an integer point: (pattern, positively scaled logits)."""
    h = [0] * m.d
    pat = []
    for t in range(m.n):
        s = m.c ** t
        pre = [sum(m.Hn[i][j] * h[j] for j in range(m.d) if h[j] and m.Hn[i][j]) + s * m.In[i] * x[t]
               for i in range(m.d)]
        pat.append(tuple(1 if p > 0 else 0 for p in pre))
        h = [p if p > 0 else 0 for p in pre]
    logits = tuple(sum(r[j] * h[j] for j in range(m.d) if h[j]) for r in m.On)
    return tuple(pat), logits


def argmax_first(vals) -> int:
    """torch's argmax: the first index of the largest value."""
    best = 0
    for i in range(1, len(vals)):
        if vals[i] > vals[best]:
            best = i
    return best


def target(task: str, x) -> int:
    """Stable ranking, largest first, ties to the lower index; the target is the position at the task's rank."""
    order = sorted(range(len(x)), key=lambda i: (-x[i], i))
    return order[TASK_RANK[task](len(x))]


def target_of_ranking(task: str, ranking, n: int | None = None) -> int:
    """The position at the task's rank in a ranking (largest first) of n positions; the ranking may be a prefix
    (a top-two root lists two positions) when the rank falls inside it."""
    return ranking[TASK_RANK[task](len(ranking) if n is None else n)]


def wrong_of(decision: str, k: int) -> bool:
    """torch's argmax picks k iff l_k > l_j for j < k and l_k >= l_j for j > k; decision[j] is the sign of
    l_k - l_j."""
    return any((j < k and c != "+") or (j > k and c == "-") for j, c in enumerate(decision))
