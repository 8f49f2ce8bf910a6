"""Pictures of where a model errs: the disc (seq_len 2) and the sphere (seq_len 3), PNG + SVG.

The disc is the picture the AlgZoo authors drew by hand for M(2,2): sectors coloured by activation
pattern, boundary rays, the dashed diagonal x_0 = x_1, and the wrong sectors filled (at their true angle)
in the wrong colour, which no pattern uses.  Wedges too thin to see get a widened marker in a ring outside
the disc, marked "marker widened", with their true angle beside them.  The sphere: see draw_sphere.
Angles and coordinates in the pictures are floats, for display only; the claims are the certificate's.
"""

from __future__ import annotations

import math

MIN_DRAWN_DEG = 3.0


def save_figure(fig, path_stem: str) -> list[str]:
    """Write `fig` as path_stem.png and path_stem.svg (the SVG without a date, so the same drawing gives the same
    bytes), each atomically; close it; return the paths written."""
    import io

    import matplotlib.pyplot as plt

    from ..loading.rational import write_atomic

    written = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=130, metadata={"Date": None} if ext == "svg" else None)
        path = f"{path_stem}.{ext}"
        write_atomic(path, buf.getvalue())
        written.append(path)
    plt.close(fig)
    return written


def _fmt_form(coeffs) -> str:
    from ..loading.rational import q

    parts = []
    for k, c in enumerate(coeffs):
        if c == 0:
            continue
        parts.append(f"{'+' if c > 0 else '-'} {q(abs(c))}*x{k}")
    if not parts:
        return "0"
    s = " ".join(parts)
    return s[2:] if s.startswith("+ ") else "-" + s[2:]


def sector_rows(rnn, task):
    """Per sector: start/end angle (degrees), pattern, exact Delta = l_1 - l_0, label, prediction, wrong."""
    from ..cells.disc import sectors
    from ..loading.model import linear_map

    rows = []
    for s in sectors(rnn, task):
        _, out = linear_map(rnn, s.pattern)
        delta = tuple(a - b for a, b in zip(out[1], out[0])) if len(out) > 1 else out[0]
        a0 = math.degrees(math.atan2(s.u[1], s.u[0])) % 360
        a1 = math.degrees(math.atan2(s.v[1], s.v[0])) % 360
        rows.append({"sector": s, "from_deg": a0, "to_deg": a1 if a1 > a0 else a1 + 360,
                     "pattern": " ".join("".join(map(str, r)) for r in s.pattern), "delta": _fmt_form(delta),
                     "label": s.label, "prediction": s.prediction, "wrong": s.wrong})
    return rows


WRONG_COLOUR = "#e00000"
# pattern colours: tab20 without its reds, pinks and oranges, so no correct sector looks like a wrong one
_PATTERN_COLOURS = [i for i in range(20) if i not in (2, 3, 6, 7, 12, 13)]
MARKER_R = (1.03, 1.13)  # the annulus outside the disc where thin wrong wedges get a widened marker
LABEL_R = 1.2


def disc_figure(rows, wedges, title: str):
    """The disc as a matplotlib figure: sectors coloured by pattern (never in the wrong colour), wrong
    sectors filled at their true angle in WRONG_COLOUR, thin wrong wedges marked by a widened hatched
    marker in an annulus outside the disc (never over a correct sector), labels outside the disc."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Wedge

    fig, ax = plt.subplots(figsize=(10.5, 7.5))
    patterns = sorted({r["pattern"] for r in rows})
    cmap = plt.get_cmap("tab20")
    colour = {p: cmap(_PATTERN_COLOURS[i % len(_PATTERN_COLOURS)]) for i, p in enumerate(patterns)}
    for r in rows:
        ax.add_patch(Wedge((0, 0), 1.0, r["from_deg"], r["to_deg"], facecolor=colour[r["pattern"]],
                           edgecolor="none", alpha=0.9))
        if r["wrong"]:
            ax.add_patch(Wedge((0, 0), 1.0, r["from_deg"], r["to_deg"], facecolor=WRONG_COLOUR, edgecolor="none",
                               hatch="//", alpha=0.9))
    for r in rows:
        t = math.radians(r["from_deg"])
        ax.plot([0, math.cos(t)], [0, math.sin(t)], color="0.35", lw=0.8)
    ax.plot([-1.05, 1.05], [-1.05, 1.05], ls="--", color="k", lw=1.0, label="diagonal x0 = x1")
    pairs = {}
    for r in rows:
        if r["wrong"]:
            pairs.setdefault((r["label"], r["prediction"]), 0)
    for a, b in wedges:
        start = math.degrees(math.atan2(a[1], a[0]))
        true = math.atan2(a[0] * b[1] - a[1] * b[0], a[0] * b[0] + a[1] * b[1])
        width = math.degrees(true)
        mid = start + width / 2
        drawn = max(width, MIN_DRAWN_DEG)
        widened = drawn > width
        ax.add_patch(Wedge((0, 0), MARKER_R[1], mid - drawn / 2, mid + drawn / 2, width=MARKER_R[1] - MARKER_R[0],
                           facecolor=WRONG_COLOUR, alpha=0.8, edgecolor="darkred", hatch="//" if widened else None))
        m = math.radians(mid)
        cx, cy = math.cos(m), math.sin(m)
        ax.annotate(f"wrong: {true:.3g} rad" + (" (marker widened)" if widened else ""), (LABEL_R * cx, LABEL_R * cy),
                    ha="left" if cx >= 0 else "right", va="bottom" if cy >= 0 else "top", fontsize=8, color="darkred")
    for p in patterns:
        ax.plot([], [], marker="s", ls="", color=colour[p], label=f"pattern {p}")
    ax.plot([], [], marker="s", ls="", color=WRONG_COLOUR, alpha=0.8,
            label="wrong: " + ", ".join(f"true {t} -> predicted {p}" for t, p in sorted(pairs)) if pairs else "wrong")
    ax.set_xlim(-2.3, 2.3)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, framealpha=0.8)
    fig.tight_layout()
    return fig


def draw(rows, wedges, path_stem: str, title: str) -> list[str]:
    """Draw the disc; return the files written (PNG and SVG, each written atomically)."""
    return save_figure(disc_figure(rows, wedges, title), path_stem)


# ---- seq_len 3: the sphere ------------------------------------------------------------------------------
#
# Lambert azimuthal equal-area projection of the two hemispheres x0 + x1 + x2 > 0 and < 0, each seen from
# outside along the diagonal.  Why: (1) equal area — the Gaussian measure of a cone is the area of its
# spherical polygon / (4 pi), so drawn areas are proportional to probabilities; (2) the diagonal is where
# all six ordering chambers meet, and the walls x_i = x_j are great circles through it, so in this view
# they are six straight radial lines: each ordering chamber is a 60-degree sector of each disc.
# Cells whose polygon crosses the hemisphere boundary are cut there exactly (verifier.views.atlas.clip).

DIAG = (1, 1, 1)
ARC_STEPS = 24  # points per great-circle edge when drawing (the area test maps them back)


def _basis(sign):
    """(pole, e1, e2), e1 x e2 = pole: the tangent basis seen from outside the sphere."""
    import numpy as np

    p = sign * np.array(DIAG, dtype=float) / 3 ** 0.5
    a = np.array([1.0, -1.0, 0.0]) / 2 ** 0.5
    b = np.cross(np.array(DIAG, dtype=float) / 3 ** 0.5, a)
    return (p, a, b) if sign > 0 else (p, b, a)


def lambert(points, sign):
    """Project unit vectors (k x 3) of hemisphere `sign` to the plane: radius 2 sin(theta / 2)."""
    import numpy as np

    p, e1, e2 = _basis(sign)
    u = np.asarray(points, dtype=float)
    u = u / np.linalg.norm(u, axis=1)[:, None]
    cos = np.clip(u @ p, -1.0, 1.0)
    t = u - cos[:, None] * p
    tn = np.linalg.norm(t, axis=1)
    r = np.sqrt(np.maximum(2 * (1 - cos), 0.0))
    scale = np.divide(r, tn, out=np.zeros_like(r), where=tn > 0)
    return np.stack([(t @ e1) * scale, (t @ e2) * scale], axis=1)


def unlambert(xy, sign):
    """The inverse of `lambert`: plane points of hemisphere `sign` back to unit vectors."""
    import numpy as np

    p, e1, e2 = _basis(sign)
    xy = np.asarray(xy, dtype=float)
    r = np.linalg.norm(xy, axis=1)
    theta = 2 * np.arcsin(np.clip(r / 2, 0.0, 1.0))
    d = np.divide(xy, r[:, None], out=np.zeros_like(xy), where=r[:, None] > 0)
    return np.cos(theta)[:, None] * p + np.sin(theta)[:, None] * (d[:, :1] * e1 + d[:, 1:] * e2)


def arc_points(verts, closed=True, steps=ARC_STEPS):
    """Points along the great-circle edges of a spherical polygon (integer vertices), as unit vectors."""
    import numpy as np

    vs = [np.array([float(Fraction_ratio(c, v)) for c in v]) for v in verts]
    vs = [v / np.linalg.norm(v) for v in vs]
    out = []
    m = len(vs)
    for i in range(m if closed else m - 1):
        a, b = vs[i], vs[(i + 1) % m]
        for s in np.linspace(0.0, 1.0, steps, endpoint=False):
            q = (1 - s) * a + s * b  # on the great circle through a and b (the chord, renormalised)
            out.append(q / np.linalg.norm(q))
    if not closed:
        out.append(vs[-1])
    return np.array(out)


def Fraction_ratio(c, v):
    """c / max|v| as an exact Fraction (then a float for drawing): huge integer vertices stay in range."""
    from fractions import Fraction

    return Fraction(c, max(abs(t) for t in v))


def _split_hemispheres(verts):
    """The parts of a convex polygon in x0+x1+x2 >= 0 and <= 0 (exact), each None when without area."""
    from .atlas import clip

    pos, neg = clip(verts, DIAG)
    return {1: pos, -1: neg}


def _edge_kinds(cell, cons_count, n):
    """Per edge of a cell's polygon: 'wall' (ordering wall x_i = x_j), 'x0' (the roots' wall x_0 = 0, no
    boundary of the model's), 'neuron' (activation boundary) or 'decision'."""
    decisions = sum(1 for ch in cell.decision if ch in "+-")
    first_decision = cons_count - decisions
    return ["wall" if e < n - 1 else "x0" if e == n - 1 else ("decision" if e >= first_decision else "neuron")
            for e in cell.edges]


PAIR_COLOURS = {(0, 1): "#d62728", (0, 2): "#ff7f0e", (1, 0): "#9467bd", (1, 2): "#8c564b", (2, 0): "#e377c2",
                (2, 1): "#17becf"}


def _plane_area(xy):
    import numpy as np

    return 0.5 * abs(float(np.dot(xy[:, 0], np.roll(xy[:, 1], 1)) - np.dot(xy[:, 1], np.roll(xy[:, 0], 1))))


def _plane_centroid(xy):
    """Area centroid of a plane polygon (the mean of its points when it has no area)."""
    import numpy as np

    x, y = xy[:, 0], xy[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cr = x * y1 - x1 * y
    a = cr.sum() / 2
    if abs(a) < 1e-300:
        return xy.mean(axis=0)
    return np.array([((x + x1) * cr).sum() / (6 * a), ((y + y1) * cr).sum() / (6 * a)])


def sphere_geometry(atlas):
    """What the sphere picture draws, per hemisphere sign: boundary segments by kind ('wall', 'decision',
    'neuron'), and the wrong pieces as (true, predicted, sign, k x 2 plane points) — the polygons handed to
    matplotlib."""
    import numpy as np

    from ..cells.exact import primitive

    c, w = atlas.cert, atlas.work
    segs = {kind: {1: [], -1: []} for kind in ("neuron", "decision", "wall", "x0")}
    diag = np.array(DIAG, dtype=float)
    seen = set()
    for ci, cell in enumerate(c.cells):
        verts = w.shapes[ci]["verts"]
        for i, kind in enumerate(_edge_kinds(cell, len(w.cons[ci]), c.n)):
            key = frozenset((primitive(verts[i - 1]), primitive(verts[i])))
            if key in seen:  # an edge shared by two cells is drawn once
                continue
            seen.add(key)
            pts = arc_points([verts[i - 1], verts[i]], closed=False)
            side = np.sign(pts @ diag)
            for s in (1, -1):
                xy = lambert(pts, s)
                run = []
                for j in range(len(pts)):  # polylines of consecutive points in this hemisphere
                    if side[j] == s:
                        run.append(xy[j])
                    elif run:
                        if len(run) > 1:
                            segs[kind][s].append(np.array(run))
                        run = []
                if len(run) > 1:
                    segs[kind][s].append(np.array(run))
    drawn = []
    for true, pred, ci, verts, cons, inside, pattern in atlas.pieces:
        for s, part in _split_hemispheres(verts).items():
            if part is not None:
                drawn.append((true, pred, s, lambert(arc_points(part), s)))
    return segs, drawn


def draw_sphere(atlas, path_stem: str, title: str):
    """Draw a seq_len-3 certificate's cells on the sphere (two Lambert equal-area discs); write PNG and SVG.

    Wrong pieces are filled by (true -> predicted) colour and outlined in it (so that slivers stay
    visible); pieces too small to see are also ringed; when the wrong pieces cover under 1% of the
    sphere, an inset zooms on the largest one.  Returns (files written, the drawn wrong pieces as
    `sphere_geometry` gives them)."""
    import itertools

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    c = atlas.cert
    segs, drawn = sphere_geometry(atlas)
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.8))
    discs = {1: axes[0], -1: axes[1]}
    names = {1: "x0 + x1 + x2 > 0 (seen from (1,1,1))", -1: "x0 + x1 + x2 < 0 (seen from (-1,-1,-1))"}
    areas = [_plane_area(xy) for *_, xy in drawn]
    insets = {}
    if drawn and sum(areas) < 0.01 * 4 * np.pi:
        k = int(np.argmax(areas))
        s, xy = drawn[k][2], drawn[k][3]
        centre = _plane_centroid(xy)
        extent = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]))
        width = areas[k] / max(extent, 1e-300)  # a sliver's width
        half = max(min(12 * width, extent), 1e-9)
        corner = [0.02 if centre[0] > 0 else 0.64, 0.02 if centre[1] > 0 else 0.64]
        ax_in = discs[s].inset_axes(corner + [0.34, 0.34])
        ax_in.set_xlim(centre[0] - half, centre[0] + half)
        ax_in.set_ylim(centre[1] - half, centre[1] + half)
        ax_in.set_xticks([])
        ax_in.set_yticks([])
        ax_in.set_title(f"zoom x{3.0 / (2 * half):.3g} (largest wrong piece)", fontsize=7)
        discs[s].indicate_inset_zoom(ax_in, edgecolor="0.3")
        insets[s] = ax_in
    for s, ax in discs.items():
        for a in [ax] + ([insets[s]] if s in insets else []):
            (x0, x1), (y0, y1) = a.get_xlim(), a.get_ylim()
            if a is ax:
                x0, x1, y0, y1 = -2.0, 2.0, -2.0, 2.0

            def near(xy):  # only what meets the axes' window (the inset draws few)
                return xy[:, 0].max() >= x0 and xy[:, 0].min() <= x1 and xy[:, 1].max() >= y0 and xy[:, 1].min() <= y1

            a.add_patch(plt.Circle((0, 0), 2 ** 0.5, facecolor="0.97", edgecolor="k", lw=1.0, zorder=0))
            styles = (("neuron", "0.6", 0.35, 2, "-"), ("x0", "0.45", 0.7, 2, ":"),
                      ("decision", "#1f3fbf", 1.1, 3, "-"), ("wall", "k", 0.9, 3, "-"))
            for kind, col, lw, z, ls in styles:
                a.add_collection(LineCollection([xy for xy in segs[kind][s] if near(xy)], colors=col, linewidths=lw,
                                                linestyles=ls, zorder=z))
            for true, pred, hs, xy in drawn:
                if hs == s and near(xy):
                    col = PAIR_COLOURS.get((true, pred), "red")
                    a.fill(xy[:, 0], xy[:, 1], facecolor=col, edgecolor=col, linewidth=0.8, alpha=0.85, zorder=4)
        for true, pred, hs, xy in drawn:
            if hs == s and max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])) < 0.02:
                cx, cy = _plane_centroid(xy)
                ax.plot([cx], [cy], marker="o", ms=7, mfc="none", mec=PAIR_COLOURS.get((true, pred), "red"), mew=0.9,
                        zorder=5)
        for rk in itertools.permutations(range(c.n)):
            d = np.zeros(3)
            d[rk[0]], d[rk[2]] = 1.0, -1.0
            pos = lambert((d + s * 0.35 * np.array(DIAG)).reshape(1, 3), s)[0]
            ax.text(pos[0], pos[1], f"x{rk[0]}>x{rk[1]}>x{rk[2]}", fontsize=7, ha="center", va="center", color="0.25",
                    zorder=6)
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(names[s], fontsize=9)
    handles = [Patch(color=PAIR_COLOURS.get(p, "red"), label=f"wrong: true {p[0]} -> predicted {p[1]}")
               for p in sorted({(t, pr) for t, pr, *_ in drawn})]
    handles += [Line2D([], [], color="k", lw=0.9, label="ordering-chamber walls x_i = x_j"),
                Line2D([], [], color="0.45", lw=0.7, ls=":", label="x0 = 0 (where the certificate's roots split)"),
                Line2D([], [], color="#1f3fbf", lw=1.1, label="decision boundary (l_k = l_j)"),
                Line2D([], [], color="0.6", lw=0.35, label="activation-region boundary")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    written = save_figure(fig, path_stem)
    return written, drawn
