// The "jit" and "llvm" engines of run_engine: compile (through the default Jit's cache),
// pack, run — the public Kernel API used the way a host uses it.
#pragma once

#include <vector>

#include "convjit/jit.hpp"
#include "convjit/spec.hpp"
#include "runtime/engine.hpp"

namespace convjit::detail {

/// Runs `spec` on one input through Jit::default_jit() with `backend` (kAuto: Xbyak unless
/// CONVJIT_BACKEND says otherwise). options.isa: "auto", "avx2", "avx512", and for the LLVM
/// backend also "x86-64" (SSE2 code; Error kUnknownName naming "isa" otherwise);
/// options.schedule: schedule text or empty; options.threads: threads of the run (0: every
/// hardware thread). Returns the output in call_output_shape(spec, input_shape) order.
std::vector<float> run_jit_engine(const Conv1DSpec& spec, const Shape3& input_shape,
                                  const float* input, const float* kernel, const float* bias,
                                  const EngineOptions& options,
                                  convjit::Backend backend = convjit::Backend::kAuto);

}  // namespace convjit::detail
