#!/usr/bin/env bash
# The long fuzz: libFuzzer (clang) with ASan + UBSan over the fuzz entry of tests/fuzz/.
#   scripts/fuzz.sh [SECONDS]     default 60; SECONDS of fuzzing after the build
# Every input must be refused with convjit::Error or compile and run to the reference's
# result (tests/fuzz/fuzz_case.hpp). Starts from the seed corpus tests/fuzz/corpus/ (read
# only); new inputs go to build-fuzz/corpus/. A failure leaves build-fuzz/crash-* (or
# leak-*, timeout-*): copy it into tests/fuzz/corpus/ once fixed, so that CI replays it
# (convjit_fuzz_tests, FuzzReplay.CorpusDirectoryReplays). Needs clang++ and libFuzzer
# (Debian: clang, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! command -v clang++ > /dev/null; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
cmake --preset fuzz > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target convjit_fuzzer
mkdir -p build-fuzz/corpus
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-fuzz
# -rss_limit_mb: a hostile size that got past the checks and allocated would show here.
./convjit_fuzzer corpus ../tests/fuzz/corpus -max_total_time="$seconds" -max_len=512 \
  -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
