// Engines — the interchangeable ways of computing a Conv1D, selected by name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "convjit/spec.hpp"

namespace convjit::detail {

struct EngineOptions {
  std::string isa = "auto";  ///< jit/llvm engines: "auto", "avx2", "avx512"
  std::string schedule;      ///< a schedule text (to_string form); empty: the default heuristic
  int threads = 1;
};

/// Engine names this build has, fastest correct first ("jit", "interpreter", "reference").
std::vector<std::string> engine_names();
/// The engine `run` picks when none is named.
std::string default_engine_name();

/// Refuses, with Error(kResourceLimit, "filters") as compile does, the Keras weights of
/// `spec` on `channels` input channels (kernel and bias) when they would not fit in this
/// machine's memory.
void check_weights_memory(const Conv1DSpec& spec, std::int64_t channels);

/// Refuses, with Error(kResourceLimit, argument), a run of `spec` on the concrete
/// `input_shape` whose output would not fit in this machine's memory.
void check_output_memory(const Conv1DSpec& spec, const Shape3& input_shape, const char* argument);

/// The size checks of a run with the named engine, before anything is allocated: the spec
/// and shape (validate), the compile limits of generated code for "jit" and "llvm"
/// (check_compile_limits: what `convjit asm` reports), and the memory of the packed weights
/// and of the output. run_engine
/// starts with it; a tool that allocates data of its own calls it first.
void check_engine_limits(std::string_view engine, const Conv1DSpec& spec,
                         const Shape3& input_shape);

/// Runs `spec` on one input with the named engine. input: input_shape in data_format
/// order; kernel: Keras layout (K, C/g, F); bias: F floats or nullptr. Returns the output
/// in call_output_shape(spec, input_shape) order. Throws Error for bad input or an
/// unknown engine (kUnknownName, naming "engine"), and check_engine_limits' errors.
std::vector<float> run_engine(std::string_view engine, const Conv1DSpec& spec,
                              const Shape3& input_shape, const float* input, const float* kernel,
                              const float* bias, const EngineOptions& options = {});

}  // namespace convjit::detail
