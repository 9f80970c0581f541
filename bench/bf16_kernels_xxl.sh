#!/usr/bin/env bash
# `skrrc run --compute bf16` on the T5-XXL-shaped bf16 file with each bf16 kernel this CPU runs
# (SKRR_BF16_KERNEL=amx|avx512|rounded), against the exact path; one 128-token prompt, each run
# twice (the second is the warm figure), wall time and peak RSS from /usr/bin/time, and each
# output's relative error against the exact one (issue 10; BENCHMARKS.md "bf16 compute on AMX").
#
#   bench/bf16_kernels_xxl.sh [SKRRC]      # default .build/release/skrrc
#
# Needs bench/out/int8-xxl/dense-bf16.skrr and ids-128.txt from bench/int8_xxl.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/skrrc}
OUT=bench/out/int8-xxl
IDS=$(cat "$OUT/ids-128.txt")
for kernel in exact amx avx512 rounded; do
    for pass in 1 2; do
        if [[ $kernel == exact ]]; then
            /usr/bin/time -f "$kernel run $pass: %e s, peak RSS %M KB" "$BIN" run "$OUT/dense-bf16.skrr" --ids "$IDS" \
                -o "$OUT/kernel-$kernel.npy" 2>&1 > /dev/null | tail -n 1
        else
            /usr/bin/time -f "$kernel run $pass: %e s, peak RSS %M KB" env SKRR_BF16_KERNEL=$kernel "$BIN" run \
                "$OUT/dense-bf16.skrr" --ids "$IDS" --compute bf16 -o "$OUT/kernel-$kernel.npy" 2>&1 > /dev/null | tail -n 1
        fi
    done
done
python3 - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
exact = np.load(f"{out}/kernel-exact.npy").astype(np.float64)
for kernel in ("amx", "avx512", "rounded"):
    x = np.load(f"{out}/kernel-{kernel}.npy").astype(np.float64)
    print(f"{kernel}: relative error vs exact {np.linalg.norm(x - exact) / np.linalg.norm(exact):.4%}")
PY
echo "(a kernel this CPU cannot run falls back to the best it can: compare the errors to tell)"
