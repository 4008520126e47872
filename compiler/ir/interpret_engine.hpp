// The "interpreter" engine: lowering, a schedule (the default or a given text) and the IR
// interpreter, behind run_engine.
#pragma once

#include <string>
#include <vector>

#include "convjit/isa.hpp"
#include "convjit/spec.hpp"

namespace convjit::detail {

/// Computes `spec` on `input` (input_shape in data_format order) with Keras-layout
/// `kernel` and `bias` (nullptr without bias). schedule_text empty: default_schedule for
/// `isa` (kAuto: avx512). Returns call_output_shape(spec, input_shape) floats.
std::vector<float> run_interpreter(const Conv1DSpec& spec, const Shape3& input_shape,
                                   const float* input, const float* kernel, const float* bias,
                                   const std::string& schedule_text, Isa isa);

}  // namespace convjit::detail
