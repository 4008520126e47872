// The oneDNN wrapper against the reference on tiny layers: every formulation, the Keras ->
// oneDNN mapping of padding, stride, dilation, groups, and the fused activations.
#include <gtest/gtest.h>

#include <random>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "harness/onednn_runner.hpp"
#include "harness/output_check.hpp"

namespace convjit::harness {
namespace {

struct Data {
  std::vector<float> x, w, b;
};

Data random_data(const SuiteShape& s, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Data d;
  d.x.resize(static_cast<std::size_t>(s.input_elems()));
  d.w.resize(static_cast<std::size_t>(s.kernel_elems()));
  d.b.resize(static_cast<std::size_t>(s.filters));
  for (auto* v : {&d.x, &d.w, &d.b}) {
    for (float& e : *v) e = u(rng);
  }
  return d;
}

std::vector<float> reference(const SuiteShape& s, Activation a, const Data& d) {
  const detail::Problem p = detail::make_problem(s.spec(a), s.input_shape());
  std::vector<float> out(static_cast<std::size_t>(p.output_size()));
  detail::reference_conv1d(p, d.x.data(), d.w.data(), d.b.data(), out.data());
  return out;
}

// Tiny layers covering each Keras -> oneDNN mapping.
const char* kShapes =
    "name,N,L,Cin,F,K,s,d,g,pad\n"
    "same_odd,2,13,5,7,4,1,1,1,same\n"     // asymmetric same padding (left 1, right 2)
    "same_stride,1,17,3,8,3,2,1,1,same\n"  // same with stride: right pad only
    "valid_stride,1,20,4,6,4,3,1,1,valid\n"
    "causal_dilated,2,19,3,9,3,1,4,1,causal\n"  // Keras d=4 is oneDNN's 3
    "grouped,1,12,6,9,3,1,1,3,same\n"
    "depthwise,2,14,8,8,5,1,1,8,same\n"
    "depthwise_causal,1,16,16,16,4,1,1,16,causal\n"
    "pointwise,3,9,16,24,1,1,1,1,valid\n";

// Without oneDNN the tests that need it skip, unless the build requires it
// (CONVJIT_REQUIRE_ONEDNN, as scripts/test.sh configures after setup.sh installed it):
// then they fail, so that CI cannot pass without comparing with oneDNN.
#ifdef CONVJIT_REQUIRE_ONEDNN
#define SKIP_WITHOUT_ONEDNN() \
  if (!onednn_available()) FAIL() << "CONVJIT_REQUIRE_ONEDNN, but: " << onednn_description()
#else
#define SKIP_WITHOUT_ONEDNN() \
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN: " << onednn_description()
#endif

TEST(OnednnRunner, AbsentBuildSaysSo) {
  if (onednn_available()) {
    EXPECT_NE(onednn_description().find("oneDNN 2."), std::string::npos) << onednn_description();
    EXPECT_NE(onednn_description().find("CPU runtime"), std::string::npos);
    return;
  }
  EXPECT_NE(onednn_description().find("absent"), std::string::npos);
  const SuiteShape s = parse_suite(kShapes, "t")[0];
  const Data d = random_data(s, 1);
  EXPECT_THROW(OnednnRunner(s, Activation::kLinear, OnednnFormulation::k1dNwc, d.x.data(),
                            d.w.data(), d.b.data()),
               Error);
}

TEST(OnednnRunner, EveryFormulationMatchesTheReference) {
  SKIP_WITHOUT_ONEDNN();
  onednn_set_threads(1);
  unsigned seed = 1;
  for (const SuiteShape& s : parse_suite(kShapes, "t")) {
    const Data d = random_data(s, seed++);
    const std::vector<float> want = reference(s, Activation::kLinear, d);
    const double scale = acc_scale(s, d.x.data(), d.w.data(), d.b.data());
    int ran = 0;
    for (const OnednnFormulation f : all_onednn_formulations()) {
      SCOPED_TRACE(s.name + " " + onednn_formulation_name(f));
      try {
        OnednnRunner r(s, Activation::kLinear, f, d.x.data(), d.w.data(), d.b.data());
        EXPECT_EQ(r.formulation(), f);
        EXPECT_GT(r.creation_us(), 0.0);
        EXPECT_NE(r.describe().find(onednn_formulation_name(f)), std::string::npos);
        r.run();
        r.run();  // a second run gives the same result (no state in the output)
        const std::vector<float> got = r.output();
        const CheckResult c = compare_outputs(got, want, scale);
        EXPECT_TRUE(c.ok()) << c.describe(got, want) << " " << r.describe();
        ++ran;
      } catch (const Error& e) {
        // Only forced layouts may be refused; the plain ones must always work.
        EXPECT_TRUE(f == OnednnFormulation::k1dBlocked || f == OnednnFormulation::k2dBlocked)
            << e.what();
      }
    }
    EXPECT_GE(ran, 4) << s.name;
  }
}

TEST(OnednnRunner, FusedActivationsMatchTheReference) {
  SKIP_WITHOUT_ONEDNN();
  onednn_set_threads(1);
  const SuiteShape s = parse_suite(kShapes, "t")[1];
  Data d = random_data(s, 42);
  for (float& b : d.b) b *= 3.0f;  // spread pre-activations over both sides of each kink
  const Activation fused[] = {
      Activation::kRelu,        Activation::kLeakyRelu, Activation::kRelu6,
      Activation::kHardTanh,    Activation::kElu,       Activation::kCelu,
      Activation::kSelu,        Activation::kGelu,      Activation::kSigmoid,
      Activation::kHardSigmoid, Activation::kHardSilu,  Activation::kSilu,
      Activation::kMish,        Activation::kTanh,      Activation::kSoftplus,
      Activation::kExponential, Activation::kLogSigmoid};
  for (const Activation a : fused) {
    SCOPED_TRACE(activation_name(a));
    ASSERT_TRUE(onednn_supports_activation(a));
    const std::vector<float> want = reference(s, a, d);
    OnednnRunner r(s, a, OnednnFormulation::k1dNwc, d.x.data(), d.w.data(), d.b.data());
    r.run();
    const std::vector<float> got = r.output();
    const CheckResult c =
        compare_outputs(got, want, acc_scale(s, d.x.data(), d.w.data(), d.b.data()));
    EXPECT_TRUE(c.ok()) << c.describe(got, want);
  }
}

TEST(OnednnRunner, ActivationsWithoutAnEltwiseAreRefused) {
  const SuiteShape s = parse_suite(kShapes, "t")[0];
  const Data d = random_data(s, 3);
  for (const Activation a : {Activation::kSoftsign, Activation::kSoftmax, Activation::kGlu,
                             Activation::kSparsePlus, Activation::kTanhShrink}) {
    EXPECT_FALSE(onednn_supports_activation(a)) << activation_name(a);
    try {
      OnednnRunner r(s, a, OnednnFormulation::k1dNwc, d.x.data(), d.w.data(), d.b.data());
      FAIL() << "no error for " << activation_name(a);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    }
  }
}

TEST(OnednnRunner, TwoThreadsGiveTheSameResult) {
  SKIP_WITHOUT_ONEDNN();
  const SuiteShape s = parse_suite(kShapes, "t")[0];
  const Data d = random_data(s, 5);
  onednn_set_threads(2);
  OnednnRunner r(s, Activation::kLinear, OnednnFormulation::k1dAny, d.x.data(), d.w.data(),
                 d.b.data());
  r.run();
  const std::vector<float> got = r.output();
  onednn_set_threads(1);
  const std::vector<float> want = reference(s, Activation::kLinear, d);
  EXPECT_TRUE(compare_outputs(got, want, acc_scale(s, d.x.data(), d.w.data(), d.b.data())).ok());
}

}  // namespace
}  // namespace convjit::harness
