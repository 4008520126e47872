// acc_scale and the FORMAT.md tolerance of the bench's cross-checks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "harness/output_check.hpp"

namespace convjit::harness {
namespace {

std::vector<float> random_floats(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// acc_scale from the library's reference: the pre-activation of |x|, |w|, |b|.
double reference_acc_scale(const SuiteShape& s, std::vector<float> x, std::vector<float> w,
                           std::vector<float> b) {
  for (auto* v : {&x, &w, &b}) {
    for (float& e : *v) e = std::fabs(e);
  }
  const detail::Problem p = detail::make_problem(s.spec(), s.input_shape());
  std::vector<double> pre(static_cast<std::size_t>(p.batch * p.out_length * p.filters));
  detail::reference_preactivation(p, x.data(), w.data(), b.data(), pre.data());
  double m = 0;
  for (double v : pre) m = std::max(m, v);
  return m;
}

TEST(OutputCheck, AccScaleMatchesTheReferenceOnAbsoluteValues) {
  const char* csv =
      "name,N,L,Cin,F,K,s,d,g,pad\n"
      "dense_same,2,13,5,7,3,1,1,1,same\n"
      "strided_valid,1,20,4,6,4,3,1,1,valid\n"
      "dilated_causal,2,11,3,4,3,1,3,1,causal\n"
      "grouped,1,9,6,9,2,1,1,3,same\n"
      "depthwise,2,10,8,8,5,1,1,8,same\n"
      "depthwise_mult,1,7,4,8,3,2,1,4,same\n";
  std::mt19937 rng(7);
  for (const SuiteShape& s : parse_suite(csv, "t")) {
    SCOPED_TRACE(s.name);
    const auto x = random_floats(static_cast<std::size_t>(s.input_elems()), rng);
    const auto w = random_floats(static_cast<std::size_t>(s.kernel_elems()), rng);
    const auto b = random_floats(static_cast<std::size_t>(s.filters), rng);
    const double want = reference_acc_scale(s, x, w, b);
    EXPECT_GT(want, 1.0);
    EXPECT_NEAR(acc_scale(s, x.data(), w.data(), b.data()), want, 1e-5 * want);
  }
}

TEST(OutputCheck, ToleranceIsAbsoluteScaledPlusRelative) {
  // acc_scale 100: atol = 1e-3; want 10: rtol part 1e-3; tolerance 2e-3.
  const std::vector<float> want{10.0f, 0.0f, -10.0f};
  CheckResult r = compare_outputs({10.0019f, 0.0009f, -10.0019f}, want, 100.0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.mismatches, 0);
  EXPECT_GT(r.max_error_ratio, 0.9);
  EXPECT_LT(r.max_error_ratio, 1.0);

  r = compare_outputs({10.0f, 0.0011f, -10.0021f}, want, 100.0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.mismatches, 2);
  EXPECT_EQ(r.worst_index, 1);  // 0.0011 / 1e-3 = 1.1 beats 0.0021 / 2e-3 = 1.05
  EXPECT_NEAR(r.max_error_ratio, 1.1, 1e-3);

  // A small acc_scale still has an absolute floor of 1e-5.
  EXPECT_TRUE(compare_outputs({9e-6f}, {0.0f}, 0.01).ok());
  EXPECT_FALSE(compare_outputs({2e-5f}, {0.0f}, 0.01).ok());
}

TEST(OutputCheck, NanInfAndSizeMismatchesAreLoud) {
  CheckResult r = compare_outputs({1.0f, NAN}, {1.0f, 1.0f}, 1.0);
  EXPECT_EQ(r.mismatches, 1);
  EXPECT_EQ(r.worst_index, 1);
  EXPECT_TRUE(std::isinf(r.max_error_ratio));
  EXPECT_EQ(compare_outputs({INFINITY}, {INFINITY}, 1.0).mismatches, 1);
  r = compare_outputs({1.0f}, {1.0f, 2.0f}, 1.0);
  EXPECT_EQ(r.mismatches, 2);
  EXPECT_NE(r.describe({1.0f}, {1.0f, 2.0f}).find("MISMATCH"), std::string::npos);
}

TEST(OutputCheck, DescribeNamesTheWorstElement) {
  const std::vector<float> got{1.0f, 5.0f, 3.0f}, want{1.0f, 2.0f, 3.0f};
  const CheckResult r = compare_outputs(got, want, 1.0);
  const std::string d = r.describe(got, want);
  EXPECT_NE(d.find("MISMATCH: 1 of 3 elements"), std::string::npos) << d;
  EXPECT_NE(d.find("[1] got 5 want 2"), std::string::npos) << d;
  const CheckResult ok = compare_outputs(want, want, 1.0);
  EXPECT_EQ(ok.describe(want, want), "ok (max err/tol 0)");
}

TEST(OutputCheck, EmptyOutputsAgree) {
  const CheckResult r = compare_outputs({}, {}, 3.0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.worst_index, -1);
}

}  // namespace
}  // namespace convjit::harness
