// Scalar definitions of every Keras activation, in double: the reference formulas.
#pragma once

#include <cstdint>

#include "convjit/activation.hpp"

namespace convjit::detail {

/// Element-wise activation of one value (must not be an axis activation).
double activate(Activation a, double x);

/// Applies an axis-wise activation (softmax, log_softmax, sparsemax) to `count` values
/// spaced `stride` apart, in place. For glu use apply_glu.
void activate_axis(Activation a, double* values, std::int64_t count, std::int64_t stride);

/// glu over an axis of even length `count`: out[i] = x[i] * sigmoid(x[i + count/2]),
/// i < count/2. `out` has its own stride.
void apply_glu(const double* values, std::int64_t count, std::int64_t stride, double* out,
               std::int64_t out_stride);

/// An axis activation of one row of floats, computed as the reference does (in double by
/// activate_axis / apply_glu, rounded once): softmax, log_softmax and sparsemax write `count`
/// values, glu count/2 (`count` even). `dst` may be `src`: the row is read whole first.
void activate_axis_row(Activation a, const float* src, std::int64_t count, std::int64_t src_stride,
                       float* dst, std::int64_t dst_stride);

}  // namespace convjit::detail
