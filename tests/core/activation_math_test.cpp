// Every Keras activation against its formula at tricky points.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "compiler/activation_math.hpp"

namespace convjit::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

struct Point {
  Activation act;
  double x;
  double want;
};

// Expected values computed by hand from the Keras 3 definitions (FORMAT.md).
const std::vector<Point> kPoints = {
    {Activation::kLinear, -3.5, -3.5},
    {Activation::kRelu, -2.0, 0.0},
    {Activation::kRelu, 2.5, 2.5},
    {Activation::kRelu, kInf, kInf},
    {Activation::kRelu, -kInf, 0.0},
    {Activation::kRelu6, 7.0, 6.0},
    {Activation::kRelu6, 3.0, 3.0},
    {Activation::kRelu6, -1.0, 0.0},
    {Activation::kLeakyRelu, -1.0, -0.2},
    {Activation::kLeakyRelu, 0.0, 0.0},
    {Activation::kLeakyRelu, -kInf, -kInf},
    {Activation::kElu, -1.0, std::exp(-1.0) - 1.0},
    {Activation::kElu, -kInf, -1.0},
    {Activation::kElu, 1e30, 1e30},
    {Activation::kSelu, 1.0, 1.0507009873554805},
    {Activation::kSelu, -1.0, 1.0507009873554805 * 1.6732632423543772 * (std::exp(-1.0) - 1.0)},
    {Activation::kSelu, -kInf, -1.0507009873554805 * 1.6732632423543772},
    {Activation::kCelu, -2.0, std::exp(-2.0) - 1.0},
    {Activation::kCelu, 2.0, 2.0},
    {Activation::kGelu, 1.0, 0.8413447460685429},
    {Activation::kGelu, -1.0, -0.15865525393145707},
    {Activation::kGelu, 0.0, 0.0},
    {Activation::kGelu, -kInf, 0.0},
    {Activation::kGelu, kInf, kInf},
    {Activation::kSigmoid, 0.0, 0.5},
    {Activation::kSigmoid, -1000.0, 0.0},
    {Activation::kSigmoid, 1000.0, 1.0},
    {Activation::kSigmoid, -kInf, 0.0},
    {Activation::kHardSigmoid, 0.0, 0.5},
    {Activation::kHardSigmoid, 3.0, 1.0},
    {Activation::kHardSigmoid, -3.0, 0.0},
    {Activation::kHardSigmoid, 1.5, 0.75},
    {Activation::kHardSilu, 1.5, 1.125},
    {Activation::kHardSilu, -4.0, 0.0},
    {Activation::kHardSilu, 4.0, 4.0},
    {Activation::kHardSilu, -kInf, 0.0},
    {Activation::kSilu, 0.0, 0.0},
    {Activation::kSilu, 2.0, 2.0 / (1.0 + std::exp(-2.0))},
    {Activation::kSilu, -kInf, 0.0},
    {Activation::kSilu, kInf, kInf},
    {Activation::kMish, 1.0, 1.0 * std::tanh(std::log1p(std::exp(1.0)))},
    {Activation::kMish, -kInf, 0.0},
    {Activation::kMish, 100.0, 100.0},
    {Activation::kTanh, 0.5, std::tanh(0.5)},
    {Activation::kTanh, -kInf, -1.0},
    {Activation::kHardTanh, 3.0, 1.0},
    {Activation::kHardTanh, -3.0, -1.0},
    {Activation::kHardTanh, 0.25, 0.25},
    {Activation::kTanhShrink, 0.5, 0.5 - std::tanh(0.5)},
    {Activation::kTanhShrink, 0.0, 0.0},
    {Activation::kSoftplus, 0.0, std::log(2.0)},
    {Activation::kSoftplus, 1000.0, 1000.0},
    {Activation::kSoftplus, -1000.0, 0.0},
    {Activation::kSoftplus, kInf, kInf},
    {Activation::kSoftsign, 1.0, 0.5},
    {Activation::kSoftsign, -3.0, -0.75},
    {Activation::kSoftsign, kInf, 1.0},
    {Activation::kSoftsign, -kInf, -1.0},
    {Activation::kSquareplus, 0.0, 1.0},
    {Activation::kSquareplus, 3.0, (3.0 + std::sqrt(13.0)) / 2.0},
    {Activation::kSquareplus, -kInf, 0.0},
    {Activation::kSquareplus, kInf, kInf},
    {Activation::kSparsePlus, -1.0, 0.0},
    {Activation::kSparsePlus, 0.0, 0.25},
    {Activation::kSparsePlus, 1.0, 1.0},
    {Activation::kSparsePlus, 5.0, 5.0},
    {Activation::kSparseSigmoid, -2.0, 0.0},
    {Activation::kSparseSigmoid, 0.5, 0.75},
    {Activation::kSparseSigmoid, 2.0, 1.0},
    {Activation::kExponential, 1.0, std::exp(1.0)},
    {Activation::kExponential, -kInf, 0.0},
    {Activation::kExponential, 1000.0, kInf},
    {Activation::kLogSigmoid, 0.0, -std::log(2.0)},
    {Activation::kLogSigmoid, -1000.0, -1000.0},
    {Activation::kLogSigmoid, 1000.0, 0.0},
    {Activation::kLogSigmoid, -kInf, -kInf},
    {Activation::kHardShrink, 0.5, 0.0},
    {Activation::kHardShrink, 0.50001, 0.50001},
    {Activation::kHardShrink, -0.7, -0.7},
    {Activation::kHardShrink, 0.45, 0.0},
    {Activation::kSoftShrink, 0.7, 0.7 - 0.5},
    {Activation::kSoftShrink, -0.7, -0.7 + 0.5},
    {Activation::kSoftShrink, 0.3, 0.0},
    {Activation::kSoftShrink, kInf, kInf},
};

TEST(ActivationMath, MatchesFormulaAtTrickyPoints) {
  for (const Point& pt : kPoints) {
    const double got = activate(pt.act, pt.x);
    if (std::isinf(pt.want)) {
      EXPECT_EQ(got, pt.want) << activation_name(pt.act) << "(" << pt.x << ")";
    } else {
      EXPECT_NEAR(got, pt.want, 1e-12 * std::max(1.0, std::abs(pt.want)))
          << activation_name(pt.act) << "(" << pt.x << ")";
    }
  }
}

TEST(ActivationMath, EveryElementwiseActivationPropagatesNan) {
  for (int i = 0; i < kActivationCount; ++i) {
    const auto a = static_cast<Activation>(i);
    if (is_axis_activation(a)) continue;
    EXPECT_TRUE(std::isnan(activate(a, kNan))) << activation_name(a);
  }
}

TEST(ActivationMath, EveryElementwiseActivationIsFiniteOnLargeFiniteInputs) {
  for (int i = 0; i < kActivationCount; ++i) {
    const auto a = static_cast<Activation>(i);
    if (is_axis_activation(a) || a == Activation::kExponential) continue;
    for (double x : {-1e30, -88.0, -1e-30, 0.0, 1e-30, 88.0}) {
      EXPECT_TRUE(std::isfinite(activate(a, x))) << activation_name(a) << "(" << x << ")";
    }
  }
}

TEST(ActivationMath, SquareplusHasNoCancellationForLargeNegativeInputs) {
  // (x + sqrt(x^2 + 4)) / 2 ~= 1/|x| for x -> -inf.
  EXPECT_NEAR(activate(Activation::kSquareplus, -1e6), 1e-6, 1e-15);
}

TEST(ActivationMath, SoftmaxAndLogSoftmaxOverAStridedAxis) {
  std::vector<double> v = {1.0, 99.0, 2.0, 99.0, 3.0, 99.0};
  activate_axis(Activation::kSoftmax, v.data(), 3, 2);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(v[0], std::exp(1.0) / z, 1e-15);
  EXPECT_NEAR(v[2], std::exp(2.0) / z, 1e-15);
  EXPECT_NEAR(v[4], std::exp(3.0) / z, 1e-15);
  EXPECT_EQ(v[1], 99.0);  // untouched between the strided elements

  std::vector<double> w = {1000.0, 1001.0};  // stable for large values
  activate_axis(Activation::kLogSoftmax, w.data(), 2, 1);
  EXPECT_NEAR(w[0], -std::log1p(std::exp(1.0)), 1e-12);
  EXPECT_NEAR(w[1], 1.0 - std::log1p(std::exp(1.0)), 1e-12);
}

TEST(ActivationMath, SparsemaxFollowsTheDefinitionNotTheReleasedKerasCode) {
  // z = (0.5, 0.3, -1): support {0.5, 0.3}, tau = (0.8 - 1)/2 = -0.1 -> (0.6, 0.4, 0).
  std::vector<double> v = {0.5, 0.3, -1.0};
  activate_axis(Activation::kSparsemax, v.data(), 3, 1);
  EXPECT_NEAR(v[0], 0.6, 1e-15);
  EXPECT_NEAR(v[1], 0.4, 1e-15);
  EXPECT_EQ(v[2], 0.0);
  // One dominant entry: a one-hot output.
  std::vector<double> h = {5.0, 0.0, 1.0};
  activate_axis(Activation::kSparsemax, h.data(), 3, 1);
  EXPECT_EQ(h, (std::vector<double>{1.0, 0.0, 0.0}));
}

TEST(ActivationMath, GluGatesTheFirstHalfWithTheSecond) {
  const std::vector<double> v = {2.0, -3.0, 0.0, 1.0};
  std::vector<double> out(2);
  apply_glu(v.data(), 4, 1, out.data(), 1);
  EXPECT_NEAR(out[0], 2.0 * 0.5, 1e-15);
  EXPECT_NEAR(out[1], -3.0 / (1.0 + std::exp(-1.0)), 1e-15);
}

TEST(ActivationNames, CanonicalNamesAliasesAndCase) {
  for (int i = 0; i < kActivationCount; ++i) {
    const auto a = static_cast<Activation>(i);
    ASSERT_TRUE(find_activation(activation_name(a)).has_value()) << activation_name(a);
    EXPECT_EQ(*find_activation(activation_name(a)), a);
  }
  EXPECT_EQ(find_activation("swish"), Activation::kSilu);
  EXPECT_EQ(find_activation("hard_swish"), Activation::kHardSilu);
  EXPECT_EQ(find_activation("None"), Activation::kLinear);
  EXPECT_FALSE(find_activation("ReLU").has_value());
  EXPECT_FALSE(find_activation("threshold").has_value());  // needs arguments: no string form
  EXPECT_FALSE(find_activation("tfjs:gelu_new").has_value());
}

}  // namespace
}  // namespace convjit::detail
