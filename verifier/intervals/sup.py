"""The tail proof of a partial median certificate: boxes of directions on the faces of the cube on which
|model - median| <= S |x| holds (the kernel's rule tail, kernel/tail.py, states and checks it).

A float64 search proposes (symbolic interval propagation with the triangle relaxation, many boxes at once, as
benchmarks/mse_faces_prototype.py measured it); the kernel's exact `leaf_holds` confirms every leaf before it is
written (on the workers, in fixed chunks, in order), and a leaf the exact bound does not confirm is split
further.  S is chosen from a seeded sample of directions: the sampled sup of |r(x)| / |x| times a factor, the
factor raised when the boxes would pass their budget.  The result is a function of the model and the arguments
only (the same for any number of workers).
"""

from __future__ import annotations

import contextlib
from fractions import Fraction

FACE_BITS = 20  # face coordinates k / 2^20
SAMPLES = 1 << 18  # directions sampled for the sup (an estimate: S is then proved)
FACTORS = (1.26, 1.6, 2.0, 2.6)  # S = factor x the sampled sup, tried in turn
CONFIRM_CHUNK = 512  # leaves per exact-confirmation task


def _float_weights(lm):
    W_hi, W_hh, W_oh = lm.float_arrays()
    return W_hi[:, 0], W_hh, W_oh[0]


def sampled_sup(lm, samples: int = SAMPLES, seed: int = 0) -> float:
    """The largest |r(x)| / |x| over `samples` seeded Gaussian inputs (float64; an estimate from below)."""
    import numpy as np

    wi, Wh, wo = _float_weights(lm)
    n = lm.seq_len
    x = np.random.default_rng(seed).standard_normal((samples, n))
    h = np.zeros((samples, len(wi)))
    for t in range(n):
        h = np.maximum(h @ Wh.T + np.outer(x[:, t], wi), 0)
    s = np.sort(x, 1)
    med = s[:, (n - 1) // 2] if n % 2 else (s[:, n // 2 - 1] + s[:, n // 2]) / 2
    return float((np.abs(h @ wo - med) / np.linalg.norm(x, axis=1)).max())


def _propagate(W, lo, hi):
    """Float64 symbolic propagation with the triangle relaxation on boxes (B x n): the output within
    A . u + [el, eu], and each coordinate's influence through unstable units (to choose the cut)."""
    import numpy as np

    wi, Wh, wo = W
    B, n = lo.shape
    d = Wh.shape[0]
    Whp, Whn = np.maximum(Wh, 0), np.minimum(Wh, 0)
    A, el, eu = np.zeros((B, d, n)), np.zeros((B, d)), np.zeros((B, d))
    cen, rad = (lo + hi) / 2, (hi - lo) / 2
    infl = np.zeros((B, n))
    for t in range(n):
        Ap = np.matmul(Wh, A)
        Ap[:, :, t] += wi
        elp, eup = el @ Whp.T + eu @ Whn.T, eu @ Whp.T + el @ Whn.T
        c = np.matmul(Ap, cen[:, :, None])[..., 0]
        r = np.matmul(np.abs(Ap), rad[:, :, None])[..., 0]
        low, up = c - r + elp, c + r + eup
        act, off = low >= 0, up <= 0
        un = ~act & ~off
        sp = np.abs(Ap) * rad[:, None, :]
        infl += (sp / (sp.sum(2, keepdims=True) + 1e-300) * (un * up)[:, :, None]).sum(1)
        with np.errstate(all="ignore"):
            lam = np.where(un, up / (up - low), act * 1.0)
        A, el, eu = Ap * lam[:, :, None], lam * elp, lam * eup + np.where(un, -lam * low, 0.0)
    wp, wn = np.maximum(wo, 0), np.minimum(wo, 0)
    return np.einsum("j,bjk->bk", wo, A), el @ wp + eu @ wn, eu @ wp + el @ wn, infl


def _ratio(W, lo, hi):
    """Float estimate of each box's bound of |r(u)| / min |u| over the box, and a score per coordinate for the cut."""
    import numpy as np

    B, n = lo.shape
    Af, flo, fhi, infl = _propagate(W, lo, hi)
    above = (lo[:, None, :] >= hi[:, :, None]).sum(2)
    below = (hi[:, None, :] <= lo[:, :, None]).sum(2)
    kt = (n - 1) // 2
    top, bot = below >= n - kt, above >= n - kt
    fixed = (top.sum(1) == kt) & (bot.sum(1) == kt)
    middle = ~top & ~bot
    A = Af.copy()
    A[fixed] -= middle[fixed] / (n - 2 * kt)
    s = np.sort(lo, 1), np.sort(hi, 1)
    med_lo = s[0][:, kt] if n % 2 else (s[0][:, n // 2 - 1] + s[0][:, n // 2]) / 2
    med_hi = s[1][:, kt] if n % 2 else (s[1][:, n // 2 - 1] + s[1][:, n // 2]) / 2
    alo, ahi = flo - np.where(fixed, 0, med_hi), fhi - np.where(fixed, 0, med_lo)
    cen, rad = (lo + hi) / 2, (hi - lo) / 2
    c, r = (A * cen).sum(1), (np.abs(A) * rad).sum(1)
    v2 = np.where((lo <= 0) & (hi >= 0), 0, np.minimum(lo ** 2, hi ** 2)).sum(1)
    ratio = np.maximum(np.abs(c - r + alo), np.abs(c + r + ahi)) / np.sqrt(v2)
    amb = np.where(~fixed[:, None], middle * 1.0, 0.0)
    return ratio, (infl + 3 * amb + 1e-9) * (hi - lo)


def _confirm(args):
    from ..kernel.tail import leaf_holds

    m, bound, boxes = args
    return [leaf_holds(m, bound, lo, hi) for lo, hi in boxes]


def prove(lm, S2: Fraction, max_boxes: int, workers=1, deadline=None):
    """Face trees proving |r(x)| <= S |x| (S^2 = `S2`), or None when they would pass `max_boxes` leaves: (den,
    [tree text per face], leaves)."""
    import numpy as np

    from ..errors import past
    from ..kernel.model import Model
    from ..kernel.tail import remember_holds
    from ..kernel.work import mapper

    rnn, n = lm.rnn, lm.seq_len
    m = Model.of(rnn.W_hi, rnn.W_hh, rnn.W_oh, n)
    W = _float_weights(lm)
    den = 1 << FACE_BITS
    S = float(S2) ** 0.5 * (1 - 1e-6)
    # node table: node -> None (leaf) or (i, v, left, right); boxes as integer tuples
    kids: list = []
    todo = []
    roots = []
    for j in range(n):
        for s in (1, -1):
            lo = tuple(s * den if i == j else -den for i in range(n))
            hi = tuple(s * den if i == j else den for i in range(n))
            roots.append(len(kids))
            todo.append((len(kids), j, lo, hi))
            kids.append(None)
    leaves = 0
    with contextlib.ExitStack() as stack:
        pool = mapper(workers, stack)
        while todo:
            past(deadline, "the tail's face boxes")
            batch, todo = todo[:1 << 15], todo[1 << 15:]
            lo = np.array([b[2] for b in batch], dtype=float) / den
            hi = np.array([b[3] for b in batch], dtype=float) / den
            ratio, score = _ratio(W, lo, hi)
            good = [k for k in range(len(batch)) if ratio[k] <= S]
            boxes = [(batch[k][2], batch[k][3]) for k in good]
            chunks = [(m, S2, boxes[a:a + CONFIRM_CHUNK]) for a in range(0, len(boxes), CONFIRM_CHUNK)]
            held = set()
            for a, res in zip(range(0, len(boxes), CONFIRM_CHUNK), pool.map(_confirm, chunks)):
                held.update(good[a + i] for i, ok in enumerate(res) if ok)
            remember_holds(m, S2, [(batch[k][2], batch[k][3]) for k in sorted(held)])
            for k, (node, j, blo, bhi) in enumerate(batch):
                if k in held:
                    leaves += 1
                    continue
                sc = score[k].copy()
                sc[j] = -1
                for i in range(n):
                    if bhi[i] - blo[i] < 2:
                        sc[i] = -1
                i = int(sc.argmax())
                if sc[i] < 0:
                    return None  # a box at the grid's resolution that the bound does not hold on
                v = (blo[i] + bhi[i]) // 2
                left, right = len(kids), len(kids) + 1
                kids[node] = (i, v, left, right)
                kids.extend([None, None])
                todo.append((left, j, blo, bhi[:i] + (v,) + bhi[i + 1:]))
                todo.append((right, j, blo[:i] + (v,) + blo[i + 1:], bhi))
            if leaves + len(todo) > max_boxes:
                return None
    texts = []
    for r in roots:
        out, stack_ = [], [r]
        while stack_:
            node = stack_.pop()
            k = kids[node]
            if k is None:
                out.append("B")
                continue
            out.append(f"{k[0]}:{k[1]}")
            stack_.append(k[3])
            stack_.append(k[2])
        texts.append(" ".join(out))
    return den, texts, leaves


def tail_proof(lm, max_boxes: int, workers=1, deadline=None, progress=None):
    """(S^2, den, trees, leaves) for the smallest factor in FACTORS whose proof fits in `max_boxes` leaves, or
    None.  S^2 is (factor x the sampled sup)^2 rounded up to a multiple of 2^-20."""
    import math

    top = sampled_sup(lm)
    for f in FACTORS:
        S2 = Fraction(math.ceil((f * top) ** 2 * (1 << 20)), 1 << 20)
        if progress is not None:
            progress(f"tail: proving |model - median| <= {float(S2) ** 0.5:.4g} |x| (sampled sup {top:.4g})")
        got = prove(lm, S2, max_boxes, workers, deadline)
        if got is not None:
            return (S2, *got)
    return None
