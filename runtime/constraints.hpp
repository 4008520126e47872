// Keras 3 weight constraints: projections applied to a weight in place.
#pragma once

#include <string>

#include "convjit/spec.hpp"
#include "convjit/tensor.hpp"

namespace convjit::detail {

/// Keras's backend.epsilon(), used by the norm constraints.
inline constexpr double kConstraintEpsilon = 1e-7;

/// Applies `c` to `w` in place with Keras 3 semantics, computing in double:
///  - max_norm(max_value, axis):   w * clip(norms, 0, max_value) / (eps + norms)
///  - min_max_norm(min_value, max_value, rate, axis):
///        w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (eps + norms)
///  - non_neg:                     w * (w >= 0)
///  - unit_norm(axis):             w / (eps + norms)
///  - none:                        no change
/// where norms = sqrt(sum of w^2 over `axis`), one norm per position of the other axes.
/// `axis` is one axis in [-rank, rank): for the Conv1D kernel (K, C/g, F), 0 takes the norm
/// over K for each (ci, f), 1 over C/g for each (k, f), 2 (or -1) over F for each (k, ci);
/// for the bias (F,), 0 (or -1) is the whole vector. Another axis throws
/// Error(kInvalidValue, argument), argument e.g. "kernel_constraint".
void apply_constraint(const Constraint& c, Tensor& w, const std::string& argument);

}  // namespace convjit::detail
