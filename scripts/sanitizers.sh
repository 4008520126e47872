#!/usr/bin/env bash
# Sanitizer runs (docs/guarantees.md), called by CI (scripts/ci_hardening.sh):
#   ASan + UBSan (preset asan, build-asan/, clang): every unit test executable but the LLVM
#                 backend's, and the conformance run of the command-line tool; LeakSanitizer
#                 reports leaks at exit.
#   TSan (preset tsan, build-tsan/): the cache, thread-pool and concurrency tests of
#                 tests/runtime and the whole concurrency stress test (tests/stress).
# Usage: scripts/sanitizers.sh [asan|tsan]...   (both when none is given)
# Builds only the executables it runs: the library at -O1, tests and tool at -O0
# (CONVJIT_TESTS_O0). CONVJIT_STRESS_SECONDS (default 2) bounds the stress test;
# CONVJIT_IR_CASES (default 8 here; the main build runs every case, and 96 with random
# schedules) the golden cases each IrConformance test draws (tests/ir).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then parts=(asan tsan); fi

# Test executables of every tests/<area>/ folder that has sources (see tests/CMakeLists.txt).
# Not tests/llvm: the LLVM backend's own objects are instrumented, but its tests spend their
# time inside LLVM's (uninstrumented) code generator, about a minute even uninstrumented; they,
# its AOT test and its whole-conformance runs run in the main build (scripts/test.sh).
unit_test_targets() {
  for dir in tests/*/; do
    area="$(basename "$dir")"
    case "$area" in golden|data|llvm) continue ;; esac
    compgen -G "tests/$area/*.cpp" > /dev/null && echo "convjit_${area}_tests"
  done
}

# Runs test executables of build dir $1 whole, one process each, $jobs at a time, in the
# directory ctest would use, with the gtest arguments in gtest_args; a failing one's output is
# printed. (A process per test, as ctest runs them, costs more than the tests themselves under
# ASan: hundreds of starts and leak checks.)
run_executables() {
  local dir="$1/tests"
  shift
  local logs="$PWD/$dir/sanitizer-logs"
  rm -rf "$logs" && mkdir -p "$logs"
  for exe in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    (
      t0=$SECONDS
      cd "$dir"
      rc=0
      timeout 900 "${no_aslr[@]}" "./$exe" "${gtest_args[@]}" > "$logs/$exe.log" 2>&1 || rc=$?
      echo "$rc $((SECONDS - t0))" > "$logs/$exe.rc"
    ) &
  done
  wait
  local failed=0 passed=0
  for exe in "$@"; do
    rc=1 took=0
    [ -f "$logs/$exe.rc" ] && read -r rc took < "$logs/$exe.rc"
    if [ "$rc" -eq 0 ]; then
      passed=$((passed + 1))
      echo "  $exe: passed ($(grep -c '^\[       OK \]' "$logs/$exe.log") tests, $took s)"
    else
      failed=$((failed + 1))
      cat "$logs/$exe.log"
      echo "  $exe: FAILED (exit $rc, $took s; log: $logs/$exe.log)"
    fi
  done
  echo "$part: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# TSan cannot map its shadow memory with a high ASLR entropy on newer kernels; run without
# address randomization when setarch can do that.
no_aslr=()
if setarch "$(uname -m)" -R true 2> /dev/null; then no_aslr=(setarch "$(uname -m)" -R); fi

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
export CONVJIT_STRESS_SECONDS="${CONVJIT_STRESS_SECONDS:-2}"
export CONVJIT_IR_CASES="${CONVJIT_IR_CASES:-8}"

for part in "${parts[@]}"; do
  start=$SECONDS
  case "$part" in
    asan)
      cmake --preset asan > /dev/null
      mapfile -t targets < <(unit_test_targets)
      cmake --build build-asan -j "$jobs" --target convjit_cli "${targets[@]}"
      echo "sanitizers: $part built in $((SECONDS - start)) s"
      # Not here: the bench suite and install checks (not unit tests, minutes under ASan),
      # the LLVM backend's tests (see unit_test_targets), and TuneCli's two tuning runs,
      # which count the candidates measured within a 3 s wall-clock budget that an
      # instrumented build on a busy machine misses (the tuning database's tests run here).
      # All of them run in the main build. So does the streaming test over golden specs through
      # LLVM (its time is LLVM's uninstrumented code generator; the Xbyak ones run here).
      gtest_args=(--gtest_filter='-TuneCli.TunesResumesAndAFreshProcessCompilesTheWinner:TuneCli.ReportsADamagedDatabaseOnceAndKeepsGoing:StreamBitIdentity.GoldenSpecsAnyChunkingMatchTheWholeSequenceLlvm')
      run_executables build-asan "${targets[@]}"
      # The golden set through the command-line tool.
      ctest --test-dir build-asan --output-on-failure -R '^conformance_reference$'
      ;;
    tsan)
      cmake --preset tsan > /dev/null
      cmake --build build-tsan -j "$jobs" --target convjit_runtime_tests convjit_stress_tests
      echo "sanitizers: $part built in $((SECONDS - start)) s"
      gtest_args=(--gtest_filter='KernelCache*:ThreadPool*:Jit.*Thread*:Jit.CapacityOneEvicts:KernelRun.*Thread*:XbyakRuntime.AnyThreadCount*')
      run_executables build-tsan convjit_runtime_tests
      gtest_args=()
      run_executables build-tsan convjit_stress_tests
      ;;
    *)
      echo "usage: scripts/sanitizers.sh [asan|tsan]..." >&2
      exit 2
      ;;
  esac
  echo "sanitizers: $part passed in $((SECONDS - start)) s"
done
