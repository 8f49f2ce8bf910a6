"""Could boxes certify a median model's MSE where the cells are too many (issue 32, item 2)?  A float64 prototype
of the best such bound, to decide before building it: it proves nothing (floats, no outward rounding).

Design measured: the directions are split into boxes on the 2n faces of the cube [-1, 1]^n (the cone over each
box); on a box, symbolic interval propagation with the triangle relaxation of unstable ReLUs (h in
[lam z, lam z - lam l], lam = u/(u - l)) gives the residual r = f - median as a linear form +- a constant, the
median linear where the box fixes the middle coordinate(s), else between its values at the corners.  With
mid and halfwidth w per box, Minkowski in L^2 bounds sqrt(MSE) by sqrt(sum ||mid||^2) +- sqrt(sum ||w||^2),
the second moments of linear forms over box cones by 1-D Gauss-Legendre quadrature (float).  Boxes with the
largest ||w||^2 are split first (the coordinate with the most unstable-unit influence or an ambiguous median).
A rigorous version (exact propagation, ball quadrature) can only be wider than these figures.

Also: how many face boxes a proof of sup |r(u)| <= S on the unit sphere takes, S = 1.26 x the sampled sup (the
tail bound E[r^2 1_U] <= S^2 n P(U) a partial cell certificate would need for its unmeasured cones U).

Usage: python benchmarks/mse_faces_prototype.py [--models median_8_5,median_2_10] [--boxes 10000,100000]
Prints per model: the sampled MSE and sup (baseline, 2,000,000 float64 samples, same run), the sup proof's box
count, then per budget the bound's interval and seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import ndtr

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TN, TW = leggauss(96)
TN, TW = (TN + 1) / 2 * 9.0, TW / 2 * 9.0
PHI_T = np.exp(-TN ** 2 / 2) / np.sqrt(2 * np.pi)


def load(path):
    import torch

    sd = torch.load(path, weights_only=True)
    return (sd["rnn.weight_ih_l0"].double().numpy()[:, 0], sd["rnn.weight_hh_l0"].double().numpy(),
            sd["linear.weight"].double().numpy()[0])


def pdf(x):
    return np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


def med(v):
    s = np.sort(v, 1)
    n = v.shape[1]
    return s[:, (n - 1) // 2] if n % 2 else (s[:, n // 2 - 1] + s[:, n // 2]) / 2


def propagate(W, lo, hi):
    """f in [A.v + el, A.v + eu] on each box, and each coordinate's influence through unstable units."""
    Wi, Wh, wo = W
    B, n = lo.shape
    d = Wh.shape[0]
    Whp, Whn = np.maximum(Wh, 0), np.minimum(Wh, 0)
    A, el, eu = np.zeros((B, d, n)), np.zeros((B, d)), np.zeros((B, d))
    cen, rad = (lo + hi) / 2, (hi - lo) / 2
    infl = np.zeros((B, n))
    for t in range(n):
        Ap = np.matmul(Wh, A)
        Ap[:, :, t] += Wi
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


def residual(W, lo, hi):
    n = lo.shape[1]
    Af, flo, fhi, infl = propagate(W, lo, hi)
    above = (lo[:, None, :] >= hi[:, :, None]).sum(2)
    below = (hi[:, None, :] <= lo[:, :, None]).sum(2)
    kt = (n - 1) // 2
    top, bot = below >= n - kt, above >= n - kt
    fixed = (top.sum(1) == kt) & (bot.sum(1) == kt)
    middle = ~top & ~bot
    A = Af.copy()
    A[fixed] -= middle[fixed] / (n - 2 * kt)
    alo, ahi = flo.copy(), fhi.copy()
    alo[~fixed] -= med(hi[~fixed])
    ahi[~fixed] -= med(lo[~fixed])
    return A, alo, ahi, infl, np.where(~fixed[:, None], middle * 1.0, 0.0)


def evaluate(W, lo, hi, face):
    B, n = lo.shape
    A, alo, ahi, infl, amb = residual(W, lo, hi)
    ar = np.arange(B)
    s = lo[ar, face]
    c = A.copy()
    c[ar, face] += (alo + ahi) / 2 * s
    w0 = (ahi - alo) / 2
    t = TN[None, :, None]
    a, b = lo[:, None, :] * t, hi[:, None, :] * t
    p = ndtr(b) - ndtr(a)
    mm = pdf(a) - pdf(b)
    q = p + a * pdf(a) - b * pdf(b)
    isk = np.zeros((B, 1, n), bool)
    isk[ar, 0, face] = True
    p = np.where(isk, 1.0, p)
    mm = np.where(isk, s[:, None, None] * t, mm)
    q = np.where(isk, t * t, q)
    P = np.prod(p, 2)
    with np.errstate(all="ignore"):
        ps = np.maximum(p, 1e-300)
        mu = mm / ps
        V = np.maximum(q / ps - mu ** 2, 0)
        cc = c[:, None, :]
        integ = np.where(P > 1e-250, P * ((cc * mu).sum(2) ** 2 + (cc ** 2 * V).sum(2)), 0.0)
    Mb = (integ * PHI_T * TW).sum(1)
    Wb = w0 ** 2 * (P * TN ** 2 * PHI_T * TW).sum(1)
    return Mb, Wb, infl, amb


def faces_start(n):
    lo, hi, face = [], [], []
    for k in range(n):
        for s in (-1.0, 1.0):
            a, b = -np.ones(n), np.ones(n)
            a[k] = b[k] = s
            lo.append(a)
            hi.append(b)
            face.append(k)
    return np.array(lo), np.array(hi), np.array(face)


def split(lo, hi, face, infl, amb):
    score = (infl + 3 * amb + 1e-9) * (hi - lo)
    ar = np.arange(len(lo))
    score[ar, face] = -1
    j = score.argmax(1)
    cut = (lo[ar, j] + hi[ar, j]) / 2
    lhi, rlo = hi.copy(), lo.copy()
    lhi[ar, j] = cut
    rlo[ar, j] = cut
    return np.concatenate([lo, rlo]), np.concatenate([lhi, hi]), np.concatenate([face, face])


def mse_bound(W, n, n_boxes, batch=2048):
    lo, hi, face = faces_start(n)
    leaves = [lo, hi, face, *evaluate(W, lo, hi, face)]
    while len(leaves[0]) < n_boxes:
        lo, hi, face, Mb, Wb, infl, amb = leaves
        k = min(batch, len(Wb))
        idx = np.argpartition(-Wb, k - 1)[:k] if k < len(Wb) else np.arange(len(Wb))
        keep = np.ones(len(Wb), bool)
        keep[idx] = False
        nlo, nhi, nf = split(lo[idx], hi[idx], face[idx], infl[idx], amb[idx])
        leaves = [np.concatenate([x[keep], y]) for x, y in zip(leaves, [nlo, nhi, nf, *evaluate(W, nlo, nhi, nf)])]
    M, Wt = leaves[3].sum(), leaves[4].sum()
    return len(leaves[0]), max(0.0, np.sqrt(M) - np.sqrt(Wt)) ** 2, (np.sqrt(M) + np.sqrt(Wt)) ** 2


def sup_proof(W, n, S, limit=2_000_000, batch=4096):
    """Face boxes until every box's bound of |r(v)| / min |v| is at most S: (boxes proved, None) or (proved, the
    worst bound left) when `limit` boxes would be passed."""
    lo, hi, face = faces_start(n)
    done = 0
    while len(lo):
        A, alo, ahi, infl, amb = residual(W, lo, hi)
        cen, rad = (lo + hi) / 2, (hi - lo) / 2
        c, r = (A * cen).sum(1), (np.abs(A) * rad).sum(1)
        v2 = np.where((lo <= 0) & (hi >= 0), 0, np.minimum(lo ** 2, hi ** 2)).sum(1)
        ratio = np.maximum(np.abs(c - r + alo), np.abs(c + r + ahi)) / np.sqrt(v2)
        ok = ratio <= S
        done += int(ok.sum())
        if done + 2 * int((~ok).sum()) > limit:
            return done, float(ratio.max())
        lo, hi, face = split(lo[~ok], hi[~ok], face[~ok], infl[~ok], amb[~ok])
    return done, None


def sampled(W, n, samples=2_000_000, seed=0):
    Wi, Wh, wo = W
    rng = np.random.default_rng(seed)
    tot, top = 0.0, 0.0
    for _ in range(samples // 200_000):
        x = rng.standard_normal((200_000, n))
        h = np.zeros((len(x), Wh.shape[0]))
        for t in range(n):
            h = np.maximum(h @ Wh.T + np.outer(x[:, t], Wi), 0)
        r = h @ wo - med(x)
        tot += (r ** 2).sum()
        top = max(top, (np.abs(r) / np.linalg.norm(x, axis=1)).max())
    return tot / samples, top


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="median_8_5,median_32_5,median_2_10")
    ap.add_argument("--boxes", default="10000,100000")
    a = ap.parse_args()
    for name in a.models.split(","):
        W = load(os.path.join(ROOT, "models", name + ".pth"))
        n = int(name.rsplit("_", 1)[1])
        mse, top = sampled(W, n)
        print(f"{name}: sampled MSE {mse:.5g} (baseline, 2,000,000 float64 samples); sampled sup |r(u)| on the "
              f"sphere {top:.3g}", flush=True)
        S = round(1.26 * top, 2)
        t0 = time.perf_counter()
        k, worst = sup_proof(W, n, S)
        print(f"  sup |r(u)| <= {S} (1.26x the sampled sup): " + (f"proved with {k:,} face boxes" if worst is None else
              f"not proved in 2,000,000 boxes ({k:,} proved, worst bound left {worst:.3g})") +
              f", {time.perf_counter() - t0:.1f} s", flush=True)
        for nb in (int(x) for x in a.boxes.split(",")):
            t0 = time.perf_counter()
            k, lo, hi = mse_bound(W, n, nb)
            print(f"  {k:,} face boxes: MSE in [{lo:.4g}, {hi:.4g}] (width {hi - lo:.3g}, {(hi - lo) / mse:.1f}x the "
                  f"MSE), {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
