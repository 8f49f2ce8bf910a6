"""Z3 (exact linear real arithmetic) confirmation of the claims the generator makes.

Numerals are exact rationals written from Fractions (never floats).  For a cell with claimed pattern
sigma, the network is encoded with each step's hidden state fixed by sigma (h = pre where sigma = 1,
h = 0 where sigma = 0) and Z3 itself derives every pre-activation and logit from the weights.  We
ask whether some x in the open cell violates sigma at some step, has another task label, or another
prediction than claimed.  If no x violates sigma, then by induction over the steps the true ReLU
network follows sigma on the cell and equals the encoding there, so the label and prediction claims
are claims about the network itself.  "unsat" confirms, "sat" refutes, "unknown" is never counted as
either.  Formulas are handed to Z3 as SMT-LIB text (define-fun per pre-activation), which keeps the
Python side cheap.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from ..errors import InternalError
from ..loading.tasks import TARGET_RANK


def smt_num(v) -> str:
    """An exact SMT-LIB real numeral for a rational."""
    v = Fraction(v)
    p, q = v.numerator, v.denominator
    body = f"{abs(p)}.0" if q == 1 else f"(/ {abs(p)}.0 {q}.0)"
    return f"(- {body})" if p < 0 else body


def _sum(terms: list[str]) -> str:
    if not terms:
        return "0.0"
    return terms[0] if len(terms) == 1 else "(+ " + " ".join(terms) + ")"


class NetworkSolver:
    """A Z3 solver for one model, asked one cell at a time (see the module docstring)."""

    def __init__(self, rnn, task: str, timeout_ms: int = 60_000):
        import z3

        self.z3 = z3
        self.rnn = rnn
        self.task = task
        self.n, self.d = rnn.seq_len, rnn.d
        self.s = z3.SolverFor("QF_LRA")
        self.s.set("timeout", timeout_ms)
        self.W_hi = [smt_num(w[0]) for w in rnn.W_hi]
        self.W_hh = [[smt_num(v) if v != 0 else None for v in row] for row in rnn.W_hh]
        self.W_oh = [[smt_num(v) if v != 0 else None for v in row] for row in rnn.W_oh]
        self.s.from_string("".join(f"(declare-fun x{t} () Real)" for t in range(self.n)))
        self._names_cache: dict = {}

    def _names(self, pattern) -> tuple[list[list[str]], list[str]]:
        """Names of every step's pre-activations and of the logits under pattern, defining new ones once.

        Definitions live at the solver's base level (outside any push), keyed by the pattern prefix they
        depend on, so cells that share a prefix share them.
        """
        d = self.d
        names = []
        h: list = [None] * d
        for t in range(self.n):
            key = tuple(tuple(r) for r in pattern[:t])
            row = self._names_cache.get(key)
            if row is None:
                tag = f"q{len(self._names_cache)}"
                row, defs = [], []
                for i in range(d):
                    nm = f"{tag}_{i}"
                    terms = [f"(* {self.W_hh[i][j]} {h[j]})" for j in range(d)
                             if h[j] is not None and self.W_hh[i][j] is not None]
                    terms.append(f"(* {self.W_hi[i]} x{t})")
                    defs.append(f"(define-fun {nm} () Real {_sum(terms)})")
                    row.append(nm)
                self.s.from_string("".join(defs))
                self._names_cache[key] = row
            names.append(row)
            h = [row[i] if pattern[t][i] else None for i in range(d)]
        key = ("logits", tuple(tuple(r) for r in pattern))
        logits = self._names_cache.get(key)
        if logits is None:
            tag = f"l{len(self._names_cache)}"
            logits, defs = [], []
            for k, wrow in enumerate(self.W_oh):
                terms = [f"(* {wrow[j]} {h[j]})" for j in range(d) if h[j] is not None and wrow[j] is not None]
                defs.append(f"(define-fun {tag}_{k} () Real {_sum(terms)})")
                logits.append(f"{tag}_{k}")
            self.s.from_string("".join(defs))
            self._names_cache[key] = logits
        return names, logits

    def _label_is_not(self, k: int) -> str:
        n = self.n
        before = []
        for j in range(n):
            if j == k:
                continue
            cond = f"(>= x{j} x{k})" if j < k else f"(> x{j} x{k})"
            before.append(f"(ite {cond} 1.0 0.0)")
        return f"(not (= {_sum(before)} {TARGET_RANK[self.task](n)}.0))"

    @staticmethod
    def _prediction_is_not(logits, p: int) -> str:
        alts = [f"(>= {logits[j]} {logits[p]})" for j in range(p)]
        alts += [f"(> {logits[j]} {logits[p]})" for j in range(p + 1, len(logits))]
        return "(or " + " ".join(alts) + ")" if alts else "false"

    def confirm_cell(self, strict: Sequence[Sequence], pattern, label: int, prediction: int | None, name: str,
                     wrong: bool | None = None) -> None:
        """Prove: on {x : g.x > 0 for g in strict}, the pattern and label are as claimed, and the
        prediction is `prediction` (when given) or is / is not the label as `wrong` says."""
        z3 = self.z3
        names, logits = self._names(pattern)
        bad = []
        for t, row in enumerate(pattern):
            for i, bit in enumerate(row):
                bad.append(f"(<= {names[t][i]} 0.0)" if bit else f"(> {names[t][i]} 0.0)")
        bad.append(self._label_is_not(label))
        if prediction is not None:
            bad.append(self._prediction_is_not(logits, prediction))
        if wrong is not None:
            miss = self._prediction_is_not(logits, label)
            bad.append(f"(not {miss})" if wrong else miss)
        cons = [f"(> {_sum([f'(* {smt_num(c)} x{k})' for k, c in enumerate(g) if c != 0])} 0.0)" for g in strict]
        text = "".join(f"(assert {c})" for c in cons) + f"(assert (or {' '.join(bad)}))"
        self.s.push()
        try:
            self.s.from_string(text)
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
    import z3

    ns = NetworkSolver(rnn, task)
    for k, s in enumerate(secs):
        u, v = s.u, s.v
        # open sector (angle < pi): cross(u, x) > 0 and cross(x, v) > 0
        ns.confirm_cell([(-u[1], u[0]), (v[1], -v[0])], s.pattern, s.label, s.prediction, f"sector {k}")
    x0, x1 = z3.Reals("c0 c1")
    solver = z3.SolverFor("QF_LRA")
    inside = [z3.And(u[0] * x1 - u[1] * x0 >= 0, x0 * v[1] - x1 * v[0] >= 0) for u, v in ((s.u, s.v) for s in secs)]
    solver.add(z3.Or(x0 != 0, x1 != 0), z3.Not(z3.Or(inside)))
    res = solver.check()
    if res != z3.unsat:
        raise InternalError(f"sectors: Z3 did not confirm that the sectors cover the plane ({res})")


def confirm_cells(rnn, task: str, cells, roots, progress: bool = False, deadline: float | None = None) -> None:
    """Z3: on every open cell the claimed pattern and label hold and the cell is right or wrong as claimed."""
    from ..errors import past

    ns = NetworkSolver(rnn, task)
    it = enumerate(cells)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=len(cells), desc="Z3 cells", unit="cell", leave=False)
    for k, c in it:
        past(deadline, "the Z3 confirmation")
        ns.confirm_cell(c.constraints, c.sigma, roots[c.root].label, None, f"cell {k}", wrong=c.wrong)
