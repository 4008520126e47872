#include "compiler/activation_math.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "compiler/activation_description.hpp"

namespace convjit::detail {
namespace {

static_assert(kEluAlpha == 1.0 && kCeluAlpha == 1.0, "elu and celu have alpha 1 built in");

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

double softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

double relu6(double x) {
  return std::min(std::max(x, 0.0), kRelu6Cap);
}

double hard_sigmoid(double x) {
  return relu6(x + kHardSigmoidOffset) / kHardSigmoidDivisor;
}

}  // namespace

double activate(Activation a, double x) {
  if (std::isnan(x)) return x;  // every activation propagates NaN
  switch (a) {
    case Activation::kLinear: return x;
    case Activation::kRelu: return x > 0 ? x : 0.0;
    case Activation::kRelu6: return relu6(x);
    case Activation::kLeakyRelu: return x >= 0 ? x : kLeakyReluSlope * x;
    case Activation::kElu: return x > 0 ? x : std::expm1(x);
    case Activation::kSelu: return kSeluScale * (x >= 0 ? x : kSeluAlpha * std::expm1(x));
    case Activation::kCelu: return x >= 0 ? x : std::expm1(x);
    case Activation::kGelu:
      if (std::isinf(x)) return x < 0 ? 0.0 : x;
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::kSigmoid: return sigmoid(x);
    case Activation::kHardSigmoid: return hard_sigmoid(x);
    case Activation::kHardSilu:
      return std::isinf(x) && x < 0 ? 0.0 : x * relu6(x + kHardSigmoidOffset) / kHardSigmoidDivisor;
    case Activation::kSilu: return std::isinf(x) && x < 0 ? 0.0 : x * sigmoid(x);
    case Activation::kMish: return std::isinf(x) && x < 0 ? 0.0 : x * std::tanh(softplus(x));
    case Activation::kTanh: return std::tanh(x);
    case Activation::kHardTanh: return std::min(std::max(x, -1.0), 1.0);
    case Activation::kTanhShrink: return x - std::tanh(x);
    case Activation::kSoftplus: return softplus(x);
    case Activation::kSoftsign:
      return std::isinf(x) ? std::copysign(1.0, x) : x / (1.0 + std::abs(x));
    case Activation::kSquareplus: {
      const double r = std::sqrt(x * x + kSquareplusB);
      // (x + r) / 2, rewritten for x < 0 to avoid cancellation.
      if (x >= 0) return 0.5 * (x + r);
      if (std::isinf(x)) return 0.0;
      return 0.5 * kSquareplusB / (r - x);
    }
    case Activation::kSparsePlus:
      if (x <= -1.0) return 0.0;
      if (x >= 1.0) return x;
      return 0.25 * (x + 1.0) * (x + 1.0);
    case Activation::kSparseSigmoid:
      if (x <= -1.0) return 0.0;
      if (x >= 1.0) return 1.0;
      return 0.5 * (x + 1.0);
    case Activation::kExponential: return std::exp(x);
    case Activation::kLogSigmoid: return -softplus(-x);
    case Activation::kHardShrink: return std::abs(x) > kShrinkThreshold ? x : 0.0;
    case Activation::kSoftShrink:
      if (x > kShrinkThreshold) return x - kShrinkThreshold;
      if (x < -kShrinkThreshold) return x + kShrinkThreshold;
      return 0.0;
    case Activation::kSoftmax:
    case Activation::kLogSoftmax:
    case Activation::kSparsemax:
    case Activation::kGlu: break;
  }
  std::abort();  // axis activations have no element-wise form: a caller bug
}

void activate_axis(Activation a, double* v, std::int64_t count, std::int64_t stride) {
  if (count <= 0) return;
  auto at = [&](std::int64_t i) -> double& { return v[i * stride]; };
  // Special values (docs/jit-activations.md, "Axis activations"): a NaN or a +Inf anywhere in
  // the axis makes the whole axis NaN, and so does an axis of only -Inf; otherwise -Inf
  // entries take no part (softmax 0, log_softmax -Inf, sparsemax 0). Softmax gets this from
  // x - max(x), as Keras computes it; sparsemax checks first, which also keeps NaN out of
  // its sort (x > y is not a strict weak ordering with NaN).
  switch (a) {
    case Activation::kSoftmax:
    case Activation::kLogSoftmax: {
      double max = -INFINITY;
      for (std::int64_t i = 0; i < count; ++i) max = std::max(max, at(i));
      double sum = 0.0;
      for (std::int64_t i = 0; i < count; ++i) sum += std::exp(at(i) - max);
      if (a == Activation::kSoftmax) {
        for (std::int64_t i = 0; i < count; ++i) at(i) = std::exp(at(i) - max) / sum;
      } else {
        const double log_sum = std::log(sum);
        for (std::int64_t i = 0; i < count; ++i) at(i) = at(i) - max - log_sum;
      }
      return;
    }
    case Activation::kSparsemax: {
      bool defined = false;  // some entry is above -Inf
      for (std::int64_t i = 0; i < count; ++i) {
        const double x = at(i);
        if (std::isnan(x) || x == INFINITY) {
          defined = false;
          break;
        }
        defined = defined || x > -INFINITY;
      }
      if (!defined) {
        for (std::int64_t i = 0; i < count; ++i) at(i) = NAN;
        return;
      }
      // Martins & Astudillo 2016, Algorithm 1 (the Keras docstring definition).
      std::vector<double> z(static_cast<std::size_t>(count));
      for (std::int64_t i = 0; i < count; ++i) z[i] = at(i);
      std::sort(z.begin(), z.end(), [](double x, double y) { return x > y; });
      double cumsum = 0.0, support_sum = 0.0;
      std::int64_t k = 0;
      for (std::int64_t j = 0; j < count; ++j) {
        cumsum += z[j];
        if (1.0 + static_cast<double>(j + 1) * z[j] > cumsum) {
          k = j + 1;
          support_sum = cumsum;
        }
      }
      const double tau = (support_sum - 1.0) / static_cast<double>(std::max<std::int64_t>(k, 1));
      for (std::int64_t i = 0; i < count; ++i) at(i) = std::max(at(i) - tau, 0.0);
      return;
    }
    default: break;
  }
  std::abort();  // glu has its own function; element-wise ones use activate()
}

void apply_glu(const double* values, std::int64_t count, std::int64_t stride, double* out,
               std::int64_t out_stride) {
  const std::int64_t half = count / 2;
  for (std::int64_t i = 0; i < half; ++i) {
    out[i * out_stride] = values[i * stride] * sigmoid(values[(i + half) * stride]);
  }
}

void activate_axis_row(Activation a, const float* src, std::int64_t count, std::int64_t src_stride,
                       float* dst, std::int64_t dst_stride) {
  if (count <= 0) return;
  // Accumulated in double, as the reference: sums over long axes stay exact enough.
  thread_local std::vector<double> row;
  row.resize(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) row[i] = src[i * src_stride];
  if (a == Activation::kGlu) {
    const std::int64_t half = count / 2;
    thread_local std::vector<double> out;
    out.resize(static_cast<std::size_t>(half));
    apply_glu(row.data(), count, 1, out.data(), 1);
    for (std::int64_t i = 0; i < half; ++i) dst[i * dst_stride] = static_cast<float>(out[i]);
    return;
  }
  activate_axis(a, row.data(), count, 1);
  for (std::int64_t i = 0; i < count; ++i) dst[i * dst_stride] = static_cast<float>(row[i]);
}

}  // namespace convjit::detail
