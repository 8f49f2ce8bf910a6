"""Independent solvers re-check a certificate's cell claims: cvc5 (exact, its own encoding) and Marabou.

A certificate's error is the measure of the cells it calls wrong, so what matters per cell is its
right/wrong claim, and for version 2 the signs of the logit differences it lists.  For each checked cell
we ask a solver for a point of the cell where the *actual* ReLU network breaks a claim; "unsat" confirms,
"sat" refutes (the counterexample is re-evaluated exactly before we say so), anything else is unknown —
never counted as confirmed.

- The cell (its constraints g . x > 0) is the kernel's own derivation from the certificate (rules up to the
  geometry: roots, pattern, decisions, polygon or rays), not the generator's.
- cvc5 (`pip install cvc5`): QF_LRA over exact rationals, strict inequalities as stated; the network is
  encoded from the certificate's exact weights with one if-then-else per ReLU (no activation pattern is
  assumed: this is the network itself, written here independently of the Z3 encoding in smt.py, which
  fixes the pattern).
- Marabou (`pip install maraboupy`): the network exported as ONNX (export.py), inputs in [-1, 1]^n, each
  cell constraint with a margin delta (export.margin); a strict output condition a . y > 0 is posed as
  a . y >= 1e-5 and a non-strict one as stated (below Marabou's tolerances a strict condition cannot be
  told from a tie).  A failure is retried once with the margin 1.9 delta.  It confirms the claim on the shrunk cell (by homogeneity, on
  the cone over it) up to that tolerance; Marabou computes in floating point with its own tolerances.  A counterexample it reports is checked exactly; one that does not
  survive is reported as unknown.

A claim's violations are a disjunction of conjunctions of conditions a . logits >= 0 (strict or not).
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import InputError, UnsupportedError
from .export import STRICT_EPS


@dataclass
class CellClaim:
    index: int
    what: str  # e.g. "right (target 1)" / "wrong (target 0)" / "sector: prediction 1"
    constraints: list  # integer vectors g, the open cell is {g . x > 0}
    interior: tuple  # an integer point strictly inside
    violations: list  # alternatives; each a list of (a, strict): a . logits >= 0 (> 0 if strict)
    static_problem: str | None = None  # a claim inconsistent without any solver (e.g. flag vs prediction)


@dataclass
class Outcome:
    index: int
    status: str  # confirmed | refuted | unknown
    seconds: float
    detail: str = ""


@dataclass
class Report:
    solver: str
    cells_total: int
    outcomes: list = field(default_factory=list)
    kernel_seconds_per_cell: float | None = None

    def counts(self) -> dict:
        out = {"confirmed": 0, "refuted": 0, "unknown": 0}
        for o in self.outcomes:
            out[o.status] += 1
        return out


def _e(n, i, j):
    """The coefficient vector of l_i - l_j."""
    a = [0] * n
    a[i] += 1
    a[j] -= 1
    return tuple(a)


def _beats(out: int, p: int) -> list:
    """Alternatives 'some j is chosen over p' under torch's first-index argmax."""
    return [[(_e(out, j, p), j > p)] for j in range(out) if j != p]


def _wins(out: int, k: int) -> list:
    """One alternative: 'k is the first-index argmax' (l_k > l_j for j < k, l_k >= l_j for j > k)."""
    return [[(_e(out, k, j), j < k) for j in range(out) if j != k]]


def cell_claims(doc, checkpoint: str | None = None) -> tuple[object, list[CellClaim], float]:
    """(certificate, the claims of its cells, kernel seconds to derive them) for versions 1 and 2."""
    from ..kernel import read_certificate
    from ..kernel.check import rules_for
    from ..kernel.claim import Work

    from ..kinds import of_version

    c = read_certificate(doc)
    kind = of_version(c.version)
    if kind.no_cells is not None or kind.no_claims is not None:
        raise UnsupportedError(f"nothing to cross-check cell by cell: this is {kind.no_cells or kind.no_claims}")
    t0 = time.perf_counter()
    n = c.n
    if c.version == 1:
        w = Work(checkpoint=checkpoint)
        for fn in rules_for(c):
            if fn.rule in ("method", "model", "task", "weights-digest", "checkpoint", "checkpoint-hash",
                           "checkpoint-weights"):
                fn(c, w)
        claims = []
        for i, s in enumerate(c.sectors):
            g1 = (-s.u[1], s.u[0])  # cross(u, x) > 0
            g2 = (s.v[1], -s.v[0])  # cross(x, v) > 0
            interior = tuple(a + b for a, b in zip(s.u, s.v))
            problem = None if s.wrong == (s.prediction != s.label) else \
                f"sector {i}: wrong={s.wrong} but prediction {s.prediction} vs target {s.label}"
            claims.append(CellClaim(i, f"sector: target {s.label}, prediction {s.prediction}", [g1, g2], interior,
                                    _beats(n, s.prediction), problem))
        return c, claims, time.perf_counter() - t0
    keep = ("method", "model", "task", "weights-digest", "checkpoint", "checkpoint-hash", "checkpoint-weights",
            "roots", "pattern", "prediction", "polygon", "rays", "witness")
    w = Work(checkpoint=checkpoint)
    for fn in rules_for(c):
        if fn.rule in keep:
            fn(c, w)
    claims = []
    for ci, cell in enumerate(c.cells):
        k = w.roots[cell.root][2]
        alts = []
        for j, ch in enumerate(cell.decision):
            if ch == "+":
                alts.append([(_e(n, j, k), False)])
            elif ch == "-":
                alts.append([(_e(n, k, j), False)])
            elif ch == "0":
                alts.append([(_e(n, k, j), True)])
                alts.append([(_e(n, j, k), True)])
        alts += _wins(n, k) if cell.wrong else _beats(n, k)
        what = f"{'wrong' if cell.wrong else 'right'} (target {k}, decisions {cell.decision})"
        claims.append(CellClaim(ci, what, list(w.cons[ci]), tuple(w.shapes[ci]["interior"]), alts))
    return c, claims, time.perf_counter() - t0


def _exact_violation(c, claim: CellClaim, x) -> bool:
    """The point x (rationals) is strictly inside the cell and the exact network breaks the claim there."""
    from ..loading.model import RNN, forward

    if any(sum(g_i * x_i for g_i, x_i in zip(g, x)) <= 0 for g in claim.constraints):
        return False
    logits = forward(RNN.make(c.W_hi, c.W_hh, c.W_oh, seq_len=c.n), x)
    for alt in claim.violations:
        ok = True
        for a, strict in alt:
            v = sum(ai * li for ai, li in zip(a, logits))
            if v < 0 or (strict and v == 0):
                ok = False
                break
        if ok:
            return True
    return False


# ---- cvc5 --------------------------------------------------------------------------------------------


class Cvc5Checker:
    def __init__(self, c, timeout_s: float):
        try:
            import cvc5  # noqa: F401
        except ImportError:
            raise InputError("--solver cvc5 needs cvc5: pip install cvc5 (or the [trust] extra)") from None
        self.c = c
        self.timeout_ms = int(timeout_s * 1000)

    def check(self, claim: CellClaim) -> Outcome:
        import cvc5
        from cvc5 import Kind

        c = self.c
        t0 = time.perf_counter()
        s = cvc5.Solver()
        s.setLogic("QF_LRA")
        s.setOption("produce-models", "true")
        s.setOption("tlimit-per", str(self.timeout_ms))
        R = s.getRealSort()
        zero = s.mkReal(0)

        def num(q):
            q = Fraction(q)
            return s.mkReal(f"{q.numerator}/{q.denominator}")

        def lin(coeffs, terms):
            parts = [s.mkTerm(Kind.MULT, num(a), t) for a, t in zip(coeffs, terms) if a != 0]
            if not parts:
                return zero
            return parts[0] if len(parts) == 1 else s.mkTerm(Kind.ADD, *parts)

        x = [s.mkConst(R, f"x{t}") for t in range(c.n)]
        h = [zero] * c.d
        for t in range(c.n):
            pre = [s.mkTerm(Kind.ADD, lin(c.W_hh[i], h), s.mkTerm(Kind.MULT, num(c.W_hi[i][0]), x[t]))
                   for i in range(c.d)]
            h = []
            for i, p in enumerate(pre):
                v = s.mkConst(R, f"h{t}_{i}")
                s.assertFormula(s.mkTerm(Kind.EQUAL, v, s.mkTerm(Kind.ITE, s.mkTerm(Kind.GT, p, zero), p, zero)))
                h.append(v)
        logits = [lin(row, h) for row in c.W_oh]
        for g in claim.constraints:
            s.assertFormula(s.mkTerm(Kind.GT, lin(g, x), zero))
        alts = []
        for alt in claim.violations:
            conds = [s.mkTerm(Kind.GT if strict else Kind.GEQ, lin(a, logits), zero) for a, strict in alt]
            alts.append(conds[0] if len(conds) == 1 else s.mkTerm(Kind.AND, *conds))
        s.assertFormula(alts[0] if len(alts) == 1 else s.mkTerm(Kind.OR, *alts))
        r = s.checkSat()
        secs = time.perf_counter() - t0
        if r.isUnsat():
            return Outcome(claim.index, "confirmed", secs)
        if r.isSat():
            pt = [Fraction(str(s.getValue(v).getRealValue())) for v in x]
            if _exact_violation(c, claim, pt):
                return Outcome(claim.index, "refuted", secs, "counterexample x = (" +
                               ", ".join(str(v) for v in pt) + ")")
            return Outcome(claim.index, "unknown", secs, "cvc5's model does not break the claim when re-evaluated")
        return Outcome(claim.index, "unknown", secs, f"cvc5: {r}")


# ---- Marabou -----------------------------------------------------------------------------------------


class MarabouChecker:
    def __init__(self, c, timeout_s: float):
        try:
            from maraboupy import Marabou  # noqa: F401
        except ImportError:
            raise InputError("--solver marabou needs maraboupy: pip install maraboupy (or the [trust] extra)") from None
        from .export import write_onnx

        self.c = c
        self.timeout_s = max(1, int(round(timeout_s)))
        self.tmp = tempfile.TemporaryDirectory(prefix="verifier-marabou-")
        self.onnx = f"{self.tmp.name}/model.onnx"
        write_onnx(self.onnx, c.W_hi, c.W_hh, c.W_oh, c.n)

    def _solve(self, claim: CellClaim, alt, units, delta):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from maraboupy import Marabou
        net = Marabou.read_onnx(self.onnx)
        iv = [int(v) for v in net.inputVars[0].flatten()]
        ov = [int(v) for v in net.outputVars[0].flatten()]
        for v in iv:
            net.setLowerBound(v, -1.0)
            net.setUpperBound(v, 1.0)
        for u in units:
            net.addInequality(iv, [-a for a in u], -delta)  # u . x >= delta
        for a, strict in alt:
            idx = [j for j, v in enumerate(a) if v != 0]
            # a . y >= 0, or a . y >= STRICT_EPS for a strict condition (Marabou has no strict inequalities)
            net.addInequality([ov[j] for j in idx], [-float(a[j]) for j in idx], -STRICT_EPS if strict else 0.0)
        opts = Marabou.createOptions(verbosity=0, timeoutInSeconds=self.timeout_s)
        res = net.solve(options=opts, verbose=False)
        status = res[0]
        vals = res[1]
        return status, [vals.get(v) for v in iv] if status == "sat" else None

    def check(self, claim: CellClaim) -> Outcome:
        """Each way the claim can fail must be unsat; a failure at margin delta is retried once at 1.9 delta
        (still inside the cell: delta is half the largest margin), so the claim is confirmed on the cell shrunk
        by the larger margin.  A counterexample is reported only if it survives exact re-evaluation."""
        from .export import margin

        t0 = time.perf_counter()
        units, delta = margin(claim.constraints, claim.interior)
        used = delta
        for alt in claim.violations:
            for d in (delta, 1.9 * delta):
                status, point = self._solve(claim, alt, units, d)
                if status == "unsat":
                    used = max(used, d)
                    break
                if status == "sat":
                    x = [Fraction(float(v)) for v in point]
                    if _exact_violation(self.c, claim, x):
                        return Outcome(claim.index, "refuted", time.perf_counter() - t0,
                                       f"counterexample x = ({', '.join(f'{float(v):.9g}' for v in x)}), "
                                       "checked exactly")
            else:
                why = ("Marabou's counterexample does not break the claim when re-evaluated exactly"
                       if status == "sat" else f"Marabou: {status}")
                return Outcome(claim.index, "unknown", time.perf_counter() - t0, why)
        return Outcome(claim.index, "confirmed", time.perf_counter() - t0, f"margin delta = {used:.3g}")


SOLVERS = {"cvc5": Cvc5Checker, "marabou": MarabouChecker}


def crosscheck(doc, solver: str, checkpoint: str | None = None, cells: int | None = None, seed: int = 0,
               timeout_s: float = 60.0, progress=None, indices=None) -> Report:
    """Re-check `cells` cells (all by default; a seeded sample otherwise), or the cells `indices`, of a
    certificate with `solver`."""
    if solver not in SOLVERS:
        raise InputError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    c, claims, kernel_s = cell_claims(doc, checkpoint)
    chosen = list(range(len(claims)))
    if indices is not None:
        bad = [i for i in indices if not 0 <= i < len(claims)]
        if bad:
            raise InputError(f"--cell {bad[0]}: the certificate has cells 0..{len(claims) - 1}")
        chosen = sorted(set(indices))
    elif cells is not None and cells < len(claims):
        chosen = sorted(random.Random(seed).sample(chosen, cells))
    checker = SOLVERS[solver](c, timeout_s)
    rep = Report(solver, len(claims), kernel_seconds_per_cell=kernel_s / max(1, len(claims)))
    for k, i in enumerate(chosen):
        cl = claims[i]
        if cl.static_problem:
            rep.outcomes.append(Outcome(i, "refuted", 0.0, cl.static_problem))
            continue
        rep.outcomes.append(checker.check(cl))
        if progress is not None:
            progress(k + 1, len(chosen), rep.outcomes[-1])
    return rep
