"""Explain a seq_len-2 model: standardised weights, a table of sectors, and the disc drawn (PNG + SVG).

This is the picture the AlgZoo authors drew by hand for M(2,2): sectors coloured by activation pattern,
boundary rays, the dashed diagonal x_0 = x_1, and the wrong wedges highlighted with their angles.
Wedges too thin to see are drawn widened to a visible angle and marked "drawn widened"; their true
angle is printed beside them.  Angles in the picture and table are floats for display only.
"""

from __future__ import annotations

import math

MIN_DRAWN_DEG = 3.0


def _fmt_form(coeffs) -> str:
    from .rational import q

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
    from .disc import sectors
    from .model import linear_map

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


def draw(rows, wedges, path_stem: str, title: str) -> list[str]:
    """Draw the disc; return the files written (PNG and SVG, each written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Wedge

    from .rational import write_atomic

    fig, ax = plt.subplots(figsize=(9.5, 7))
    patterns = sorted({r["pattern"] for r in rows})
    cmap = plt.get_cmap("Pastel1" if len(patterns) <= 9 else "tab20")
    colour = {p: cmap(i % cmap.N) for i, p in enumerate(patterns)}
    for r in rows:
        ax.add_patch(Wedge((0, 0), 1.0, r["from_deg"], r["to_deg"], facecolor=colour[r["pattern"]],
                           edgecolor="none", alpha=0.9))
    for r in rows:
        t = math.radians(r["from_deg"])
        ax.plot([0, math.cos(t)], [0, math.sin(t)], color="0.35", lw=0.8)
    ax.plot([-1.05, 1.05], [-1.05, 1.05], ls="--", color="k", lw=1.0, label="diagonal x0 = x1")
    for a, b in wedges:
        start = math.degrees(math.atan2(a[1], a[0]))
        true = math.atan2(a[0] * b[1] - a[1] * b[0], a[0] * b[0] + a[1] * b[1])
        width = math.degrees(true)
        mid = start + width / 2
        drawn = max(width, MIN_DRAWN_DEG)
        widened = drawn > width
        ax.add_patch(Wedge((0, 0), 1.0, mid - drawn / 2, mid + drawn / 2, facecolor="red", alpha=0.55,
                           edgecolor="darkred", hatch="//" if widened else None))
        tx, ty = 1.18 * math.cos(math.radians(mid)), 1.18 * math.sin(math.radians(mid))
        ax.annotate(f"wrong: {true:.3g} rad" + (" (drawn widened)" if widened else ""), (tx, ty), ha="center",
                    va="center", fontsize=8, color="darkred")
    for p in patterns:
        ax.plot([], [], marker="s", ls="", color=colour[p], label=f"pattern {p}")
    ax.plot([], [], marker="s", ls="", color="red", alpha=0.55, label="wrong wedge")
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, framealpha=0.8)
    fig.tight_layout()
    written = []
    import io

    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=130, metadata={"Date": None} if ext == "svg" else None)
        path = f"{path_stem}.{ext}"
        write_atomic(path, buf.getvalue())
        written.append(path)
    plt.close(fig)
    return written
