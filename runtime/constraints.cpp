#include "runtime/constraints.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

using Kind = Constraint::Kind;

// Scales every slice along `axis` by factor(norm of the slice).
template <typename Factor>
void scale_by_norms(Tensor& w, std::int64_t axis, Factor factor) {
  const Shape& shape = w.shape();
  std::int64_t outer = 1;
  std::int64_t inner = 1;
  for (std::int64_t i = 0; i < axis; ++i) outer *= shape[static_cast<std::size_t>(i)];
  for (std::size_t i = static_cast<std::size_t>(axis) + 1; i < shape.size(); ++i) {
    inner *= shape[i];
  }
  const std::int64_t len = shape[static_cast<std::size_t>(axis)];
  float* p = w.data();
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      float* base = p + o * len * inner + i;
      double sum_sq = 0.0;
      for (std::int64_t j = 0; j < len; ++j) {
        const double v = base[j * inner];
        sum_sq += v * v;
      }
      const double f = factor(std::sqrt(sum_sq));
      for (std::int64_t j = 0; j < len; ++j) {
        base[j * inner] = static_cast<float>(static_cast<double>(base[j * inner]) * f);
      }
    }
  }
}

std::int64_t normalize_axis(const Constraint& c, const Tensor& w, const std::string& argument) {
  const std::int64_t rank = w.rank();
  const std::int64_t axis = c.axis < 0 ? c.axis + rank : c.axis;
  if (axis < 0 || axis >= rank) {
    throw Error(ErrorCode::kInvalidValue, argument,
                fmt::format("Invalid `axis` of {}: axis {} is out of bounds for a weight of "
                            "shape {} (rank {}). Received: axis={}",
                            argument, c.axis, shape_to_string(w.shape()), rank, c.axis));
  }
  return axis;
}

}  // namespace

void apply_constraint(const Constraint& c, Tensor& w, const std::string& argument) {
  const double eps = kConstraintEpsilon;
  switch (c.kind) {
    case Kind::kNone: return;
    case Kind::kNonNeg: {
      float* p = w.data();
      // Keras multiplies by (w >= 0): negatives become 0 (-0.0 for a negative times 0).
      for (std::int64_t i = 0; i < w.size(); ++i) p[i] = p[i] >= 0.0f ? p[i] : p[i] * 0.0f;
      return;
    }
    case Kind::kMaxNorm: {
      const std::int64_t axis = normalize_axis(c, w, argument);
      const double max_value = c.max_value;
      scale_by_norms(w, axis, [&](double norm) {
        return std::min(std::max(norm, 0.0), max_value) / (eps + norm);
      });
      return;
    }
    case Kind::kMinMaxNorm: {
      const std::int64_t axis = normalize_axis(c, w, argument);
      const double lo = c.min_value;
      const double hi = c.max_value;
      const double rate = c.rate;
      scale_by_norms(w, axis, [&](double norm) {
        // ops.clip(x, lo, hi) is min(max(x, lo), hi), also when lo > hi.
        const double clipped = std::min(std::max(norm, lo), hi);
        return (rate * clipped + (1.0 - rate) * norm) / (eps + norm);
      });
      return;
    }
    case Kind::kUnitNorm: {
      const std::int64_t axis = normalize_axis(c, w, argument);
      scale_by_norms(w, axis, [&](double norm) { return 1.0 / (eps + norm); });
      return;
    }
  }
}

}  // namespace convjit::detail
