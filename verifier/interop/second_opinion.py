"""Z3's second opinion on a certificate's regions (`check --z3`): outside the trusted path, beside the kernel.

For a region with claimed pattern sigma, Z3 computes the network with each step's hidden state fixed by
sigma (its own exact arithmetic on the weights) and must find no point of the open region where a
pre-activation breaks sigma, the target differs, or the prediction (version 1) or right/wrong claim
(version 2) fails.  No violation of sigma means, by induction over the steps, that the ReLU network equals
this encoding on the region.  "unknown" is never a pass.  A failure is rule `z3` of the kernel's table.
"""

from __future__ import annotations

from fractions import Fraction

from ..kernel import Reject, Unreadable, check as kernel_check, read_certificate
from ..kernel.claim import Work, model, task
from ..kernel.cones import pattern as cone_pattern, prediction as cone_prediction, roots as cone_roots
from ..kernel.model import TASK_RANK


def _z3():
    try:
        import z3
    except ImportError:
        raise Unreadable("--z3 needs the z3-solver package (pip install 'verifier[z3]')") from None
    return z3


def _num(z3, v):
    v = Fraction(v)
    return z3.RealVal(f"{v.numerator}/{v.denominator}")


class _Net:
    def __init__(self, z3, c):
        self.z3, self.n, self.d, self.task = z3, c.n, c.d, c.task
        self.x = [z3.Real(f"x{t}") for t in range(c.n)]
        self.W_hi = [_num(z3, w[0]) for w in c.W_hi]
        self.W_hh = [[_num(z3, v) if v else None for v in r] for r in c.W_hh]
        self.W_oh = [[_num(z3, v) if v else None for v in r] for r in c.W_oh]
        self.cache: dict = {}

    def step(self, prefix):
        got = self.cache.get(prefix)
        if got is None:
            z3, d, t = self.z3, self.d, len(prefix)
            h = [None] * d
            if t:
                prev = self.step(prefix[:-1])
                h = [prev[i] if prefix[-1][i] else None for i in range(d)]
            got = []
            for i in range(d):
                terms = [self.W_hh[i][j] * h[j] for j in range(d) if h[j] is not None and self.W_hh[i][j] is not None]
                got.append(z3.simplify(z3.Sum(terms + [self.W_hi[i] * self.x[t]])))
            self.cache[prefix] = got
        return got

    def violation(self, pattern, label, pred=None, wrong=None):
        """Some point breaks the pattern or the label, or the prediction claim (pred, or right/wrong)."""
        z3, n, d = self.z3, self.n, self.d
        pres = [self.step(tuple(pattern[:t])) for t in range(n)]
        h = [pres[n - 1][i] if pattern[n - 1][i] else None for i in range(d)]
        logits = [z3.Sum([r[j] * h[j] for j in range(d) if h[j] is not None and r[j] is not None] or [z3.RealVal(0)])
                  for r in self.W_oh]
        bad = [pres[t][i] <= 0 if bit else pres[t][i] > 0 for t, row in enumerate(pattern) for i, bit in enumerate(row)]
        x = self.x
        before = [z3.If(x[j] >= x[label] if j < label else x[j] > x[label], 1, 0) for j in range(n) if j != label]
        bad.append(z3.Sum(before) != TASK_RANK[self.task](n))

        def not_pred(p):
            alts = [logits[j] >= logits[p] for j in range(p)] + [logits[j] > logits[p] for j in range(p + 1, n)]
            return z3.Or(alts) if alts else z3.BoolVal(False)

        if pred is not None:
            bad.append(not_pred(pred))
        if wrong is not None:
            bad.append(z3.Not(not_pred(label)) if wrong else not_pred(label))
        return z3.Or(bad)

    def confirm(self, strict, claim, where):
        z3 = self.z3
        s = z3.SolverFor("QF_LRA")
        for g in strict:
            s.add(z3.Sum([int(a) * xv for a, xv in zip(g, self.x) if a]) > 0)
        s.add(claim)
        res = s.check()
        if res != z3.unsat:
            raise Reject("z3", f"{where}: Z3 does not confirm the claims ({res})")


def confirm(c, w: Work) -> None:
    """Z3 on every region of a certificate whose structure the kernel has derived (w: roots and constraints)."""
    net = _Net(_z3(), c)
    if c.version == 1:
        for k, s in enumerate(c.sectors):
            net.confirm([(-s.u[1], s.u[0]), (s.v[1], -s.v[0])], net.violation(s.pattern, s.label, pred=s.prediction),
                        f"sector {k}")
        return
    for ci, cell in enumerate(c.cells):
        net.confirm(w.cons[ci], net.violation(cell.pattern, w.roots[cell.root][2], wrong=cell.wrong), f"cell {ci}")


def confirm_document(doc) -> None:
    """Z3 alone on a parsed certificate: only the structural rules (model, task and, for cones, roots and
    the constraint lists) run first, so that Z3's verdict is its own (used by the must-fail corpus)."""
    c = read_certificate(doc)
    w = Work()
    for fn in (model, task) + ((cone_roots, cone_pattern, cone_prediction) if c.version == 2 else ()):
        fn(c, w)
    confirm(c, w)


def check(certificate, checkpoint=None, z3: bool = False, workers: int = 1, max_bytes: int | None = None):
    """The kernel's check, then (with z3) Z3's second opinion on every region."""
    extra = {} if max_bytes is None else {"max_bytes": max_bytes}
    return kernel_check(certificate, checkpoint=checkpoint, after=confirm if z3 else None, workers=workers, **extra)
