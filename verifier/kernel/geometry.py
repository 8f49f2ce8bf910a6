"""Exact integer linear algebra in small dimension: dot and cross products, determinants, generalised cross
products, proportionality, and the unique solution of a small linear system."""

from __future__ import annotations

import math
import operator


def dot(a, b):
    return sum(map(operator.mul, a, b))


def cross2(u, v) -> int:
    return u[0] * v[1] - u[1] * v[0]


def cross3(a, b) -> tuple:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def primitive(v) -> tuple:
    """v divided by the gcd of its entries (a positive factor: direction and signs are kept)."""
    g = 0
    for c in v:
        g = math.gcd(g, c)
    return tuple(c // g for c in v) if g > 1 else tuple(v)


def neg(v) -> tuple:
    return tuple(-c for c in v)


def proportional(f, h) -> int:
    """+1 / -1 if f is a positive / negative multiple of h, else 0 (h nonzero)."""
    a = next(i for i, x in enumerate(h) if x)
    if f[a] == 0:
        return 0
    if any(f[i] * h[a] != h[i] * f[a] for i in range(len(h))):
        return 0
    return 1 if (f[a] > 0) == (h[a] > 0) else -1


def det(rows) -> int:
    """Determinant of a square integer matrix (exact: cofactor expansion up to 3 x 3, Bareiss beyond)."""
    n = len(rows)
    if n <= 3:
        if n == 3:
            (a, b, c), (d, e, f), (g, h, i) = rows
            return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        if n == 2:
            return rows[0][0] * rows[1][1] - rows[0][1] * rows[1][0]
        return rows[0][0] if n else 1
    m = [list(r) for r in rows]
    sign, prev = 1, 1
    for k in range(n - 1):
        if m[k][k] == 0:
            sw = next((i for i in range(k + 1, n) if m[i][k] != 0), None)
            if sw is None:
                return 0
            m[k], m[sw] = m[sw], m[k]
            sign = -sign
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) // prev
        prev = m[k][k]
    return sign * m[n - 1][n - 1] if n else 1


def null(rows, n: int) -> tuple:
    """Generalised cross product (cofactor vector) of n - 1 integer vectors in Z^n: orthogonal to each,
    zero iff they are dependent."""
    return tuple((-1) ** (j + n - 1) * det([[r[c] for c in range(n) if c != j] for r in rows]) for j in range(n))


def solve_integral_many(columns, targets):
    """For each target: (y, D), integers with D != 0 and sum_i (y_i / D) columns[i] = target, the unique solution,
    or None when the columns are dependent or the target is not in their span.  One fraction-free Bareiss
    elimination of [columns | targets] serves every target (the targets are extra columns of the same row
    operations), then an integer back substitution per target: by Cramer, D lambda is integral for D the last
    pivot."""
    m, k, t = len(targets[0]) if targets else 0, len(columns), len(targets)
    rows = [[columns[i][r] for i in range(k)] + [g[r] for g in targets] for r in range(m)]
    width = k + t
    prev = 1
    for c in range(k):
        p = next((i for i in range(c, m) if rows[i][c] != 0), None)
        if p is None:
            return [None] * t
        rows[c], rows[p] = rows[p], rows[c]
        pv, rc = rows[c][c], rows[c]
        for i in range(c + 1, m):
            ri, f = rows[i], rows[i][c]
            rows[i] = [0] * (c + 1) + [(ri[j] * pv - f * rc[j]) // prev for j in range(c + 1, width)]
        prev = pv
    D = rows[k - 1][k - 1] if k else 1
    out = []
    for a in range(k, width):
        if any(rows[i][a] != 0 for i in range(k, m)):
            out.append(None)
            continue
        y = [0] * k
        for i in range(k - 1, -1, -1):
            y[i] = (rows[i][a] * D - sum(rows[i][j] * y[j] for j in range(i + 1, k))) // rows[i][i]
        out.append((y, D))
    return out


def solve_integral(columns, target):
    """solve_integral_many for one target: (y, D) or None."""
    return solve_integral_many(columns, [target])[0]
