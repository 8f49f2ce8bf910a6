"""(Re)generate the certificate of every certifiable model in models/ into proofs/.

Usage: python scripts/make_proofs.py [--only REGEX] [--no-z3] [--workers N]
Z3 confirms every cell by default (slow for d = 32, n = 3: minutes). Certificates are deterministic,
so regenerating an unchanged model rewrites identical bytes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import verifier  # noqa: E402
from verifier.certification import CERTIFIABLE_SEQ_LENS  # noqa: E402
from verifier.zoo import read_index  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--proofs", default="proofs")
    ap.add_argument("--only", default=".", help="regex on the model file name")
    ap.add_argument("--no-z3", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seq-lens", default=",".join(map(str, CERTIFIABLE_SEQ_LENS)),
                    help="which seq_lens to certify (default: those CI requires)")
    a = ap.parse_args()
    for m in read_index(a.models)["models"]:
        if (m["family"] != "position" or m["seq_len"] not in {int(x) for x in a.seq_lens.split(",")}
                or not re.search(a.only, m["file"])):
            continue
        stem = m["file"].rsplit(".", 1)[0]
        out = os.path.join(a.proofs, stem + ".cert.json")
        t0 = time.perf_counter()
        res = verifier.certify(os.path.join(a.models, m["file"]), task=m["task"], z3=not a.no_z3, out=out,
                               workers=a.workers)
        print(f"{out}: error in [{float(res.error_lower):.10g}, {float(res.error_upper):.10g}], "
              f"{res.regions} regions, {res.details.get('cell_count', res.regions)} cells, "
              f"z3 {'yes' if 'z3' in res.timings else 'no'}, {time.perf_counter() - t0:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
