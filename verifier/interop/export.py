"""Export for other verifiers: the RNN unrolled as ONNX, and one VNN-LIB property per certified cell.

ONNX (`onnx_model`): one input X of shape [1, n] (x_0 ... x_{n-1}; `--batch-dim` makes the leading
dimension symbolic), one output Y of shape [1, out] (the logits, or the single median output).  The recurrence is unrolled over the n steps with standard ops only
(MatMul, Add, Relu): the input projection of step t is X @ E_t with E_t the n x d matrix whose row t is
W_hi^T and whose other rows are 0, so no Slice/Gather is needed (every ONNX consumer, Marabou included,
reads MatMul/Add/Relu).  Weights are float32, the checkpoint's own values.

VNN-LIB (`vnnlib_property`): a cell's claim, negated, over the box [-1, 1]^n.  VNN-LIB has no strict
inequalities while our cells are open cones, so each cell constraint g . x > 0 is written as
g . x >= delta |g|_2 (written with g / |g|_2 rounded to decimals) for a margin delta: half the largest
margin any point of the box has (a small LP), so the shrunk cell is not empty.  The output condition is the disjunction of the ways the claim could fail;
"unsat" from a solver then confirms the claim on the cell shrunk by delta inside the box — by positive
homogeneity on the cone over that set, which exhausts the open cell as delta -> 0 but never exactly.
A strict output condition (a logit strictly larger) is written as a difference >= 1e-5, so "unsat" confirms
the claim up to that tolerance (exact confirmation is cvc5's job: crosscheck.py).  See docs/TRUST.md.
"""

from __future__ import annotations

import math
from fractions import Fraction

STRICT_EPS = 1e-5  # strict output conditions a . y > 0 become a . y >= STRICT_EPS (VNN-LIB, Marabou)


def _floats(rows, dtype="float32"):
    import numpy as np

    return np.array([[float(Fraction(v)) for v in r] for r in rows], dtype=dtype)


def onnx_model(W_hi, W_hh, W_oh, n: int, batch: int | str = 1, dtype: str = "float32"):
    """The unrolled network as an onnx ModelProto (weights rounded to float32: exact for checkpoint floats).
    batch: the leading dimension, 1 (what Marabou reads) or a name for a symbolic batch size.  dtype "float64"
    gives the same graph in double precision (input, weights and output; float32 checkpoint weights are exact)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype {dtype!r}: expected float32 or float64")
    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    Wi, Wh, Wo = _floats(W_hi, dtype), _floats(W_hh, dtype), _floats(W_oh, dtype)
    d = Wh.shape[0]
    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=dtype), name))
        return name

    h = None
    for t in range(n):
        E = np.zeros((n, d), dtype=dtype)
        E[t, :] = Wi[:, 0]
        xin = f"input_{t}"
        nodes.append(helper.make_node("MatMul", ["X", const(f"E_{t}", E)], [xin]))
        if h is None:
            pre = xin
        else:
            rec = f"recurrent_{t}"
            nodes.append(helper.make_node("MatMul", [h, const(f"W_hh_T_{t}", Wh.T)], [rec]))
            pre = f"pre_{t}"
            nodes.append(helper.make_node("Add", [rec, xin], [pre]))
        h = f"h_{t}"
        nodes.append(helper.make_node("Relu", [pre], [h]))
    nodes.append(helper.make_node("MatMul", [h, const("W_oh_T", Wo.T)], ["Y"]))
    graph = helper.make_graph(nodes, "relu_rnn_unrolled",
                              [helper.make_tensor_value_info("X", elem, [batch, n])],
                              [helper.make_tensor_value_info("Y", elem, [batch, Wo.shape[0]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="verifier")
    model.ir_version = 8
    return model


# Per precision: U, twice the unit roundoff (so round-to-nearest and any faithful rounding are both covered),
# and TINY, the smallest positive normal number (a subnormal result flushed to zero is an absolute error of at
# most TINY per operation).
FLOAT_UNITS = {"float32": (Fraction(1, 1 << 23), Fraction(1, 1 << 126)),
               "float64": (Fraction(1, 1 << 52), Fraction(1, 1 << 1022))}


def float_forward_bound(W_hi, W_hh, W_oh, xs, dtype: str = "float32"):
    """(exact outputs, error bounds) of the unrolled RNN on inputs `xs` (rows of exact rationals, e.g. float32
    values read as Fractions): for every input and output j, any evaluation in `dtype` (float32 or float64) of
    the exported graph (or of torch's nn.RNN + Linear without bias) with these weights, which that dtype must
    hold exactly, returns y_j with |y_j - exact_j| <= bound_j.

    The argument (docs/TRUST.md, "ONNX export"), componentwise, with h_t the exact state and e_t a bound on the
    computed state's error: step t computes pre = fl(fl(h_{t-1} W_hh^T) + fl(x_t E_t)), float sums of d and n
    products and one addition, so (with k = d + n + 2, which covers any order of the two sums and the addition,
    and torch's single sum of d + 1 products alike) |pre^ - pre| <= gamma_k ((|h_{t-1}| + e_{t-1}) |W_hh|^T +
    |x_t W_hi^T|) + e_{t-1} |W_hh|^T + k TINY, and ReLU is 1-Lipschitz: that is e_t.  The output adds
    gamma_{d+1} (|h_n| + e_n) |W_oh|^T + e_n |W_oh|^T + (d + 1) TINY.  Assumed: float32 weights and inputs that
    are normal numbers or 0 (a flushed subnormal *operand* is not covered), no overflow.  Everything is exact
    rational arithmetic; nothing here is a float."""
    from flint import fmpq, fmpq_mat

    def mat(rows):
        return fmpq_mat([[fmpq(Fraction(v).numerator, Fraction(v).denominator) for v in r] for r in rows])

    def entrywise(M, f):
        return fmpq_mat([[f(M[i, j]) for j in range(M.ncols())] for i in range(M.nrows())])

    unit, tiny = (fmpq(v.numerator, v.denominator) for v in FLOAT_UNITS[dtype])
    d, count = len(W_hh), len(xs)
    if not count:
        return [], []
    n = len(xs[0])
    k_step = d + n + 2

    def gamma(k):  # the relative error bound of any float sum of k products (any order, with or without fused
        # multiply-add; Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., Lemma 3.1 and eq. (3.5))
        return k * unit / (1 - k * unit)

    Wi, Wh, Wo = mat(W_hi), mat(W_hh), mat(W_oh)
    Ah, Ao = entrywise(Wh, abs), entrywise(Wo, abs)
    X = mat([[x[t] for x in xs] for t in range(n)])  # one column per input
    ones = fmpq_mat(d, count, [1] * (d * count))
    H = E = None
    for t in range(n):
        inp = Wi * fmpq_mat([[X[t, c] for c in range(count)]])  # d x count: x_t W_hi^T per input
        abs_inp = entrywise(inp, abs)
        if H is None:
            pre, err = inp, abs_inp * gamma(k_step) + ones * (k_step * tiny)
        else:
            pre = Wh * H + inp
            err = (Ah * (entrywise(H, abs) + E) + abs_inp) * gamma(k_step) + Ah * E + ones * (k_step * tiny)
        H = entrywise(pre, lambda v: v if v > 0 else fmpq(0))
        E = err
    Y = Wo * H
    B = Ao * (entrywise(H, abs) + E) * gamma(d + 1) + Ao * E + fmpq_mat(Wo.nrows(), count,
                                                                    [1] * (Wo.nrows() * count)) * ((d + 1) * tiny)

    def fractions(M):
        return [[Fraction(int(M[o, c].p), int(M[o, c].q)) for o in range(M.nrows())] for c in range(M.ncols())]

    return fractions(Y), fractions(B)


def write_onnx(path: str, W_hi, W_hh, W_oh, n: int, batch: int | str = 1, dtype: str = "float32") -> None:
    import onnx

    from ..loading.rational import write_atomic

    model = onnx_model(W_hi, W_hh, W_oh, n, batch, dtype)
    onnx.checker.check_model(model)
    write_atomic(path, model.SerializeToString())


def margin(constraints, interior) -> tuple[list, float]:
    """(unit normals as floats, delta): the cell shrunk by delta inside [-1, 1]^n is not empty.

    delta is half the largest margin: max over x in the box of min_g (g . x)/|g|_2 (a small float LP, scipy);
    without scipy, half that of the interior witness scaled into the box."""
    units = []
    for g in constraints:
        norm = math.sqrt(sum(c * c for c in g))
        units.append([c / norm for c in g])
    n = len(interior)
    best = None
    try:
        from scipy.optimize import linprog

        # variables (x_0..x_{n-1}, t): maximise t subject to t - u . x <= 0, -1 <= x <= 1
        res = linprog([0.0] * n + [-1.0], A_ub=[[-a for a in u] + [1.0] for u in units], b_ub=[0.0] * len(units),
                      bounds=[(-1.0, 1.0)] * n + [(None, None)], method="highs")
        if res.status == 0 and -res.fun > 0:
            best = -res.fun
    except ImportError:
        pass
    if best is None:
        m = max(abs(v) for v in interior)
        w = [v / m for v in interior]
        best = min(sum(a * b for a, b in zip(u, w)) for u in units)
    return units, best / 2


def _num(x: float) -> str:
    return repr(float(x))


def vnnlib_property(claim, n: int, outputs: int) -> str:
    """The VNN-LIB text of one cell claim (a `crosscheck.CellClaim`), see the module docstring."""
    units, delta = margin(claim.constraints, claim.interior)
    lines = [f"; verifier: cell {claim.index} ({claim.what}); unsat confirms the claim on the cell shrunk by "
             f"delta = {delta!r} inside [-1, 1]^{n}",
             *(f"(declare-const X_{i} Real)" for i in range(n)),
             *(f"(declare-const Y_{j} Real)" for j in range(outputs))]
    for i in range(n):
        lines.append(f"(assert (<= X_{i} 1.0))")
        lines.append(f"(assert (>= X_{i} -1.0))")
    for u in units:
        terms = " ".join(f"(* {_num(c)} X_{i})" for i, c in enumerate(u) if c != 0)
        lines.append(f"(assert (>= (+ {terms} 0.0) {_num(delta)}))")
    alts = []
    for alt in claim.violations:
        conds = []
        for a, strict in alt:
            pos = [j for j, c in enumerate(a) if c > 0]
            neg = [j for j, c in enumerate(a) if c < 0]
            # a has entries +1, -1 on two logits: a . Y >= 0 (or >= STRICT_EPS when strict)
            if strict:
                conds.append(f"(>= (+ Y_{pos[0]} (* -1.0 Y_{neg[0]})) {_num(STRICT_EPS)})")
            else:
                conds.append(f"(>= Y_{pos[0]} Y_{neg[0]})")
        alts.append("(and " + " ".join(conds) + ")")
    lines.append("(assert (or " + " ".join(alts) + "))")
    return "\n".join(lines) + "\n"
