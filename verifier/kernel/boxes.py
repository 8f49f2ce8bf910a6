"""Version 5, boxes: an anytime certified interval for a position-family RNN of any seq_len, without cells.

The certificate splits the cube [-radius, radius]^n (integer grid units; a grid point k is x = k / denominator)
by a binary tree of axis-aligned cuts.  A leaf marked R or W is a box on which the kernel proves, in exact
integer arithmetic, that the task's target is one position (the order of the coordinate intervals) and that
torch's argmax is one position (symbolic interval propagation through the network); W means they differ.
The input is a product measure, so a box's Gaussian mass is the product of Phi(b_i) - Phi(a_i): the kernel
encloses it in arb balls.  Leaves are disjoint up to their boundaries (a null set), so

    P(wrong) >= mass(W leaves)  and  P(right) >= mass(R leaves),

i.e. the error lies in [mass(W), 1 - mass(R)], whatever the U leaves and the outside of the cube hold.

Positive homogeneity: the network has no biases, so at an integer grid point k the pre-activations are a
positive multiple of those at k / denominator, and every sign (pattern, argmax) is the same; the kernel
therefore evaluates the integer boxes as they are.  No solver is trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .certificate import MAX_DIM, MAX_INDEX, Subject
from .claim import Work, method_is, rule, subject
from .read import boolean, obj, qmat, rat, small_int, string
from .measure import arb_module, bounds
from .work import check_deadline, local_count, mapper
from .model import TASK_RANK, argmax_first, forward
from .rules import Reject, Unreadable

MAX_TREE_TOKENS = 1 << 23  # 8.4 million nodes


# ---- reading ----------------------------------------------------------------------------------------

_TOP_V5 = ("format", "version", "generator", "claim", "checkpoint", "model", "task", "method", "grid", "tree",
           "counts", "error", "accuracy")
MAX_TREE_CHARS = 1 << 28


@dataclass(frozen=True)
class BoxCertificate(Subject):
    """Version 5: the exact weights, the grid, the tree of boxes (preorder text) and the claimed interval."""

    W_hi: tuple
    W_hh: tuple
    W_oh: tuple
    denominator: int  # a grid point k is x = k / denominator
    radius: int  # the tree splits [-radius, radius]^n (grid units)
    tree: str
    counts: tuple  # (right, wrong, undecided) leaves
    error: tuple  # (lower, upper)
    rigorous: bool
    accuracy: tuple  # (lower, upper)


def read(doc) -> BoxCertificate:
    """A version-5 certificate as named parts; Reject (json, rational, schema) on a malformed one."""
    obj(doc, "certificate", _TOP_V5)
    mo = obj(doc["model"], "model", ("family", "hidden_size", "seq_len", "W_hi", "W_hh", "W_oh", "weights_sha256"))
    d = small_int(mo["hidden_size"], "model.hidden_size", 1, MAX_DIM)
    n = small_int(mo["seq_len"], "model.seq_len", 2, 64)
    ck = obj(doc["checkpoint"], "checkpoint", ("name", "sha256"))
    grid = obj(doc["grid"], "grid", ("denominator", "radius"))
    cnt = obj(doc["counts"], "counts", ("right", "wrong", "undecided"))
    err = obj(doc["error"], "error", ("lower", "upper", "rigorous"))
    acc = obj(doc["accuracy"], "accuracy", ("lower", "upper"))
    tree = string(doc["tree"], "tree")
    if len(tree) > MAX_TREE_CHARS:
        raise Unreadable(f"the tree has {len(tree)} characters, more than this kernel reads ({MAX_TREE_CHARS})")
    den = rat(grid["denominator"], "grid.denominator")
    rad = rat(grid["radius"], "grid.radius")
    if den.denominator != 1 or den < 1 or rad.denominator != 1:
        raise Reject("schema", "grid.denominator and grid.radius are integers, the denominator positive")
    return BoxCertificate(
        version=5, method=string(doc["method"], "method"), task=string(doc["task"], "task"),
        family=string(mo["family"], "model.family"), d=d, n=n,
        weights_text={k: mo[k] for k in ("W_hi", "W_hh", "W_oh")},
        weights_sha256=string(mo["weights_sha256"], "model.weights_sha256"),
        W_hi=qmat(mo["W_hi"], "W_hi", d, 1), W_hh=qmat(mo["W_hh"], "W_hh", d, d), W_oh=qmat(mo["W_oh"], "W_oh", None, d),
        checkpoint_name=string(ck["name"], "checkpoint.name"), checkpoint_sha256=string(ck["sha256"], "checkpoint.sha256"),
        denominator=int(den), radius=int(rad), tree=tree,
        counts=tuple(small_int(cnt[k], f"counts.{k}", 0, MAX_INDEX) for k in ("right", "wrong", "undecided")),
        error=(rat(err["lower"], "error.lower"), rat(err["upper"], "error.upper")),
        rigorous=boolean(err["rigorous"], "error.rigorous"),
        accuracy=(rat(acc["lower"], "accuracy.lower"), rat(acc["upper"], "accuracy.upper")))



@rule("box-tree")
def box_tree(c: BoxCertificate, w: Work):
    """The tree, read in preorder, splits the cube [-radius, radius]^n: a token 'i:v' cuts coordinate i of its box
    at the integer v strictly inside the box's interval into [a_i, v] (the next subtree) and [v, b_i] (the one
    after); a leaf is R (right), W (wrong) or U (undecided); every token is used and counts are the numbers of
    R, W and U leaves."""
    n, r = c.n, c.radius
    if r < 1:
        raise Reject("box-tree", "grid.radius must be a positive integer")
    tokens = c.tree.split(" ")
    if len(tokens) > MAX_TREE_TOKENS:
        raise Reject("box-tree", f"the tree has {len(tokens)} nodes, more than this kernel reads ({MAX_TREE_TOKENS})")
    leaves = []
    # a stack of boxes still to be read, each (lo, hi) tuples; the next token describes the top one
    stack = [(tuple([-r] * n), tuple([r] * n))]
    pos = 0
    while stack:
        if pos >= len(tokens):
            raise Reject("box-tree", "the tree ends before every box is described")
        lo, hi = stack.pop()
        tok = tokens[pos]
        pos += 1
        if tok in ("R", "W", "U"):
            leaves.append((lo, hi, tok))
            continue
        i, sep, v = tok.partition(":")
        if not sep or _NAT.fullmatch(i) is None or _INT.fullmatch(v) is None:
            raise Reject("box-tree", f"node {pos - 1}: {tok[:40]!r} is neither a leaf (R, W, U) nor a cut 'i:v'")
        i, v = int(i), int(v)
        if i >= n or not lo[i] < v < hi[i]:
            raise Reject("box-tree", f"node {pos - 1}: the cut {tok[:40]} is not strictly inside its box")
        left_hi = hi[:i] + (v,) + hi[i + 1:]
        right_lo = lo[:i] + (v,) + lo[i + 1:]
        stack.append((right_lo, hi))  # read after the left subtree
        stack.append((lo, left_hi))
    if pos != len(tokens):
        raise Reject("box-tree", f"{len(tokens) - pos} tokens after the tree is complete")
    got = tuple(sum(1 for _, _, f in leaves if f == k) for k in ("R", "W", "U"))
    if got != c.counts:
        raise Reject("box-tree", f"counts (right, wrong, undecided) are {c.counts}, the tree has {got}")
    w.shapes = leaves


_NAT = re.compile(r"0|[1-9][0-9]{0,8}")  # a coordinate index, canonical ASCII digits
_INT = re.compile(r"0|-?[1-9][0-9]{0,299}")  # a grid value, canonical ASCII digits (no -0, no leading zeros)


def box_target(task: str, n: int, lo, hi):
    """The position k whose interval has exactly `rank` intervals at or above it and the other n - 1 - rank at
    or below it (so off a null set of ties the target is k on the whole box), or None."""
    rank = TASK_RANK[task](n)
    for k in range(n):
        above = sum(1 for i in range(n) if i != k and lo[i] >= hi[k])
        below = sum(1 for i in range(n) if i != k and hi[i] <= lo[k])
        if above == rank and below == n - 1 - rank:
            return k
    return None


def _span(row, lo, hi):
    """(min, max) of the integer linear form `row` over the box [lo, hi] (exact)."""
    mn = mx = 0
    for r, a, b in zip(row, lo, hi):
        if r > 0:
            mn += r * a
            mx += r * b
        elif r < 0:
            mn += r * b
            mx += r * a
    return mn, mx


def box_prediction(m, lo, hi):
    """torch's argmax on the whole closed box [lo, hi] (integer corners), proved by symbolic interval propagation,
    or None where the propagation cannot prove one.

    Invariant: every hidden state satisfies A_i . x + el_i <= h_i <= A_i . x + eu_i for all x in the box, A_i an
    integer row (None: zero), el_i <= eu_i integers.  A pre-activation P_i = sum_j Hn_ij h_j + c^t In_i x_t is
    then within row_i . x + [sum Hn+ el + Hn- eu, sum Hn+ eu + Hn- el]; over the box it lies in [l_i, u_i].
    l_i >= 0: ReLU(P_i) = P_i (the bounds carry over); u_i <= 0: h_i = 0; otherwise 0 <= h_i <= u_i (A_i = 0,
    [0, u_i]).  At the end each logit difference D_j = l_c - l_j = g . h is bounded below the same way, and the
    box is decided as c when D_j > 0 for j < c and D_j >= 0 for j > c (torch's first index on ties); c is the
    argmax at the corner lo (a point of the box, so no other position can satisfy the conditions)."""
    n, d = m.n, m.d
    A = [None] * d
    el = [0] * d
    eu = [0] * d
    for t in range(n):
        s = m.c ** t
        nA, nel, neu = [None] * d, [0] * d, [0] * d
        live = [j for j in range(d) if A[j] is not None or el[j] or eu[j]]
        for i in range(d):
            hrow = m.Hn[i]
            row = [0] * (t + 1)
            lo_e = hi_e = 0
            for j in live:
                wgt = hrow[j]
                if not wgt:
                    continue
                Aj = A[j]
                if Aj is not None:
                    for k in range(t):
                        row[k] += wgt * Aj[k]
                if wgt > 0:
                    lo_e += wgt * el[j]
                    hi_e += wgt * eu[j]
                else:
                    lo_e += wgt * eu[j]
                    hi_e += wgt * el[j]
            row[t] += s * m.In[i]
            mn, mx = _span(row, lo, hi)
            low, up = mn + lo_e, mx + hi_e
            if low >= 0:
                nA[i] = row + [0] * (n - t - 1) if any(row) else None
                nel[i], neu[i] = lo_e, hi_e
            elif up > 0:
                neu[i] = up
        A, el, eu = nA, nel, neu
    _, logits = forward(m, lo)
    c = argmax_first(logits)
    On = m.On
    for j in range(len(On)):
        if j == c:
            continue
        low = 0
        row = [0] * n
        for i in range(d):
            g = On[c][i] - On[j][i]
            if not g:
                continue
            if A[i] is not None:
                Ai = A[i]
                for k in range(n):
                    row[k] += g * Ai[k]
            low += g * (el[i] if g > 0 else eu[i])
        low += _span(row, lo, hi)[0]
        if low < 0 or (low == 0 and j < c):
            return None
    return c


@rule("box-label")
def box_label(c: BoxCertificate, w: Work):
    """On every leaf marked R or W, some position k has exactly r of the other intervals at or above its own
    (a_i >= b_k) and the other n - 1 - r at or below it (b_i <= a_k), r the task's rank (0 argmax, 1 2nd
    argmax, (n - 1) / 2 argmedian): off a null set of ties the task's target is k on the whole box."""
    targets = []
    for idx, (lo, hi, flag) in enumerate(w.shapes):
        if flag == "U":
            targets.append(None)
            continue
        if idx % 256 == 0:
            check_deadline(w.deadline)
        k = box_target(c.task, c.n, lo, hi)
        if k is None:
            raise Reject("box-label", f"leaf {idx} is marked {flag}, but the order of its intervals leaves the "
                         "task's target open")
        targets.append(k)
    w.roots = targets


def _prediction_failure(m, leaves):
    """The first (index, message) among leaves [(idx, lo, hi, flag, target), ...] whose flag the propagation does
    not prove, or None."""
    for idx, lo, hi, flag, k in leaves:
        p = box_prediction(m, lo, hi)
        if p is None:
            return idx, (f"leaf {idx} is marked {flag}, but the propagation does not prove one argmax on its box")
        if (p != k) != (flag == "W"):
            return idx, f"leaf {idx} is marked {flag}, but the argmax is {p} and the target {k}"
    return None


def _prediction_share(args):
    m, leaves = args
    return _prediction_failure(m, leaves)


SPREAD_MIN_LEAVES = 2000  # below this, starting processes costs more than it saves


@rule("box-prediction")
def box_prediction_rule(c: BoxCertificate, w: Work):
    """On every leaf marked R or W the kernel's exact symbolic interval propagation (integer linear forms in x for
    neurons active on the whole box, constant intervals [0, u] for the others that may be active) proves, on the
    whole closed box, l_c - l_j > 0 for j < c and >= 0 for j > c, where c is torch's argmax at the box's lower
    corner; the leaf is W exactly when c differs from the target.  With several workers the leaves are checked in
    contiguous shares and the failure with the lowest leaf index is reported, as one process would."""
    leaves = [(idx, lo, hi, flag, k) for idx, ((lo, hi, flag), k) in enumerate(zip(w.shapes, w.roots)) if flag != "U"]
    spread = hasattr(w.workers, "map") or (isinstance(w.workers, int) and w.workers > 1)
    if spread and len(leaves) >= SPREAD_MIN_LEAVES:
        import contextlib

        parts = 8 * local_count(w.workers)
        bounds_ = [len(leaves) * i // parts for i in range(parts + 1)]
        tasks = [(w.m, leaves[a:b]) for a, b in zip(bounds_, bounds_[1:]) if a < b]
        with contextlib.ExitStack() as stack:
            results = []
            for r in mapper(w.workers, stack).map(_prediction_share, tasks):
                results.append(r)
                if r is not None:
                    break  # shares come back in order: this is the lowest failing leaf
                check_deadline(w.deadline)
        failure = next((r for r in results if r is not None), None)
    else:
        failure = None
        for at in range(0, len(leaves), 64):
            check_deadline(w.deadline)
            failure = _prediction_failure(w.m, leaves[at:at + 64])
            if failure is not None:
                break
    if failure is not None:
        raise Reject("box-prediction", failure[1])


def box_masses(denominator: int, leaves, prec: int, deadline=None):
    """Balls of the Gaussian masses of the W and of the R leaves: sums of products of Phi(b_i) - Phi(a_i), with
    Phi(k / denominator) = erfc(-k / (denominator sqrt 2)) / 2 evaluated once per grid point."""
    flint = arb_module()
    cache = {}
    with flint.ctx.workprec(prec):
        den = flint.arb(denominator)
        root2 = flint.arb(2).sqrt()

        def phi(k):
            got = cache.get(k)
            if got is None:
                got = cache[k] = (-(flint.arb(k) / den) / root2).erfc() / 2
            return got

        tot = {"W": flint.arb(0), "R": flint.arb(0)}
        for idx, (lo, hi, flag) in enumerate(leaves):
            if flag == "U":
                continue
            if idx % 1024 == 0:
                check_deadline(deadline)
            p = flint.arb(1)
            for a, b in zip(lo, hi):
                p *= phi(b) - phi(a)
            tot[flag] += p
        return tot["W"], tot["R"]


@rule("box-mass")
def box_mass(c: BoxCertificate, w: Work):
    """The certificate calls its interval rigorous, error.lower <= error.upper, error.lower is at most the kernel's
    lower bound on the Gaussian mass of the W leaves, and error.upper at least 1 minus its lower bound on the
    mass of the R leaves (arb balls; each box's mass is the product of Phi(b_i) - Phi(a_i))."""
    if c.rigorous is not True:
        raise Reject("box-mass", "this certificate's interval must be rigorous")
    lo, hi = c.error
    if lo > hi:
        raise Reject("box-mass", "error.lower > error.upper")
    prec = 128
    while True:
        wb, rb = box_masses(c.denominator, w.shapes, prec, w.deadline)
        wlo, whi = bounds(wb)
        rlo, rhi = bounds(rb)
        if lo <= wlo and hi >= 1 - rlo:
            return
        if lo > whi or hi < 1 - rhi:
            raise Reject("box-mass", "the interval claims more than the masses of the decided leaves prove")
        if prec >= 1024:
            raise Reject("box-mass", "the interval is narrower than the kernel can confirm")
        prec *= 2


@rule("accuracy")
def accuracy(c: BoxCertificate, w: Work):
    """accuracy.lower = 1 - error.upper and accuracy.upper = 1 - error.lower, exactly."""
    if c.accuracy != (1 - c.error[1], 1 - c.error[0]):
        raise Reject("accuracy", "accuracy is not exactly 1 - error")


@rule("method")
def method(c: BoxCertificate, w: Work):
    """Version 5 uses method 'boxes' (any seq_len)."""
    method_is(c, 5, "boxes")


def summary(c: BoxCertificate) -> dict:
    """A version-5 verdict's summary: an interval from the decided leaves."""
    q = lambda x: str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"  # noqa: E731
    right, wrong, undecided = c.counts
    return {"method": c.method, "task": c.task, "hidden_size": c.d, "seq_len": c.n, "regions": right + wrong,
            "error_lower": q(c.error[0]), "error_upper": q(c.error[1]),
            "closed_form": f"[mass of {wrong} wrong boxes, 1 - mass of {right} right boxes] ({undecided} undecided)",
            "boxes": right + wrong + undecided, "undecided": undecided}


RULES_V5 = subject(method) + (box_tree, box_label, box_prediction_rule, box_mass, accuracy)
