"""`check`: the kernel's verdict on certificates (files, or folders walked with their subfolders), bound to
their checkpoints with --checkpoint or --models; with --models, every model in the folder must have a
certificate unless the folder's uncertified.json lists it with the reason."""

from __future__ import annotations

import os
import sys
import time
from fractions import Fraction

from ..errors import EXIT_INPUT, EXIT_REJECTED, InputError
from .common import emit_json, fmt, one_line, workers_of


def _gather(paths) -> list[str]:
    """The certificate files named: a file as given; a folder walked with its subfolders
    (rational.certificate_files: *.cert.json, .gz and .xz, in a stable order)."""
    from ..loading.rational import certificate_files

    files = []
    for p in paths:
        if os.path.isdir(p):
            found = certificate_files(p)
            if not found:
                raise InputError(f"{p}: no certificates (*.cert.json, .gz or .xz) in it or its subfolders")
            files.extend(found)
        elif os.path.lexists(p):  # a dangling link or a link loop: the reader says which
            files.append(p)
        else:
            raise InputError(f"{p}: no such file")
    return files


def _checkpoint_name(cert_path: str, max_bytes: int | None = None) -> str | None:
    """The checkpoint file name a certificate names, or None when it cannot be read (the kernel reports why)."""
    from ..kernel import Reject, Unreadable, parse_json
    from ..kernel.read import MAX_CERT_BYTES, certificate_bytes

    try:
        text = certificate_bytes(cert_path, max_bytes or MAX_CERT_BYTES).decode("utf-8")
        return os.path.basename(str(parse_json(text)["checkpoint"]["name"]))
    except (UnicodeDecodeError, Reject, Unreadable, KeyError, TypeError):
        return None


def cmd_check(a) -> int:
    from ..kernel import Unreadable
    from ..interop.second_opinion import check as checked

    files = _gather(a.certificates)
    max_bytes = a.max_certificate_mb << 20 if a.max_certificate_mb else None
    if a.checkpoint and len(files) != 1:
        raise InputError("--checkpoint goes with exactly one certificate")
    results = []
    worst = 0
    named = set()  # checkpoint names the certificates give (read once, for --models)
    live = sys.stderr.isatty() and not a.json
    for i, f in enumerate(files):
        if live:
            sys.stderr.write(f"\r\033[Kchecking {i + 1}/{len(files)}: {f} ...")
            sys.stderr.flush()
        ckpt = a.checkpoint
        problem = None
        name = _checkpoint_name(f, max_bytes) if a.models else None
        named.add(name)
        if name is not None and not ckpt:
            ckpt = os.path.join(a.models, name)
            if not os.path.exists(ckpt):
                problem = f"stale: its checkpoint {ckpt} is not in {a.models}"
        t0 = time.perf_counter()
        if problem:
            v_ok, rule, msg, code = False, "stale", problem, EXIT_REJECTED
        else:
            try:
                v = checked(f, checkpoint=ckpt, z3=a.z3, workers=workers_of(a), max_bytes=max_bytes)
                v_ok, rule, msg, code = v.accepted, v.rule, v.message, 0 if v.accepted else EXIT_REJECTED
                summary = v.summary
            except Unreadable as exc:
                v_ok, rule, msg, code = False, "unreadable", one_line(str(exc)), EXIT_INPUT
        secs = time.perf_counter() - t0
        worst = max(worst, code)
        entry = {"certificate": f, "accepted": v_ok, "rule": rule, "message": msg, "seconds": round(secs, 3)}
        what = "mse" if v_ok and "mse_lower" in summary else "error"
        if v_ok:
            entry.update({"task": summary["task"], "hidden_size": summary["hidden_size"],
                          "seq_len": summary["seq_len"], f"{what}_lower": summary[f"{what}_lower"],
                          f"{what}_upper": summary[f"{what}_upper"], "regions": summary["regions"]})
        results.append(entry)
        if live:
            sys.stderr.write("\r\033[K")
        if not a.json:
            if v_ok:
                print(f"ACCEPTED  {f}  {summary['task']} d={summary['hidden_size']} n={summary['seq_len']}: {what} in "
                      f"[{fmt(Fraction(summary[what + '_lower']), 8)}, {fmt(Fraction(summary[what + '_upper']), 8)}], "
                      f"{summary['regions']} regions, {secs:.2f}s")
            elif code == EXIT_INPUT:
                print(f"UNREADABLE {msg if msg.startswith(f) else f'{f}  {msg}'}")
            else:
                print(f"REJECTED  {f}  [{rule}] {one_line(msg)}")
    excused = []
    if a.models:
        missing, excused, inexact = models_without_certificates(a.models, named)
        listed = os.path.join(a.models, UNCERTIFIED_LIST)
        problems = [(m, "missing", f"model without a certificate (and not in {listed})",
                     f"MISSING   {m}  has no certificate among those checked, and {listed} does not list it")
                    for m in missing]
        problems += [(None, "uncertified-list", f"{listed}: {why}", f"INEXACT   {listed}: {why}") for why in inexact]
        for m, rule, message, line in problems:
            worst = max(worst, EXIT_REJECTED)
            results.append({"certificate": None, "checkpoint": m, "accepted": False, "rule": rule, "message": message})
            if not a.json:
                print(line)
        if not a.json:
            for m, reason in excused:
                print(f"EXCUSED   {m}  no certificate: {one_line(reason)}")
    if not a.json and len(results) > 1:
        n_ok = sum(1 for r in results if r["accepted"])
        print(f"{n_ok} of {len(results)} accepted" + ("" if n_ok == len(results) else
                                                      f"; {len(results) - n_ok} rejected, stale or missing")
              + (f"; {len(excused)} models listed as uncertified" if excused else ""))
    if a.json:
        emit_json({"results": results, "all_accepted": worst == 0,
                    "uncertified": [{"checkpoint": m, "reason": r} for m, r in excused]})
    return worst


UNCERTIFIED_LIST = "uncertified.json"  # in a models folder: models shipped without a certificate, with the reason


def _uncertified(models_dir: str) -> dict:
    """{file name: reason} from models_dir/uncertified.json ({"models": {"<file>": "<reason>", ...}}, strict JSON),
    or {} when there is none.  A malformed list is an InputError (exit 2): it excuses models from a check."""
    from ..kernel import Reject, Unreadable, parse_json
    from ..kernel.read import MAX_JSON_BYTES, read_regular

    path = os.path.join(models_dir, UNCERTIFIED_LIST)
    if not os.path.lexists(path):
        return {}
    try:
        doc = parse_json(read_regular(path, MAX_JSON_BYTES, "list of uncertified models").decode("utf-8"))
    except (Reject, Unreadable, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable list of uncertified models: {getattr(exc, 'message', exc)}") from None
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                               for k, v in models.items()):
        raise InputError(f'{path}: expected {{"models": {{"<checkpoint file>": "<why it has no certificate>", ...}}}}')
    return dict(models)


def _model_files(models_dir: str) -> list[str]:
    """The checkpoint files of a models folder, sorted: every .pth, .pt and .safetensors file, and every .json
    file that reads as verifier-weights (its tensors read by the kernel's torch-free reader); not the folder's
    index.json or list of uncertified models."""
    from ..kernel import Reject, Unreadable, checkpoint_tensors
    from ..kernel.read import MAX_JSON_BYTES, read_regular

    found = []
    for name in sorted(os.listdir(models_dir)):
        path = os.path.join(models_dir, name)
        if not os.path.isfile(path) or name in ("index.json", UNCERTIFIED_LIST):
            continue
        if name.endswith((".pth", ".pt", ".safetensors")):
            found.append(name)
        elif name.endswith(".json"):
            try:
                checkpoint_tensors(path, read_regular(path, MAX_JSON_BYTES, "checkpoint file"))
                found.append(name)
            except (Unreadable, Reject, UnicodeDecodeError):
                continue  # another JSON file, not a model
    return found


def models_without_certificates(models_dir: str, names: set) -> tuple[list, list, list]:
    """(missing, excused, inexact) for `check --models`: every model file in models_dir must be named by a checked
    certificate, at any seq_len and in any family, unless models_dir/uncertified.json lists it with a reason.
    missing: model paths with neither; excused: (path, reason) of listed models without a certificate; inexact:
    sentences saying where the list is wrong (it names a model that has a certificate, or no model file)."""
    listed = _uncertified(models_dir)
    models = _model_files(models_dir)
    missing, excused, inexact = [], [], []
    for name in models:
        path = os.path.join(models_dir, name)
        if name in names:
            if name in listed:
                inexact.append(f"{name} is listed as uncertified but has a certificate: remove it from the list")
        elif name in listed:
            excused.append((path, listed[name]))
        else:
            missing.append(path)
    for name in sorted(set(listed) - set(models)):
        inexact.append(f"{name} is listed as uncertified but is not a model file in {models_dir}")
    return missing, excused, inexact
