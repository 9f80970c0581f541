#!/usr/bin/env bash
# The main job on a bundled T5 fixture (MODEL=..., default fixtures/t5-trained: the small T5 v1.1
# encoder with trained weights, so the skip / re-use decisions mean something): prune it with
# Skrr, write the runtime file, encode a prompt from that file, and print a short summary.
# Everything it writes goes to .build/demo/. MODEL=fixtures/t5-deep runs the deeper witness (24
# blocks, where re-use generalises; BENCHMARKS.md): its search has 3x the sub-blocks per step and
# about 3x the steps, so it takes roughly ten times as long, which is why it is not the default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product skrrc >&2
B=.build/release/skrrc
MODEL=${MODEL:-fixtures/t5-trained}
OUT=.build/demo
mkdir -p "$OUT"
# Calibration: 64 of the built-in long prompts (the default); held-out: long-heldout.txt, 160 long
# prompts never used to calibrate.

echo "== compile: $MODEL -O prune --sparsity 0.3 ==" >&2
"$B" "$MODEL" -O prune --sparsity 0.3 --eval Sources/Driver/Prompts/long-heldout.txt \
  --report "$OUT/report.json" --plot "$OUT/slots.svg" -o "$OUT/pruned.skrr"

echo
echo "== runtime file ==" >&2
"$B" inspect "$OUT/pruned.skrr" --verify

echo
echo "== encode from the runtime file ==" >&2
"$B" run "$OUT/pruned.skrr" --prompt "a red cube on a glass table" -o "$OUT/embeds.npy"
source_bytes=$(du -cb "$MODEL"/model*.safetensors | tail -n 1 | cut -f1)
file_bytes=$(stat -c %s "$OUT/pruned.skrr")
echo "source weights: $source_bytes bytes; runtime file: $file_bytes bytes (with tokenizer)"
echo "embeddings: $OUT/embeds.npy; report: $OUT/report.json; slot map: $OUT/slots.svg"
