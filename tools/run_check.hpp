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
  double median_seconds = 0.0;   ///< per run, over `repeats` timed runs after one warm-up
  double gflops = 0.0;           ///< 2*N*Lout*F*(C/g)*K / median time
  double max_error_ratio = 0.0;  ///< max |got-ref| / (1e-5*max(1,acc_scale) + 1e-4*|ref|)
  bool matches_reference = false;
};

RunReport run_and_check(const Conv1DSpec& spec, const Shape3& input_shape,
                        const std::string& engine, const detail::EngineOptions& options,
                        std::uint64_t seed, int repeats);

/// Prints the report the way `run` and `demo` do.
void print_report(const Conv1DSpec& spec, const Shape3& input_shape, const std::string& engine,
                  const RunReport& report);

}  // namespace convjit::tool
