// The "jit" and "llvm" engines of run_engine: compile (through the default Jit's cache),
// pack, run — the public Kernel API used the way a host uses it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "convjit/jit.hpp"
#include "convjit/spec.hpp"
#include "convjit/stream.hpp"
#include "runtime/engine.hpp"

namespace convjit::detail {

/// True for the engines that run a compiled Kernel ("jit", "llvm"): their callers can
/// compile once (compile_engine_kernel), pack once and call Kernel::run on their own buffers.
bool engine_has_kernel(std::string_view engine);

/// The Kernel `engine` ("jit" or "llvm") runs for `spec` on inputs of `input_shape` (data_format
/// order; the batch and the length may be kDynamic), from Jit::default_jit(). options.isa:
/// "auto", "avx2", "avx512", and for the llvm engine also "x86-64" (SSE2 code; Error
/// kUnknownName naming "isa" otherwise); options.schedule: schedule text or empty;
/// options.threads: threads of a run (0: every hardware thread). Error kUnknownName naming
/// "engine" for an engine without a kernel.
Kernel compile_engine_kernel(std::string_view engine, const Conv1DSpec& spec,
                             const Shape3& input_shape, const EngineOptions& options);

/// The StreamKernel `engine` ("jit" or "llvm") runs for `spec` on `channels` input channels
/// (channels_last), from Jit::default_jit(), compiled with the options of
/// compile_engine_kernel: its kernel() is compile_engine_kernel's for (kDynamic, kDynamic,
/// channels), so a stream reproduces that kernel's run bit for bit. Same errors, plus
/// compile_stream's.
StreamKernel compile_engine_stream(std::string_view engine, const Conv1DSpec& spec,
                                   std::int64_t channels, const EngineOptions& options,
                                   const StreamOptions& stream_options);

/// Runs `spec` on one input through compile_engine_kernel(engine, ...) with a kernel compiled
/// for this input's exact shape, packing the weights for this call. Returns the output in
/// call_output_shape(spec, input_shape) order.
std::vector<float> run_jit_engine(std::string_view engine, const Conv1DSpec& spec,
                                  const Shape3& input_shape, const float* input,
                                  const float* kernel, const float* bias,
                                  const EngineOptions& options);

}  // namespace convjit::detail
