#include "compiler/backend/xbyak/axis_epilogue.hpp"

#include <cmath>
#include <vector>

#include "compiler/activation_math.hpp"

namespace convjit::detail {

void apply_axis_activation(Activation act, float* values, std::int64_t count, std::int64_t stride) {
  if (count <= 0) return;
  // Accumulated in double, as the reference: sums over long axes stay exact enough.
  thread_local std::vector<double> row;
  row.resize(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) row[i] = values[i * stride];
  activate_axis(act, row.data(), count, 1);
  for (std::int64_t i = 0; i < count; ++i) values[i * stride] = static_cast<float>(row[i]);
}

void apply_glu_axis(const float* values, std::int64_t count, std::int64_t stride, float* out,
                    std::int64_t out_stride) {
  const std::int64_t half = count / 2;
  for (std::int64_t i = 0; i < half; ++i) {
    const double a = values[i * stride];
    const double b = values[(i + half) * stride];
    const double sig = b >= 0 ? 1.0 / (1.0 + std::exp(-b)) : std::exp(b) / (1.0 + std::exp(b));
    out[i * out_stride] = static_cast<float>(a * sig);
  }
}

}  // namespace convjit::detail
