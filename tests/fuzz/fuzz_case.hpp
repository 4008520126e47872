// One fuzz case: bytes -> spec, shape, schedule and inputs -> refused, or run and checked.
//
// The same entry serves the libFuzzer target (tests/fuzz/libfuzzer/fuzz_target.cpp, built by
// the `fuzz` preset, run by scripts/fuzz.sh) and the corpus replay test that CI runs in the
// normal build (tests/fuzz/corpus_replay_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convjit::fuzz {

/// What happened to one input.
enum class Outcome {
  kRefused,   ///< a convjit::Error, from parsing, validation, compile or a deliberately bad run
  kCompiled,  ///< compiled (and sizes queried), too large to run within the fuzz bounds
  kMatched,   ///< compiled, run, equal to the reference within the FORMAT.md tolerance
  kFailed,    ///< a bug: wrong result, guard bytes touched, unexpected error or exception
};

const char* outcome_name(Outcome o);

struct CaseResult {
  Outcome outcome = Outcome::kRefused;
  std::string detail;  ///< what was tried, and for kFailed what went wrong
};

/// Runs one input. Never throws: every exception is classified. Memory errors inside
/// generated code show as guard-page faults (the input and output buffers of a run sit
/// next to PROT_NONE pages) or as changed canaries.
CaseResult run_case(const std::uint8_t* data, std::size_t size);

/// The seed corpus: inputs that reach every mode (structured specs, spec text, JSON,
/// schedule text, hostile sizes, bad run arguments). Written to tests/fuzz/corpus/ by
/// `convjit_fuzz_tests --gtest_also_run_disabled_tests --gtest_filter=*WriteSeedCorpus*`.
std::vector<std::vector<std::uint8_t>> seed_inputs();

}  // namespace convjit::fuzz
