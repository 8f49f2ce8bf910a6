"""`explain`: where a model errs, from its certificate (re-checked by the kernel) or one made in memory: the
error by (true, predicted) label, the largest wrong cells, the disc or the sphere drawn (views/)."""

from __future__ import annotations

import os
from fractions import Fraction

from ..errors import InputError, UnsupportedError
from .common import emit_json


def _explain_certificate(a, lm):
    """(certificate document, its path or None when certified in memory) for `explain`."""
    from ..pipeline import certify, default_certificate_path
    from ..kernel.check import read_text
    from ..kernel.read import parse_json
    from ..kernel.rules import Reject, Unreadable

    path = a.certificate
    if path is None and os.path.isfile(default_certificate_path(a.checkpoint)):
        path = default_certificate_path(a.checkpoint)
    if path is not None:
        try:
            doc = parse_json(read_text(path))
        except (Reject, Unreadable) as exc:
            raise InputError(f"{path}: not a readable certificate: {getattr(exc, 'message', exc)}") from None
        if not isinstance(doc, dict):
            raise InputError(f"{path}: not a certificate (not a JSON object)")
        sha = (doc.get("checkpoint") or {}).get("sha256") if isinstance(doc.get("checkpoint"), dict) else None
        fits = sha == lm.sha256 and (doc.get("task") == lm.task or not lm.task_given)
        if fits:
            return doc, path
        if a.certificate is not None:
            why = "another checkpoint" if sha != lm.sha256 else f"task {doc.get('task')!r}, not {lm.task!r}"
            raise InputError(f"{path}: this certificate is for {why}")
    if lm.seq_len not in (2, 3, 4, 5):
        raise UnsupportedError(f"{a.checkpoint}: seq_len {lm.seq_len}: no certificate, and certifying it is not "
                               "supported (seq_len 2 to 5)")
    return certify(lm, z3=False, samples=0).certificate, None


def _dec(x: Fraction, digits: int, up: bool) -> str:
    """x rounded down (or up) to `digits` significant decimal digits, written exactly: bounds for display."""
    from decimal import Decimal, localcontext

    from ..cells.measure import round_outward

    lo, hi = round_outward(x, x, digits)
    v = hi if up else lo
    with localcontext() as ctx:
        ctx.prec = digits + 40  # v is a terminating decimal of `digits` digits: the division is exact
        return format(Decimal(v.numerator) / Decimal(v.denominator), f".{digits - 1}e") if v else "0"


def _largest_line(c, what: str) -> str:
    """One of the atlas's largest cells (or sectors): its enclosure, an input in it and its active units per step."""
    act = " | ".join(f"t{t}: " + (" ".join(f"h{i}" for i in row) or "-") for t, row in enumerate(c["active"]))
    return (f"      {what} {c['cell']}: [{_dec(Fraction(c['lower']), 6, False)}, {_dec(Fraction(c['upper']), 6, True)}]"
            f"  input ({', '.join(c['input'])})  active {act}")


def _print_atlas(res, cert_path) -> None:
    where = cert_path or "certified in memory (nothing written)"
    e_lo, e_hi = Fraction(res["error"]["lower"]), Fraction(res["error"]["upper"])
    checked = "checked by the kernel" + ("" if res["kernel"] == "every rule" else f" ({res['kernel']})")
    print(f"error by (true label -> predicted label); certificate: {where}, {checked}")
    print(f"  certified error in [{_dec(e_lo, 12, False)}, {_dec(e_hi, 12, True)}], "
          f"{res['wrong_cells']} wrong cells")
    if not res["measured"]:
        print("  " + res["note"])
        for r in res["breakdown"]:
            print(f"  {r['true']} -> {r['predicted']}: {r['cells']} cells")
        return
    total = (e_lo + e_hi) / 2
    for r in res["breakdown"]:
        lo, hi = Fraction(r["lower"]), Fraction(r["upper"])
        share = float((lo + hi) / 2 / total) if total else 0.0  # display only
        print(f"  {r['true']} -> {r['predicted']}: mass in [{_dec(lo, 12, False)}, {_dec(hi, 12, True)}]  "
              f"(about {100 * share:.3g}% of the error), {r['cells']} cells")
        for c in r["largest"]:
            print(_largest_line(c, "sector" if res["seq_len"] == 2 else "cell"))
    s_lo, s_hi = Fraction(res["sum"]["lower"]), Fraction(res["sum"]["upper"])
    print(f"  the pairs' enclosures sum to [{_dec(s_lo, 12, False)}, {_dec(s_hi, 12, True)}], which contains the "
          "certified error (exact rationals: --json)")


def _print_mse_atlas(res, cert_path) -> None:
    where = cert_path or "certified in memory (nothing written)"
    lo, hi = Fraction(res["mse"]["lower"]), Fraction(res["mse"]["upper"])
    print(f"mean squared error by ordering chamber; certificate: {where}, checked by the kernel")
    print(f"  certified MSE in [{_dec(lo, 12, False)}, {_dec(hi, 12, True)}], {res['cells']} cells")
    for r in res["breakdown"]:
        chamber = " > ".join(f"x{i}" for i in r["chamber"])
        med = " and ".join(f"x{i}" for i in r["median"])
        print(f"  {chamber} (median {med}): [{_dec(Fraction(r['lower']), 12, False)}, "
              f"{_dec(Fraction(r['upper']), 12, True)}], {r['cells']} cells")
        for c in r["largest"]:
            print(_largest_line(c, "cell"))
    for r in res["by_median"]:
        med = " and ".join(f"x{i}" for i in r["median"])
        print(f"  median {med}: [{_dec(Fraction(r['lower']), 12, False)}, {_dec(Fraction(r['upper']), 12, True)}], "
              f"{r['cells']} cells")
    s_lo, s_hi = Fraction(res["sum"]["lower"]), Fraction(res["sum"]["upper"])
    print(f"  the chambers' enclosures sum to [{_dec(s_lo, 12, False)}, {_dec(s_hi, 12, True)}], which contains the "
          "certified MSE (exact rationals: --json)")


def cmd_explain(a) -> int:
    from ..views.atlas import analyse, breakdown
    from ..loading.loader import load

    if a.top < 0:
        raise InputError("--top must be >= 0")
    lm = load(a.checkpoint, task=a.task, seq_len=a.seq_len)
    if lm.rnn is None:
        raise UnsupportedError(f"{a.checkpoint}: explain supports RNNs (position tasks and median)")
    doc, cert_path = _explain_certificate(a, lm)
    atlas = analyse(doc, checkpoint=a.checkpoint)
    task = atlas.cert.task
    res = breakdown(doc, top=a.top, atlas=atlas)
    if lm.family != "position":  # median: the MSE by ordering chamber, no picture
        if a.json:
            emit_json({"checkpoint": lm.path, "sha256": lm.sha256, "certificate": cert_path, **res, "figures": []})
            return 0
        _explain_text(lm, task, None)
        _print_mse_atlas(res, cert_path)
        return 0
    rows = None
    if lm.seq_len == 2:
        from ..views.explain import sector_rows

        rows = sector_rows(lm.rnn, task)
    files = []
    if not a.no_plot and lm.seq_len in (2, 3):
        from ..pipeline import default_output_path

        suffix = "_disc" if lm.seq_len == 2 else "_sphere"
        stem = a.out or default_output_path(a.checkpoint, os.path.join("docs", "figures"), suffix)
        folder = os.path.dirname(stem) or "."
        if not os.path.isdir(folder):
            raise InputError(f"--out {stem}: folder {folder} does not exist")
        name = os.path.basename(a.checkpoint)
        if lm.seq_len == 2:
            from ..cells.disc import wrong_wedges
            from ..views.explain import draw

            files = draw(rows, wrong_wedges([r["sector"] for r in rows]), stem,
                         f"{name}: sectors of the disc (wrong sectors hatched, by true -> predicted)")
        else:
            from ..views.explain import draw_sphere

            files, _ = draw_sphere(atlas, stem, f"{name} ({task}): the unit sphere, Lambert equal-area")
    if a.json:
        emit_json({"checkpoint": lm.path, "sha256": lm.sha256, "certificate": cert_path, **res, "figures": files})
        return 0
    _explain_text(lm, task, rows)
    _print_atlas(res, cert_path)
    if files:
        print("drew " + ", ".join(files))
    return 0


def _explain_text(lm, task, rows) -> None:
    from ..loading.model import standardize
    from ..loading.rational import q

    std, _ = standardize(lm.rnn)
    print(f"{lm.path}: {task}, d={lm.hidden_size}, n={lm.seq_len}  (standardised weights: same function, exactly)")
    for name, mat in (("W_hi", std.W_hi), ("W_hh", std.W_hh), ("W_oh", std.W_oh)):
        print(f"  {name} = [" + "; ".join(", ".join(q(v) for v in row) for row in mat) + "]")
    print()
    if rows is None:
        return
    width = max(9, 2 * lm.hidden_size + 2)
    print(f"{'#':>3} {'from':>9} {'to':>9}  {'pattern':<{width}} {'label':>5} {'pred':>4}  status  Δ = l1 - l0 (exact)")
    for i, r in enumerate(rows):
        print(f"{i:>3} {r['from_deg']:9.4f} {r['to_deg']:9.4f}  {r['pattern']:<{width}} "
              f"{r['label']:>5} {r['prediction']:>4}  {'WRONG ' if r['wrong'] else 'right '}  {r['delta']}")
    print(f"\n{len(rows)} sectors, {sum(r['wrong'] for r in rows)} wrong (angles in degrees: display only)\n")
