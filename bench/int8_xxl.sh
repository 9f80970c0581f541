#!/usr/bin/env bash
# int8 runtime files at T5-XXL shape (issue 13; BENCHMARKS.md "int8 weights"): file bytes of the
# dense bf16 file, the dense int8 file and a 40 % pruned int8 file, and `skrrc run` on one
# 128-token prompt (wall time and peak RSS under /usr/bin/time -v, each run twice: cold after the
# file's pages are dropped, then warm) for the bf16 file (exact, and --compute bf16) and the int8
# files, and --compute int8 on the int8 files.
#
# The 40 % schedule skips blocks 12-21 whole (attention and FFN: 40.5 % of the parameters). It is
# chosen by hand, not searched: a Skrr search at this size is issue 10's work, and on random
# weights any schedule of the same size gives the same bytes and speed.
#
#   bench/int8_xxl.sh [SKRRC] [MODEL]    # defaults: .build/release/skrrc bench/out/t5-xxl
#
# MODEL comes from python3 bench/make_large_checkpoint.py bench/out/t5-xxl (~10 GB). The files go
# to bench/out/int8-xxl (~17 GB); one summary line per measurement on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-.build/release/skrrc}
MODEL=${2:-bench/out/t5-xxl}
OUT=bench/out/int8-xxl
mkdir -p "$OUT"

"$BIN" "$MODEL" -o "$OUT/dense.ir"
python3 - "$OUT/dense.ir" "$OUT/pruned40.ir" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
slots = [f"slot {i} skip" if 24 <= i < 44 else f"slot {i} run {i}" for i in range(48)]
open(sys.argv[2], "w").write(re.sub(r"schedule \{.*?\}", "schedule { " + " ".join(slots) + " }", text, flags=re.S))
EOF

compile() {  # compile NAME IR [ARGS...]
    local name=$1 ir=$2
    shift 2
    /usr/bin/time -v -o "$OUT/$name.compile.time" "$BIN" "$ir" --no-tokenizer "$@" -o "$OUT/$name.skrr" > /dev/null
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/$name.compile.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/$name.compile.time")
    printf '%s: %s bytes (compile %s, peak RSS %.0f MB)\n' "$name" "$(stat -c %s "$OUT/$name.skrr")" "$wall" "$((rss / 1024))"
}
[[ -f $OUT/dense-bf16.skrr ]] || compile dense-bf16 "$OUT/dense.ir"
[[ -f $OUT/dense-int8.skrr ]] || compile dense-int8 "$OUT/dense.ir" --weight-dtype int8
[[ -f $OUT/pruned40-int8.skrr ]] || compile pruned40-int8 "$OUT/pruned40.ir" --weight-dtype int8
[[ -f $OUT/pruned40-bf16.skrr ]] || compile pruned40-bf16 "$OUT/pruned40.ir"
for f in dense-bf16 dense-int8 pruned40-int8 pruned40-bf16; do
    printf '%s: %s bytes\n' "$f" "$(stat -c %s "$OUT/$f.skrr")"
done

python3 -c 'import random; r = random.Random(0); print(" ".join(str(r.randrange(2, 32000)) for _ in range(127)) + " 1")' > "$OUT/ids-128.txt"

measure() {  # measure LABEL FILE [ARGS...]
    local label=$1 file=$2
    shift 2
    python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$file"
    for state in cold warm; do
        /usr/bin/time -v -o "$OUT/$label-$state.time" "$BIN" run "$file" --ids "$(cat "$OUT/ids-128.txt")" "$@" \
            -o "$OUT/$label.npy" > /dev/null 2>&1
        local wall rss
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/$label-$state.time")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/$label-$state.time")
        printf '%s %s: wall %s, peak RSS %.0f MB; load %s\n' "$label" "$state" "$wall" "$((rss / 1024))" "$(cut -d' ' -f1 /proc/loadavg)"
    done
}
measure dense-bf16-exact "$OUT/dense-bf16.skrr"
measure dense-bf16-compute-bf16 "$OUT/dense-bf16.skrr" --compute bf16
measure dense-int8 "$OUT/dense-int8.skrr"
measure pruned40-int8 "$OUT/pruned40-int8.skrr"
measure pruned40-bf16-compute-bf16 "$OUT/pruned40-bf16.skrr" --compute bf16
measure dense-int8-compute-int8 "$OUT/dense-int8.skrr" --compute int8
measure pruned40-int8-compute-int8 "$OUT/pruned40-int8.skrr" --compute int8
python3 - "$OUT" <<'EOF'
import numpy as np, sys
out = sys.argv[1]
a, b = np.load(f"{out}/dense-bf16-exact.npy"), np.load(f"{out}/dense-int8.npy")
err = lambda x, y: np.linalg.norm(x - y) / np.linalg.norm(y)
print(f"dense int8 vs dense bf16 (exact), one 128-token prompt: relative error {err(b, a):.4f}")
c = np.load(f"{out}/dense-bf16-compute-bf16.npy")
print(f"dense bf16 --compute bf16 vs dense bf16 (exact): relative error {err(c, a):.4f}")
d = np.load(f"{out}/dense-int8-compute-int8.npy")
print(f"dense int8 --compute int8 vs dense bf16 (exact): relative error {err(d, a):.4f}; vs dense int8 (exact): {err(d, b):.4f}")
EOF
