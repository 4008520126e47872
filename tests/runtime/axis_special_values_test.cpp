// NaN and infinities in the axis activations (softmax, log_softmax, sparsemax, glu): one rule,
// documented in docs/jit-activations.md, the same in every engine.
//
// The layer is a depthwise kernel_size=1 conv with weights 1 and no bias, so the activation
// sees the input values exactly (a NaN or Inf in one channel reaches no other channel).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "convjit/convjit.hpp"
#include "runtime/engine.hpp"

namespace convjit {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

/// Axes of 6 values, one row each. The first is the issue's.
const std::vector<std::vector<float>> kRows = {
    {-1.125f, 2.53125f, kNan, -4.65625f, 3.6875f, 3.53125f},  // NaN: the issue's row
    {1.0f, kInf, 2.0f, 0.5f, -1.0f, 3.0f},                    // +Inf
    {1.0f, -kInf, 2.0f, 0.5f, -1.0f, 3.0f},                   // -Inf among finite values
    {-kInf, -kInf, -kInf, -kInf, -kInf, -kInf},               // only -Inf
    {kNan, -kInf, kInf, 0.0f, 1.0f, 2.0f},                    // all three
    {0.5f, 0.25f, -1.0f, 2.0f, 1.75f, 0.0f},                  // finite
};

/// The engines' outputs for `rows` through `activation`, over channels (channels_last) or
/// over time (channels_first). Each engine's output, in rows of the activation's axis.
std::vector<std::vector<float>> run_all(const std::string& activation, bool channels_first,
                                        std::vector<std::string>* engines) {
  const std::int64_t n = static_cast<std::int64_t>(kRows.size());
  const Conv1DSpec spec =
      parse_spec("filters=" + std::to_string(channels_first ? n : 6) +
                 ",kernel_size=1,groups=" + std::to_string(channels_first ? n : 6) +
                 ",use_bias=False,activation=" + activation +
                 (channels_first ? ",data_format=channels_first" : ""));
  // channels_last (1, rows, 6): a row per time step; channels_first (1, rows, 6): a row per
  // channel. Either way the input is the rows one after the other.
  const Shape3 shape{1, n, 6};
  std::vector<float> input;
  for (const auto& row : kRows) input.insert(input.end(), row.begin(), row.end());
  const std::vector<float> kernel(static_cast<std::size_t>(channels_first ? n : 6), 1.0f);
  *engines = detail::engine_names();
  std::vector<std::vector<float>> out;
  for (const std::string& engine : *engines) {
    out.push_back(detail::run_engine(engine, spec, shape, input.data(), kernel.data(), nullptr));
  }
  return out;
}

/// Equal as the rule demands: NaN exactly where the reference has NaN, infinities equal,
/// finite values within 1e-6 (the engines round the double result to float alike).
void expect_same(const std::vector<float>& got, const std::vector<float>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]) || std::isnan(got[i])) {
      EXPECT_TRUE(std::isnan(want[i]) && std::isnan(got[i]))
          << what << " [" << i << "]: " << got[i] << ", reference " << want[i];
    } else if (std::isinf(want[i]) || std::isinf(got[i])) {
      EXPECT_EQ(got[i], want[i]) << what << " [" << i << "]";
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-6) << what << " [" << i << "]";
    }
  }
}

std::vector<float> row_of(const std::vector<float>& out, std::size_t row, std::size_t width) {
  return {out.begin() + static_cast<std::ptrdiff_t>(row * width),
          out.begin() + static_cast<std::ptrdiff_t>((row + 1) * width)};
}

bool all_nan(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isnan(x)) return false;
  }
  return true;
}

TEST(AxisSpecialValues, NanOrPlusInfMakeTheWholeAxisNanInEveryEngine) {
  for (const char* act : {"softmax", "log_softmax", "sparsemax"}) {
    for (bool cf : {false, true}) {
      std::vector<std::string> engines;
      const auto out = run_all(act, cf, &engines);
      const std::string what = std::string(act) + (cf ? " channels_first" : " channels_last");
      const std::vector<float>& ref = out.back();
      ASSERT_EQ(engines.back(), "reference");
      // The rule, on the reference: NaN or +Inf anywhere, or only -Inf: the whole axis NaN.
      for (std::size_t r : {0u, 1u, 3u, 4u}) {
        EXPECT_TRUE(all_nan(row_of(ref, r, 6))) << what << " row " << r;
      }
      // -Inf among finite values takes no part: 0 (softmax, sparsemax) or -Inf (log_softmax).
      const std::vector<float> with_neg_inf = row_of(ref, 2, 6);
      const std::vector<float> finite = row_of(ref, 5, 6);
      EXPECT_EQ(with_neg_inf[1], std::string(act) == "log_softmax" ? -kInf : 0.0f) << what;
      for (std::size_t r : {2u, 5u}) {
        for (std::size_t i = 0; i < 6; ++i) {
          if (r == 2 && i == 1) continue;
          EXPECT_TRUE(std::isfinite(row_of(ref, r, 6)[i])) << what << " row " << r << " " << i;
        }
      }
      for (float x : finite) EXPECT_TRUE(std::isfinite(x)) << what;
      for (std::size_t e = 0; e + 1 < engines.size(); ++e) {
        expect_same(out[e], ref, what + " engine " + engines[e]);
      }
    }
  }
}

TEST(AxisSpecialValues, SparsemaxOfTheIssueRowIsNanEverywhere) {
  // The issue: reference, interpreter and Xbyak gave 0 0 nan 0 1 0.84375, LLVM
  // 0 0 nan 0 0.578 0.422. Now every engine gives NaN over the whole axis.
  std::vector<std::string> engines;
  const auto out = run_all("sparsemax", false, &engines);
  for (std::size_t e = 0; e < engines.size(); ++e) {
    EXPECT_TRUE(all_nan(row_of(out[e], 0, 6))) << engines[e];
    // And the -Inf row matches the finite definition without the -Inf entry.
    const std::vector<float> r = row_of(out[e], 2, 6);  // {1, -inf, 2, 0.5, -1, 3}
    // sorted 3, 2, 1, 0.5, -1: support {3} (1 + 2*2 = 5 is not > 3 + 2): tau = 3 - 1 = 2.
    EXPECT_EQ(r, (std::vector<float>{0, 0, 0, 0, 0, 1})) << engines[e];
  }
}

TEST(AxisSpecialValues, GluPropagatesWithinEachPairInEveryEngine) {
  // glu is element-wise in pairs: out[i] = x[i] * sigmoid(x[i + 3]). A NaN reaches only its
  // pair; Inf * sigmoid(-Inf) = Inf * 0 is NaN, as in Keras.
  for (bool cf : {false, true}) {
    std::vector<std::string> engines;
    const auto out = run_all("glu", cf, &engines);
    const std::vector<float>& ref = out.back();
    if (!cf) {
      // Row 0: pairs (x0, x3), (x1, x4), (x2 = NaN, x5): only the last is NaN.
      const std::vector<float> r0 = row_of(ref, 0, 3);
      EXPECT_FALSE(std::isnan(r0[0]));
      EXPECT_FALSE(std::isnan(r0[1]));
      EXPECT_TRUE(std::isnan(r0[2]));
      // Row 4: (NaN, 0) NaN; (-Inf, 1) -Inf; (Inf, 2) Inf.
      const std::vector<float> r4 = row_of(ref, 4, 3);
      EXPECT_TRUE(std::isnan(r4[0]));
      EXPECT_EQ(r4[1], -kInf);
      EXPECT_EQ(r4[2], kInf);
      // Row 3, only -Inf: -Inf * sigmoid(-Inf) = -Inf * 0 is NaN.
      EXPECT_TRUE(all_nan(row_of(ref, 3, 3)));
    }
    for (std::size_t e = 0; e + 1 < engines.size(); ++e) {
      expect_same(out[e], ref,
                  std::string("glu ") + (cf ? "channels_first" : "channels_last") + " engine " +
                      engines[e]);
    }
  }
}

}  // namespace
}  // namespace convjit
