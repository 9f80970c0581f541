#!/bin/bash
# Builds amx_bench against the working tree's amx_gemm.c ("new") and git HEAD's ("old", symbols
# renamed old_*), then runs it: bash bench/amx_gemm/run.sh [reps] [threads]
# SHAPE=i runs only shape i; M=rows sets every shape's row count (a smaller batch group). CFLAGS adds flags to the new kernel's build; BASE_CFLAGS, when set,
# makes the "old" side the working tree's kernel built with those flags (to compare two variants).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/amx_gemm/build
mkdir -p "$out"
if [ -n "${BASE_CFLAGS:-}" ]; then cat Sources/CKernels/amx_gemm.c; else git show HEAD:Sources/CKernels/amx_gemm.c; fi |
    sed -e 's/skrr_amx_/old_amx_/g' -e 's/skrr_bf16_rows_padded/old_bf16_rows_padded/g' >"$out/amx_gemm_old.c"
cc="clang -O2 -g -march=x86-64-v2 -ISources/CKernels/include -ISources/CKernels"
$cc ${BASE_CFLAGS:-} -c -o "$out/old.o" "$out/amx_gemm_old.c"
$cc ${CFLAGS:-} -c -o "$out/new.o" Sources/CKernels/amx_gemm.c
$cc -o "$out/amx_bench" bench/amx_gemm/amx_bench.c "$out/old.o" "$out/new.o" \
    Sources/CKernels/bf16_gemm.c Sources/CKernels/bf16_round.c -lm -lpthread
"$out/amx_bench" "$@"
