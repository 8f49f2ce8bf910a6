"""Certificate version 1, the disc (seq_len 2): the sectors of the plane between consecutive zero rays, each with
its pattern, label and prediction; the wrong sectors merged into wedges whose closed form is one atan2 per decision
ray (cells/disc.py finds the sectors; kernel/disc.py re-checks them)."""

from __future__ import annotations

import time

from ..loading.rational import q
from .base import CertifyResult, Kind, error_report, exact_error_lines, header, with_sampled


def accepts(lm, o) -> bool:
    return lm.family == "position" and lm.seq_len == 2 and o.method != "boxes"


def generate(lm, o, timings: dict, deadline) -> CertifyResult:
    from ..cells.disc import sectors, wrong_wedges
    from ..cells.measure import closed_form_wedges, enclose, wedge_angle_sum_ball

    z3 = True if o.z3 is None else o.z3
    t0 = time.perf_counter()
    secs = sectors(lm.rnn, lm.task)
    timings["sectors"] = time.perf_counter() - t0
    if z3:
        from ..cells.smt import confirm_sectors

        t0 = time.perf_counter()
        confirm_sectors(lm.rnn, lm.task, secs)
        timings["z3"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    wedges = wrong_wedges(secs)
    index = {s.u: k for k, s in enumerate(secs)}
    end_index = {s.v: k for k, s in enumerate(secs)}
    wedge_idx = [[index[a], end_index[b]] for a, b in wedges]
    lo, hi, _prec = enclose(lambda p: wedge_angle_sum_ball(wedges, p), o.digits, exact_zero=not wedges)
    form = closed_form_wedges(wedges)
    timings["measure"] = time.perf_counter() - t0
    doc = header(lm, 1, "disc")
    doc["sectors"] = [{"u": [q(c) for c in s.u], "v": [q(c) for c in s.v],
                       "pattern": ["".join(map(str, row)) for row in s.pattern],
                       "label": s.label, "prediction": s.prediction, "wrong": s.wrong} for s in secs]
    doc["wedges"] = wedge_idx
    doc["error"] = {"lower": q(lo), "upper": q(hi), "closed_form": form, "rigorous": True, "digits": o.digits}
    doc["accuracy"] = {"lower": q(1 - hi), "upper": q(1 - lo)}
    doc["regions"] = len(secs)
    return CertifyResult(lo, hi, form, True, len(secs), sum(s.wrong for s in secs), doc, lm,
                         timings=timings, details={"sectors": secs, "wedges": wedges})


KIND = Kind(name="disc", version=1, title="the disc: sectors of the plane and wedges (seq_len 2, exact closed form)",
            accepts=accepts, generate=generate, lines=exact_error_lines,
            report=lambda res: with_sampled(error_report(res), res))
