"""Check every certificate: the ones in proofs/ (what CI checks) and the reproducible artifacts (not in git).

An artifact is a certificate too slow to re-check in CI's budget: proofs/artifacts.json records, for each, the
command that regenerates it byte for byte (a full certificate, or an anytime one stopped by a cone budget: both are
functions of the model alone), the SHA-256 of its text (the JSON, before compression) and where it goes
(runs/artifacts/..., ignored by git); an artifact whose text is over `check`'s default size limit records the
`max_certificate_mb` its check needs.  This script regenerates an artifact that is missing (with --regenerate),
compares its text's SHA-256 with the recorded one, and checks it with the kernel against its checkpoint; then, unless
--artifacts-only, it checks proofs/ as CI does.  Each result is printed as it finishes; --record writes each
artifact's last result (date, seconds, verdict) and its interval back into proofs/artifacts.json, and the digest of
a new artifact (one recorded without it) from its first build; a later --regenerate into an empty runs/artifacts/
then shows that the command rebuilds the same text.

Usage: python scripts/check_all.py [--regenerate] [--record] [--artifacts-only] [--only REGEX] [--workers N]
Exit: 0 all accepted and matching, 1 otherwise, 2 an artifact missing without --regenerate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)
MANIFEST = os.path.join(ROOT, "proofs", "artifacts.json")


def text_sha256(path: str) -> str:
    from verifier.kernel.read import certificate_bytes

    return hashlib.sha256(certificate_bytes(path, 1 << 31)).hexdigest()


def run(args: list[str]) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    return p.returncode, time.perf_counter() - t0, (p.stdout + p.stderr).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regenerate", action="store_true", help="regenerate missing artifacts (their commands)")
    ap.add_argument("--record", action="store_true", help="write each artifact's last result into the manifest")
    ap.add_argument("--artifacts-only", action="store_true", help="do not check proofs/")
    ap.add_argument("--only", default=".", help="regex on the artifact's file")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    with open(MANIFEST) as fh:
        manifest = json.load(fh)
    worst = 0
    for art in manifest["artifacts"]:
        if not re.search(a.only, art["file"]):
            continue
        path = os.path.join(ROOT, art["file"])
        regenerated = None
        if not os.path.exists(path):
            if not a.regenerate:
                print(f"MISSING   {art['file']}  (regenerate: {art['command']}, or --regenerate)", flush=True)
                worst = max(worst, 2)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            code, secs, out = run([sys.executable] + shlex.split(art["command"])[1:])
            regenerated = round(secs, 1)
            if code not in (0, 3):  # 3: an anytime certificate's width not reached (its budget stopped it)
                print(f"FAILED    {art['file']}  regeneration exit {code}: {out[-300:]}", flush=True)
                worst = 1
                continue
        digest = text_sha256(path)
        first = art.get("text_sha256") is None  # a new artifact: its first build defines the digest
        if first and a.record:
            art["text_sha256"] = digest
        same = digest == art.get("text_sha256")
        size = ["--max-certificate-mb", str(art["max_certificate_mb"])] if art.get("max_certificate_mb") else []
        code, secs, out = run([sys.executable, "-m", "verifier", "check", path, "--checkpoint",
                               os.path.join(ROOT, "models", art["checkpoint"]), "--workers", str(a.workers)] + size)
        ok = code == 0 and same
        worst = max(worst, 0 if ok else 1)
        verdict = ("ACCEPTED" if code == 0 else "REJECTED") + ("" if same else ", TEXT DIFFERS from the recorded SHA-256")
        print(f"{verdict:9} {art['file']}  check {secs:.0f}s" + (f", regenerated in {regenerated:.0f}s" if regenerated
                                                                    else "") + f"  {out.splitlines()[-1][:160]}",
              flush=True)
        if a.record:
            from verifier.loading.rational import load_certificate

            doc = load_certificate(path)
            art["lower"], art["upper"] = doc["error"]["lower"], doc["error"]["upper"]
            art["last_check"] = {"date": time.strftime("%Y-%m-%d"), "check_seconds": round(secs, 1),
                                 "accepted": code == 0, "text_matches": same, "workers": a.workers,
                                 **({"regenerate_seconds": regenerated} if regenerated else {})}
            with open(MANIFEST, "w") as fh:
                json.dump(manifest, fh, indent=1, sort_keys=True)
                fh.write("\n")
    if a.record:  # the artifacts' table in docs/STATUS.md is generated from the manifest
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "render_docs.py"), "--only", "docs/STATUS.md"],
                       cwd=ROOT, check=True)
    if not a.artifacts_only:
        code, secs, out = run([sys.executable, "-m", "verifier", "check", "proofs/", "--models", "models/",
                               "--workers", str(a.workers)])
        print(out.splitlines()[-1] if out else "", f"(proofs/: exit {code}, {secs:.0f}s)", flush=True)
        worst = max(worst, 0 if code == 0 else 1)
    return worst


if __name__ == "__main__":
    sys.exit(main())
