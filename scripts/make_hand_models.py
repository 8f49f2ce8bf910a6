"""Generate the hand-built 2nd-argmax models of ../shared/algzoo.md into models/ (AlgZoo format).

- hand_2nd_argmax_2_2.pth: W_hi = (1, -1)^T, W_hh = [[-1, 1], [1, -1]], W_oh = [[1, -1], [-1, 1]];
  logits (x1 - x0, x0 - x1), error exactly 0.
- hand_2nd_argmax_4_3.pth: the AlgZoo authors' improved M(4,3) with lambda = 100, rounded to float32;
- hand_2nd_argmax_4_3_exact.json: the same model with its exact rational weights (verifier-weights).

Usage: python scripts/make_hand_models.py [--out models] [--samples 2^24]
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from verifier.loading.loader import load, state_dict_bytes, weights_json  # noqa: E402
from verifier.loading.model import RNN  # noqa: E402
from verifier.loading.rational import dumps_canonical, write_atomic  # noqa: E402
from verifier.empirical.train import parse_count  # noqa: E402
from verifier.empirical.zoo import sampled_figures, update_index  # noqa: E402


def matmul(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))] for i in range(len(A))]


def transpose(A):
    return [list(r) for r in zip(*A)]


def inv2(A):
    (a, b), (c, d) = A
    det = a * d - b * c
    return [[d / det, -b / det], [-c / det, a / det]]


def hand_2_2() -> RNN:
    return RNN.make([[1], [-1]], [[-1, 1], [1, -1]], [[1, -1], [-1, 1]], seq_len=2)


def hand_4_3(lam: F) -> RNN:
    """W_hi = U^T F1[:, 2:3], W_hh = U^T F1[:, 0:2] (F1[:, 1:3])^-1 U, W_oh = F2 V (algzoo.md)."""
    F1 = [[F(1), -lam - 1, lam], [F(-1), -lam, lam + 1]]
    F2 = [[F(1), F(1)], [-lam, lam + 1], [lam + 1, -lam]]
    U = [[F(1), F(0), F(0), F(-1)], [F(0), F(1), F(-1), F(0)]]
    V = [[F(1), F(0), F(0), F(1)], [F(0), F(1), F(1), F(0)]]
    Ut = transpose(U)
    W_hi = matmul(Ut, [[r[2]] for r in F1])
    W_hh = matmul(matmul(matmul(Ut, [r[0:2] for r in F1]), inv2([r[1:3] for r in F1])), U)
    W_oh = matmul(F2, V)
    return RNN.make(W_hi, W_hh, W_oh, seq_len=3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="models")
    ap.add_argument("--samples", default="2^24")
    a = ap.parse_args()
    samples = parse_count(a.samples)
    lam = F(100)
    items = [("hand_2nd_argmax_2_2.pth", state_dict_bytes(hand_2_2()), "hand-built M(2,2): logits (x1-x0, x0-x1)"),
             ("hand_2nd_argmax_4_3.pth", state_dict_bytes(hand_4_3(lam)),
              "hand-built M(4,3), lambda = 100, float32 rounding of the exact weights"),
             ("hand_2nd_argmax_4_3_exact.json",
              dumps_canonical(weights_json(hand_4_3(lam), task="2nd_argmax",
                                           note="hand-built M(4,3), lambda = 100, exact rational weights")),
              "hand-built M(4,3), lambda = 100, exact rational weights")]
    for name, data, note in items:
        path = os.path.join(a.out, name)
        write_atomic(path, data)
        lm = load(path, task="2nd_argmax")
        entry = {"file": name, "task": lm.task, "family": lm.family, "hidden_size": lm.hidden_size,
                 "seq_len": lm.seq_len, "parameters": lm.parameters, "sha256": lm.sha256, "origin": "hand-built",
                 "command": "python scripts/make_hand_models.py", "note": note,
                 "sampled": sampled_figures(lm, samples)}
        update_index(a.out, entry)
        print(f"{path}: sha256 {lm.sha256}, sampled accuracy {entry['sampled']['accuracy']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
