#!/usr/bin/env bash
# Builds and runs the test suite under a sanitizer (RELIABILITY.md, "Sanitizers"):
#   bash scripts/sanitize.sh address [swift test args...]   AddressSanitizer + LeakSanitizer
#   bash scripts/sanitize.sh thread  [swift test args...]   ThreadSanitizer
# Extra arguments go to `swift test`, e.g. `--filter EvaluationTests`.
#
# Each sanitizer builds in its own scratch folder (.build-asan, .build-tsan; gitignored) so the
# normal .build and the other sanitizer's build are left alone. Reports from the test process
# and from every child it spawns (the CLI tests run the sanitized skrrc, mpirun ranks included)
# are written to files under the scratch folder instead of the children's stderr, which tests
# read; the script prints them and exits non-zero if there is any, whatever the tests said.
# Suppressions (scripts/lsan.supp, scripts/tsan.supp) name only uninstrumented third-party code.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kind=${1:-}
case "$kind" in
  address) short=asan ;;
  thread) short=tsan ;;
  *) echo "usage: bash scripts/sanitize.sh address|thread [swift test args...]" >&2; exit 64 ;;
esac
shift

scratch=".build-$short"
logs="$root/$scratch/sanitizer-logs"

bash scripts/setup.sh

# ASan: stop at the first memory error (what follows a corruption means little); leaks are
# checked at every process exit. fast_unwind_on_malloc=0: allocation stacks are unwound with
# DWARF, through uninstrumented libraries built without frame pointers (Open MPI), so a leak
# inside them is attributed to them and matched by lsan.supp. TSan: report every race in one
# run (halt_on_error=0), then exit 66. log_path sends each process's report to
# $logs/<tool>.<pid>.
export ASAN_OPTIONS="halt_on_error=1:exitcode=1:detect_leaks=1:fast_unwind_on_malloc=0:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=0:exitcode=66:suppressions=$root/scripts/tsan.supp:print_suppressions=0:log_path=$logs/tsan${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

start=$SECONDS
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
built=$SECONDS

rm -rf "$logs"
mkdir -p "$logs"
status=0
swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" "$@" || status=$?
done_at=$SECONDS

reports=$(find "$logs" -type f | sort)
for report in $reports; do
  echo "=== $report" >&2
  cat "$report" >&2
done
echo "sanitize $kind: build $((built - start)) s, tests $((done_at - built)) s, swift test exit $status, $(echo "$reports" | grep -c . || true) report file(s)" >&2
if [ -n "$reports" ]; then exit 1; fi
exit "$status"
