// Axis-wise activations (softmax, log_softmax, sparsemax, glu) applied after the
// convolution of a whole axis, in C++ (the axis crosses register tiles and calls).
#pragma once

#include <cstdint>

#include "convjit/activation.hpp"

namespace convjit::detail {

/// Applies softmax/log_softmax/sparsemax in place to `count` floats spaced `stride`.
void apply_axis_activation(Activation act, float* values, std::int64_t count, std::int64_t stride);

/// glu over an axis of even length `count` (spaced `stride`): out[i * out_stride] =
/// x[i] * sigmoid(x[i + count/2]) for i < count/2.
void apply_glu_axis(const float* values, std::int64_t count, std::int64_t stride, float* out,
                    std::int64_t out_stride);

}  // namespace convjit::detail
