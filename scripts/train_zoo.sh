#!/usr/bin/env bash
# Train the shipped zoo (issue: train and ship our own AlgZoo). One model per line; each line writes
# models/{task}_{d}_{n}.pth and its manifest entry as soon as it finishes, so an interrupted run keeps
# what finished.  Usage: bash scripts/train_zoo.sh [SEQUENCES] [FILTER-REGEX] [SEEDS]
# (models/index.json records each shipped model's own command: its sequences and seeds.  The shapes added on
# 2026-12-07, the last block, were trained with SEEDS 0-2 at 2^24, cheapest first.)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SEQ=${1:-2^24}
FILTER=${2:-.}
SEEDS=${3:-0-4}
shapes=(
  "2nd_argmax 2 2" "2nd_argmax 3 2" "2nd_argmax 4 2" "2nd_argmax 5 2" "2nd_argmax 6 2" "2nd_argmax 8 2"
  "2nd_argmax 16 2" "2nd_argmax 32 2"
  "2nd_argmax 2 3" "2nd_argmax 3 3" "2nd_argmax 4 3" "2nd_argmax 5 3" "2nd_argmax 6 3" "2nd_argmax 8 3"
  "2nd_argmax 16 3" "2nd_argmax 32 3"
  "argmedian 2 3" "argmedian 4 3" "argmedian 8 3" "argmedian 16 3" "argmedian 32 3"
  "2nd_argmax 4 4" "2nd_argmax 8 4" "2nd_argmax 16 4" "2nd_argmax 16 10"
  "median 2 2" "median 4 2" "median 8 2" "median 16 2" "median 32 2"
  "median 2 3" "median 4 3" "median 8 3" "median 16 3" "median 32 3"
  "2nd_argmax 2 8" "2nd_argmax 2 10" "argmedian 2 7" "argmedian 2 11"
  "2nd_argmax 3 6" "2nd_argmax 3 8" "2nd_argmax 3 10" "2nd_argmax 4 8" "2nd_argmax 4 10"
  "argmedian 4 7" "argmedian 4 11" "2nd_argmax 5 6" "2nd_argmax 5 8" "2nd_argmax 5 10"
  "2nd_argmax 6 6" "2nd_argmax 6 8" "2nd_argmax 6 10" "2nd_argmax 8 6" "2nd_argmax 8 8" "2nd_argmax 8 10"
  "argmedian 8 7" "argmedian 8 11" "2nd_argmax 16 8" "argmedian 16 7" "argmedian 16 11"
  "2nd_argmax 32 6" "2nd_argmax 32 8" "2nd_argmax 32 10" "argmedian 32 7" "argmedian 32 11"
)
for s in "${shapes[@]}"; do
  set -- $s
  if [[ ! "$1_$2_$3" =~ $FILTER ]]; then continue; fi
  $PY -m verifier train --task "$1" --hidden "$2" --seq-len "$3" --seeds "$SEEDS" --sequences "$SEQ" --threads 1 \
      --out models --runs-dir runs --quiet
done
