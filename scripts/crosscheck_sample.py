"""Cross-check a seeded sample of a certificate's cells with one solver, one JSON line per cell as it finishes
(so a long Marabou run keeps what it has done).  The sample is the one `crosscheck --cells K --seed S` checks.

Usage: python scripts/crosscheck_sample.py CERT --checkpoint CKPT --solver marabou --cells 200 --log out.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("certificate")
    ap.add_argument("--checkpoint")
    ap.add_argument("--solver", required=True, choices=["cvc5", "marabou"])
    ap.add_argument("--cells", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--log", required=True, help="JSON lines, appended; cells already in it are skipped")
    a = ap.parse_args()
    from verifier.interop.crosscheck import crosscheck
    from verifier.kernel import parse_json

    with open(a.certificate, "rb") as fh:
        doc = parse_json(fh.read())
    done = set()
    if os.path.exists(a.log):
        with open(a.log) as fh:
            done = {json.loads(line)["cell"] for line in fh if line.strip()}

    def progress(k, total, out):
        with open(a.log, "a") as fh:
            fh.write(json.dumps({"cell": out.index, "status": out.status, "seconds": round(out.seconds, 3),
                                 "detail": out.detail}) + "\n")
        print(f"{k}/{total} cell {out.index}: {out.status} ({out.seconds:.1f} s)", flush=True)

    import random

    from verifier.interop.crosscheck import cell_claims

    _, claims, _ = cell_claims(doc, a.checkpoint)
    chosen = sorted(random.Random(a.seed).sample(range(len(claims)), min(a.cells, len(claims))))
    todo = [i for i in chosen if i not in done]
    rep = crosscheck(doc, a.solver, a.checkpoint, timeout_s=a.timeout, progress=progress, indices=todo)
    print(json.dumps(rep.counts()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
