"""Exact integer/rational linear algebra for the cone machinery (small dimensions, big integers)."""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import Sequence

Vec = tuple[int, ...]


def dot(a: Sequence, b: Sequence):
    return sum(map(operator.mul, a, b))


def primitive(v: Sequence[int]) -> Vec:
    """v divided by the gcd of its entries (a positive factor: direction and signs are kept)."""
    g = 0
    for c in v:
        g = math.gcd(g, c)
    if g <= 1:
        return tuple(v)
    return tuple(c // g for c in v)


def cross2(u: Sequence[int], v: Sequence[int]) -> int:
    return u[0] * v[1] - u[1] * v[0]


def cross3(a: Sequence[int], b: Sequence[int]) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def det(rows: Sequence[Sequence[int]]) -> int:
    """Determinant of a square integer matrix (exact): the kernel's (cofactors up to 3 x 3, fraction-free Bareiss
    elimination beyond: one implementation) up to 6 x 6, where it is cheaper than a FLINT matrix; FLINT's fmpz_mat
    beyond."""
    if len(rows) > 6:
        from flint import fmpz_mat

        return int(fmpz_mat([list(r) for r in rows]).det())
    from ..kernel.geometry import det as kernel_det

    return kernel_det(rows)


def null_vector(rows: Sequence[Sequence[int]], n: int) -> Vec:
    """The generalised cross product of n-1 vectors in Z^n: orthogonal to each (zero iff dependent)."""
    if n == 2:
        (a,) = rows
        return (-a[1], a[0])
    if n == 3:
        return cross3(rows[0], rows[1])
    out = []
    for j in range(n):
        minor = [[r[c] for c in range(n) if c != j] for r in rows]
        out.append((-1) ** (j + n - 1) * det(minor))
    return tuple(out)


def rank(vectors: Sequence[Sequence[int]]) -> int:
    """Rank of a list of integer vectors (exact: FLINT's fmpz_mat)."""
    from flint import fmpz_mat

    return fmpz_mat([list(v) for v in vectors]).rank() if len(vectors) else 0


def solve_nonneg(columns: Sequence[Sequence[int]], target: Sequence[int]) -> list[Fraction] | None:
    """Exact nonnegative solution of sum_i lam_i columns[i] = target (Phase-I simplex, Bland's rule).

    Returns lam (one entry per column) or None when no such lam exists.
    """
    m = len(target)
    k = len(columns)
    # rows: equality constraints, made b >= 0; artificials a_r.
    A = [[Fraction(columns[i][r]) for i in range(k)] for r in range(m)]
    b = [Fraction(target[r]) for r in range(m)]
    for r in range(m):
        if b[r] < 0:
            A[r] = [-x for x in A[r]]
            b[r] = -b[r]
    # tableau columns: k structural + m artificial
    T = [A[r] + [Fraction(1 if c == r else 0) for c in range(m)] + [b[r]] for r in range(m)]
    basis = [k + r for r in range(m)]
    ncol = k + m
    # objective: minimise sum of artificials -> reduced costs
    cost = [Fraction(0)] * k + [Fraction(1)] * m
    for _ in range(10_000):
        # reduced cost c_j - c_B B^-1 A_j
        red = []
        for j in range(ncol):
            red.append(cost[j] - sum(cost[basis[r]] * T[r][j] for r in range(m)))
        enter = next((j for j in range(ncol) if red[j] < 0), None)
        if enter is None:
            break
        best, leave = None, None
        for r in range(m):
            if T[r][enter] > 0:
                ratio = T[r][-1] / T[r][enter]
                if best is None or ratio < best or (ratio == best and basis[r] < basis[leave]):
                    best, leave = ratio, r
        if leave is None:
            return None  # unbounded (cannot happen in phase I)
        piv = T[leave][enter]
        T[leave] = [x / piv for x in T[leave]]
        for r in range(m):
            if r != leave and T[r][enter] != 0:
                f = T[r][enter]
                T[r] = [x - f * y for x, y in zip(T[r], T[leave])]
        basis[leave] = enter
    if sum(T[r][-1] for r in range(m) if basis[r] >= k) != 0:
        return None
    lam = [Fraction(0)] * k
    for r in range(m):
        if basis[r] < k:
            lam[basis[r]] = T[r][-1]
    if any(sum(lam[i] * columns[i][r] for i in range(k)) != target[r] for r in range(m)):
        return None
    return lam


def independent_subset(vectors: Sequence[Sequence[int]], labels: Sequence, k: int) -> list:
    """The labels of the first k linearly independent vectors, scanning in order (fraction-free)."""
    basis: list[list[int]] = []
    pivots: list[int] = []
    out = []
    for v, lab in zip(vectors, labels):
        w = list(v)
        for b, p in zip(basis, pivots):
            if w[p]:
                f, g = w[p], b[p]
                w = [x * g - y * f for x, y in zip(w, b)]
        piv = next((i for i, x in enumerate(w) if x), None)
        if piv is None:
            continue
        basis.append(w)
        pivots.append(piv)
        out.append(lab)
        if len(out) == k:
            return out
    raise ValueError("not enough independent vectors")
