// libFuzzer entry: every input is refused with convjit::Error or runs to the reference's
// result (tests/fuzz/fuzz_case.hpp). Built by the `fuzz` preset; run by scripts/fuzz.sh.
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_case.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const convjit::fuzz::CaseResult r = convjit::fuzz::run_case(data, size);
  if (r.outcome == convjit::fuzz::Outcome::kFailed) {
    std::fprintf(stderr, "convjit fuzz failure: %s\n", r.detail.c_str());
    std::abort();
  }
  return 0;
}
