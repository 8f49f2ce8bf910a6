#!/usr/bin/env bash
# Train the longest-cycle transformers (issue 10): all 20 zoo shapes d in {2,3,4,6,8} x n in {3,4,5,6},
# best of seeds 0-4, CPU, one thread.  Each line writes models/longest_cycle_{d}_{n}.pth and its manifest
# entry as soon as it finishes.  Usage: bash scripts/train_cycle_zoo.sh [SEQUENCES] [FILTER-REGEX]
# The shipped models used 2^21 sequences for n = 3, 4, 5 and 2^20 for n = 6 (the zoo: 2^30): about an hour
# of one (shared) core in all; each model's exact command is recorded in models/index.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SEQ=${1:-2^21}
FILTER=${2:-.}
for n in 3 4 5 6; do
  for d in 2 3 4 6 8; do
    if [[ ! "longest_cycle_${d}_${n}" =~ $FILTER ]]; then continue; fi
    $PY -m verifier train --task longest_cycle --hidden "$d" --seq-len "$n" --seeds 0-4 --sequences "$SEQ" \
        --out models --quiet
  done
done
