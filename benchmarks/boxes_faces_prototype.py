"""A float prototype (estimates only, no certificate) of boxes on the faces of the cube instead of boxes of x.

Decisions are constant on rays, so split directions, not points: the face (j, +-) of the cube [-1, 1]^n holds
the directions whose largest |x_i| is x_j = +-1, and a box y in [a, b]^(n-1) on it stands for the cone
{x_j = +-s, x_i = y_i s, s > 0}.  The network is decided on the cone iff on the box (the pivot fixed at +-1),
by the same symbolic interval propagation (`verifier.intervals.boxes._Float`).  The cone's Gaussian mass is
int_0^inf phi(s) prod_i (Phi(b_i s) - Phi(a_i s)) ds — one-dimensional, but no longer a product: here a float
midpoint rule; a certificate would need a rigorous lower bound (each factor is quasi-concave in s, so a lower
Riemann sum with the factors' values at the interval ends is one) and a kernel rule for it.

Measured 2026-11-29 (2 cores, other jobs running), against the certified x-space boxes (verifier/intervals/boxes.py):
M(2,3) width 0.002 with 91k boxes (x-space: 0.018 with 1M); M(4,4) 0.34 with 141k (x-space prototype 0.42 with
2.1M); M(16,5) 0.89 with 112k (x-space 0.88 with 1.25M): about ten times fewer boxes for the same width.

    python benchmarks/boxes_faces_prototype.py models/2nd_argmax_4_4.pth --seconds 40
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from scipy.special import ndtr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from verifier.intervals.boxes import _Float  # noqa: E402
from verifier.loading.loader import load  # noqa: E402

S = np.linspace(0, 8, 801)
SM, WS = (S[1:] + S[:-1]) / 2, ndtr(S[1:]) - ndtr(S[:-1])


def cone_mass(a, b):
    """Float estimate of the Gaussian mass of the cones over boxes [a, b] (B x (n-1)) of one face."""
    out = np.zeros(len(a))
    for c in range(0, len(a), 2000):
        f = np.prod(ndtr(b[c:c + 2000, :, None] * SM) - ndtr(a[c:c + 2000, :, None] * SM), axis=1)
        out[c:c + 2000] = f @ WS
    return out


def lift(a, j, sg):
    """x-boxes with coordinate j fixed at sg."""
    return np.insert(a, j, sg, axis=1) if a.ndim == 1 else np.stack([np.insert(r, jj, g) for r, jj, g in zip(a, j, sg)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--seconds", type=float, default=40)
    a = ap.parse_args()
    lm = load(a.checkpoint)
    fl = _Float(lm.float_arrays(), lm.task)
    n = fl.n
    faces = [(j, sg) for j in range(n) for sg in (1.0, -1.0)]
    lo, hi = np.full((2 * n, n - 1), -1.0), np.full((2 * n, n - 1), 1.0)
    F, G = np.array([f for f, _ in faces]), np.array([g for _, g in faces])
    m, inf = cone_mass(lo, hi), np.ones((2 * n, n))
    right = wrong = 0.0
    made, t0 = 2 * n, time.time()
    while time.time() - t0 < a.seconds and len(m):
        order = np.argsort(-m)
        take, rest = order[:min(max(256, len(m) // 4), 20000)], order[min(max(256, len(m) // 4), 20000):]
        pl, ph, pF, pG = lo[take], hi[take], F[take], G[take]
        xl, xh = lift(pl, pF, pG), lift(ph, pF, pG)
        ls = fl.label_score(xl, xh)
        w = ph - pl
        drop = lambda M: np.stack([np.delete(r, j) for r, j in zip(M, pF)])
        lsy, infy = drop(ls), drop(inf[take])
        k = np.argmax(np.where((lsy.sum(1) > 0)[:, None], lsy * w, infy * w) + 1e-12 * w, 1)
        rows = np.arange(len(take))
        mid = (pl[rows, k] + ph[rows, k]) / 2
        cl, ch = np.concatenate([pl, pl]), np.concatenate([ph, ph])
        ch[rows, k] = mid
        cl[len(take) + rows, k] = mid
        cF, cG = np.concatenate([pF, pF]), np.concatenate([pG, pG])
        made += len(cl)
        xl, xh = lift(cl, cF, cG), lift(ch, cF, cG)
        cand, dec, infl, _ = fl.bounds(xl, xh)
        lab = fl.label_score(xl, xh).sum(1) == 0
        rank_k = fl.rank
        order_ = np.argsort(-(xl + xh), axis=1)  # the label where decided: the coordinate at the task's rank
        target = order_[:, rank_k]
        cm = cone_mass(cl, ch)
        ok = dec & lab
        right += cm[ok & (cand == target)].sum()
        wrong += cm[ok & (cand != target)].sum()
        keep = ~ok
        lo, hi = np.concatenate([lo[rest], cl[keep]]), np.concatenate([hi[rest], ch[keep]])
        F, G = np.concatenate([F[rest], cF[keep]]), np.concatenate([G[rest], cG[keep]])
        m, inf = np.concatenate([m[rest], cm[keep]]), np.concatenate([inf[rest], infl[keep]])
    print(f"estimate (float, not certified) after {time.time() - t0:.0f}s and {made:,} boxes: error in "
          f"[{wrong:.5f}, {1 - right:.5f}], width {1 - right - wrong:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
