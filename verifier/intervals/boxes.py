"""Boxes (certificate version 5): an anytime certified interval for a position-task RNN of any seq_len.

Branch and bound over axis-aligned boxes of the cube [-8, 8]^n on an integer grid (x = k / 2^16).  A float64
search (numpy, a heuristic only) bounds the network on many boxes at once by symbolic interval propagation and
proposes the boxes it thinks decided; each proposal is confirmed by the kernel's own exact integer functions
(`kernel.boxes.box_target`, `box_prediction`) before it becomes an R or W leaf; everything else stays U and is
split again (largest priority first; the coordinate whose unresolved order or influence on the undecided
bounds is largest, at its Gaussian median, rounded to the grid).  The interval
[mass(W), 1 - mass(R)] holds at every moment, so the search stops when it is at most `width` wide, after
`max_boxes` boxes, or at the deadline, and writes what it has.

Deterministic: the search runs in rounds of a fixed size in one process, and the exact confirmations (the
only part spread over workers) are pure functions returned in order; the certificate therefore depends on the
stop (width, boxes, time) and not on the number of workers.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

DENOMINATOR = 1 << 16  # grid: a point k is x = k / DENOMINATOR
RADIUS = 8 * DENOMINATOR  # the cube [-8, 8]^n (its outside, mass < 1.3e-15 n, is left undecided)
ALPHA = 2.0  # priority = mass * exp(-ALPHA * diameter / distance from 0): angularly small boxes first
CHUNK = 64  # exact confirmations per work unit


class _Float:
    """The float64 search's view of the model (a heuristic: nothing it says is trusted)."""

    def __init__(self, arrays, task: str):
        """arrays: W_hi, W_hh, W_oh as float64 (`LoadedModel.float_arrays`); one logit per position."""
        import numpy as np

        from ..kernel.model import TASK_RANK

        W_hi, self.Wh, self.Wo = arrays
        self.Wi = W_hi[:, 0]
        self.n, self.d = self.Wo.shape[0], self.Wh.shape[0]
        self.Whp, self.Whn = np.maximum(self.Wh, 0), np.minimum(self.Wh, 0)
        self.Wop, self.Won = np.maximum(self.Wo, 0), np.minimum(self.Wo, 0)
        self.rank = TASK_RANK[task](self.n)

    def bounds(self, lo, hi):
        """(candidate argmax, float-decided?, influence per coordinate, unstable units per step) for boxes lo, hi
        (B x n floats)."""
        import numpy as np

        n, d, B = self.n, self.d, lo.shape[0]
        A = np.zeros((B, d, n))
        el = np.zeros((B, d))
        eu = np.zeros((B, d))
        cen, rad = (lo + hi) / 2, (hi - lo) / 2
        infl = np.zeros((B, n))
        unstable = np.zeros((B, n), dtype=np.int64)  # per box and step: units neither on nor off
        for t in range(n):
            Ap = np.matmul(self.Wh, A)  # batched (B, d, n); einsum is ~8x slower here
            Ap[:, :, t] += self.Wi
            elp = el @ self.Whp.T + eu @ self.Whn.T
            eup = eu @ self.Whp.T + el @ self.Whn.T
            c = np.matmul(Ap, cen[:, :, None])[..., 0]
            r = np.matmul(np.abs(Ap), rad[:, :, None])[..., 0]
            low, up = c - r + elp, c + r + eup
            act, off = low >= 0, up <= 0
            un = ~act & ~off
            unstable[:, t] = un.sum(1)
            sp = np.abs(Ap) * rad[:, None, :]
            infl += (sp / (sp.sum(2, keepdims=True) + 1e-300) * un[:, :, None]).sum(1)
            A = Ap * act[:, :, None]
            el = np.where(act, elp, 0.0)
            eu = np.where(act, eup, np.where(un, up, 0.0))
        AL = np.matmul(self.Wo, A)
        elL = el @ self.Wop.T + eu @ self.Won.T
        euL = eu @ self.Wop.T + el @ self.Won.T
        cand = (np.matmul(AL, cen[:, :, None])[..., 0] + (elL + euL) / 2).argmax(1)
        ar = np.arange(B)
        Ad = AL[ar, cand][:, None, :] - AL
        low = (np.matmul(Ad, cen[:, :, None])[..., 0] - np.matmul(np.abs(Ad), rad[:, :, None])[..., 0]
               + elL[ar, cand][:, None] - euL)
        jj = np.arange(n)[None, :]
        before = jj < cand[:, None]
        low[ar, cand] = np.inf
        ok = np.where(before, low > 1e-9, low >= -1e-9)
        spd = np.abs(Ad) * rad[:, None, :]
        infl += (spd / (spd.sum(2, keepdims=True) + 1e-300) * ~ok[:, :, None]).sum(1)
        return cand, ok.all(1), infl, unstable

    @staticmethod
    def ranks(lo, hi):
        """Per box and coordinate i: how many intervals lie surely above i's, and how many surely below."""
        return (lo[:, None, :] >= hi[:, :, None]).sum(2), (hi[:, None, :] <= lo[:, :, None]).sum(2)

    def label_score(self, lo, hi):
        """Per coordinate, the number of still-relevant coordinates whose interval overlaps its own."""
        import numpy as np

        n = self.n
        above, below = self.ranks(lo, hi)
        rel = (above <= self.rank) & (below <= n - 1 - self.rank)
        ov = (lo[:, :, None] < hi[:, None, :]) & (lo[:, None, :] < hi[:, :, None]) & rel[:, :, None] & rel[:, None, :]
        ov &= ~np.eye(n, dtype=bool)[None]
        return ov.sum(2).astype(float)


def _fmass(lo, hi):
    """Float estimates of the Gaussian masses of boxes given in grid units (rows of lo, hi)."""
    import numpy as np
    from scipy.special import ndtr

    return np.prod(ndtr(hi / DENOMINATOR) - ndtr(lo / DENOMINATOR), axis=1)


def _priority(lo, hi, mass):
    """mass x exp(-ALPHA diameter / distance of the centre from 0): angularly small boxes first."""
    import numpy as np

    lo, hi = lo.astype(np.float64), hi.astype(np.float64)
    diam = np.sqrt(((hi - lo) ** 2).sum(1))
    dist = np.sqrt((((lo + hi) / 2) ** 2).sum(1)) + 1e-9
    return mass * np.exp(-ALPHA * diam / dist)


def undecided_breakdown(fl: _Float, lo, hi, batch: int = 20000) -> dict:
    """Where the undecided mass sits (float estimates, for the report): the open boxes' mass split into those
    whose target is still open (the target's rank has several candidates; 'above': one could also rank above
    it, 'below': ... below) and those whose target is known but whose argmax is not (with the mass-weighted
    mean number of unstable units per step, and the share with none: a decision boundary l_c = l_j crosses
    the box), plus the mass outside the cube."""
    import numpy as np
    from scipy.special import ndtr

    n, r = fl.n, fl.rank
    mass = _fmass(lo, hi)
    out = {"open_boxes": int(len(mass)), "open_mass": float(mass.sum()),
           "outside_cube": float(1 - (ndtr(RADIUS / DENOMINATOR) - ndtr(-RADIUS / DENOMINATOR)) ** n)}
    lab_above = lab_below = lab_both = 0.0
    pred = 0.0
    pred_linear = 0.0
    unst = np.zeros(n)
    side = 0.0
    for s in range(0, len(mass), batch):
        a, b, m = lo[s:s + batch].astype(np.float64), hi[s:s + batch].astype(np.float64), mass[s:s + batch]
        above, below = fl.ranks(a, b)
        minrank, maxrank = above, n - 1 - below
        cand = (minrank <= r) & (r <= maxrank)
        open_ = cand.sum(1) > 1
        up = (cand & (minrank < r)).any(1)
        down = (cand & (maxrank > r)).any(1)
        lab_both += float(m[open_ & up & down].sum())
        lab_above += float(m[open_ & up & ~down].sum())
        lab_below += float(m[open_ & ~up & down].sum())
        known = ~open_
        unstable = fl.bounds(a[known] / DENOMINATOR, b[known] / DENOMINATOR)[3]
        mk = m[known]
        pred += float(mk.sum())
        unst += (unstable * mk[:, None]).sum(0)
        pred_linear += float(mk[unstable.sum(1) == 0].sum())
        side += float((np.log2((b - a) / DENOMINATOR).mean(1) * m).sum())
    tot = max(out["open_mass"], 1e-300)
    out.update({"target_open_tie_above": lab_above / tot, "target_open_tie_below": lab_below / tot,
                "target_open_both": lab_both / tot, "argmax_open": pred / tot,
                "argmax_open_no_unstable_unit": pred_linear / tot,
                "unstable_units_per_step": [round(float(v / max(pred, 1e-300)), 2) for v in unst],
                "mean_log2_side": side / tot})
    return out


def _confirm(args):
    """A work unit: the kernel's exact verdict ('R', 'W' or None) on each box of a chunk."""
    from ..kernel.boxes import box_prediction, box_target

    (m, task), boxes = args
    n = m.n
    out = []
    for lo, hi in boxes:
        k = box_target(task, n, lo, hi)
        p = None if k is None else box_prediction(m, lo, hi)
        out.append(None if p is None else ("R" if p == k else "W"))
    return out


def search(lm, width: Fraction | None = None, deadline: float | None = None,
           max_boxes: int | None = None, workers=1, progress=None, breakdown: bool = False, start=None,
           save=None, save_every: float = 300.0):
    """Split boxes until the float estimate of the interval's width is at most `width`, `max_boxes` boxes were
    made, or `deadline` (time.monotonic()) passed.  `start`: the tree tokens of an earlier run (a version-5
    certificate's tree) to go on from, its U leaves open again.  Returns (tree tokens, stats)."""
    import contextlib

    import numpy as np
    from scipy.special import ndtr, ndtri

    from ..kernel.model import Model
    from ..kernel.work import mapper

    fl = _Float(lm.float_arrays(), lm.task)
    n = fl.n
    key = (Model.of(lm.rnn.W_hi, lm.rnn.W_hh, lm.rnn.W_oh, n), lm.task)
    # the tree so far: split (coord, value, left, right) per inner node, the flag of each decided leaf
    split, flag, leaves, nxt = _rebuild(start or ["U"], n)
    opened = [(node, lo, hi) for node, lo, hi, tok in leaves if tok == "U"]
    open_ids = np.array([i for i, _, _ in opened], dtype=np.int64)
    open_lo = np.array([lo for _, lo, _ in opened], dtype=np.int64).reshape(len(opened), n)
    open_hi = np.array([hi for _, _, hi in opened], dtype=np.int64).reshape(len(opened), n)
    open_inf = np.ones((len(opened), n))
    open_prio = _priority(open_lo, open_hi, _fmass(open_lo, open_hi))
    mass = {}
    for f in ("W", "R"):
        box = [(lo, hi) for _, lo, hi, tok in leaves if tok == f]
        mass[f] = float(_fmass(np.array([lo for lo, _ in box], dtype=np.float64).reshape(-1, n),
                               np.array([hi for _, hi in box], dtype=np.float64).reshape(-1, n)).sum())
    mass_w, mass_r = mass["W"], mass["R"]
    made = nxt
    rounds = 0
    t0 = time.monotonic()
    last = saved = t0
    stats = {"rounds": 0, "proposed": 0, "refuted": 0, "exhausted": 0, "trace": []}

    with contextlib.ExitStack() as stack:
        pool = mapper(workers, stack)
        while len(open_ids):
            if width is not None and 1 - mass_r - mass_w <= float(width) * 0.98:
                break
            if deadline is not None and time.monotonic() > deadline:
                break
            if max_boxes is not None and made >= max_boxes:
                break
            K = min(max(256, len(open_ids) // 4), 20000)
            if max_boxes is not None:
                K = max(1, min(K, (max_boxes - made) // 2))
            order = np.lexsort((open_ids, -open_prio))
            take, rest = order[:K], order[K:]
            plo, phi = open_lo[take], open_hi[take]
            # choose the coordinate: unresolved order first, else influence; only coordinates still splittable
            w = ndtr(phi / DENOMINATOR) - ndtr(plo / DENOMINATOR)
            ls = fl.label_score(plo.astype(np.float64), phi.astype(np.float64))
            score = np.where((ls.sum(1) > 0)[:, None], ls * w, open_inf[take] * w) + 1e-12 * w
            score[(phi - plo) < 2] = -1.0
            k = np.argmax(score, 1)
            rows = np.arange(len(take))
            can = score[rows, k] >= 0
            stats["exhausted"] += int((~can).sum())
            pl, ph = plo[rows, k].astype(np.float64), phi[rows, k].astype(np.float64)
            mid = ndtri((ndtr(pl / DENOMINATOR) + ndtr(ph / DENOMINATOR)) / 2) * DENOMINATOR
            mid = np.clip(np.round(np.nan_to_num(mid)), pl + 1, ph - 1).astype(np.int64)
            sel = rows[can]
            parents = open_ids[take][sel]
            clo = np.concatenate([plo[sel], plo[sel]])
            chi = np.concatenate([phi[sel], phi[sel]])
            h = len(sel)
            chi[np.arange(h), k[sel]] = mid[sel]
            clo[h + np.arange(h), k[sel]] = mid[sel]
            cids = np.empty(2 * h, dtype=np.int64)
            for i, p in enumerate(parents.tolist()):
                split[p] = (int(k[sel][i]), int(mid[sel][i]), nxt, nxt + 1)
                cids[i], cids[h + i] = nxt, nxt + 1
                nxt += 2
            made += 2 * h
            cand, dec, infl, _ = fl.bounds(clo.astype(np.float64) / DENOMINATOR, chi.astype(np.float64) / DENOMINATOR)
            lab = fl.label_score(clo.astype(np.float64), chi.astype(np.float64)).sum(1) == 0
            prop = np.nonzero(dec & lab)[0]
            stats["proposed"] += len(prop)
            boxes = [(tuple(clo[i].tolist()), tuple(chi[i].tolist())) for i in prop]
            chunks = [(key, boxes[i:i + CHUNK]) for i in range(0, len(boxes), CHUNK)]
            results = pool.map(_confirm, chunks)
            verdict = [v for chunk in results for v in chunk]
            keep = np.ones(2 * h, dtype=bool)
            cm = _fmass(clo, chi)
            for j, i in enumerate(prop.tolist()):
                v = verdict[j]
                if v is None:
                    stats["refuted"] += 1
                    continue
                flag[int(cids[i])] = v
                keep[i] = False
                if v == "W":
                    mass_w += cm[i]
                else:
                    mass_r += cm[i]
            # boxes that cannot be split (every interval one grid step) leave the open list: U for good
            open_ids = np.concatenate([open_ids[rest], cids[keep]])
            open_lo = np.concatenate([open_lo[rest], clo[keep]])
            open_hi = np.concatenate([open_hi[rest], chi[keep]])
            open_inf = np.concatenate([open_inf[rest], infl[keep]])
            open_prio = np.concatenate([open_prio[rest], _priority(clo[keep], chi[keep], cm[keep])])
            rounds += 1
            now = time.monotonic()
            if save is not None and now - saved >= save_every:
                save(_tokens(split, flag))
                saved = now = time.monotonic()
            stats["trace"].append((round(now - t0, 3), made, len(flag), mass_w, 1 - mass_r))
            if progress is not None and now - last >= 2:
                last = now
                progress(f"{now - t0:7.1f}s  {made:,} boxes  {len(flag):,} decided  interval ~[{mass_w:.6f}, "
                         f"{1 - mass_r:.6f}] width ~{1 - mass_r - mass_w:.6f}")
    stats["rounds"] = rounds
    stats["boxes"] = made
    if breakdown and len(open_ids):
        stats["undecided"] = undecided_breakdown(fl, open_lo, open_hi)
    stats["seconds"] = time.monotonic() - t0
    return _tokens(split, flag), stats


def _rebuild(tokens, n):
    """(split, flag, leaves as (id, lo, hi, token) in preorder, next id) of a tree given in preorder; node ids in
    preorder of the cuts, children of a cut numbered left then right (as the search numbers them)."""
    split, flag, leaves = {}, {}, []
    stack = [(0, tuple([-RADIUS] * n), tuple([RADIUS] * n))]
    nxt = 1
    for tok in tokens:
        node, lo, hi = stack.pop()
        if tok in ("R", "W", "U"):
            leaves.append((node, lo, hi, tok))
            if tok != "U":
                flag[node] = tok
            continue
        i, v = map(int, tok.split(":"))
        split[node] = (i, v, nxt, nxt + 1)
        stack.append((nxt + 1, lo[:i] + (v,) + lo[i + 1:], hi))
        stack.append((nxt, lo, hi[:i] + (v,) + hi[i + 1:]))
        nxt += 2
    return split, flag, leaves, nxt


def _tokens(split: dict, flag: dict) -> list[str]:
    """The tree in preorder, a subtree without a decided leaf written as one U."""
    useful: dict[int, bool] = {}
    # post-order without recursion
    stack = [(0, False)]
    while stack:
        node, done = stack.pop()
        if node not in split:
            useful[node] = node in flag
            continue
        _, _, a, b = split[node]
        if done:
            useful[node] = useful[a] or useful[b]
        else:
            stack.append((node, True))
            stack.append((a, False))
            stack.append((b, False))
    out = []
    stack = [0]
    while stack:
        node = stack.pop()
        if not useful.get(node):
            out.append(flag.get(node, "U"))
            continue
        if node in flag:
            out.append(flag[node])
            continue
        i, v, a, b = split[node]
        out.append(f"{i}:{v}")
        stack.append(b)
        stack.append(a)
    return out


def document(lm, head: dict, tokens: list[str]):
    """(the version-5 certificate of this tree, error lower, upper, counts): `head` (the common header)
    completed, the interval from the kernel's own arb enclosure of the decided boxes' masses, rounded outward."""
    from ..kernel.boxes import box_masses
    from ..kernel.measure import bounds
    from ..loading.rational import q

    counts = {k: sum(1 for t in tokens if t == f) for k, f in (("right", "R"), ("wrong", "W"), ("undecided", "U"))}
    Wb, Rb = box_masses(DENOMINATOR, _leaves(tokens, lm.seq_len), 128)
    lo = max(_round(bounds(Wb)[0], down=True), Fraction(0))
    hi = min(_round(1 - bounds(Rb)[0], down=False), Fraction(1))
    doc = dict(head)
    doc.update({"claim": CLAIM, "task": lm.task, "method": "boxes",
                "grid": {"denominator": str(DENOMINATOR), "radius": str(RADIUS)}, "tree": " ".join(tokens),
                "counts": counts, "error": {"lower": q(lo), "upper": q(hi), "rigorous": True},
                "accuracy": {"lower": q(1 - hi), "upper": q(1 - lo)}})
    return doc, lo, hi, counts


def certify_boxes(lm, head: dict, width: Fraction | None, deadline: float | None, max_boxes: int | None,
                  workers=1, progress=None, breakdown: bool = True, start=None, checkpoint: str | None = None,
                  checkpoint_every: float = 300.0) -> dict:
    """Search, then the certificate (version 5: `head`, the common header, completed) with its rigorous interval;
    the fields of a CertifyResult.  With `checkpoint`, the certificate reached so far is written there every
    `checkpoint_every` seconds of search (atomically; resume from it with `resume`)."""
    from ..loading.rational import write_certificate

    def write_checkpoint(tokens):
        write_certificate(checkpoint, document(lm, head, tokens)[0])

    save = write_checkpoint if checkpoint is not None else None

    tokens, stats = search(lm, width, deadline, max_boxes, workers, progress, breakdown, start,
                           save, checkpoint_every)
    doc, lo, hi, counts = document(lm, head, tokens)
    reached = width is None or hi - lo <= width
    return dict(error_lower=lo, error_upper=hi, rigorous=True, regions=counts["right"] + counts["wrong"],
                wrong_regions=counts["wrong"], certificate=doc,
                closed_form=f"[mass of {counts['wrong']} wrong boxes, 1 - mass of {counts['right']} right boxes]",
                details={"partial": True, "boxes": True, "width": width, "width_reached": reached, **counts,
                         "search": stats})


CLAIM = ("For the bias-free ReLU RNN with the exact rational weights below (the exact values of the checkpoint's "
         "floats) and x ~ N(0, I_n), the probability that argmax(model(x)) (first index on ties) differs from the "
         "task's target lies in [error.lower, error.upper]: at least the Gaussian mass of the boxes marked W and at "
         "most 1 minus that of the boxes marked R (method boxes: the tree's leaves, x = grid point / denominator).")


def _leaves(tokens, n):
    """(lo, hi, flag) of every leaf, in the kernel's order (preorder)."""
    return [(lo, hi, tok) for _, lo, hi, tok in _rebuild(tokens, n)[2]]


def _round(x: Fraction, down: bool, digits: int = 15) -> Fraction:
    """x rounded outward to `digits` significant decimal digits (down: towards -inf)."""
    if x == 0:
        return x
    e = math.floor(math.log10(abs(float(x)))) - digits + 1
    scale = Fraction(10) ** e
    k = x / scale
    k = math.floor(k) if down else math.ceil(k)
    return k * scale
