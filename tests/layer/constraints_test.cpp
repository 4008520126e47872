// Keras 3 constraint projections on weights known by hand.
#include "runtime/constraints.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

constexpr double kEps = 1e-7;  // Keras backend.epsilon()

Constraint con(Constraint::Kind kind, int axis = 0) {
  Constraint c;
  c.kind = kind;
  c.axis = axis;
  return c;
}

// A Conv1D kernel (K=2, C=2, F=2), element (k, c, f):
//   k=0: (c0: 3, 1)   (c1: 0, -2)
//   k=1: (c0: 4, -1)  (c1: 0.5, 2)
Tensor kernel() {
  return Tensor({2, 2, 2}, std::vector<float>{3, 1, 0, -2, 4, -1, 0.5f, 2});
}

void expect_values(const Tensor& t, const std::vector<double>& expected) {
  ASSERT_EQ(t.size(), static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(t.data()[i], expected[i], 1e-6 * (1 + std::fabs(expected[i]))) << "at " << i;
  }
}

TEST(Constraints, MaxNormAxis0NormsOverKernelTaps) {
  // Norms over k for each (c, f): (c0,f0) |(3,4)| = 5, (c0,f1) |(1,-1)| = sqrt2,
  // (c1,f0) |(0,0.5)| = 0.5, (c1,f1) |(-2,2)| = sqrt8.
  Constraint c = con(Constraint::Kind::kMaxNorm, 0);
  c.max_value = 2.0;
  Tensor w = kernel();
  apply_constraint(c, w, "kernel_constraint");
  const double s00 = 2.0 / (kEps + 5.0);
  const double s01 = std::sqrt(2.0) / (kEps + std::sqrt(2.0));
  const double s10 = 0.5 / (kEps + 0.5);
  const double s11 = 2.0 / (kEps + std::sqrt(8.0));
  expect_values(w, {3 * s00, 1 * s01, 0 * s10, -2 * s11, 4 * s00, -1 * s01, 0.5 * s10, 2 * s11});
}

TEST(Constraints, MaxNormAxis1NormsOverInputChannels) {
  // For each (k, f): (0,f0) |(3,0)| = 3, (0,f1) |(1,-2)| = sqrt5, (1,f0) |(4,0.5)| = sqrt16.25,
  // (1,f1) |(-1,2)| = sqrt5.
  Constraint c = con(Constraint::Kind::kMaxNorm, 1);
  c.max_value = 2.0;
  Tensor w = kernel();
  apply_constraint(c, w, "kernel_constraint");
  const double a = 2.0 / (kEps + 3.0);
  const double b = 2.0 / (kEps + std::sqrt(5.0));
  const double d = 2.0 / (kEps + std::sqrt(16.25));
  expect_values(w, {3 * a, 1 * b, 0 * a, -2 * b, 4 * d, -1 * b, 0.5 * d, 2 * b});
}

TEST(Constraints, MaxNormLastAxisNormsOverFilters) {
  // For each (k, c): (0,c0) |(3,1)| = sqrt10, (0,c1) |(0,-2)| = 2, (1,c0) |(4,-1)| = sqrt17,
  // (1,c1) |(0.5,2)| = sqrt4.25.
  for (int axis : {2, -1}) {
    Constraint c = con(Constraint::Kind::kMaxNorm, axis);
    c.max_value = 3.0;
    Tensor w = kernel();
    apply_constraint(c, w, "kernel_constraint");
    const double a = 3.0 / (kEps + std::sqrt(10.0));
    const double b = 2.0 / (kEps + 2.0);
    const double d = 3.0 / (kEps + std::sqrt(17.0));
    const double e = std::sqrt(4.25) / (kEps + std::sqrt(4.25));
    expect_values(w, {3 * a, 1 * a, 0 * b, -2 * b, 4 * d, -1 * d, 0.5 * e, 2 * e});
  }
}

TEST(Constraints, MinMaxNormBlendsWithRate) {
  // axis 0 norms: 5, sqrt2, 0.5, sqrt8; clip to [1, 2]: 2, sqrt2, 1, 2.
  // desired = 0.5 * clipped + 0.5 * norm.
  Constraint c = con(Constraint::Kind::kMinMaxNorm, 0);
  c.min_value = 1.0;
  c.max_value = 2.0;
  c.rate = 0.5;
  Tensor w = kernel();
  apply_constraint(c, w, "kernel_constraint");
  const double r8 = std::sqrt(8.0);
  const double s00 = (0.5 * 2 + 0.5 * 5) / (kEps + 5);
  const double s01 = (0.5 * std::sqrt(2.0) + 0.5 * std::sqrt(2.0)) / (kEps + std::sqrt(2.0));
  const double s10 = (0.5 * 1 + 0.5 * 0.5) / (kEps + 0.5);
  const double s11 = (0.5 * 2 + 0.5 * r8) / (kEps + r8);
  expect_values(w, {3 * s00, 1 * s01, 0 * s10, -2 * s11, 4 * s00, -1 * s01, 0.5 * s10, 2 * s11});
}

TEST(Constraints, MinMaxNormDefaultsGiveUnitBall) {
  // Keras defaults min 0, max 1, rate 1: norms above 1 scale to 1.
  Constraint c = con(Constraint::Kind::kMinMaxNorm, 0);
  c.max_value = 1.0;
  Tensor w({2}, std::vector<float>{3, 4});
  apply_constraint(c, w, "bias_constraint");
  expect_values(w, {3 * 1 / (kEps + 5), 4 * 1 / (kEps + 5)});
}

TEST(Constraints, NonNegZeroesNegatives) {
  Tensor w = kernel();
  apply_constraint(con(Constraint::Kind::kNonNeg), w, "kernel_constraint");
  expect_values(w, {3, 1, 0, 0, 4, 0, 0.5, 2});
}

TEST(Constraints, UnitNormDividesByNorm) {
  Tensor w = kernel();
  apply_constraint(con(Constraint::Kind::kUnitNorm, 0), w, "kernel_constraint");
  const double n00 = kEps + 5, n01 = kEps + std::sqrt(2.0), n10 = kEps + 0.5,
               n11 = kEps + std::sqrt(8.0);
  expect_values(w, {3 / n00, 1 / n01, 0 / n10, -2 / n11, 4 / n00, -1 / n01, 0.5 / n10, 2 / n11});
  // A zero slice stays zero (0 / eps).
  Tensor z({3}, 0.0f);
  apply_constraint(con(Constraint::Kind::kUnitNorm, 0), z, "bias_constraint");
  expect_values(z, {0, 0, 0});
}

TEST(Constraints, BiasAxis0IsTheWholeVector) {
  // |(1, -2, 2)| = 3
  for (int axis : {0, -1}) {
    Tensor b({3}, std::vector<float>{1, -2, 2});
    Constraint c = con(Constraint::Kind::kMaxNorm, axis);
    c.max_value = 1.5;
    apply_constraint(c, b, "bias_constraint");
    const double s = 1.5 / (kEps + 3);
    expect_values(b, {1 * s, -2 * s, 2 * s});
  }
}

TEST(Constraints, NoneLeavesWeightsAlone) {
  Tensor w = kernel();
  apply_constraint(con(Constraint::Kind::kNone, 7), w, "kernel_constraint");
  EXPECT_EQ(w.to_vector(), kernel().to_vector());
}

TEST(Constraints, AxisOutOfRangeNamesTheConstraint) {
  for (int axis : {3, -4}) {
    Tensor w = kernel();
    try {
      apply_constraint(con(Constraint::Kind::kUnitNorm, axis), w, "kernel_constraint");
      FAIL() << "expected an error for axis " << axis;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidValue);
      EXPECT_EQ(e.argument(), "kernel_constraint");
      EXPECT_NE(std::string(e.what()).find("axis=" + std::to_string(axis)), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(w.to_vector(), kernel().to_vector());
  }
  Tensor b({3}, 1.0f);
  try {
    apply_constraint(con(Constraint::Kind::kMaxNorm, 1), b, "bias_constraint");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.argument(), "bias_constraint");
    EXPECT_NE(std::string(e.what()).find("(3,)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace convjit::detail
