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

/// Vector temporaries the machine-code sequence of element-wise activation `a` needs besides
/// its value register (0 for linear and the axis activations). The planner reserves them
/// (KernelPlan::act_temps); the Xbyak ActivationEmitter asks the same table.
int activation_vector_temps(Activation a);

}  // namespace convjit::detail
