#!/usr/bin/env bash
# `skrrc run` on the T5-XXL-shaped checkpoint (issue 10; BENCHMARKS.md): one 58-token prompt and
# a batch of 8 × 128 tokens, each cold (the checkpoint's pages dropped from the page cache first,
# with posix_fadvise on its own files only) and then warm (run again at once), under
# /usr/bin/time -v for wall time and peak RSS. The checkpoint has no tokenizer, so ids are passed
# with --ids (the same seeded ids every time).
#
#   bench/xxl_run.sh LABEL SKRRC [MODEL]        # e.g. bench/xxl_run.sh after .build/release/skrrc
#   TORCH=1 bench/xxl_run.sh torch python3      # PyTorch instead (bench/torch_encode.py --cold, bf16)
#
# MODEL defaults to bench/out/t5-xxl (python3 bench/make_large_checkpoint.py bench/out/t5-xxl).
# Results: bench/out/xxl-results/LABEL-{58,8x128}-{cold,warm}.time, and one summary line each.
set -euo pipefail
cd "$(dirname "$0")/.."

LABEL=$1
BIN=$2
MODEL=${3:-bench/out/t5-xxl}
RES=bench/out/xxl-results
mkdir -p "$RES"

# Seeded ids: line 1 is the 58-token prompt, lines 2-9 the 8 × 128 batch (EOS = 1 last).
python3 - "$RES/ids-58.txt" "$RES/ids-8x128.txt" <<'EOF'
import random, sys
r = random.Random(0)
def seq(n): return " ".join(str(r.randrange(2, 32000)) for _ in range(n - 1)) + " 1"
open(sys.argv[1], "w").write(seq(58) + "\n")
open(sys.argv[2], "w").write("".join(seq(128) + "\n" for _ in range(8)))
EOF

weights=$(find -L "$MODEL" -name '*.safetensors' -printf '%s\n' | awk '{s += $1} END {print s}')

evict() {
    python3 -c 'import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$MODEL"/*.safetensors
}

run() {  # run WORKLOAD STATE
    local workload=$1 state=$2 ids=$RES/ids-$1.txt out=$RES/$LABEL-$1-$2
    local args=()
    if [[ -n ${TORCH:-} ]]; then
        args=("$BIN" bench/torch_encode.py "$MODEL" "$ids" --cold)
    else
        args=("$BIN" run "$MODEL" -o "$out.npy")
        while read -r line; do args+=(--ids "$line"); done < "$ids"
    fi
    echo "load $(cut -d' ' -f1-3 /proc/loadavg)" > "$out.load"
    /usr/bin/time -v -o "$out.time" "${args[@]}" > "$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
    echo "load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out.load"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time")
    awk -v l="$LABEL" -v w="$workload" -v s="$state" -v t="$wall" -v r="$rss" -v b="$weights" \
        -v u="$(awk -F': ' '/User time/ {print $2}' "$out.time")" -v load="$(tr '\n' ' ' < "$out.load")" \
        'BEGIN {printf "%s %s %s: wall %s, user %s s, peak RSS %.0f MB = %.3f x weights (%.0f MB); %s\n", l, w, s, t, u, r * 1024 / 1e6, r * 1024 / b, b / 1e6, load}'
}

for workload in 58 8x128; do
    evict
    run "$workload" cold
    run "$workload" warm
done
