"""The tail of a partial median certificate (version 3, coverage "partial"): a proof, by boxes of directions on
the faces of the cube, that the residual r = model - median satisfies |r(x)| <= S |x| for every x.

Why it bounds the cells not listed: r is positively homogeneous (no biases; the median is too), and under
x ~ N(0, I_n) the radius |x| is independent of the direction x / |x| with E|x|^2 = n.  So for any union U of
cones (the cells not measured),

    E[r(x)^2 1_U(x)] = E|x|^2 . E[r(theta)^2 1_U(theta)] <= n S^2 P(U),    theta uniform on the sphere,

and P(U) = 1 - P(listed cells) <= 1 - (the sum of their measures' lower bounds): the MSE lies in
[sum of the listed cells' second moments, that sum + n S^2 (1 - their mass)].

The proof.  Every direction theta != 0 meets a face of [-D, D]^n: j = argmax |theta_i| and u = D theta /
|theta_j| has u_j = sign(theta_j) D.  The certificate gives, per face (j, s) in the order (0, +), (0, -), (1, +),
..., a binary tree of axis cuts of [-D, D]^n with coordinate j held at s D (the same preorder text as version 5,
leaves 'B'); on each leaf box [lo, hi] (integer corners) the kernel proves R_lo <= K r(u) <= R_hi (K > 0 the
integer scale of the exact output below) and

    max(R_lo^2, R_hi^2) <= S^2 K^2 sum_i min over the box of u_i^2.

Then for theta = lam u (lam > 0) in the cone over the box, r(theta)^2 = lam^2 r(u)^2 <= lam^2 S^2 |u|^2 =
S^2 |theta|^2.  S^2 is the certificate's rational `bound`.

The box bound.  Symbolic interval propagation in exact integers: every hidden unit is bounded by
A . u + el <= h <= A . u + eu on the box.  A unit whose pre-activation z lies in [l, u] with l < 0 < u takes
the triangle relaxation lam z <= ReLU(z) <= lam (z - l) for any lam in [u / (u - l), 1]; the kernel uses
lam = ceil(2^B u / (u - l)) / 2^B capped at 1 and scales every unit of the step by 2^B, so the forms stay
integer.  The median is monotone in each coordinate: on the box it lies in [median(lo), median(hi)], and where
the box fixes which coordinates are the middle one(s) (version 5's order test) it equals them exactly, a
linear form subtracted before the span is taken.
"""

from __future__ import annotations

from fractions import Fraction

from .boxes import MAX_TREE_TOKENS, _INT, _NAT, _span
from .claim import Work, rule
from .model import Model
from .rules import Reject
from .work import check_deadline, local_count, mapper

RELAX_BITS = 16  # lam = ceil(2^16 u / (u - l)) / 2^16: within 2^-16 of the triangle's chord
SPREAD_MIN_LEAVES = 2000  # below this, starting processes costs more than it saves


def face_leaves(n: int, den: int, j: int, s: int, tree: str, where: str) -> list:
    """The leaf boxes (lo, hi) of one face's tree: cuts 'i:v' (i != j, v strictly inside), leaves 'B', every token
    used."""
    tokens = tree.split(" ")
    if len(tokens) > MAX_TREE_TOKENS:
        raise Reject("tail", f"{where}: {len(tokens)} nodes, more than this kernel reads ({MAX_TREE_TOKENS})")
    lo0 = tuple(s * den if i == j else -den for i in range(n))
    hi0 = tuple(s * den if i == j else den for i in range(n))
    stack, leaves, pos = [(lo0, hi0)], [], 0
    while stack:
        if pos >= len(tokens):
            raise Reject("tail", f"{where}: the tree ends before every box is described")
        lo, hi = stack.pop()
        tok = tokens[pos]
        pos += 1
        if tok == "B":
            leaves.append((lo, hi))
            continue
        i, sep, v = tok.partition(":")
        if not sep or _NAT.fullmatch(i) is None or _INT.fullmatch(v) is None:
            raise Reject("tail", f"{where}, node {pos - 1}: {tok[:40]!r} is neither a leaf B nor a cut 'i:v'")
        i, v = int(i), int(v)
        if i >= n or i == j or not lo[i] < v < hi[i]:
            raise Reject("tail", f"{where}, node {pos - 1}: the cut {tok[:40]} is not strictly inside its box on a "
                         "free coordinate")
        stack.append((lo[:i] + (v,) + lo[i + 1:], hi))
        stack.append((lo, hi[:i] + (v,) + hi[i + 1:]))
    if pos != len(tokens):
        raise Reject("tail", f"{where}: {len(tokens) - pos} tokens after the tree is complete")
    return leaves


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def output_scale(m: Model) -> int:
    """K / 2^(B n): the output form's scale before the relaxation's factors (co c^n)."""
    import math

    co = 1
    for row in m.W_oh:
        for v in row:
            co = math.lcm(co, v.denominator)
    return co * m.c ** m.n


def _middle(n: int, lo, hi):
    """The positions of the middle value(s) (one for odd n, two for even) when the box fixes them (each has the
    right number of the other intervals at or above and at or below it), else None."""
    ranks = [(n - 1) // 2] if n % 2 else [n // 2 - 1, n // 2]
    out = []
    for rank in ranks:
        for k in range(n):
            above = sum(1 for i in range(n) if i != k and lo[i] >= hi[k])
            below = sum(1 for i in range(n) if i != k and hi[i] <= lo[k])
            if above == rank and below == n - 1 - rank:
                out.append(k)
                break
        else:
            return None
    return out


def _median(v) -> Fraction:
    s = sorted(v)
    n = len(s)
    return Fraction(s[(n - 1) // 2]) if n % 2 else Fraction(s[n // 2 - 1] + s[n // 2], 2)


def residual_bounds(m: Model, lo, hi) -> tuple:
    """(R_lo, R_hi, K): K r(u) lies in [R_lo, R_hi] for every u in the closed box [lo, hi] (integer corners), K > 0
    the scale co c^n 2^(B n) (exact rationals; see the module's docstring)."""
    n, d = m.n, m.d
    A = [None] * d
    el = [0] * d
    eu = [0] * d
    g = 1  # the relaxation's scale so far: 2^(B t)
    one = 1 << RELAX_BITS
    for t in range(n):
        s = m.c ** t * g
        nA, nel, neu = [None] * d, [0] * d, [0] * d
        live = [j for j in range(d) if A[j] is not None or el[j] or eu[j]]
        for i in range(d):
            hrow = m.Hn[i]
            row = [0] * n
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
                lam = one
            elif up <= 0:
                continue
            else:
                lam = min(one, _ceil_div(up * one, up - low))
            nA[i] = [lam * r for r in row] if any(row) else None
            nel[i] = lam * lo_e
            neu[i] = lam * (hi_e - low) if low < 0 else lam * hi_e
        A, el, eu = nA, nel, neu
        g *= one
    K = output_scale(m) * g
    out = m.On[0]
    row = [0] * n
    lo_e = hi_e = 0
    for i in range(d):
        wgt = out[i]
        if not wgt:
            continue
        if A[i] is not None:
            for k in range(n):
                row[k] += wgt * A[i][k]
        if wgt > 0:
            lo_e += wgt * el[i]
            hi_e += wgt * eu[i]
        else:
            lo_e += wgt * eu[i]
            hi_e += wgt * el[i]
    mid = _middle(n, lo, hi)
    if mid is not None:  # the median is the mean of the middle coordinate(s): subtract it from the form
        row2 = [2 * r for r in row]
        for k in mid:
            row2[k] -= 2 * K // len(mid)
        mn, mx = _span(row2, lo, hi)
        return Fraction(mn + 2 * lo_e, 2), Fraction(mx + 2 * hi_e, 2), K
    mn, mx = _span(row, lo, hi)
    return mn + lo_e - K * _median(hi), mx + hi_e - K * _median(lo), K


def leaf_holds(m: Model, bound: Fraction, lo, hi) -> bool:
    """Whether max(R_lo^2, R_hi^2) <= S^2 K^2 sum_i min over the box of u_i^2 on the box [lo, hi]."""
    rl, rh, K = residual_bounds(m, lo, hi)
    v2 = sum(0 if a <= 0 <= b else min(a * a, b * b) for a, b in zip(lo, hi))
    return max(rl * rl, rh * rh) <= bound * K * K * v2


_HOLDS: dict = {}  # (model's integer weights, S^2) -> set of boxes (lo, hi) on which leaf_holds was True here


def _held(m: Model, bound: Fraction) -> set:
    key = (m.In, m.Hn, m.On, m.c, m.n, bound)
    got = _HOLDS.get(key)
    if got is None:
        _HOLDS.clear()  # one model and bound at a time
        got = _HOLDS[key] = set()
    return got


def remember_holds(m: Model, bound: Fraction, boxes) -> None:
    """Record boxes on which leaf_holds(m, bound, lo, hi) was computed True (by this kernel code, here or on this
    process's workers): a pure function's values, kept per process like the measures' memos (kernel/work.py), so
    the generator's built-in self-check need not recompute them; `check` in a fresh process computes every one."""
    _held(m, bound).update((tuple(lo), tuple(hi)) for lo, hi in boxes)


def _failure(args):
    m, bound, leaves = args
    for idx, where, lo, hi in leaves:
        if not leaf_holds(m, bound, lo, hi):
            return f"{where}: leaf {idx}: the propagation does not prove |model - median| <= S |x| on its box"
    return None


@rule("tail")
def tail(c, w: Work):
    """A partial median certificate's tail: the 2n face trees cover the faces of [-D, D]^n, and on every leaf box
    the exact propagation proves |r(u)| <= S |u| (module docstring), so E[r^2 1_U] <= n S^2 P(U) for the cells
    U not listed.  With several workers the leaves are checked in contiguous shares, the first failure reported
    as one process would."""
    bound, den, trees = c.tail
    if bound < 0:
        raise Reject("tail", "tail.bound (S^2) is negative")
    n = c.n
    leaves = []
    for f, tree in enumerate(trees):
        j, s = f // 2, 1 if f % 2 == 0 else -1
        where = f"tail.faces[{f}]"
        leaves.extend((idx, where, lo, hi) for idx, (lo, hi) in enumerate(face_leaves(n, den, j, s, tree, where)))
    held = _held(w.m, bound)
    leaves = [leaf for leaf in leaves if (leaf[2], leaf[3]) not in held]  # computed True in this process already
    spread = hasattr(w.workers, "map") or (isinstance(w.workers, int) and w.workers > 1)
    failure = None
    if spread and len(leaves) >= SPREAD_MIN_LEAVES:
        import contextlib

        parts = 8 * local_count(w.workers)
        cut = [len(leaves) * i // parts for i in range(parts + 1)]
        tasks = [(w.m, bound, leaves[a:b]) for a, b in zip(cut, cut[1:]) if a < b]
        with contextlib.ExitStack() as stack:
            for r in mapper(w.workers, stack).map(_failure, tasks):
                check_deadline(w.deadline)
                if r is not None:
                    failure = r
                    break
    else:
        for at in range(0, len(leaves), 64):
            check_deadline(w.deadline)
            failure = _failure((w.m, bound, leaves[at:at + 64]))
            if failure is not None:
                break
    if failure is not None:
        raise Reject("tail", failure)
    w.tail_bound = bound
    w.tail_leaves = len(leaves)
