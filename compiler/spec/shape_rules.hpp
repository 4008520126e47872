// Keras's shape rules in the form a per-call path needs: for a spec validated once (a built
// layer, a compiled kernel), without building a Conv1DSpec or a string on success, so that a
// layer call and Kernel::run allocate nothing.
#pragma once

#include <array>
#include <cstdint>

#include "convjit/spec.hpp"

namespace convjit::detail {

/// The numbers of a Conv1D that lengths depend on.
struct ConvGeometry {
  Padding padding = Padding::kValid;
  std::int64_t kernel_size = 1, strides = 1, dilation_rate = 1;
};

/// convjit::output_length and convjit::padding_amounts (which call these).
std::int64_t output_length(const ConvGeometry& g, std::int64_t length);
std::array<std::int64_t, 2> padding_amounts(const ConvGeometry& g, std::int64_t length);

/// validate(spec, input_shape) without validate(spec)'s constructor checks, for a spec that
/// passed them: the same errors for the input shape.
void validate_input_shape(const Conv1DSpec& spec, const Shape3& input_shape);

/// call_output_shape(spec, input_shape) for a spec that passed validate(spec).
Shape3 call_output_shape_of_valid_spec(const Conv1DSpec& spec, const Shape3& input_shape);

}  // namespace convjit::detail
