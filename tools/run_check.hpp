// Runs a spec on seeded random data with an engine and checks it against the reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/engine.hpp"

namespace convjit::tool {

struct RunReport {
  Shape3 output_shape{};
  std::vector<float> output;
  std::string kernel_name;          ///< jit/llvm engines: Kernel::name(); else empty
  double compile_seconds = 0.0;     ///< jit/llvm engines: the compile (Jit::compile)
  double first_call_seconds = 0.0;  ///< the first call, on a fresh output buffer
  double median_seconds = 0.0;      ///< per call, the median of timed_calls after a warm-up
  int timed_calls = 0;
  double gflops = 0.0;           ///< 2*N*Lout*F*(C/g)*K / median time
  double max_error_ratio = 0.0;  ///< max |got-ref| / (1e-5*max(1,acc_scale) + 1e-4*|ref|)
  bool matches_reference = false;
};

/// Runs `spec` on seeded random data and checks it against the reference. The jit and llvm
/// engines compile once, pack the weights once and allocate the output once, then time
/// Kernel::run on those (time_calls: the first call alone, then the median of at least
/// `min_calls` calls and 0.2 s after a warm-up). Other engines time run_engine.
RunReport run_and_check(const Conv1DSpec& spec, const Shape3& input_shape,
                        const std::string& engine, const detail::EngineOptions& options,
                        std::uint64_t seed, int min_calls);

/// Prints the report the way `run` and `demo` do.
void print_report(const Conv1DSpec& spec, const Shape3& input_shape, const std::string& engine,
                  const RunReport& report);

}  // namespace convjit::tool
