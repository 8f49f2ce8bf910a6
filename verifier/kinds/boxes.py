"""Certificate version 5, boxes (position tasks, any seq_len): a tree of axis-aligned boxes of the input cube, each
decided leaf proved right or wrong by exact interval propagation; error in [mass of the wrong boxes, 1 - mass of
the right boxes] (intervals/boxes.py searches; kernel/boxes.py re-derives every leaf)."""

from __future__ import annotations

import sys
import time

from ..errors import InputError, UnsupportedError
from ..loading.rational import q
from .base import CertifyResult, Kind, default_workers, error_report, header, progress_writer, \
    sampled_and_time_lines, width_not_reached, with_sampled

DEFAULT_MAX_BOXES = 1 << 24  # --method boxes with --width alone stops here (a few GB of search state)


def accepts(lm, o) -> bool:
    if o.method != "boxes":
        return False
    if lm.family != "position":
        raise UnsupportedError(f"{lm.path}: --method boxes certifies the position tasks (argmax, 2nd argmax, "
                               "argmedian); a median model's MSE is not a probability of boxes")
    if o.width is None and o.timeout is None and o.max_boxes is None:
        raise InputError("--method boxes needs a stop: --width, --timeout or --max-boxes")
    if o.checkpoint_every is not None and not o.out:
        raise InputError("--checkpoint-every needs an output path (the checkpoint is written beside it)")
    return True


def resume_tokens(lm, path: str) -> list[str]:
    """The tree of a version-5 certificate of this very model, read and checked for shape by the kernel's reader
    and its box-tree rule (the rest is re-derived when the continued certificate is checked)."""
    from ..intervals.boxes import DENOMINATOR, RADIUS
    from ..kernel import Reject, Unreadable, parse_json
    from ..kernel.boxes import box_tree
    from ..kernel import read_certificate
    from ..kernel.check import read_text
    from ..kernel.claim import Work
    from .base import model_block

    try:
        c = read_certificate(parse_json(read_text(path)))
        if c.version != 5:
            raise InputError(f"--resume {path}: a version {c.version} certificate; --resume continues a boxes "
                             "certificate (version 5)")
        box_tree(c, Work())
    except (Reject, Unreadable) as exc:
        raise InputError(f"--resume {path}: not a readable boxes certificate ({exc})") from None
    if c.weights_sha256 != model_block(lm.rnn)["weights_sha256"] or c.task != lm.task:
        raise InputError(f"--resume {path}: the certificate is about other weights or another task than {lm.path}")
    if (c.denominator, c.radius) != (DENOMINATOR, RADIUS):
        raise InputError(f"--resume {path}: its grid ({c.denominator}, {c.radius}) is not this version's "
                         f"({DENOMINATOR}, {RADIUS})")
    return c.tree.split(" ")


def generate(lm, o, timings: dict, deadline) -> CertifyResult:
    """Search until the width, the box budget or the time limit (half of it when the kernel re-checks, which
    costs about as much as the search's exact confirmations)."""
    from ..intervals.boxes import certify_boxes

    max_boxes = o.max_boxes
    if o.timeout is None and max_boxes is None:
        max_boxes = DEFAULT_MAX_BOXES  # a width alone may be out of reach: memory is the stop then
    if o.workers is None:  # the exact confirmations dominate: all cores
        o.workers = default_workers(True)
    workers = o.workers
    search_deadline = None if o.timeout is None else time.monotonic() + (0.5 * o.timeout if o.self_check else
                                                                         o.timeout)
    start = resume_tokens(lm, o.resume) if o.resume is not None else None
    t0 = time.perf_counter()
    ckpt = o.out + ".checkpoint" if o.checkpoint_every is not None else None
    fields = certify_boxes(lm, header(lm, 5, "boxes"), o.width, search_deadline, max_boxes, workers,
                           progress_writer(o.progress), start=start, checkpoint=ckpt,
                           checkpoint_every=o.checkpoint_every or 300.0)
    if o.progress:
        sys.stderr.write("\n")
    timings["search"] = time.perf_counter() - t0
    return CertifyResult(model=lm, **fields)


def lines(res, closed_form: bool = False) -> list[str]:
    from .cones import interval_head

    d = res.details
    st = d["search"]
    out = interval_head(res) + [
        f"  {st['boxes']:,} boxes made in {st['seconds']:.1f}s: {d['wrong']:,} wrong and {d['right']:,} right boxes "
        f"proved (at least the wrong boxes' mass, at most 1 minus the right boxes'), {d['undecided']:,} left "
        f"undecided; certificate {res.certificate_path} (checked: accepted)"]
    u = st.get("undecided")
    if u:
        out.append(f"  undecided mass (float estimate) {u['open_mass']:.4g}: target open (near ties) "
                   f"{100 * (u['target_open_tie_above'] + u['target_open_tie_below'] + u['target_open_both']):.1f}%, "
                   f"argmax open {100 * u['argmax_open']:.1f}% (no unstable unit, a decision boundary crosses the "
                   f"box: {100 * u['argmax_open_no_unstable_unit']:.1f}%; unstable units per step "
                   f"{u['unstable_units_per_step']})")
    return out + sampled_and_time_lines(res)


def report(res) -> dict:
    out = error_report(res)
    d = res.details
    out["boxes"] = {"right": d["right"], "wrong": d["wrong"], "undecided": d["undecided"],
                    "width_asked": None if d["width"] is None else q(d["width"]),
                    "width": q(res.error_upper - res.error_lower), "width_reached": d["width_reached"],
                    "search": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in d["search"].items()}}
    return with_sampled(out, res)


KIND = Kind(name="boxes", version=5,
            title="boxes: an interval from a tree of decided boxes, for the position tasks at any seq_len",
            accepts=accepts, generate=generate, lines=lines, report=report,
            notes=width_not_reached, exit_code=lambda res: 0 if res.details["width_reached"] else 3,
            recheck_deadline=lambda res: False,
            no_cells="a boxes certificate (version 5): an interval from boxes, no cells to break down or cross-check")
