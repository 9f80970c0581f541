#!/usr/bin/env bash
# Bounded scoring (issue 10; BENCHMARKS.md "Bounded scoring"): the same whole search run three
# ways — every candidate scored on every prompt (bound=0), bounded on one process, and bounded on
# MPI ranks sharing one bar — with the written runtime files compared byte for byte and each
# run's wall time and sub-block work (from its report) printed side by side.
#
#   bench/bounded_search.sh MODEL PROMPTS SPARSITY [RANKS]
#   bench/bounded_search.sh bench/out/t5-large bench/out/xxl-search/protocol32.txt 0.25 2
#
# SKRRC: the binary (default .build/release/skrrc). The search screens on 16 prompts and
# scores with the bf16 kernel, as the T5-XXL protocol runs do. Results: bench/out/bounded/.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$1 PROMPTS=$2 SPARSITY=$3 RANKS=${4:-2}
BIN=${SKRRC:-.build/release/skrrc}
OUT=bench/out/bounded
mkdir -p "$OUT"
count=$(wc -l < "$PROMPTS")
passes() { echo "skip-search{sparsity=$SPARSITY beam=3 screen=16 bound=$1},reuse-rewrite,dead-weight-elim"; }
common=(--calib "$PROMPTS" --calib-size "$count" --search-compute bf16 --no-weight-check)

run() {
    local label=$1
    shift
    local start end
    start=$(date +%s.%N)
    "$@" > "$OUT/$label.out" 2> "$OUT/$label.log"
    end=$(date +%s.%N)
    python3 - "$OUT/$label.json" "$label" "$(echo "$end - $start" | bc)" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
search = report.get("search_steps") or []
full = sum(s.get("subblock_evals", 0) for s in search)
screened = sum(s.get("screened_subblock_evals", 0) for s in search)
print(f"{sys.argv[2]:>14}: {float(sys.argv[3]):8.1f} s  full-set runs {full:6d}  screened runs {screened:6d}  "
      f"total runs {report.get('subblock_evals')}  D {report.get('discrepancy')}")
EOF
}

run unbounded "$BIN" "$MODEL" --passes "$(passes 0)" "${common[@]}" -o "$OUT/unbounded.skrr" --report "$OUT/unbounded.json"
run bounded "$BIN" "$MODEL" --passes "$(passes 1)" "${common[@]}" -o "$OUT/bounded.skrr" --report "$OUT/bounded.json"
root=(); [ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
run "bounded-${RANKS}ranks" mpirun -np "$RANKS" --oversubscribe "${root[@]}" --bind-to none -x OPENBLAS_NUM_THREADS=1 \
    "$BIN" "$MODEL" --passes "$(passes 1)" "${common[@]}" -o "$OUT/ranks.skrr" --report "$OUT/bounded-${RANKS}ranks.json"
# Bounded and unbounded files differ only in the pass text they record (bound=0 / bound=1).
cmp "$OUT/bounded.skrr" "$OUT/ranks.skrr" && echo "bounded, 1 process vs $RANKS ranks: byte-identical"
diff <("$BIN" inspect "$OUT/unbounded.skrr" | grep -v -e '^file ' -e '^passes ') \
     <("$BIN" inspect "$OUT/bounded.skrr" | grep -v -e '^file ' -e '^passes ') &&
    echo "unbounded vs bounded: the same program and weights (inspect identical but for the pass text)"
