// The float approximation constants of compiler/activation_description.hpp, through the scalar
// models of compiler/activation_float_model.hpp (the emitted code's operations in the same
// order), meet the accuracy their comments state, against libm in double, on any host.
#include "compiler/activation_float_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/activation_description.hpp"

namespace convjit::detail {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Errors {
  double relative = 0;  // over results != 0
  double absolute = 0;
};

/// Errors of a float model against the double function at `steps + 1` points of [lo, hi].
template <class Model, class Exact>
Errors errors(Model model, Exact exact, double lo, double hi, int steps) {
  Errors e;
  for (int i = 0; i <= steps; ++i) {
    const auto x = static_cast<float>(lo + (hi - lo) * i / steps);
    const double want = exact(double{x});
    const double err = std::fabs(double{model(x)} - want);
    e.absolute = std::max(e.absolute, err);
    if (want != 0) e.relative = std::max(e.relative, err / std::fabs(want));
  }
  return e;
}

TEST(ActivationFloatModel, ExpMeetsItsAccuracyOverTheClampedRange) {
  const auto exp_d = [](double x) { return std::exp(x); };
  // The Cephes polynomial plus the float rounding of r and of the result (measured 1.24e-7).
  EXPECT_LT(errors(approx_exp_float, exp_d, -86.9, 88.7, 400000).relative, 2e-7);
  // n = round(x·log2 e) = -126 below x = -86.99 gives 2^(n-1) = +0: results under
  // 2^-125.5 (1.7e-38, just above FLT_MIN) flush to 0.
  EXPECT_LT(errors(approx_exp_float, exp_d, -87.6, -86.9, 20000).absolute, 2e-38);
  EXPECT_EQ(approx_exp_float(0.0f), 1.0f);
  // Saturation: +Inf exactly where exp overflows float.
  EXPECT_EQ(approx_exp_float(89.0f), kInf);
  EXPECT_EQ(approx_exp_float(kInf), kInf);
  EXPECT_EQ(approx_exp_float(-kInf), 0.0f);
  EXPECT_TRUE(std::isnan(approx_exp_float(std::nanf(""))));
}

TEST(ActivationFloatModel, Log1pSeriesOnTheUnitInterval) {
  const auto log1p_d = [](double y) { return std::log1p(y); };
  EXPECT_LT(errors(approx_log1p_unit_float, log1p_d, 0.0, 1.0, 200000).relative, 2e-7);
  EXPECT_EQ(approx_log1p_unit_float(0.0f), 0.0f);
}

TEST(ActivationFloatModel, ErfcOfGelu) {
  const auto erfc_d = [](double a) { return std::erfc(a / std::sqrt(2.0)); };
  // Numerical Recipes' 1.2e-7 plus float rounding; the relative error then grows with the
  // rounding of the exp argument -z² + Q(t) (ulp(z²)), which gelu multiplies by |x|/2 and
  // subtracts from max(x, 0), so what matters there is the absolute error.
  EXPECT_LT(errors(approx_erfc_scaled_float, erfc_d, 0.0, 2.0, 100000).relative, 5e-7);
  EXPECT_LT(errors(approx_erfc_scaled_float, erfc_d, 0.0, 4.0, 100000).relative, 1.2e-6);
  EXPECT_LT(errors(approx_erfc_scaled_float, erfc_d, 0.0, 12.0, 100000).relative, 1e-5);
  EXPECT_LT(errors(approx_erfc_scaled_float, erfc_d, 0.0, kGeluClamp, 200000).absolute, 4e-7);
  EXPECT_EQ(approx_erfc_scaled_float(kGeluClamp), 0.0f);
}

}  // namespace
}  // namespace convjit::detail
