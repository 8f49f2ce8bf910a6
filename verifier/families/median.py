"""The exact mean squared error of a median RNN (certificate version 3): second moments of cones.

On a cell K (a root = ordering chamber x sign of x_0, and an activation pattern) the model's output and the
median are both linear, so f(x) - median(x) = c . x there and MSE = sum_K c^T M(K) c with
M(K) = E[x x^T 1_K].  Gaussian integration by parts (proofs/FORMAT.md, "Version 3", "Measure: second moments of a cone"):

    M(K) = gamma(K) I + (1/2 pi) sum_{facets F} sum_{ridges G of F} gamma_{n-2}(G) m_{G,F} n_F^T

with n_F the unit inward normal of facet F (its constraint g / |g|), m_{G,F} the unit normal of F at its
ridge G inside F's hyperplane pointing into F: the projection of the other facet's constraint h onto g's
orthogonal complement, u = |g|^2 h - (h.g) g, normalised; and gamma_0 = 1 (n = 2: the ridge is the origin),
gamma_1 = 1/2 (n = 3: a ray).  So with D = |g|^2 |h|^2 - (g.h)^2 (= |u|^2 / |g|^2)

    2 pi c^T M(K) c = |c|^2 A_K + gamma_{n-2} sum_{(g, h)} (c.u)(c.g) / (|g|^2 sqrt(D))

where A_K = 2 pi gamma(K) is the angle of the sector (n = 2, atan2(cross, dot)) or half the solid angle
(n = 3, the sum of Van Oosterom-Strackee atan2 terms over a fan of triangles), and (g, h) runs over the
ordered pairs of facets that meet in a ridge.  Everything but A_K and sqrt(D) is rational.

This module computes the terms and the canonical closed form; the kernel (verifier/kernel/moments.py)
rebuilds both on its own.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..cells.exact import cross2, dot
from ..kernel.moments import angle_text, rational_text  # the closed form's text is the kernel's, one spelling


def median_form(ranking, n: int) -> tuple[Fraction, ...]:
    """The median as a linear form on the ordering chamber `ranking` (largest first)."""
    c = [Fraction(0)] * n
    if n % 2:
        c[ranking[n // 2]] = Fraction(1)
    else:
        c[ranking[n // 2 - 1]] = Fraction(1, 2)
        c[ranking[n // 2]] = Fraction(1, 2)
    return tuple(c)


def output_scale(rnn) -> int:
    """The positive factor c_o c^n by which the integer output forms exceed the model's output."""
    c = 1
    for v in [w[0] for w in rnn.W_hi] + [v for row in rnn.W_hh for v in row]:
        c = math.lcm(c, Fraction(v).denominator)
    co = 1
    for v in (v for row in rnn.W_oh for v in row):
        co = math.lcm(co, Fraction(v).denominator)
    return co * c ** rnn.seq_len


def residual(out_form, scale: int, ranking, n: int) -> tuple[Fraction, ...]:
    med = median_form(ranking, n)
    return tuple(Fraction(a, scale) - m for a, m in zip(out_form, med))


def ridge_term(c, g, h) -> tuple[Fraction, int]:
    """(coefficient, D): the ridge's contribution (c.u)(c.g)/(|g|^2 sqrt(D)) as coefficient / sqrt(D)."""
    gg, hh, gh = dot(g, g), dot(h, h), dot(g, h)
    u = tuple(gg * b - gh * a for a, b in zip(g, h))
    cu = sum(x * y for x, y in zip(c, u))
    cg = sum(x * y for x, y in zip(c, g))
    return cu * cg / gg, gg * hh - gh * gh


def angle_terms(rays, n: int) -> list[tuple]:
    """The integers of A_K: n = 2 one (cross, dot) of the two rays; n = 3 per fan triangle (a, b, c) of the
    polygon's vertices (|det|, |a|^2, |b|^2, |c|^2, a.b, a.c, b.c) (Van Oosterom-Strackee)."""
    if n == 2:
        a, b = rays
        return [(abs(cross2(a, b)), dot(a, b))]
    out = []
    a = rays[0]
    for i in range(1, len(rays) - 1):
        b, c = rays[i], rays[i + 1]
        det = (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
               + a[2] * (b[0] * c[1] - b[1] * c[0]))
        out.append((abs(det), dot(a, a), dot(b, b), dot(c, c), dot(a, b), dot(a, c), dot(b, c)))
    return out


class MomentSum:
    """2 pi MSE = sum over cells of |c|^2 A_K + sum over radicands D of b_D / sqrt(D)."""

    def __init__(self):
        self.angles: list[tuple[Fraction, list]] = []  # per cell: (weight |c|^2, its angle terms)
        self.roots: dict[int, Fraction] = {}  # D -> coefficient of 1/sqrt(D)

    def add_cell(self, c, angles, pairs, gamma: Fraction) -> None:
        """One cell: residual c, its angle terms, its ordered facet pairs (g, h) meeting in a ridge."""
        w = sum(x * x for x in c)
        if w == 0:
            return
        self.angles.append((w, angles))
        for g, h in pairs:
            coef, D = ridge_term(c, g, h)
            if coef:
                self.roots[D] = self.roots.get(D, Fraction(0)) + gamma * coef

    @property
    def zero(self) -> bool:
        return not self.angles and not any(self.roots.values())

    def closed_form(self) -> str:
        """Canonical: "(w1*(atan2(...) + ...) + ... + b1/sqrt(D1) + ...)/(2*pi)", one weighted sum of angle
        terms per cell in order, then radicands ascending; or "0"."""
        if self.zero:
            return "0"
        parts = [f"{rational_text(w)}*({' + '.join(angle_text(t) for t in ts)})" for w, ts in self.angles]
        parts += [f"{rational_text(b)}/sqrt({D})" for D, b in sorted(self.roots.items()) if b]
        return "(" + " + ".join(parts) + ")/(2*pi)"

    def ball(self, prec: int):
        """arb ball of the MSE at `prec` bits."""
        import flint

        arb = flint.arb
        with flint.ctx.workprec(prec):
            tot = arb(0)
            for w, ts in self.angles:
                a = arb(0)
                for t in ts:
                    if len(t) == 2:
                        a += arb.atan2(arb(t[0]), arb(t[1]))
                    else:
                        N, A, B, C, ab, ac, bc = t
                        den = arb(A * B * C).sqrt() + ab * arb(C).sqrt() + ac * arb(B).sqrt() + bc * arb(A).sqrt()
                        a += arb.atan2(arb(N), den)
                tot += arb(w.numerator) / w.denominator * a
            for D, b in self.roots.items():
                if b:
                    tot += arb(b.numerator) / b.denominator / arb(D).sqrt()
            return tot / (2 * arb.pi())


def cell_moments(cell, tr, scale: int, n: int):
    """(residual c, angle terms, ordered ridge pairs) of a traversed cell (generator's Cell)."""
    ranking = tr.roots[cell.root].ranking
    out = tr.output_forms(cell.sigma)[0]
    c = residual(out, scale, ranking, n)
    if n == 3:
        gs = [cell.constraints[j] for j in cell.polygon]
        k = len(gs)
        pairs = [(gs[i], gs[(i + s) % k]) for i in range(k) for s in (1, -1)]
        return c, angle_terms(cell.rays, 3), pairs
    if n == 2:
        facets = []
        for j, e in enumerate(cell.evidence):
            if e[0] == "facet" and cell.constraints[j] not in facets:
                facets.append(cell.constraints[j])
        g, h = facets
        return c, angle_terms(cell.rays, 2), [(g, h), (h, g)]
    raise ValueError(f"second moments for seq_len {n} are not implemented")
