"""Z3 (exact linear real arithmetic) confirmation of the claims the generator makes.

Z3 sees the network itself, ReLU as If(pre > 0, pre, 0), with numerals built from Fractions (never
floats).  For each cell, given as strict linear constraints on x, we ask whether some x in the open
cell has a different activation pattern, a different task label or a different prediction than
claimed; "unsat" confirms the claim, "sat" refutes it, and "unknown" is never counted as either.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from .errors import InternalError

RANK_OF_TARGET = {"argmax": lambda n: 0, "2nd_argmax": lambda n: 1, "argmedian": lambda n: (n - 1) // 2}


def _z3():
    import z3

    return z3


def num(z3, v) -> "z3.ArithRef":
    v = Fraction(v)
    return z3.RealVal(f"{v.numerator}/{v.denominator}") if v.denominator != 1 else z3.RealVal(v.numerator)


class NetworkSolver:
    """A Z3 solver holding the network's semantics over real inputs x_0..x_{n-1}."""

    def __init__(self, rnn, task: str, timeout_ms: int = 60_000):
        z3 = _z3()
        self.z3 = z3
        self.rnn = rnn
        self.task = task
        n, d = rnn.seq_len, rnn.d
        self.x = [z3.Real(f"x{t}") for t in range(n)]
        self.s = z3.SolverFor("QF_LRA")
        self.s.set("timeout", timeout_ms)
        self.pre = []
        h = [None] * d
        for t in range(n):
            pre_t = []
            for i in range(d):
                terms = [num(z3, rnn.W_hh[i][j]) * h[j] for j in range(d) if h[j] is not None and rnn.W_hh[i][j] != 0]
                if rnn.W_hi[i][0] != 0:
                    terms.append(num(z3, rnn.W_hi[i][0]) * self.x[t])
                p = z3.Real(f"p{t}_{i}")
                self.s.add(p == (z3.Sum(terms) if terms else z3.RealVal(0)))
                pre_t.append(p)
            self.pre.append(pre_t)
            h = []
            for i in range(d):
                hv = z3.Real(f"h{t}_{i}")
                self.s.add(hv == z3.If(pre_t[i] > 0, pre_t[i], z3.RealVal(0)))
                h.append(hv)
        self.logits = []
        for k, row in enumerate(rnn.W_oh):
            lv = z3.Real(f"l{k}")
            terms = [num(z3, w) * h[j] for j, w in enumerate(row) if w != 0]
            self.s.add(lv == (z3.Sum(terms) if terms else z3.RealVal(0)))
            self.logits.append(lv)

    def lin(self, coeffs: Sequence) -> "z3.ArithRef":
        z3 = self.z3
        terms = [num(z3, c) * xv for c, xv in zip(coeffs, self.x) if c != 0]
        return z3.Sum(terms) if terms else z3.RealVal(0)

    def _label_is_not(self, k: int):
        z3 = self.z3
        n = len(self.x)
        before = [z3.If(z3.Or(self.x[j] > self.x[k], self.x[j] == self.x[k]) if j < k else self.x[j] > self.x[k],
                        1, 0) for j in range(n) if j != k]
        return z3.Sum(before) != RANK_OF_TARGET[self.task](n)

    def _prediction_is_not(self, p: int):
        z3 = self.z3
        alts = [self.logits[j] >= self.logits[p] for j in range(p)]
        alts += [self.logits[j] > self.logits[p] for j in range(p + 1, len(self.logits))]
        return z3.Or(alts) if alts else z3.BoolVal(False)

    def confirm_cell(self, strict: Sequence[Sequence], pattern, label: int, prediction: int | None, name: str,
                     wrong: bool | None = None) -> None:
        """Prove: on {x : g.x > 0 for g in strict}, the pattern and label are as claimed, and the
        prediction is `prediction` (when given) or is / is not the label as `wrong` says."""
        z3 = self.z3
        bad = []
        for t, row in enumerate(pattern):
            for i, bit in enumerate(row):
                bad.append(self.pre[t][i] <= 0 if bit else self.pre[t][i] > 0)
        bad.append(self._label_is_not(label))
        if prediction is not None:
            bad.append(self._prediction_is_not(prediction))
        if wrong is not None:
            bad.append(z3.Not(self._prediction_is_not(label)) if wrong else self._prediction_is_not(label))
        self.s.push()
        try:
            for g in strict:
                self.s.add(self.lin(g) > 0)
            self.s.add(z3.Or(bad))
            res = self.s.check()
        finally:
            self.s.pop()
        if res == z3.unsat:
            return
        if res == z3.sat:
            raise InternalError(f"{name}: Z3 found a point where the claimed pattern, label or prediction fails")
        raise InternalError(f"{name}: Z3 could not decide the cell's claims ({self.s.reason_unknown()})")


def confirm_sectors(rnn, task: str, secs) -> None:
    """Z3: every sector's claims hold on the open sector, and the closed sectors cover the plane."""
    z3 = _z3()
    ns = NetworkSolver(rnn, task)
    for k, s in enumerate(secs):
        u, v = s.u, s.v
        # open sector (angle < pi): cross(u, x) > 0 and cross(x, v) > 0
        strict = [(-u[1], u[0]), (v[1], -v[0])]
        ns.confirm_cell(strict, s.pattern, s.label, s.prediction, f"sector {k}")
    x0, x1 = z3.Reals("c0 c1")
    solver = z3.SolverFor("QF_LRA")
    inside = [z3.And(u[0] * x1 - u[1] * x0 >= 0, x0 * v[1] - x1 * v[0] >= 0) for u, v in ((s.u, s.v) for s in secs)]
    solver.add(z3.Or(x0 != 0, x1 != 0), z3.Not(z3.Or(inside)))
    res = solver.check()
    if res != z3.unsat:
        raise InternalError(f"sectors: Z3 did not confirm that the sectors cover the plane ({res})")


def confirm_cells(rnn, task: str, cells, roots) -> None:
    """Z3: on every open cell the claimed pattern and label hold and the cell is right or wrong as claimed."""
    ns = NetworkSolver(rnn, task)
    for k, c in enumerate(cells):
        root = roots[c.root]
        ns.confirm_cell(c.constraints, c.sigma, root.label, None, f"cell {k}", wrong=c.wrong)
