#!/usr/bin/env bash
# Re-pin what the tests run against: a fresh virtual environment resolves the newest versions that pyproject.toml
# allows (torch stays at the README's CPU build), and `pip freeze` writes them to .ci/constraints.txt, which the
# README's two set-up commands and CI install with (`-c .ci/constraints.txt`).  Then run the README's test command
# and commit the new constraints with whatever the new versions needed.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q torch==2.13.0 -e '.[test]'
{
  echo "# What the tests and CI run against (pip constraints: \`pip install -c .ci/constraints.txt ...\`)."
  echo "# Regenerate with \`bash scripts/update_constraints.sh\` (a fresh venv, the newest allowed versions, pip freeze);"
  echo "# then run the README's test command and commit both. torch is pinned by the README's commands (CPU build)."
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v -i '^verifier' | sed -E 's/^torch==([0-9.]+)\+cpu$/torch==\1/'
} > .ci/constraints.txt
echo "wrote .ci/constraints.txt ($(grep -c '==' .ci/constraints.txt) pins)"
