#!/usr/bin/env bash
# Sanitizer runs (docs/guarantees.md), called by CI after the main test run:
#   ASan + UBSan (preset asan, build-asan/): every unit test executable and the conformance
#                 run of the command-line tool; LeakSanitizer reports leaks at exit.
#   TSan (preset tsan, build-tsan/): the cache, thread-pool and concurrency tests of
#                 tests/runtime and the whole concurrency stress test (tests/stress).
# Usage: scripts/sanitizers.sh [asan|tsan]...   (both when none is given)
# Builds at -O1 only the executables it runs. CONVJIT_STRESS_SECONDS bounds the stress test.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then parts=(asan tsan); fi

# Test executables of every tests/<area>/ folder that has sources (see tests/CMakeLists.txt).
unit_test_targets() {
  for dir in tests/*/; do
    area="$(basename "$dir")"
    case "$area" in golden|data) continue ;; esac
    compgen -G "tests/$area/*.cpp" > /dev/null && echo "convjit_${area}_tests"
  done
}

# TSan cannot map its shadow memory with a high ASLR entropy on newer kernels; run without
# address randomization when setarch can do that.
no_aslr=()
if setarch "$(uname -m)" -R true 2> /dev/null; then no_aslr=(setarch "$(uname -m)" -R); fi

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
export CONVJIT_STRESS_SECONDS="${CONVJIT_STRESS_SECONDS:-2}"

for part in "${parts[@]}"; do
  start=$SECONDS
  case "$part" in
    asan)
      cmake --preset asan > /dev/null
      mapfile -t targets < <(unit_test_targets)
      # Test executables that areas define themselves (e.g. tests/aot: convjit_aot_test).
      mapfile -t -O "${#targets[@]}" targets < <(cmake --build build-asan --target help |
        sed -n 's/^\.\.\. \(convjit_[a-z0-9_]*_test\)$/\1/p')
      cmake --build build-asan -j "$jobs" --target convjit_cli "${targets[@]}"
      # Not unit tests, and minutes each under ASan: the bench suite, install checks and the
      # LLVM backend's whole-conformance runs (its unit tests in tests/llvm do run).
      ctest --test-dir build-asan --output-on-failure -j "$jobs" \
        -E '^(bench_quick|install_examples|readme_example|conformance_llvm_.*)$'
      ;;
    tsan)
      cmake --preset tsan > /dev/null
      cmake --build build-tsan -j "$jobs" --target convjit_runtime_tests convjit_stress_tests
      "${no_aslr[@]}" build-tsan/tests/convjit_runtime_tests \
        --gtest_filter='KernelCache*:ThreadPool*:Jit.*Thread*:Jit.CapacityOneEvicts:KernelRun.*Thread*:XbyakRuntime.AnyThreadCount*'
      "${no_aslr[@]}" build-tsan/tests/convjit_stress_tests
      ;;
    *)
      echo "usage: scripts/sanitizers.sh [asan|tsan]..." >&2
      exit 2
      ;;
  esac
  echo "sanitizers: $part passed in $((SECONDS - start)) s"
done
