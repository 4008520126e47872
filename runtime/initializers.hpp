// Keras 3 weight initializers, with a seedable platform-independent random stream.
#pragma once

#include <cstdint>
#include <string>

#include "convjit/spec.hpp"
#include "convjit/tensor.hpp"

namespace convjit::detail {

/// Keras compute_fans: rank 0 -> (1, 1); rank 1 -> (n, n); rank 2 -> (rows, cols);
/// rank >= 3 (a conv kernel (..., in, out)) -> receptive field = prod(shape[:-2]),
/// fan_in = shape[-2] * field, fan_out = shape[-1] * field. For a Conv1D kernel
/// (K, C/g, F): fan_in = K*C/g, fan_out = K*F.
struct Fans {
  double fan_in = 1.0;
  double fan_out = 1.0;
};
Fans compute_fans(const Shape& shape);

/// The normalized VarianceScaling parameters of glorot_*, he_*, lecun_* and
/// variance_scaling; other kinds are returned unchanged.
Initializer as_variance_scaling(const Initializer& init);

/// A tensor of `shape` filled by `init` with Keras 3 semantics:
///  - zeros, ones, constant(value);
///  - random_normal(mean, stddev), random_uniform(minval, maxval) on [minval, maxval);
///  - truncated_normal(mean, stddev): normal values beyond 2 stddev of the mean are redrawn;
///  - variance_scaling(scale, mode, distribution) and its named forms (glorot: scale 1,
///    fan_avg; he: scale 2, fan_in; lecun: scale 1, fan_in; *_normal use truncated_normal,
///    *_uniform use uniform): n = max(1, fan) for the mode; truncated_normal draws with
///    stddev sqrt(scale/n)/0.87962566103423978 (so the truncated stddev is sqrt(scale/n)),
///    untruncated_normal ("normal" is truncated_normal, as in Keras) with sqrt(scale/n),
///    uniform on [-limit, limit) with limit = sqrt(3*scale/n);
///  - orthogonal(gain): the Q of a QR factorization of a normal (max(r, c), min(r, c))
///    matrix, r = prod(shape[:-1]), c = shape[-1], made unique by a positive diagonal of R
///    (Keras's q * sign(diag(r))), transposed when r < c, times gain. Rank < 2 throws.
/// A seed gives the same values on every run and platform (std::mt19937_64 with
/// hand-written uniform / normal transforms); without a seed values are nondeterministic.
/// Errors name `argument` (e.g. "kernel_initializer").
Tensor make_initialized(const Initializer& init, const Shape& shape, const std::string& argument);

}  // namespace convjit::detail
