"""Certificate version 4, enumeration (longest-cycle transformers): every one of the n^n inputs evaluated in ball
arithmetic; the wrong inputs listed with their predictions, the undecided ones counted both ways
(families/transformer.py evaluates; kernel/cycle.py re-derives every input)."""

from __future__ import annotations

import time
from fractions import Fraction

from ..errors import LimitReached
from ..loading.rational import q
from .base import CertifyResult, Kind


def accepts(lm, o) -> bool:
    return lm.family == "transformer"


def generate(lm, o, timings: dict, deadline) -> CertifyResult:
    """Evaluate every input exactly and compare with torch; the version-4 document."""
    from ..families.transformer import unindex, certificate, evaluate, fn_text, state_dict, torch_predictions

    m = lm.transformer
    n, N = m.n, m.n ** m.n
    t0 = time.perf_counter()
    try:
        ev = evaluate(m, deadline=deadline)
    except TimeoutError:
        raise LimitReached(f"timeout after {o.timeout:g}s (--timeout) while evaluating the inputs; stopped, "
                           "nothing written") from None
    timings["evaluate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    dtype = "float64" if lm.source_dtype == "float64" else "float32"
    import torch

    torch_preds = torch_predictions(state_dict(m, dtype), n, m.d, len(m.layers),
                                    dtype=torch.float64 if dtype == "float64" else None)
    disagree = [i for i, (a, b) in enumerate(zip(torch_preds, ev.predictions)) if b is not None and a != b]
    timings["torch"] = time.perf_counter() - t0
    doc = certificate(lm, ev)
    c = doc["counts"]
    lo, hi = Fraction(doc["error"]["lower"]), Fraction(doc["error"]["upper"])
    return CertifyResult(lo, hi, f"{c['wrong']}/{N}", True, N, c["wrong"], doc, lm, timings=timings,
                         details={"inputs": N, "wrong": c["wrong"], "undecided": c["undecided"],
                                  "torch_dtype": dtype, "torch_disagreements": len(disagree),
                                  "torch_disagreement_inputs": [fn_text(unindex(i, n)) for i in disagree[:20]],
                                  "precision_counts": ev.precision_counts})


def lines(res, closed_form: bool = False) -> list[str]:
    """A longest-cycle transformer's certified accuracy (every one of the n^n inputs evaluated)."""
    lm, det = res.model, res.details
    N, wrong, und = det["inputs"], det["wrong"], det["undecided"]
    acc = q(res.accuracy[0]) if und == 0 else f"[{q(res.accuracy[0])}, {q(res.accuracy[1])}]"
    return [f"{lm.path}: longest cycle, attention-only transformer, d={lm.hidden_size}, n={lm.seq_len}, "
            f"{len(lm.transformer.layers)} layers, {lm.parameters} parameters (sha256 {lm.sha256[:16]}...)",
            f"  accuracy (exact) = {acc}  ({100 * float(res.accuracy[0]):.4f}%): {N - wrong - und} of {N} inputs "
            f"right, {wrong} wrong" + (f", {und} undecided (counted both ways)" if und else ""),
            f"  torch {det['torch_dtype']} disagrees with the exact model on {det['torch_disagreements']} of "
            f"{N - und} decided inputs" + (" (near-ties)" if det["torch_disagreements"] else ""),
            f"  certificate {res.certificate_path} (checked: accepted)",
            f"  time: {res.timings.get('total', 0):.3f}s certify+check"]


def report(res) -> dict:
    lm, det = res.model, res.details
    return {"checkpoint": lm.path, "sha256": lm.sha256, "task": lm.task, "family": lm.family,
            "hidden_size": lm.hidden_size, "seq_len": lm.seq_len, "inputs": det["inputs"], "wrong": det["wrong"],
            "undecided": det["undecided"],
            "error": {"lower": q(res.error_lower), "upper": q(res.error_upper)},
            "accuracy": {"lower": q(res.accuracy[0]), "upper": q(res.accuracy[1])},
            f"{det['torch_dtype']}_disagreements": det["torch_disagreements"],
            "precision_bits": {str(k): v for k, v in det["precision_counts"].items()},
            "certificate": res.certificate_path,
            "timings_s": {k: round(v, 4) for k, v in res.timings.items()}}


KIND = Kind(name="enumeration", version=4,
            title="enumeration: the exact accuracy of a longest-cycle transformer, every input evaluated",
            accepts=accepts, generate=generate, lines=lines, report=report,
            no_cells="a longest-cycle transformer's certificate (version 4): its inputs are enumerated, there are no "
                     "cells")
