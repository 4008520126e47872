// The "jit" engine of run_engine: compile (through the default Jit's cache), pack, run.
#pragma once

#include <vector>

#include "convjit/spec.hpp"
#include "runtime/engine.hpp"

namespace convjit::detail {

/// Runs `spec` on one input through Jit::default_jit(). options.isa: "auto", "avx2",
/// "avx512" (Error kUnknownName naming "isa" otherwise); options.schedule: schedule text or
/// empty; options.threads: threads of the run (0: every hardware thread).
/// Returns the output in call_output_shape(spec, input_shape) order.
std::vector<float> run_jit_engine(const Conv1DSpec& spec, const Shape3& input_shape,
                                  const float* input, const float* kernel, const float* bias,
                                  const EngineOptions& options);

}  // namespace convjit::detail
