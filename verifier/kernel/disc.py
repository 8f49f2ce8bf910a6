"""Version 1, the disc (seq_len 2): the plane cut into open sectors between integer rays; each sector has
one pattern, one target and one prediction; the wrong ones form wedges whose angles sum to the error."""

from __future__ import annotations

from .certificate import Certificate
from .claim import CLOSING, Work, counts, method_is, rule, subject
from .geometry import cross2, dot
from .measure import bounds, wedge_ball, wedge_form
from .model import argmax_first, forward, lin, target
from .rules import Reject


def _half(ref, r) -> int:
    c, d = cross2(ref, r), dot(ref, r)
    return 0 if c > 0 or (c == 0 and d > 0) else 1


def _before(ref, a, b) -> bool:
    """The angle of a (counter-clockwise from ref, in [0, 2 pi)) is strictly less than that of b."""
    ha, hb = _half(ref, a), _half(ref, b)
    if ha != hb:
        return ha < hb
    return cross2(a, b) > 0


def _one_sign(fu, fv) -> bool:
    """A linear form does not change sign strictly inside the sector spanned by u and v."""
    return not ((fu > 0 and fv < 0) or (fu < 0 and fv > 0))


@rule("cover")
def cover(c: Certificate, w: Work):
    """At least 3 sectors; every sector has cross(u, v) > 0; each sector's v is the next one's u (cyclically);
    the start rays strictly increase in angle from the first: the sectors tile the plane exactly once."""
    secs = c.sectors
    if len(secs) < 3:
        raise Reject("cover", "fewer than 3 sectors cannot cover the plane")
    ref = secs[0].u
    for k, s in enumerate(secs):
        if cross2(s.u, s.v) <= 0:
            raise Reject("cover", f"sector {k}: rays are not counter-clockwise with angle in (0, pi)")
        if s.v != secs[(k + 1) % len(secs)].u:
            raise Reject("cover", f"sector {k}: its end ray is not the start ray of the next sector")
        if k + 1 < len(secs) and not _before(ref, s.u, s.v):
            raise Reject("cover", f"sector {k}: rays are out of angular order (sectors overlap or wind twice)")


@rule("pattern")
def pattern(c: Certificate, w: Work):
    """Each neuron's form f (under the claimed pattern of the earlier steps) has f(u), f(v) >= 0 and
    f(u) + f(v) > 0 when its bit is 1, f(u), f(v) <= 0 when it is 0; the forward pass at u + v agrees."""
    for k, s in enumerate(c.sectors):
        steps, _ = w.forms.all(s.pattern)
        for t, step in enumerate(steps):
            for i, f in enumerate(step):
                fu, fv = lin(f, s.u), lin(f, s.v)
                ok = (fu >= 0 and fv >= 0 and fu + fv > 0) if s.pattern[t][i] else (fu <= 0 and fv <= 0)
                if not ok:
                    raise Reject("pattern", f"sector {k}: neuron {i} at step {t} is not "
                                 f"{'positive' if s.pattern[t][i] else 'non-positive'} on the whole sector")
        if forward(w.m, (s.u[0] + s.v[0], s.u[1] + s.v[1]))[0] != s.pattern:
            raise Reject("pattern", f"sector {k}: the witness u + v has a different pattern")


@rule("label")
def label(c: Certificate, w: Work):
    """The task boundary x_0 - x_1 has one strict sign on the sector, and the label is the target at u + v."""
    for k, s in enumerate(c.sectors):
        fu, fv = s.u[0] - s.u[1], s.v[0] - s.v[1]
        if not _one_sign(fu, fv) or fu + fv == 0:
            raise Reject("label", f"sector {k}: the task boundary x_0 = x_1 crosses the sector")
        got = target(c.task, (s.u[0] + s.v[0], s.u[1] + s.v[1]))
        if got != s.label:
            raise Reject("label", f"sector {k}: claimed label {s.label} but the task gives {got}")


@rule("prediction")
def prediction(c: Certificate, w: Work):
    """No logit difference takes strictly opposite signs at u and v (so the argmax is constant on the open
    sector), and the exact forward pass at u + v predicts the claimed class."""
    for k, s in enumerate(c.sectors):
        out = w.forms.output(s.pattern)
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                diff = tuple(a - b for a, b in zip(out[i], out[j]))
                if not _one_sign(lin(diff, s.u), lin(diff, s.v)):
                    raise Reject("prediction", f"sector {k}: logits {i} and {j} swap order inside the sector")
        got = argmax_first(forward(w.m, (s.u[0] + s.v[0], s.u[1] + s.v[1]))[1])
        if got != s.prediction:
            raise Reject("prediction", f"sector {k}: claimed prediction {s.prediction}, the model gives {got}")


@rule("wrong")
def wrong(c: Certificate, w: Work):
    """A sector is wrong exactly when its label differs from its prediction."""
    for k, s in enumerate(c.sectors):
        if s.wrong != (s.label != s.prediction):
            raise Reject("wrong", f"sector {k}: 'wrong' must be {s.label != s.prediction}")


@rule("wedges")
def wedges(c: Certificate, w: Work):
    """Each wedge [i, j] is the run of sectors i..j (cyclically), all wrong, at most pi wide; every wrong
    sector is in exactly one wedge."""
    secs, K = c.sectors, len(c.sectors)
    covered = [False] * K
    for w_i, (a, b) in enumerate(c.wedges):
        run = [(a + s) % K for s in range(((b - a) % K) + 1)]
        start = secs[a].u
        for s_i, k in enumerate(run):
            if covered[k]:
                raise Reject("wedges", f"sector {k} is in two wedges")
            if not secs[k].wrong:
                raise Reject("wedges", f"wedge {w_i} contains the right sector {k}")
            covered[k] = True
            end = secs[k].v
            cr, dt = cross2(start, end), dot(start, end)
            if not (cr > 0 or (s_i == len(run) - 1 and cr == 0 and dt < 0)):
                raise Reject("wedges", f"wedge {w_i} is wider than pi")
        w.wedges.append((start, secs[b].v))
    for k in range(K):
        if secs[k].wrong and not covered[k]:
            raise Reject("wedges", f"wrong sector {k} is in no wedge")


@rule("closed-form")
def closed_form(c: Certificate, w: Work):
    """closed_form is exactly (atan2(cross(u, v), dot(u, v)) + ...)/(2*pi) over the wedges (u from the first
    sector's start ray, v the last one's end ray), or "0" when there is none."""
    ball = wedge_ball(w.wedges)
    w.form, w.bounds, w.empty = wedge_form(w.wedges), lambda prec: bounds(ball(prec)), not w.wedges
    if c.error.closed_form != w.form:
        raise Reject("closed-form", "closed_form is not the sum of the wedges' angles over 2 pi")


@rule("method")
def method(c: Certificate, w: Work):
    """Version 1 uses method 'disc', for seq_len 2."""
    method_is(c, 1, "disc")
    if c.n != 2:
        raise Reject("method", f"method disc covers seq_len 2, not {c.n}")


RULES_V1 = subject(method) + (cover, counts, pattern, label, prediction, wrong, wedges, closed_form) + CLOSING
