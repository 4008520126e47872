#include "compiler/activation_float_model.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "compiler/activation_description.hpp"

namespace convjit::detail {
namespace {

// vminps / vmaxps with the constant as the first source: the second one wins on NaN.
float vmin(float a, float b) {
  return a < b ? a : b;
}
float vmax(float a, float b) {
  return a > b ? a : b;
}

template <std::size_t N>
float horner(float x, const float (&coef)[N]) {
  float p = coef[0];
  for (std::size_t i = 1; i < N; ++i) p = std::fma(p, x, coef[i]);
  return p;
}

/// 2^(n - 1) by the exponent field, n in [-126, 128] (n = -126 gives +0).
float pow2_minus1(float n) {
  const auto bits = static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 126) << 23;
  float f = 0;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

float approx_exp_float(float x) {
  if (std::isnan(x)) return x;
  float d = vmax(kExpLo, vmin(kExpHi, x));
  const float n = std::nearbyint(d * kLog2e);  // round to nearest even
  d = std::fma(-n, kLn2Hi, d);
  d = std::fma(-n, kLn2Lo, d);  // r
  float p = horner(d, kExpP);
  p = std::fma(p, d, 1.0f);
  p = std::fma(p, d, 1.0f);  // exp(r)
  const float e = p * pow2_minus1(n);
  return e + e;
}

float approx_log1p_unit_float(float y) {
  const float s = y / (y + 2.0f);
  const float w = s * s;
  const float q = horner(w, kAtanhP) * w;
  const float two_s = s + s;
  return std::fma(two_s, q, two_s);
}

float approx_erfc_scaled_float(float a) {
  const float half_z = a * kHalfRsqrt2;
  const float t = 1.0f / (half_z + 1.0f);  // two roundings, as the emitter (no FMA)
  const float arg = std::fma(-(a * a), 0.5f, horner(t, kErfcQ));  // Q(t) - z², z² = a²/2
  return t * approx_exp_float(arg);
}

}  // namespace convjit::detail
