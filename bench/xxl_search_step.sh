#!/usr/bin/env bash
# The first beam steps of a Skrr search on the T5-XXL-shaped checkpoint (issue 10; BENCHMARKS.md):
# runs `skrrc MODEL -O prune ...` with a checkpoint, records when the dense reference ends and
# when each search step's note line appears ("skip-search: step K: ..."), the process's peak RSS
# (VmHWM) and the load average, and stops the search after STEPS steps. A whole 40 % search on
# this machine takes days; a step or two gives the per-step cost the projection is made from.
#
#   bench/xxl_search_step.sh LABEL STEPS -- SKRRC-ARGS...
#   bench/xxl_search_step.sh parti16 1 -- --calib parti --calib-size 16 --screen 0
#   bench/xxl_search_step.sh long64 1 -- --calib long --calib-size 64          # screen 16 (default)
#
# MODEL: $MODEL or bench/out/t5-xxl (python3 bench/make_large_checkpoint.py bench/out/t5-xxl
# --tokenizer fixtures/t5-trained, so prompts can be tokenised). Results:
# bench/out/xxl-search/LABEL.{log,times}.
set -euo pipefail
cd "$(dirname "$0")/.."

LABEL=$1 STEPS=$2
shift 2
[ "${1:-}" = "--" ] && shift
BIN=${SKRRC:-.build/release/skrrc}
MODEL=${MODEL:-bench/out/t5-xxl}
RES=bench/out/xxl-search
mkdir -p "$RES"
rm -f "$RES/$LABEL.ckpt"

start=$(date +%s.%N)
"$BIN" "$MODEL" -O prune --sparsity 0.4 --no-weight-check --checkpoint "$RES/$LABEL.ckpt" \
    -o "$RES/$LABEL.skrr" "$@" > "$RES/$LABEL.out" 2> "$RES/$LABEL.log" &
pid=$!
times=$RES/$LABEL.times
: > "$times"
seen=0 hwm=0
while kill -0 "$pid" 2> /dev/null; do
    sleep 5
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2> /dev/null || echo 0)
    [ -n "$kb" ] && [ "$kb" -gt "$hwm" ] && hwm=$kb
    steps=$(tr '\r' '\n' < "$RES/$LABEL.log" | grep -c 'skip-search: step ' || true)
    if [ "$steps" -gt "$seen" ]; then
        now=$(date +%s.%N)
        line=$(tr '\r' '\n' < "$RES/$LABEL.log" | grep 'skip-search: step ' | tail -n 1)
        printf '%.0f s  peak RSS %d KB  load %s  %s\n' "$(echo "$now - $start" | bc)" "$hwm" \
            "$(cut -d' ' -f1-3 /proc/loadavg)" "$line" | tee -a "$times"
        seen=$steps
        if [ "$seen" -ge "$STEPS" ]; then kill "$pid"; break; fi
    fi
done
wait "$pid" 2> /dev/null || true
echo "$LABEL: $STEPS step(s) in $(echo "$(date +%s.%N) - $start" | bc | cut -d. -f1) s, peak RSS $hwm KB" | tee -a "$times"
