// compiler/activation_description.hpp: the table is consistent and the reference reads its
// Keras parameters.
#include "compiler/activation_description.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "compiler/activation_math.hpp"

namespace convjit::detail {
namespace {

TEST(ActivationDescription, OneRowPerActivationWithTempsInRange) {
  for (int i = 0; i < kActivationCount; ++i) {
    const auto a = static_cast<Activation>(i);
    const ActivationDescription& d = activation_description(a);
    EXPECT_EQ(d.activation, a) << activation_name(a);
    EXPECT_EQ(is_axis_activation(a), d.axis) << activation_name(a);
    EXPECT_GE(activation_vector_temps(a), 0) << activation_name(a);
    EXPECT_LE(activation_vector_temps(a), kMaxActivationVectorTemps) << activation_name(a);
    if (d.axis || a == Activation::kLinear) {
      EXPECT_EQ(activation_vector_temps(a), 0) << activation_name(a) << " is not fused";
    } else {
      EXPECT_GT(activation_vector_temps(a), 0) << activation_name(a);
    }
  }
  EXPECT_FALSE(is_axis_activation(static_cast<Activation>(kActivationCount)));
  EXPECT_FALSE(is_axis_activation(static_cast<Activation>(-1)));
}

TEST(ActivationDescription, ReferenceUsesTheKerasParameters) {
  EXPECT_EQ(activate(Activation::kLeakyRelu, -1.0), -kLeakyReluSlope);
  EXPECT_EQ(activate(Activation::kRelu6, 100.0), kRelu6Cap);
  EXPECT_EQ(activate(Activation::kHardSigmoid, 0.0), kHardSigmoidOffset / kHardSigmoidDivisor);
  EXPECT_EQ(activate(Activation::kHardSigmoid, -kHardSigmoidOffset), 0.0);
  EXPECT_EQ(activate(Activation::kSelu, 1.0), kSeluScale);
  EXPECT_EQ(activate(Activation::kSelu, -INFINITY), -kSeluScale * kSeluAlpha);
  EXPECT_EQ(activate(Activation::kElu, -INFINITY), -kEluAlpha);
  EXPECT_EQ(activate(Activation::kCelu, -INFINITY), -kCeluAlpha);
  EXPECT_EQ(activate(Activation::kHardShrink, kShrinkThreshold), 0.0);
  EXPECT_EQ(activate(Activation::kSoftShrink, 2.0), 2.0 - kShrinkThreshold);
  EXPECT_EQ(activate(Activation::kSquareplus, 0.0), std::sqrt(kSquareplusB) / 2);
}

}  // namespace
}  // namespace convjit::detail
