"""seq_len 2: the disc split into sectors on which pattern, label and prediction are constant.

With no biases every pre-activation and logit is positively homogeneous, so the plane splits into
sectors bounded by rays through the origin.  We start from the four quadrants and split a sector
(u, v) (counter-clockwise, angle < pi) at the zero ray of any linear form that takes strictly
opposite signs at u and v: the pre-activation forms of the pattern at the sector's midpoint
u + v, the task form x_0 - x_1, and every logit difference l_i - l_j.  When no form changes sign
strictly inside a sector, each has one sign (or is 0) on the whole open sector, so by induction over
the steps the pattern is constant there, the linear map is constant, and so are label and prediction.
All arithmetic is on integers (rays are primitive integer vectors).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnsupportedError
from .exact import cross2 as cross, dot, primitive
from ..loading.model import RNN, IntRNN, Pattern, argmax_first
from ..loading.tasks import POSITION_TASKS, label as task_label

Ray = tuple[int, int]


@dataclass(frozen=True)
class Sector:
    """An open sector between rays u and v (counter-clockwise, 0 < angle < pi)."""

    u: Ray
    v: Ray
    pattern: Pattern
    label: int
    prediction: int
    logit_forms: tuple[tuple[int, int], ...]  # integer forms, proportional (by a positive factor) to the logits

    @property
    def wrong(self) -> bool:
        return self.label != self.prediction

    @property
    def witness(self) -> Ray:
        return (self.u[0] + self.v[0], self.u[1] + self.v[1])


def _forms_to_check(im: IntRNN, w: Ray, n_out: int):
    sigma, steps, out = im.pattern_and_forms(w)
    forms = [f for step in steps for f in step if any(f)]
    forms.append((1, -1))  # the task boundary x_0 = x_1 (every position task on n = 2)
    for i in range(n_out):
        for j in range(i + 1, n_out):
            diff = tuple(a - b for a, b in zip(out[i], out[j]))
            if any(diff):
                forms.append(diff)
    return sigma, out, forms


def sectors(rnn: RNN, task: str) -> list[Sector]:
    """The sectors of the disc for a seq_len-2 position model, counter-clockwise from the ray (1, 0)."""
    if rnn.seq_len != 2:
        raise UnsupportedError(f"the disc method needs seq_len 2, got {rnn.seq_len}")
    if task not in POSITION_TASKS:
        raise UnsupportedError(f"task {task} is not a position task; certifying it is not supported yet")
    im = IntRNN.of(rnn)
    n_out = rnn.out_dim
    out: list[Sector] = []
    stack = [((0, -1), (1, 0)), ((-1, 0), (0, -1)), ((0, 1), (-1, 0)), ((1, 0), (0, 1))]
    while stack:
        u, v = stack.pop()
        w = (u[0] + v[0], u[1] + v[1])
        sigma, logits, forms = _forms_to_check(im, w, n_out)
        split = None
        for f in forms:
            fu, fv = dot(f, u), dot(f, v)
            if (fu > 0 and fv < 0) or (fu < 0 and fv > 0):
                split = primitive((abs(fv) * u[0] + abs(fu) * v[0], abs(fv) * u[1] + abs(fu) * v[1]))
                break
        if split is not None:
            stack.append((split, v))
            stack.append((u, split))
            continue
        values = [dot(f, w) for f in logits]
        out.append(Sector(u, v, sigma, task_label(task, w), argmax_first(values), tuple(tuple(f) for f in logits)))
    return out


def wrong_wedges(secs: list[Sector]) -> list[tuple[Ray, Ray]]:
    """Maximal runs of consecutive wrong sectors, merged while the wedge angle stays at most pi."""
    wedges: list[tuple[Ray, Ray]] = []
    k = len(secs)
    if all(s.wrong for s in secs):
        start = 0
    else:
        start = next(i for i in range(k) if not secs[i].wrong)  # begin after a right sector: runs don't wrap
    cur = None
    for step in range(k):
        s = secs[(start + step) % k]
        if not s.wrong:
            if cur:
                wedges.append(cur)
            cur = None
            continue
        if cur is None:
            cur = (s.u, s.v)
            continue
        a, _ = cur
        c, d = cross(a, s.v), dot(a, s.v)
        if c > 0 or (c == 0 and d < 0):
            cur = (a, s.v)
        else:
            wedges.append(cur)
            cur = (s.u, s.v)
    if cur:
        wedges.append(cur)
    return wedges
