#!/usr/bin/env bash
# Issue 16's evidence: where a joint prune of SD3's three encoders spends one budget, against
# pruning each encoder alone to the same fraction, both measured by the joint D (the conditioning
# the denoiser reads, after the fixture's own context_embedder and pooled text projection).
# Default calibration (64 built-in long prompts), beam 3; EVAL=FILE adds held-out D on FILE,
# SCREEN=N screens each step on N prompts (the fixture is small enough to be unscreened by default),
# NO_SEPARATE=1 leaves out --compare-separate (each encoder pruned alone).
#   EVAL=Sources/Driver/Prompts/long-heldout.txt bash bench/joint_sd3.sh .build/release/skrrc
#   bash bench/joint_sd3.sh [SKRRC] [PIPELINE] [SPARSITY...]
set -euo pipefail
cd "$(dirname "$0")/.."
SKRRC=${1:-.build/release/skrrc}
PIPELINE=${2:-fixtures/sd3-full}
shift $(( $# > 2 ? 2 : $# ))
SPARSITIES=${*:-0.15 0.25 0.33 0.40}
OUT=bench/out/joint
mkdir -p "$OUT"
name=$(basename "$PIPELINE")
tag=$name${RANK:+-$RANK}${SCREEN:+-screen$SCREEN}
separate=--compare-separate
[ -n "${NO_SEPARATE:-}" ] && separate=
for sp in $SPARSITIES; do
  "$SKRRC" "$PIPELINE" -O prune --sparsity "$sp" $separate ${RANK:+--rank $RANK} ${SCREEN:+--screen $SCREEN} ${EVAL:+--eval $EVAL} \
    --report "$OUT/$tag-$sp.json" -o "$OUT/$tag-$sp.skrr" > "$OUT/$tag-$sp.txt" 2> "$OUT/$tag-$sp.log"
  echo "== target $sp"
  cat "$OUT/$tag-$sp.txt"
done
