#include "runtime/regularizers.hpp"

#include <cmath>

namespace convjit::detail {

double regularization_loss(const Regularizer& reg, const float* values, std::int64_t count) {
  if (reg.kind == Regularizer::Kind::kNone) return 0.0;
  // Keras 3 L1L2.__call__: start at 0, add l1*sum|x| if l1, add l2*sum x^2 if l2. L1 and L2
  // are L1L2 with the other factor 0.
  const bool use_l1 = reg.kind == Regularizer::Kind::kL1 || reg.kind == Regularizer::Kind::kL1L2;
  const bool use_l2 = reg.kind == Regularizer::Kind::kL2 || reg.kind == Regularizer::Kind::kL1L2;
  double sum_abs = 0.0;
  double sum_sq = 0.0;
  for (std::int64_t i = 0; i < count; ++i) {
    const double v = values[i];
    sum_abs += std::fabs(v);
    sum_sq += v * v;
  }
  double loss = 0.0;
  if (use_l1 && reg.l1 != 0.0) loss += reg.l1 * sum_abs;
  if (use_l2 && reg.l2 != 0.0) loss += reg.l2 * sum_sq;
  return loss;
}

double regularization_loss(const Regularizer& reg, const Tensor& t) {
  return regularization_loss(reg, t.data(), t.size());
}

}  // namespace convjit::detail
