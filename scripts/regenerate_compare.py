"""Regenerate shipped certificates with this tree's code and compare their text with what proofs/ holds.

A certificate is a function of its model (and, for an interval certificate, of its count budget), so a change that
claims "behaviour unchanged" must rebuild every certificate byte for byte.  For each certificate under proofs/
(subfolders included, or those whose relative path matches --only), this script reads which checkpoint, task and
kind it is, certifies that checkpoint again into a temporary folder (full certificates as `certify` makes them;
interval ones with their budget from scripts/make_proofs.py BUDGETS), and compares the SHA-256 of the two texts
(the JSON before compression).  Z3 is not used: it is a second opinion and writes nothing into a certificate.

Usage: python scripts/regenerate_compare.py [--proofs proofs] [--models models] [--only REGEX] [--workers N]
       [--keep DIR]   (keep the regenerated certificates there, named by their relative path with / as __)
Exit: 0 every compared certificate identical, 1 some differ (each printed as it finishes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from fractions import Fraction

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import verifier  # noqa: E402
from verifier.kernel.read import certificate_bytes  # noqa: E402
from verifier.loading.rational import certificate_files  # noqa: E402
from make_proofs import BUDGETS  # noqa: E402

LIMIT = 1 << 31


def text_sha256(path: str) -> str:
    return hashlib.sha256(certificate_bytes(path, LIMIT)).hexdigest()


def regenerate(rel: str, doc: dict, models: str, out_dir: str, workers: int) -> str:
    """Certify the certificate's checkpoint again, as it was made; return the new file's path."""
    name = doc["checkpoint"]["name"]
    path = os.path.join(models, name)
    out = os.path.join(out_dir, re.sub(r"\.(gz|xz)$", "", rel).replace(os.sep, "__"))
    stem = name.rsplit(".", 1)[0]
    kw = dict(task=doc["task"], out=out, workers=workers, compress_large=True)
    if doc["model"].get("family") == "scalar":  # a median checkpoint does not record its seq_len
        kw["seq_len"] = doc["model"]["seq_len"]
    if rel.startswith("anytime" + os.sep):
        kind, k = BUDGETS[stem]
        if kind in ("cones", "cells"):
            budget = {"max_cones": k} if kind == "cones" else {"max_cells": k}
            res = verifier.certify(path, z3=False, width=Fraction(1, 10 ** 6), **budget, **kw)
        else:
            res = verifier.certify(path, method="boxes", max_boxes=k, **kw)
    else:
        res = verifier.certify(path, z3=False, **kw)
    return res.certificate_path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proofs", default=os.path.join(ROOT, "proofs"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--only", default=".", help="regex on the certificate's path relative to --proofs")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--keep", help="keep the regenerated certificates in this folder")
    a = ap.parse_args()
    same = differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
        for path in certificate_files(a.proofs):
            rel = os.path.relpath(path, a.proofs)
            if not re.search(a.only, rel):
                continue
            doc = json.loads(certificate_bytes(path, LIMIT))
            t0 = time.perf_counter()
            new = regenerate(rel, doc, a.models, a.keep or tmp, a.workers)
            ok = text_sha256(new) == text_sha256(path)
            same += ok
            differ += not ok
            print(f"{'IDENTICAL' if ok else 'DIFFERENT'}  {rel}  {time.perf_counter() - t0:.1f}s", flush=True)
            if not a.keep:
                os.remove(new)
    print(f"{same} identical, {differ} different")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
