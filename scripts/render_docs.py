"""Generate every figure the documents give about what is shipped, from the files themselves.

The documents (README.md, docs/STATUS.md, docs/VALIDATION.md, proofs/FORMAT.md) hold generated blocks between
markers, on lines of their own or inline inside a sentence:

    <!-- generated: NAME -->...<!-- end: NAME -->

This script rewrites each block from the files it describes: the certificates in proofs/ (their documents, sizes
and kinds), models/index.json and models/uncertified.json, the zoo's shapes (verifier/empirical/zoo.py), the kernel's rule
table, the logs of measured figures (docs/validation.json, docs/frontier.jsonl, docs/measurements.jsonl,
docs/mutation.json).  Nothing here is measured: a block is a pure function of files in the repository, so
tests/test_docs.py fails whenever a document differs from what this script writes now (`--check`).

Usage: python scripts/render_docs.py [--check] [--only DOCUMENT]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import Counter
from fractions import Fraction

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

DOCUMENTS = ("README.md", "docs/STATUS.md", "docs/VALIDATION.md", "proofs/FORMAT.md")
BLOCK = re.compile(r"<!-- generated: (?P<name>[a-z0-9-]+)(?: (?P<arg>[A-Za-z0-9_./-]+))? -->(?P<body>.*?)"
                   r"<!-- end: (?P=name) -->", re.S)
TASK_ORDER = ("2nd_argmax", "argmedian", "median", "longest_cycle")


# ---------------------------------------------------------------------------------------------- the files read

def _rel(path: str) -> str:
    return os.path.relpath(path, ROOT).replace(os.sep, "/")


def certificates() -> list[dict]:
    """One record per certificate in proofs/: path, kind, shape, interval, counts, sizes, text digest."""
    import hashlib

    from verifier.kernel.read import certificate_bytes
    from verifier.loading.rational import certificate_files

    out = []
    for path in certificate_files(os.path.join(ROOT, "proofs")):
        text = certificate_bytes(path)
        doc = json.loads(text)
        version = doc.get("version")
        model = doc.get("model") or {}
        partial = doc.get("coverage") == "partial"
        kind = {1: "disc", 2: "cones, partial" if partial else "cones", 3: "moments, partial" if partial else "moments", 4: "enumeration",
                5: "boxes"}.get(version, f"version {version}")
        what = "mse" if "mse" in doc else "error"
        lo, hi = Fraction(doc[what]["lower"]), Fraction(doc[what]["upper"])
        d, n = model.get("hidden_size", len(model.get("W_hh", []))), model.get("seq_len")
        units, unit = doc.get("cell_count"), "cells"
        if version == 4:
            units, unit = doc.get("inputs"), "inputs"
        elif version == 1:
            units, unit = len(doc.get("sectors", [])), "sectors"
        elif version == 5:
            units, unit = sum(doc.get("counts", {}).values()), "boxes"
        most_digits = max((len(m) for m in re.findall(rb"[0-9]+", text)), default=0)
        out.append({"path": _rel(path), "kind": kind, "version": version, "task": doc.get("task"),
                    "d": d, "n": n, "what": what, "lower": lo, "upper": hi,
                    "interval": partial or version == 5, "checkpoint": (doc.get("checkpoint") or {}).get("name"),
                    "checkpoint_sha256": (doc.get("checkpoint") or {}).get("sha256"),
                    "units": units, "unit": unit, "text_bytes": len(text), "file_bytes": os.path.getsize(path),
                    "sha256": hashlib.sha256(text).hexdigest(), "digits": most_digits})
    return out


def index() -> dict:
    with open(os.path.join(ROOT, "models", "index.json")) as fh:
        return json.load(fh)


def uncertified() -> dict:
    path = os.path.join(ROOT, "models", "uncertified.json")
    if not os.path.exists(path):
        return {}
    with open(path) as fh:
        return json.load(fh)["models"]


def jsonl(name: str) -> list[dict]:
    path = os.path.join(ROOT, "docs", name)
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------------------------------------- formatting

def sig(x: Fraction, digits: int = 6, up: bool = False) -> str:
    """x rounded outward (down, or up) to `digits` significant digits, in plain or e-notation."""
    from decimal import Decimal, localcontext

    from verifier.cells.measure import round_outward

    if x == 0:
        return "0"
    lo, hi = round_outward(x, x, digits)
    v = hi if up else lo
    with localcontext() as ctx:
        ctx.prec = digits + 40
        dec = Decimal(v.numerator) / Decimal(v.denominator)
        if Decimal("1e-4") <= abs(dec) < Decimal("1e6"):
            text = format(dec.quantize(Decimal(1).scaleb(dec.adjusted() - digits + 1)), "f")
        else:
            mant, exp = format(dec, f".{digits - 1}e").split("e")
            return (mant.rstrip("0").rstrip(".") if "." in mant else mant) + "e" + exp
        return text.rstrip("0").rstrip(".") if "." in text else text


def interval(lo: Fraction, hi: Fraction, digits: int = 6) -> str:
    """[lo, hi] rounded outward to `digits` significant digits; an enclosure far narrower than its last digit (a
    full certificate's) is shown as one number, to `digits` + 2 digits."""
    mid = (lo + hi) / 2
    if hi - lo <= abs(mid) / 10 ** (digits + 4):
        return sig(mid, digits + 2) if lo != hi else sig(lo, digits + 2)
    return f"[{sig(lo, digits)}, {sig(hi, digits, up=True)}]"


def width(lo: Fraction, hi: Fraction) -> str:
    """The width hi - lo to two significant digits (four when two would round a width below 1 up to 1)."""
    w = float(hi - lo)
    if w == 0:
        return "0"
    text = f"{w:#.2g}".rstrip(".")
    return f"{w:#.4g}" if text in ("1.0", "1") and w < 1 else text


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def cell(value) -> str:
    """A table cell: a `|` escaped (GitHub tables split on it, even inside a code span)."""
    return str(value).replace("|", "\\|")


def table(head: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- the blocks

def best_by_shape(certs) -> dict:
    """(task, d, n) -> the certificate that says most: a full one before an interval, then the narrowest."""
    best = {}
    for c in certs:
        if c["checkpoint"] is None or c["checkpoint"].startswith("hand_"):
            continue
        key = (c["task"], c["d"], c["n"])
        rank = (c["interval"], c["upper"] - c["lower"])
        if key not in best or rank < (best[key]["interval"], best[key]["upper"] - best[key]["lower"]):
            best[key] = c
    return best


def block_zoo(ctx) -> str:
    """The zoo's 116 shapes: for each, a full certificate, an interval (its width), shipped without a certificate,
    or not shipped; then the counts."""
    from verifier.empirical.zoo import zoo_shapes

    shapes = zoo_shapes()
    best = best_by_shape(ctx["certs"])
    shipped = {(m["task"], m["hidden_size"], m["seq_len"]): m["file"] for m in ctx["index"]["models"]
               if m.get("origin") == "trained"}
    counts = Counter()
    parts = []
    for task in TASK_ORDER:
        mine = [s for s in shapes if s[0] == task]
        ds = sorted({d for _, d, _ in mine}, reverse=True)
        ns = sorted({n for _, _, n in mine})
        rows = []
        for d in ds:
            row = [str(d)]
            for n in ns:
                key = (task, d, n)
                if key not in mine:
                    row.append("")
                    continue
                c = best.get(key)
                if c is not None and not c["interval"]:
                    row.append("exact" if c["upper"] - c["lower"] < Fraction(1, 10 ** 9) else
                               f"full ({width(c['lower'], c['upper'])})")
                    counts["full"] += 1
                elif c is not None:
                    row.append(f"width {width(c['lower'], c['upper'])}")
                    counts["interval"] += 1
                elif key in shipped:
                    row.append("none")
                    counts["none"] += 1
                else:
                    row.append("not shipped")
                    counts["missing"] += 1
            rows.append(row)
        parts.append(f"{task} (rows d, columns n):\n\n" + table(["d \\ n"] + [str(n) for n in ns], rows))
    total = len(shapes)
    head = (f"{total} zoo shapes: {total - counts['missing']} shipped, {counts['full']} with a full certificate "
            f"(\"exact\": an enclosure narrower than 1e-9, or a rational; \"full (w)\": a rigorous enclosure of width "
            f"w), {counts['interval']} with a certified interval only (\"width w\": anytime cells or boxes), "
            f"{counts['none']} shipped without a certificate (models/uncertified.json says why), "
            f"{counts['missing']} not shipped.")
    return head + "\n\n" + "\n\n".join(parts)


def block_certificates(ctx) -> str:
    """Every certificate in proofs/: kind, shape, the certified value or interval, its width, size."""
    rows = []
    for c in ctx["certs"]:
        what = "MSE" if c["what"] == "mse" else "error"
        rows.append([f"`{c['path'][len('proofs/'):]}`", c["kind"], c["task"], c["d"], c["n"],
                     f"{what} {interval(c['lower'], c['upper'])}", width(c["lower"], c["upper"]),
                     f"{c['units']:,} {c['unit']}" if isinstance(c["units"], int) else "",
                     megabytes(c["text_bytes"]), megabytes(c["file_bytes"])])
    text_total = sum(c["text_bytes"] for c in ctx["certs"])
    file_total = sum(c["file_bytes"] for c in ctx["certs"])
    kinds = Counter(c["kind"] for c in ctx["certs"])
    head = (f"{len(ctx['certs'])} certificates in proofs/ (by kind: {'; '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
            f"{megabytes(text_total)} of certificate text, {megabytes(file_total)} on disk (files over 1 MiB of "
            "text are xz-compressed). CI re-checks every one (`python -m verifier check proofs/ --models models/`).")
    return head + "\n\n" + table(["certificate", "kind", "task", "d", "n", "certified", "width", "listed",
                                  "text", "file"], rows)


def block_artifacts(ctx) -> str:
    """The reproducible artifacts (proofs/artifacts.json): certificates kept out of git because re-checking them
    does not fit CI's budget, each with its command, its text's SHA-256 and its last check by scripts/check_all.py."""
    path = os.path.join(ROOT, "proofs", "artifacts.json")
    if not os.path.exists(path):
        return "No artifacts: every certificate is in proofs/."
    with open(path) as fh:
        arts = json.load(fh)["artifacts"]
    rows = []
    for a in arts:
        last = a.get("last_check")
        when = (f"{'accepted' if last['accepted'] else 'REJECTED'}"
                f"{'' if last['text_matches'] else ', text differs'} in {last['check_seconds']:.0f} s "
                f"({last['workers']} workers), {last['date']}"
                + (f"; regenerated in {last['regenerate_seconds']:.0f} s" if last.get("regenerate_seconds") else "")
                if last else "not checked yet")
        known = a.get("last_check") or a.get("text_sha256")
        rows.append([f"`{a['file']}`", a["kind"],
                     interval(Fraction(a["lower"]), Fraction(a["upper"])) if known else "(not built yet)",
                     width(Fraction(a["lower"]), Fraction(a["upper"])) if known else "",
                     f"`{a['text_sha256'][:16]}...`" if a.get("text_sha256") else "set by its first build",
                     f"`{a['command']}`", when])
    return (f"{len(arts)} artifacts (`python scripts/check_all.py --regenerate --record` rebuilds the missing ones "
            "into runs/artifacts/, compares each text's SHA-256 with the one recorded, checks each with the kernel "
            "and records the result here):\n\n" +
            table(["artifact", "kind", "certified error", "width", "text SHA-256", "command", "last check"], rows))


def block_uncertified(ctx) -> str:
    listed = ctx["uncertified"]
    if not listed:
        return "Every shipped model has a certificate in proofs/."
    lines = [f"{len(listed)} shipped models have no certificate (models/uncertified.json; `check --models` reports "
             "each as EXCUSED with its reason, and fails if the list is not exact):", ""]
    lines += [f"- `{name}`: {reason}" for name, reason in sorted(listed.items())]
    return "\n".join(lines)


def block_largest(ctx) -> str:
    c = max(ctx["certs"], key=lambda c: c["text_bytes"])
    return f"{megabytes(c['text_bytes'])} of text, {megabytes(c['file_bytes'])} on disk (`{c['path']}`)"


def block_largest_cells(ctx) -> str:
    c = max((c for c in ctx["certs"] if c["unit"] in ("cells", "sectors")), key=lambda c: c["units"] or 0)
    return f"{c['units']:,} (`{c['path']}`)"


def block_largest_digits(ctx) -> str:
    """The most digits of any integer in a shipped certificate's text."""
    return str(max(c["digits"] for c in ctx["certs"]))


def block_certificate_count(ctx) -> str:
    return str(len(ctx["certs"]))


def block_rules(ctx) -> str:
    from verifier.kernel.rules import RULES

    return str(len(RULES))


def block_mutants(ctx) -> str:
    with open(os.path.join(ROOT, "docs", "mutation.json")) as fh:
        m = json.load(fh)
    return f"{m['mutants']:,}"


def block_validation(ctx) -> str:
    """The certified values against float64 sampling (docs/validation.json, written by scripts/validate.py). The
    sample is of the model, so the certified column and z come from the certificate as shipped now; an entry whose
    model changed since it was sampled (another checkpoint digest) is marked stale, a certificate without an entry
    is listed as not sampled."""
    with open(os.path.join(ROOT, "docs", "validation.json")) as fh:
        results = json.load(fh)
    rows, med, missing = [], [], []
    for c in ctx["certs"]:
        if c["version"] == 4:
            continue  # exact enumeration of every input: nothing to sample
        key = c["path"][len("proofs/"):]
        for suffix in (".gz", ".xz"):
            key = key[: -len(suffix)] if key.endswith(suffix) else key
        r = results.get(key)
        if r is None:
            missing.append(f"`{key}`")
            continue
        stale = r.get("model_sha256") != c["checkpoint_sha256"]
        if c["what"] == "mse":
            m = float((c["lower"] + c["upper"]) / 2)
            z = (r["sampled"] - m) / r["stderr"] if r["stderr"] > 0 else 0.0
            if c["interval"]:  # an MSE interval: the sample's distance from it, in standard errors (0 inside)
                lo, hi, s = float(c["lower"]), float(c["upper"]), r["sampled"]
                z = 0.0 if lo <= s <= hi else (s - (hi if s > hi else lo)) / r["stderr"]
            med.append([f"`{key}`", sig(c["lower"], 8) if c["lower"] == c["upper"] else interval(c["lower"], c["upper"], 8),
                        width(c["lower"], c["upper"]), f"{r['sampled']:.10g}", f"{r['stderr']:.3g}",
                        f"{r['samples']:.0e}", "stale" if stale else f"{z:+.2f}"])
            continue
        lo, hi = float(c["lower"]), float(c["upper"])
        p, s, n = (lo + hi) / 2, r["sampled"], r["samples"]
        if c["interval"]:
            se = math.sqrt(max(s * (1 - s), 1.0 / n) / n)
            z = 0.0 if lo <= s <= hi else (s - (hi if s > hi else lo)) / se
        else:
            se = math.sqrt(max(p * (1 - p), 1e-300) / n)
            z = (s - p) / se if p > 0 else (0.0 if r["wrong"] == 0 else math.inf)
        rows.append([f"`{key}`", c["task"], interval(c["lower"], c["upper"], 8), f"{s:.8g}",
                     f"{r['wrong']} / {n:.0e}", "stale" if stale else f"{z:+.2f}"])
    out = table(["certificate", "task", "certified error", "float64 sampled", "wrong / samples", "z"], rows)
    if med:
        out += ("\n\nMedian models: certified MSE against the float64 sampled MSE; z = (sampled - certified) / the "
                "sample's standard error (for an MSE interval, the sample's distance from it: 0 inside).\n\n" +
                table(["certificate", "certified MSE", "width", "float64 sampled MSE", "standard error", "samples",
                       "z"], med))
    if missing:
        out += "\n\nNot sampled yet (`python scripts/validate.py --only NAME`): " + ", ".join(missing) + "."
    return out


def block_atlas(ctx) -> str:
    """The error atlas against a float64 confusion matrix (docs/atlas_validation.json, written by
    scripts/validate_atlas.py --write): a row whose certificate's text changed since is marked stale."""
    path = os.path.join(ROOT, "docs", "atlas_validation.json")
    if not os.path.exists(path):
        return "Not run yet (`python scripts/validate_atlas.py --samples 1e7 --write`)."
    with open(path) as fh:
        log = json.load(fh)
    shipped = {os.path.basename(c["path"]): c["sha256"] for c in ctx["certs"]}
    rows = []
    for r in log["results"]:
        cert = r["certificate"]
        state = ("" if shipped.get(cert) == r["certificate_sha256"] else
                 " (stale: the certificate changed)" if cert in shipped else " (stale: not shipped)")
        for row in r["rows"]:
            rows.append([f"`{cert}`{state}", f"{row['true']} → {row['predicted']}", row["cells"],
                         f"{row['certified']:.6e}", f"{row['count']} / {r['samples']:.0e}", f"{row['z']:+.2f}"])
        rows.append([f"`{cert}`{state}", "all (sum of the pairs' enclosures contains the certified error: "
                     f"{'yes' if r['contains'] else 'NO'})", "", f"{r['error']:.6e}", f"{r['sampled_error']:.6e}", ""])
    return (f"`{log['command']}`, {log['date']}:\n\n" +
            table(["certificate", "true → predicted", "cells", "certified mass", "float64 count / N", "z"], rows))


def block_mutation(ctx) -> str:
    """The mutation campaign's summary (docs/mutation.json, written by scripts/mutation_campaign.py)."""
    with open(os.path.join(ROOT, "docs", "mutation.json")) as fh:
        m = json.load(fh)
    head = (f"**{m['mutants']:,} semantic mutants, {m['rejected_by_targeted_rule']:,} rejected by the rule they "
            f"target, {len(m['missed_or_other_rule'])} missed or rejected by another rule; {m['round_trips_accepted']} of "
            f"{m['round_trips']} round trips accepted ({len(m['false_rejections'])} false rejections).** Rules not "
            f"targeted: {', '.join(f'`{r}`' for r in m['rules_not_targeted'])}.")
    rows = [[f"`{rule}`", k] for rule, k in sorted(m["by_rule"].items())]
    return head + "\n\n" + table(["rule", "mutants rejected by it"], rows)


def block_frontier(ctx) -> str:
    from frontier import legend as frontier_legend
    from frontier import table as frontier_table

    log = os.path.join(ROOT, "docs", "frontier.jsonl")
    dates = sorted({r["date"] for r in jsonl("frontier.jsonl")})
    head = (f"From docs/frontier.jsonl ({len(jsonl('frontier.jsonl'))} runs, {dates[0]} to {dates[-1]}; each entry "
            "records its date and command; the latest run of a shape wins):") if dates else "No runs logged."
    return (head + "\n\n" + frontier_table(log, with_legend=False) + "\n\n" + frontier_table(log, "argmedian", with_legend=False)
            + "\n\n" + frontier_legend(log))


def block_measurements(ctx) -> str:
    """Measured figures that CI cannot regenerate (benchmarks, long runs), each with its date and command."""
    rows = []
    for r in jsonl("measurements.jsonl"):
        command = r.get("command") or ""
        if command and command != "not recorded" and "`" not in command:
            command = f"`{command}`"
        figure = r["figure"] + (f" ({r['note']})" if r.get("note") else "")
        rows.append([r["date"], r["topic"], figure, command, r.get("machine", "")])
    if not rows:
        return "No measurements logged."
    return table(["date", "topic", "figure", "command", "machine"], rows)


def _run_in_copy(args: list[str], models: list[str], proofs: list[str]) -> str:
    """stdout of `python -m verifier ARGS` run in a scratch copy of the project's layout holding only the named
    models and certificates (so the paths it prints are the repository's, and nothing here is written)."""
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("models", "proofs", "docs/figures"):
            os.makedirs(os.path.join(tmp, sub))
        for name in models:
            shutil.copy(os.path.join(ROOT, "models", name), os.path.join(tmp, "models", name))
        for name in proofs:
            shutil.copy(os.path.join(ROOT, "proofs", name), os.path.join(tmp, "proofs", name))
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="120")
        p = subprocess.run([sys.executable, "-m", "verifier", *args], capture_output=True, text=True, cwd=tmp,
                           env=env, timeout=600)
        if p.returncode != 0:
            raise SystemExit(f"`python -m verifier {' '.join(args)}` failed ({p.returncode}): {p.stderr[-500:]}")
        return p.stdout


def block_example_certify(ctx) -> str:
    """The README's first example: certify the trained M(2,2) (the output is a function of the checkpoint)."""
    args = ["models/2nd_argmax_2_2.pth", "--samples", "0"]
    out = _run_in_copy(args, ["2nd_argmax_2_2.pth"], [])
    lines = [ln for ln in out.rstrip().splitlines() if not ln.strip().startswith("time:")]  # varies run to run
    code = ["    $ python -m verifier " + " ".join(args)] + ["    " + ln for ln in lines]
    return "\n" + "\n".join(code) + "\n"  # blank lines around: an indented code block


def block_example_explain(ctx) -> str:
    """The README's atlas example: explain the hand-built M(4,3) from its shipped certificate."""
    args = ["explain", "models/hand_2nd_argmax_4_3.pth", "--top", "1", "--no-plot"]
    out = _run_in_copy(args, ["hand_2nd_argmax_4_3.pth"], ["hand_2nd_argmax_4_3.cert.json"])
    lines = out.rstrip().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("error by"))  # after the weights
    code = ["    $ python -m verifier " + " ".join(args)] + ["    " + ln for ln in lines[start:]]
    return "\n" + "\n".join(code) + "\n"


TEST_TIME_TOPIC = "README test command, wall time"


def block_test_time(ctx) -> str:
    """How long the README's test command took, from the latest entry of docs/measurements.jsonl on that topic."""
    runs = [r for r in jsonl("measurements.jsonl") if r["topic"] == TEST_TIME_TOPIC]
    if not runs:
        return "time not measured yet"
    r = runs[-1]
    return f"{r['figure']} on {r.get('machine') or 'a 2-core machine'}, {r['date']}"


def block_value(ctx, arg: str) -> str:
    """The certified value of one shipped certificate (arg: its path under proofs/), e.g. for a sentence."""
    for c in ctx["certs"]:
        if c["path"] == "proofs/" + arg:
            return interval(c["lower"], c["upper"], 2)
    raise SystemExit(f"block value: no certificate proofs/{arg}")


BLOCKS = {"zoo": block_zoo, "certificates": block_certificates, "uncertified": block_uncertified,
          "artifacts": block_artifacts,
          "largest": block_largest, "largest-cells": block_largest_cells, "largest-digits": block_largest_digits,
          "certificate-count": block_certificate_count, "rules": block_rules, "mutants": block_mutants,
          "validation": block_validation, "frontier": block_frontier, "measurements": block_measurements,
          "example-certify": block_example_certify, "example-explain": block_example_explain, "value": block_value,
          "test-time": block_test_time, "atlas": block_atlas, "mutation": block_mutation}


# ---------------------------------------------------------------------------------------------- rewriting

def render(text: str, ctx: dict, where: str) -> str:
    def one(m):
        name, arg = m.group("name"), m.group("arg")
        if name not in BLOCKS:
            raise SystemExit(f"{where}: unknown generated block {name!r}")
        key = (name, arg)
        if key not in ctx["cache"]:
            ctx["cache"][key] = BLOCKS[name](ctx) if arg is None else BLOCKS[name](ctx, arg)
        body = ctx["cache"][key]
        head = f"<!-- generated: {name}{'' if arg is None else ' ' + arg} -->"
        if "\n" not in m.group("body"):
            return f"{head}{body}<!-- end: {name} -->"
        return f"{head}\n{body}\n<!-- end: {name} -->"

    return BLOCK.sub(one, text)


def context() -> dict:
    return {"certs": certificates(), "index": index(), "uncertified": uncertified(), "cache": {}}


def stale_documents(ctx: dict | None = None) -> list[str]:
    """The documents whose generated blocks differ from what render() writes now."""
    ctx = ctx or context()
    out = []
    for rel in DOCUMENTS:
        path = os.path.join(ROOT, rel)
        with open(path) as fh:
            text = fh.read()
        if render(text, ctx, rel) != text:
            out.append(rel)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a document is stale")
    ap.add_argument("--only", metavar="DOCUMENT", help=f"render only this one of {', '.join(DOCUMENTS)}")
    a = ap.parse_args()
    if a.only is not None and a.only not in DOCUMENTS:
        ap.error(f"--only {a.only}: expected one of {', '.join(DOCUMENTS)}")
    ctx = context()
    if a.check:
        stale = stale_documents(ctx)
        for rel in stale:
            print(f"stale: {rel} (run python scripts/render_docs.py)")
        return 1 if stale else 0
    for rel in DOCUMENTS if a.only is None else (a.only,):
        path = os.path.join(ROOT, rel)
        with open(path) as fh:
            text = fh.read()
        new = render(text, ctx, rel)
        if new != text:
            with open(path, "w") as fh:
                fh.write(new)
            print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
