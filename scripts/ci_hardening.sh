#!/usr/bin/env bash
# CI's hardening part (docs/guarantees.md), run by .ci/run after the main test run:
#   asan  scripts/sanitizers.sh asan   the unit tests under ASan + UBSan (clang, build-asan/)
#   tsan  scripts/sanitizers.sh tsan   the cache, thread-pool and concurrency tests under TSan
#   fuzz  scripts/fuzz.sh SECONDS asan libFuzzer from the seed corpus for a bounded time
#                                      (CONVJIT_CI_FUZZ_SECONDS, default 60), built in
#                                      build-asan/ on the library the unit tests just used
# Prints the time of each part; stops at the first failure. The long fuzz is a separate
# command: scripts/fuzz.sh SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${CONVJIT_CI_FUZZ_SECONDS:-60}"
total_start=$SECONDS

part_start=$SECONDS
bash scripts/sanitizers.sh asan
echo "ci_hardening: asan took $((SECONDS - part_start)) s"

part_start=$SECONDS
bash scripts/sanitizers.sh tsan
echo "ci_hardening: tsan took $((SECONDS - part_start)) s"

# libFuzzer prints a line per new input: keep them in a log, show the end (the final stats,
# or the failure and its reproducer's name).
part_start=$SECONDS
log=build-asan/ci_fuzz.log
if ! bash scripts/fuzz.sh "$fuzz_seconds" asan > "$log" 2>&1; then
  tail -n 80 "$log"
  echo "ci_hardening: fuzz FAILED (whole log: $log; reproducer: build-asan/crash-*)" >&2
  exit 1
fi
tail -n 12 "$log"
echo "ci_hardening: fuzz (${fuzz_seconds} s of fuzzing) took $((SECONDS - part_start)) s"

echo "ci_hardening: asan, tsan and fuzz passed in $((SECONDS - total_start)) s"
