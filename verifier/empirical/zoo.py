"""The published AlgZoo figures (docs/ALGZOO.md) and our models/ manifest (index.json)."""

from __future__ import annotations

import json
import os

# Published zoo accuracy (%) / RMSE, keyed by (task, d, n).
_2ND = {32: (100.0, 100.0, 99.9, 99.7, 99.4, 99.3, 99.4), 16: (100.0, 100.0, 99.8, 99.2, 98.5, 97.6, 94.8),
        8: (100.0, 99.9, 98.7, 88.2, 78.9, 46.6, 42.7), 6: (100.0, 99.9, 86.5, 70.3, 48.4, 40.5, 37.5),
        5: (100.0, 99.9, 74.6, 54.2, 45.0, 38.4, 34.7), 4: (100.0, 98.5, 60.2, 42.8, 39.4, 34.6, 31.8),
        3: (100.0, 90.8, 43.3, 37.5, 34.1, 28.5, 23.9), 2: (100.0, 41.0, 32.8, 30.6, 26.9, 21.4, 20.2)}
_2ND_N = (2, 3, 4, 5, 6, 8, 10)
_MED_IDX = {32: (100.0, 99.6, 97.8, 74.8), 16: (100.0, 98.3, 71.4, 46.0), 8: (99.9, 69.9, 49.3, 33.6),
            4: (98.5, 39.4, 27.5, 19.1), 2: (41.0, 26.4, 16.4, 10.6)}
_MED_IDX_N = (3, 5, 7, 11)
_MEDIAN = {32: (0, 0, 0, 0), 16: (0, 0, 0, 0.041), 8: (0, 0, 0.039, 0.083), 4: (0, 0.132, 0.207, 0.127),
           2: (0, 0.326, 0.285, 0.189)}
_MEDIAN_N = (2, 3, 5, 10)
_CYCLE = {8: (100, 100, 99.7, 85.4), 6: (100, 100, 94.7, 84.1), 4: (100, 100, 81.0, 72.2),
          3: (100, 90.2, 65.1, 63.1), 2: (100, 72.3, 63.1, 52.3)}
_CYCLE_N = (3, 4, 5, 6)


def zoo_shapes() -> list[tuple[str, int, int]]:
    """The published zoo's shapes (task, d, n): 56 2nd-argmax, 20 argmedian, 20 median and 20 longest-cycle."""
    out = []
    for task, (table, cols) in (("2nd_argmax", (_2ND, _2ND_N)), ("argmedian", (_MED_IDX, _MED_IDX_N)),
                                ("median", (_MEDIAN, _MEDIAN_N)), ("longest_cycle", (_CYCLE, _CYCLE_N))):
        out.extend((task, d, n) for d in sorted(table) for n in cols)
    return out


def published(task: str, d: int, n: int) -> dict | None:
    """The published zoo figure for a shape: {"accuracy_percent": x} or {"rmse": x}; None if absent."""
    table, cols, key = {"2nd_argmax": (_2ND, _2ND_N, "accuracy_percent"),
                        "argmedian": (_MED_IDX, _MED_IDX_N, "accuracy_percent"),
                        "median": (_MEDIAN, _MEDIAN_N, "rmse"),
                        "longest_cycle": (_CYCLE, _CYCLE_N, "accuracy_percent")}.get(task, (None, None, None))
    if table is None or d not in table or n not in cols:
        return None
    return {key: table[d][cols.index(n)]}


INDEX_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "verifier models/index.json",
    "type": "object",
    "required": ["format", "models"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": "verifier-model-index-1"},
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["file", "task", "family", "hidden_size", "seq_len", "parameters", "sha256",
                             "origin", "sampled"],
                "properties": {
                    "file": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+\\.(pth|json|safetensors)$"},
                    "task": {"enum": ["2nd_argmax", "argmax", "argmedian", "median", "longest_cycle"]},
                    "family": {"enum": ["position", "scalar", "transformer"]},
                    "hidden_size": {"type": "integer", "minimum": 1},
                    "seq_len": {"type": "integer", "minimum": 1},
                    "parameters": {"type": "integer", "minimum": 1},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "origin": {"enum": ["trained", "hand-built"]},
                    "seed": {"type": "integer"},
                    "sequences": {"type": "integer"},
                    "command": {"type": "string"},
                    "seed_results": {"type": "array"},
                    "note": {"type": "string"},
                    "certified": {"type": "object"},
                    "published": {"type": ["object", "null"]},
                    "sampled": {
                        "type": "object",
                        "required": ["samples", "seed", "dtype"],
                        "properties": {
                            "samples": {"type": "integer", "minimum": 1},
                            "seed": {"type": "integer"},
                            "dtype": {"enum": ["float32", "float64"]},
                            "accuracy": {"type": "number"},
                            "accuracy_ci95": {"type": "array", "items": {"type": "number"}, "minItems": 2,
                                              "maxItems": 2},
                            "rmse": {"type": "number"},
                            "mse_ci95": {"type": "array", "items": {"type": "number"}, "minItems": 2,
                                         "maxItems": 2},
                        },
                    },
                },
            },
        },
    },
}


def read_index(folder: str) -> dict:
    """models/index.json, or an empty manifest."""
    path = os.path.join(folder, "index.json")
    if not os.path.exists(path):
        return {"format": "verifier-model-index-1", "models": []}
    with open(path) as fh:
        return json.load(fh)


def upsert(index: dict, entry: dict) -> dict:
    """A new manifest with `entry` replacing any entry for the same file; sorted by file name."""
    models = [m for m in index["models"] if m["file"] != entry["file"]] + [entry]
    models.sort(key=lambda m: (m["task"], m["seq_len"], m["hidden_size"], m["file"]))
    return {"format": index["format"], "models": models}


def render_readme(index: dict) -> str:
    """models/README.md: the manifest as a table (generated; do not edit by hand)."""
    lines = ["# Shipped models", "",
             "Generated from `index.json` by `python scripts/render_models_readme.py`; do not edit by hand.",
             "Accuracy is sampled (an estimate) on fresh float32 Gaussian inputs; the 95% interval is Wilson's.",
             "The published column is the AlgZoo zoo's figure for the same shape (docs/ALGZOO.md).",
             "",
             "| file | task | d | n | params | origin | seed | sequences | sampled | 95% interval | published |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in index["models"]:
        s = m["sampled"]
        if "rmse" in s:
            val = f"RMSE {s['rmse']:.4f}"
            lo, hi = s["mse_ci95"]
            ci = f"RMSE [{lo ** 0.5:.4f}, {hi ** 0.5:.4f}]"
        else:
            val = f"{100 * s['accuracy']:.4f}%"
            lo, hi = s["accuracy_ci95"]
            ci = f"[{100 * lo:.4f}, {100 * hi:.4f}]%"
        pub = m.get("published") or {}
        pub_s = (f"{pub['accuracy_percent']}%" if "accuracy_percent" in pub
                 else f"RMSE {pub['rmse']}" if "rmse" in pub else "—")
        seqs = m.get("sequences")
        seqs_s = f"2^{seqs.bit_length() - 1}" if seqs and seqs & (seqs - 1) == 0 else (str(seqs) if seqs else "—")
        lines.append(f"| `{m['file']}` | {m['task']} | {m['hidden_size']} | {m['seq_len']} | {m['parameters']} | "
                     f"{m['origin']} | {m.get('seed', '—')} | {seqs_s} | {val} | {ci} | {pub_s} |")
    lines.extend(_cycle_table(index))
    lines.append("")
    lines.append("Reproduce a trained model with the `command` recorded for it in `index.json` "
                 "(CPU, one thread: byte-identical checkpoint).")
    return "\n".join(lines) + "\n"


def _cycle_table(index: dict) -> list[str]:
    """Longest cycle: our certified exact accuracy (every one of the n^n inputs, proofs/) against the
    published zoo's, as a d x n grid."""
    cyc = {(m["hidden_size"], m["seq_len"]): m for m in index["models"] if m["task"] == "longest_cycle"}
    if not cyc:
        return []
    ns = sorted({n for _, n in cyc})
    out = ["", "## Longest cycle: ours (certified, exact) vs published", "",
           "Ours: the exact accuracy of the exact-weights model over all n^n inputs, from its certificate "
           "(`python -m verifier check`); the float32 torch model differs from it only on the inputs counted in "
           "`certified.float32_disagreements` of index.json. Published: the AlgZoo zoo (trained on 2^30 sequences; "
           "ours on far fewer, see `sequences`).", "",
           "| d | " + " | ".join(f"n = {n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    for d in sorted({d for d, _ in cyc}, reverse=True):
        cells = []
        for n in ns:
            m = cyc.get((d, n))
            if m is None:
                cells.append("—")
                continue
            c = m.get("certified")
            ours = "not certified"
            if c:
                lo, hi = (_pct(x) for x in c["accuracy"])
                ours = f"{lo:.2f}%" if c["undecided"] == 0 else f"[{lo:.2f}, {hi:.2f}]%"
            pub = (m.get("published") or {}).get("accuracy_percent")
            cells.append(f"{ours} / {pub if pub is not None else '—'}%")
        out.append(f"| {d} | " + " | ".join(cells) + " |")
    return out


def _pct(q: str) -> float:
    a, _, b = q.partition("/")
    return 100 * int(a) / int(b or 1)


def sampled_figures(lm, samples: int, device: str | None = None) -> dict:
    """The manifest's "sampled" block: float32 accuracy (or RMSE) on fresh samples, with a 95% interval."""
    import math

    from .sample import sample_error

    sr = sample_error(lm.float_arrays(), lm.seq_len, lm.task, samples=samples, seed=123_456_789, device=device)
    out = {"samples": sr.samples, "seed": sr.seed, "dtype": sr.dtype}
    if lm.task == "median":
        out.update({"rmse": math.sqrt(sr.mse), "mse_ci95": list(sr.ci95)})
    else:
        out.update({"accuracy": 1 - sr.error, "accuracy_ci95": [1 - sr.ci95[1], 1 - sr.ci95[0]]})
    return out


def update_index(folder: str, entry: dict) -> dict:
    """Insert or replace `entry` in folder/index.json and re-render folder/README.md (under a file lock)."""
    import fcntl

    from ..loading.rational import dumps_canonical, write_atomic

    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ".index.lock"), "w") as lock:  # parallel trainings share the manifest
        fcntl.flock(lock, fcntl.LOCK_EX)
        index = upsert(read_index(folder), entry)
        write_atomic(os.path.join(folder, "index.json"), dumps_canonical(index))
        write_atomic(os.path.join(folder, "README.md"), render_readme(index))
    return index
