#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/libfuzzer (-sanitize=fuzzer,address) and runs each for
# SECONDS_PER_TARGET seconds, one after another with one worker (the machine is shared).
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#
# Corpus:    fuzz/corpus/<target>/ (kept between runs, gitignored), seeded from fuzz/.seeds/<target>/
#            (fuzz/make_seeds.sh, from fixtures/) and fuzz/regressions/<target>/.
# Keywords:  fuzz/dict/<target>.dict when present (libFuzzer -dict).
# Findings:  fuzz/artifacts/<target>/ (crash-*, leak-*, timeout-*, oom-*); logs in fuzz/logs/.
# Exit code: non-zero if any target crashed, leaked, timed out or ran out of memory.
# Extra libFuzzer flags: FUZZ_FLAGS="-dict=... -seed=1" bash scripts/fuzz.sh 30
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
all_targets=(safetensors json model-config ir runtime-file sentencepiece clip-bpe wordpiece pipeline)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

build_start=$(date +%s)
bash fuzz/make_seeds.sh
# lld, not the default gold: gold 2.40 stops with "internal error in format_file_lineno" on
# these ASan-instrumented objects.
flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
(cd fuzz/libfuzzer && swift build "${flags[@]}")
bin=$(cd fuzz/libfuzzer && swift build "${flags[@]}" --show-bin-path)
build_seconds=$(( $(date +%s) - build_start ))
echo "fuzz: seeds + build took ${build_seconds} s"

mkdir -p fuzz/logs
failed=()
summary=()
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# Swift's own crash backtracer reads the crashed process's memory, which ASan reports as a second
# (false) error; libFuzzer and ASan print the stack themselves.
export SWIFT_BACKTRACE=enable=no
# One thread: the machine is shared, and libFuzzer runs one input at a time.
export OPENBLAS_NUM_THREADS=1
for target in "${targets[@]}"; do
    exe="$bin/fuzz-$target"
    [ -x "$exe" ] || { echo "fuzz: no such target '$target' (${all_targets[*]})" >&2; exit 2; }
    max_len=$(SKRR_FUZZ_MAX_LEN=1 "$exe")
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    dirs=("fuzz/corpus/$target" "fuzz/.seeds/$target")
    [ -d "fuzz/regressions/$target" ] && dirs+=("fuzz/regressions/$target")
    dict=()
    [ -f "fuzz/dict/$target.dict" ] && dict=(-dict="fuzz/dict/$target.dict")
    log="fuzz/logs/$target.log"
    echo "fuzz: $target for ${seconds} s (max_len $max_len)"
    set +e
    # shellcheck disable=SC2086
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len="$max_len" \
        -detect_leaks=1 -print_final_stats=1 \
        -artifact_prefix="$root/fuzz/artifacts/$target/" "${dict[@]}" ${FUZZ_FLAGS:-} "${dirs[@]}" >"$log" 2>&1
    status=$?
    set -e
    runs=$(awk '/stat::number_of_executed_units:/ {n = $2} END {print n}' "$log")
    rate=$(awk '/stat::average_exec_per_sec:/ {n = $2} END {print n}' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
    result=ok
    if [ $status -ne 0 ]; then
        result="FAILED (exit $status, see $log and fuzz/artifacts/$target/)"
        failed+=("$target")
        grep -E 'ERROR|Fatal error|SUMMARY|artifact' "$log" | head -5 || true
    fi
    summary+=("$(printf '%-14s %12s %9s %7s %8s %8s  %s' "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$result")")
done

echo
printf '%-14s %12s %9s %7s %8s %8s  %s\n' target executions exec/s cov ft corpus result
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: findings in: ${failed[*]}" >&2
    exit 1
fi
