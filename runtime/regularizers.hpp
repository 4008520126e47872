// Keras 3 weight and activity regularizers: their loss values.
#pragma once

#include "convjit/spec.hpp"
#include "convjit/tensor.hpp"

namespace convjit::detail {

/// Keras 3 L1 / L2 / L1L2 on the values of `t`, accumulated in double:
/// l1: l1 * sum|w|; l2: l2 * sum w^2; l1_l2: both terms. kNone gives 0.
double regularization_loss(const Regularizer& reg, const Tensor& t);

/// The same on raw values.
double regularization_loss(const Regularizer& reg, const float* values, std::int64_t count);

}  // namespace convjit::detail
