// Keras 3 regularizer values on weights known by hand.
#include "runtime/regularizers.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace convjit::detail {
namespace {

Regularizer reg(Regularizer::Kind kind, double l1, double l2) {
  Regularizer r;
  r.kind = kind;
  r.l1 = l1;
  r.l2 = l2;
  return r;
}

// weights: 1, -2, 3, -0.5 -> sum|w| = 6.5, sum w^2 = 1 + 4 + 9 + 0.25 = 14.25
const Tensor kW({2, 2}, std::vector<float>{1, -2, 3, -0.5f});

TEST(Regularizers, L1) {
  EXPECT_NEAR(regularization_loss(reg(Regularizer::Kind::kL1, 0.1, 0.0), kW), 0.65, 1e-12);
}

TEST(Regularizers, L2) {
  EXPECT_NEAR(regularization_loss(reg(Regularizer::Kind::kL2, 0.0, 0.01), kW), 0.1425, 1e-12);
}

TEST(Regularizers, L1L2AddsBothTerms) {
  EXPECT_NEAR(regularization_loss(reg(Regularizer::Kind::kL1L2, 0.1, 0.01), kW), 0.65 + 0.1425,
              1e-12);
  // A zero factor drops its term.
  EXPECT_NEAR(regularization_loss(reg(Regularizer::Kind::kL1L2, 0.0, 0.5), kW), 7.125, 1e-12);
}

TEST(Regularizers, NoneAndEmptyAreZero) {
  EXPECT_EQ(regularization_loss(reg(Regularizer::Kind::kNone, 1.0, 1.0), kW), 0.0);
  EXPECT_EQ(regularization_loss(reg(Regularizer::Kind::kL1L2, 1.0, 1.0), Tensor({0})), 0.0);
  // L1 ignores an l2 factor and L2 an l1 factor: each is its own term only.
  EXPECT_NEAR(regularization_loss(reg(Regularizer::Kind::kL1, 0.1, 5.0), kW), 0.65, 1e-12);
  EXPECT_NEAR(regularization_loss(reg(Regularizer::Kind::kL2, 5.0, 0.01), kW), 0.1425, 1e-12);
}

}  // namespace
}  // namespace convjit::detail
