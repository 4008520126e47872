#!/usr/bin/env bash
# The long fuzz: libFuzzer (clang) with ASan + UBSan over the fuzz entry of tests/fuzz/.
#   scripts/fuzz.sh [SECONDS [PRESET]]   SECONDS of fuzzing after the build (default 60);
#                                        PRESET fuzz (default, build-fuzz/: the fuzzer alone)
#                                        or asan (build-asan/: CI, which builds the unit tests
#                                        there too, so the library is compiled once)
# Every input must be refused with convjit::Error or compile and run to the reference's
# result (tests/fuzz/fuzz_case.hpp). Starts from the seed corpus tests/fuzz/corpus/ (read
# only); new inputs go to build-<preset>/corpus/. A failure leaves build-<preset>/crash-* (or
# leak-*, timeout-*): copy it into tests/fuzz/corpus/ once fixed, so that every test run
# replays it (convjit_fuzz_tests, FuzzReplay.CorpusDirectoryReplays). Needs clang++ and
# libFuzzer (Debian: clang, libclang-rt-14-dev; scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
preset="${2:-fuzz}"
case "$preset" in
  fuzz | asan) ;;
  *)
    echo "usage: scripts/fuzz.sh [SECONDS [fuzz|asan]]" >&2
    exit 2
    ;;
esac
if ! command -v clang++ > /dev/null; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
cmake --preset "$preset" > /dev/null
cmake --build "build-$preset" -j "$(nproc)" --target convjit_fuzzer
mkdir -p "build-$preset/corpus"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "build-$preset"
# -rss_limit_mb: a hostile size that got past the checks and allocated would show here.
./convjit_fuzzer corpus ../tests/fuzz/corpus -max_total_time="$seconds" -max_len=512 \
  -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
