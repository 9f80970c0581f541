#!/usr/bin/env bash
# Encoder throughput, skrrc vs PyTorch, whole processes side by side (BENCHMARKS.md, issue 3).
#
#   bench/run.sh                 # everything; prints the table at the end
#   ITERS=10 ITERS_LARGE=3 bench/run.sh
#
# Same machine, same model files, same ids for both sides (bench/make_bench_model.py). For each
# workload the PyTorch process and the skrrc process run back to back, so both see the same
# background load; every process runs under /usr/bin/time -v for its peak RSS. Raw results go to
# bench/out/results/ (JSON lines from the programs, time -v reports); bench/summarize.py turns
# them into the table.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench/out
RES=$OUT/results
ITERS=${ITERS:-10}
ITERS_LARGE=${ITERS_LARGE:-3}
WARMUP=${WARMUP:-2}
PY=${PYTHON:-python3}
mkdir -p "$RES"
rm -f "$RES"/*

[[ -f $OUT/t5-base-f32/model.safetensors && -f $OUT/ids-64x128.txt ]] || $PY bench/make_bench_model.py "$OUT"
swift build -c release --scratch-path .build-bench --product skrr-bench >&2
BIN=.build-bench/release/skrr-bench

# run NAME CMD...: the program's stdout (one JSON line) to NAME.json, time -v to NAME.time.
run() {
    local name=$1; shift
    echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    /usr/bin/time -v -o "$RES/$name.time" "$@" > "$RES/$name.json" 2> "$RES/$name.err" || {
        cat "$RES/$name.err" >&2; exit 1; }
    echo "load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES/$name.time"
}

for dtype in f32 bf16; do
    model=$OUT/t5-base-$dtype
    for workload in 8x128 64x128; do
        ids=$OUT/ids-$workload.txt
        iters=$ITERS; warm=$WARMUP
        if [[ $workload == 64x128 ]]; then iters=$ITERS_LARGE; warm=1; fi
        run "torch-$dtype-$workload" $PY bench/torch_encode.py "$model" "$ids" --iters "$iters" --warmup "$warm"
        if [[ $dtype == bf16 ]]; then
            # PyTorch computing in f32 on the upcast bf16 weights: skrrc's default numerics.
            run "torchf32-$dtype-$workload" $PY bench/torch_encode.py "$model" "$ids" --iters "$iters" --warmup "$warm" --dtype float32
        fi
        run "skrrc-$dtype-$workload" "$BIN" steady "$model" "$ids" --iters "$iters" --warmup "$warm"
        if [[ $dtype == bf16 ]] && grep -qE 'avx512_bf16|avx2' /proc/cpuinfo; then
            # skrrc computing in bf16 (AVX-512 BF16 kernel, or with AVX2 the exact kernel on rounded
            # activations): the like-for-like match of PyTorch's bf16 row.
            run "skrrcbf16-$dtype-$workload" "$BIN" steady "$model" "$ids" --iters "$iters" --warmup "$warm" --compute bf16
        fi
    done
    # Cold start: process start -> import -> load -> encode one short prompt's ids -> exit.
    for rep in 1 2 3; do
        run "torch-$dtype-cold$rep" $PY bench/torch_encode.py "$model" $OUT/ids-1x12.txt --cold
        run "skrrc-$dtype-cold$rep" "$BIN" cold "$model" $OUT/ids-1x12.txt
    done
done

$PY bench/summarize.py "$RES"
