"""Rewrite the "## The rules" table of proofs/FORMAT.md from RULES (verifier/kernel/rules.py), in its order.

Usage: python scripts/rules_table.py    (tests/test_kernel.py checks that the table equals RULES)
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from verifier.kernel.rules import RULES  # noqa: E402

PATH = os.path.join(ROOT, "proofs", "FORMAT.md")


def main() -> None:
    with open(PATH) as fh:
        lines = fh.read().split("\n")
    head = lines.index("| rule | statement |")
    end = head + 2
    while end < len(lines) and lines[end].startswith("| `"):
        end += 1
    rows = [f"| `{name}` | {text} |" for name, text in RULES.items()]
    lines[head + 2:end] = rows
    with open(PATH, "w") as fh:
        fh.write("\n".join(lines))


if __name__ == "__main__":
    main()
