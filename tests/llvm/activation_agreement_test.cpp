// Every element-wise activation through the three implementations that read
// compiler/activation_description.hpp: the reference (activate(), in double), the Xbyak
// kernel (float polynomials) and the LLVM kernel (double formulas). The convolution is one
// tap, one channel, weight 1 and bias 0, so the pre-activation is the input exactly. Each
// backend must agree with the reference within the FORMAT.md tolerance on a sweep and the
// special values: NaN where it is NaN, the same infinity where it is infinite.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "convjit/jit.hpp"

namespace convjit {
namespace {

std::vector<float> inputs() {
  std::vector<float> xs;
  for (int i = -2000; i <= 2000; ++i) xs.push_back(static_cast<float>(i) * 0.01f);
  for (double m = 1e-6; m < 1e6; m *= 1.1) {
    xs.push_back(static_cast<float>(m));
    xs.push_back(static_cast<float>(-m));
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (const float t : {0.0f, 0.5f, 0.625f, 1.0f, 3.0f, 6.0f, 20.0f, 50.0f, 88.0f, 89.0f, 100.0f,
                        200.0f, 1e18f, 1e30f, inf}) {
    xs.push_back(t);
    xs.push_back(-t);
  }
  xs.push_back(std::numeric_limits<float>::quiet_NaN());
  return xs;
}

/// Number of inputs where `got` is out of tolerance; the first one in `first`.
int mismatches(const std::vector<float>& xs, const std::vector<float>& want,
               const std::vector<float>& got, std::string& first) {
  int bad = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const float w = want[i], g = got[i];
    bool ok = false;
    if (std::isnan(w) || std::isinf(w)) {
      ok = std::isnan(w) ? std::isnan(g) : g == w;
    } else {
      const double tol = 1e-5 * std::max(1.0, std::fabs(double{xs[i]})) + 1e-4 * std::fabs(w);
      ok = std::isfinite(g) && std::fabs(double{g} - w) <= tol;
    }
    if (!ok && bad++ == 0) {
      first =
          "x=" + std::to_string(xs[i]) + " want=" + std::to_string(w) + " got=" + std::to_string(g);
    }
  }
  return bad;
}

class ActivationAgreement : public ::testing::TestWithParam<Backend> {};

TEST_P(ActivationAgreement, ElementWiseActivationsMatchTheReference) {
  const Backend backend = GetParam();
  if (backend == Backend::kXbyak && !host_supports(Isa::kAvx2)) {
    GTEST_SKIP() << "the Xbyak backend needs AVX2+FMA, which this CPU lacks";
  }
  const std::vector<float> xs = inputs();
  const auto length = static_cast<std::int64_t>(xs.size());
  const float weight = 1.0f, bias = 0.0f;
  CompileOptions options;
  options.backend = backend;
  options.threads = 1;
  Jit jit;
  for (int a = 0; a < kActivationCount; ++a) {
    const auto act = static_cast<Activation>(a);
    if (is_axis_activation(act)) continue;
    const Conv1DSpec spec =
        parse_spec(std::string("filters=1,kernel_size=1,activation=") + activation_name(act));
    const Kernel k = jit.compile(spec, {1, kDynamic, 1}, options);
    const PackedWeights pw = k.pack_weights(&weight, &bias);
    std::vector<float> got(xs.size());
    k.run(xs.data(), pw, got.data(), 1, length);
    std::vector<float> want(xs.size());
    detail::reference_conv1d(detail::make_problem(spec, {1, length, 1}), xs.data(), &weight, &bias,
                             want.data());
    std::string first;
    EXPECT_EQ(mismatches(xs, want, got, first), 0)
        << backend_name(backend) << " " << activation_name(act) << ", first: " << first;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ActivationAgreement,
                         ::testing::Values(Backend::kXbyak, Backend::kLlvm),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return std::string(backend_name(p.param));
                         });

}  // namespace
}  // namespace convjit
