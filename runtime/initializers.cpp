#include "runtime/initializers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

using Kind = Initializer::Kind;

// Keras's stddev correction for a standard normal truncated to [-2, 2].
constexpr double kTruncatedStddevCorrection = 0.87962566103423978;
constexpr double kTwoPi = 6.283185307179586476925286766559;

// A seeded stream of uniform and normal doubles, independent of the standard library's
// distribution implementations (only mt19937_64 itself, which the standard pins down).
class RandomStream {
 public:
  explicit RandomStream(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Standard normal by Box-Muller, using both values of each pair.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(kTwoPi * u2);
    has_spare_ = true;
    return r * std::cos(kTwoPi * u2);
  }

  // Standard normal truncated to [-2, 2] by redrawing, as TensorFlow and JAX do.
  double truncated_normal() {
    for (;;) {
      const double z = normal();
      if (std::fabs(z) <= 2.0) return z;
    }
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

std::uint64_t seed_value(const Initializer& init) {
  if (init.seed) return static_cast<std::uint64_t>(*init.seed);
  // No seed: nondeterministic, as Keras. Mixes the OS entropy source, the clock and a
  // process-wide counter so two layers built at once still differ.
  static std::atomic<std::uint64_t> counter{0};
  std::random_device device;
  const std::uint64_t hi = static_cast<std::uint64_t>(device()) << 32;
  const std::uint64_t lo = device();
  const auto now =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return (hi | lo) ^ (now * 0x9E3779B97F4A7C15ull) ^ (counter.fetch_add(1) << 17);
}

std::string format_double(double v) {
  return fmt::format("{}", v);
}

void fill_normal(RandomStream& rng, Tensor& t, double mean, double stddev) {
  float* p = t.data();
  for (std::int64_t i = 0; i < t.size(); ++i)
    p[i] = static_cast<float>(mean + stddev * rng.normal());
}

void fill_truncated(RandomStream& rng, Tensor& t, double mean, double stddev) {
  float* p = t.data();
  for (std::int64_t i = 0; i < t.size(); ++i) {
    p[i] = static_cast<float>(mean + stddev * rng.truncated_normal());
  }
}

void fill_uniform(RandomStream& rng, Tensor& t, double minval, double maxval) {
  float* p = t.data();
  for (std::int64_t i = 0; i < t.size(); ++i) {
    float v = static_cast<float>(minval + (maxval - minval) * rng.uniform());
    // Rounding to float may reach maxval; keep the half-open interval when it is non-empty.
    if (v >= static_cast<float>(maxval) && maxval > minval) {
      v = std::nextafter(static_cast<float>(maxval), static_cast<float>(minval));
    }
    p[i] = v;
  }
}

void fill_variance_scaling(RandomStream& rng, Tensor& t, const Initializer& vs,
                           const std::string& argument) {
  if (!(vs.scale > 0.0)) {
    throw Error(ErrorCode::kInvalidValue, argument,
                fmt::format("Argument `scale` must be positive float. Received: scale={} (in {})",
                            format_double(vs.scale), argument));
  }
  const Fans fans = compute_fans(t.shape());
  double n;
  if (vs.mode == "fan_in") {
    n = std::max(1.0, fans.fan_in);
  } else if (vs.mode == "fan_out") {
    n = std::max(1.0, fans.fan_out);
  } else if (vs.mode == "fan_avg") {
    n = std::max(1.0, (fans.fan_in + fans.fan_out) / 2.0);
  } else {
    throw Error(ErrorCode::kUnknownName, argument,
                fmt::format("Invalid `mode` argument: {}. Please use one of {{'fan_in', "
                            "'fan_out', 'fan_avg'}} (in {})",
                            vs.mode, argument));
  }
  const double scale = vs.scale / n;
  std::string dist = vs.distribution;
  std::transform(dist.begin(), dist.end(), dist.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (dist == "normal") dist = "truncated_normal";
  if (dist == "truncated_normal") {
    fill_truncated(rng, t, 0.0, std::sqrt(scale) / kTruncatedStddevCorrection);
  } else if (dist == "untruncated_normal") {
    fill_normal(rng, t, 0.0, std::sqrt(scale));
  } else if (dist == "uniform") {
    const double limit = std::sqrt(3.0 * scale);
    fill_uniform(rng, t, -limit, limit);
  } else {
    throw Error(ErrorCode::kUnknownName, argument,
                fmt::format("Invalid `distribution` argument: {}. Please use one of "
                            "{{'uniform', 'truncated_normal', 'untruncated_normal'}} (in {})",
                            vs.distribution, argument));
  }
}

void fill_orthogonal(RandomStream& rng, Tensor& t, double gain, const std::string& argument) {
  const Shape& shape = t.shape();
  if (shape.size() < 2) {
    throw Error(ErrorCode::kInvalidShape, argument,
                fmt::format("The tensor to initialize must be at least two-dimensional. "
                            "Received: shape={} of rank {}. (in {})",
                            shape_to_string(shape), shape.size(), argument));
  }
  std::int64_t rows = 1;
  for (std::size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  const std::int64_t cols = shape.back();
  if (rows == 0 || cols == 0) return;
  const std::int64_t m = std::max(rows, cols);
  const std::int64_t n = std::min(rows, cols);
  // a: an m x n normal matrix, stored column by column.
  std::vector<double> q(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) q[static_cast<std::size_t>(j * m + i)] = rng.normal();
  }
  // Modified Gram-Schmidt with one re-orthogonalization pass: Q with R's diagonal positive,
  // which is exactly Keras's q * sign(diag(r)) for any QR of the same matrix.
  for (std::int64_t j = 0; j < n; ++j) {
    double* v = &q[static_cast<std::size_t>(j * m)];
    for (int pass = 0; pass < 2; ++pass) {
      for (std::int64_t p = 0; p < j; ++p) {
        const double* u = &q[static_cast<std::size_t>(p * m)];
        double dot = 0.0;
        for (std::int64_t i = 0; i < m; ++i) dot += u[i] * v[i];
        for (std::int64_t i = 0; i < m; ++i) v[i] -= dot * u[i];
      }
    }
    double norm = 0.0;
    for (std::int64_t i = 0; i < m; ++i) norm += v[i] * v[i];
    norm = std::sqrt(norm);
    // A normal matrix has full rank with probability one; guard anyway.
    const double inv = norm > 0.0 ? 1.0 / norm : 0.0;
    for (std::int64_t i = 0; i < m; ++i) v[i] *= inv;
  }
  // q is m x n (column j at q[j*m]). Output is rows x cols: q itself when rows >= cols,
  // its transpose otherwise.
  float* out = t.data();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const double v = rows >= cols ? q[static_cast<std::size_t>(c * m + r)]
                                    : q[static_cast<std::size_t>(r * m + c)];
      out[r * cols + c] = static_cast<float>(gain * v);
    }
  }
}

}  // namespace

Fans compute_fans(const Shape& shape) {
  Fans f;
  if (shape.empty()) return f;
  if (shape.size() == 1) {
    f.fan_in = f.fan_out = static_cast<double>(shape[0]);
  } else if (shape.size() == 2) {
    f.fan_in = static_cast<double>(shape[0]);
    f.fan_out = static_cast<double>(shape[1]);
  } else {
    double field = 1.0;
    for (std::size_t i = 0; i + 2 < shape.size(); ++i) field *= static_cast<double>(shape[i]);
    f.fan_in = static_cast<double>(shape[shape.size() - 2]) * field;
    f.fan_out = static_cast<double>(shape.back()) * field;
  }
  return f;
}

Initializer as_variance_scaling(const Initializer& init) {
  Initializer vs = init;
  auto set = [&](double scale, const char* mode, const char* distribution) {
    vs.kind = Kind::kVarianceScaling;
    vs.scale = scale;
    vs.mode = mode;
    vs.distribution = distribution;
  };
  switch (init.kind) {
    case Kind::kGlorotUniform: set(1.0, "fan_avg", "uniform"); break;
    case Kind::kGlorotNormal: set(1.0, "fan_avg", "truncated_normal"); break;
    case Kind::kHeUniform: set(2.0, "fan_in", "uniform"); break;
    case Kind::kHeNormal: set(2.0, "fan_in", "truncated_normal"); break;
    case Kind::kLecunUniform: set(1.0, "fan_in", "uniform"); break;
    case Kind::kLecunNormal: set(1.0, "fan_in", "truncated_normal"); break;
    default: break;
  }
  return vs;
}

Tensor make_initialized(const Initializer& init, const Shape& shape, const std::string& argument) {
  Tensor t(shape, 0.0f);
  switch (init.kind) {
    case Kind::kZeros: return t;
    case Kind::kOnes: return Tensor(shape, 1.0f);
    case Kind::kConstant: return Tensor(shape, static_cast<float>(init.value));
    default: break;
  }
  RandomStream rng(seed_value(init));
  switch (init.kind) {
    case Kind::kRandomNormal: fill_normal(rng, t, init.mean, init.stddev); break;
    case Kind::kTruncatedNormal: fill_truncated(rng, t, init.mean, init.stddev); break;
    case Kind::kRandomUniform: fill_uniform(rng, t, init.minval, init.maxval); break;
    case Kind::kOrthogonal: fill_orthogonal(rng, t, init.gain, argument); break;
    case Kind::kGlorotUniform:
    case Kind::kGlorotNormal:
    case Kind::kHeUniform:
    case Kind::kHeNormal:
    case Kind::kLecunUniform:
    case Kind::kLecunNormal:
    case Kind::kVarianceScaling:
      fill_variance_scaling(rng, t, as_variance_scaling(init), argument);
      break;
    case Kind::kZeros:
    case Kind::kOnes:
    case Kind::kConstant: break;  // handled above
  }
  return t;
}

}  // namespace convjit::detail
