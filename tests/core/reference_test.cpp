// The reference conv on cases small enough to compute by hand, and the Problem's numbers.
#include <gtest/gtest.h>

#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"

namespace convjit::detail {
namespace {

Conv1DSpec spec_of(std::int64_t filters, std::int64_t k, Padding pad, std::int64_t s = 1,
                   std::int64_t d = 1, std::int64_t g = 1) {
  Conv1DSpec spec;
  spec.filters = filters;
  spec.kernel_size = k;
  spec.padding = pad;
  spec.strides = s;
  spec.dilation_rate = d;
  spec.groups = g;
  return spec;
}

TEST(Problem, PaddingAmountsFollowKeras) {
  // same, L=5, K=4, s=2: out 3, total = (3-1)*2 + 3 + 1 - 5 = 3 -> left 1, right 2.
  Problem p = make_problem(spec_of(1, 4, Padding::kSame, 2), {1, 5, 1});
  EXPECT_EQ(p.out_length, 3);
  EXPECT_EQ(p.pad_left, 1);
  EXPECT_EQ(p.pad_right, 2);
  // causal, K=3, d=4: left (K-1)d = 8, right 0.
  p = make_problem(spec_of(1, 3, Padding::kCausal, 1, 4), {1, 5, 1});
  EXPECT_EQ(p.pad_left, 8);
  EXPECT_EQ(p.pad_right, 0);
  EXPECT_EQ(p.out_length, 5);
  // valid: no padding, floor((L - d(K-1) - 1)/s) + 1.
  p = make_problem(spec_of(1, 3, Padding::kValid, 3), {1, 10, 1});
  EXPECT_EQ(p.out_length, 3);
  EXPECT_EQ(p.pad_left + p.pad_right, 0);
}

TEST(Problem, DynamicLengthResolvesPerCall) {
  const Problem base = make_problem(spec_of(2, 3, Padding::kSame), {1, kDynamic, 4});
  EXPECT_TRUE(base.length_is_dynamic);
  const Problem p = resolve_length(base, 3, 7);
  EXPECT_EQ(p.batch, 3);
  EXPECT_EQ(p.out_length, 7);
  EXPECT_EQ(p.pad_left, 1);
  EXPECT_THROW(resolve_length(base, 1, -1), Error);
}

TEST(Reference, HandComputedValidConv) {
  // x = [1, 2, 3, 4] (one channel), w = [1, -1] -> [1-2, 2-3, 3-4] + bias 0.5.
  const Problem p = make_problem(spec_of(1, 2, Padding::kValid), {1, 4, 1});
  const std::vector<float> x = {1, 2, 3, 4}, w = {1, -1}, b = {0.5f};
  std::vector<float> y(3);
  reference_conv1d(p, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{-0.5f, -0.5f, -0.5f}));
}

TEST(Reference, CausalDilatedStartsWithZeros) {
  // K=2, d=2, causal: y[t] = w0*x[t-2] + w1*x[t].
  const Problem p = make_problem(spec_of(1, 2, Padding::kCausal, 1, 2), {1, 4, 1});
  const std::vector<float> x = {1, 2, 3, 4}, w = {10, 1}, b = {0};
  std::vector<float> y(4);
  reference_conv1d(p, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{1, 2, 13, 24}));
}

TEST(Reference, GroupsUseTheirOwnChannelSlice) {
  // C=2, F=2, g=2: y[:, 0] = w0 * x[:, 0], y[:, 1] = w1 * x[:, 1]; kernel (1, 1, 2).
  const Problem p = make_problem(spec_of(2, 1, Padding::kValid, 1, 1, 2), {1, 2, 2});
  const std::vector<float> x = {1, 2, 3, 4}, w = {10, 100}, b = {0, 0};
  std::vector<float> y(4);
  reference_conv1d(p, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{10, 200, 30, 400}));
}

TEST(Reference, ChannelsFirstSoftmaxActsOverTime) {
  Conv1DSpec spec = spec_of(1, 1, Padding::kValid);
  spec.data_format = DataFormat::kChannelsFirst;
  spec.activation = Activation::kSoftmax;
  spec.use_bias = false;
  const Problem p = make_problem(spec, {1, 1, 2});  // (N, C, L)
  const std::vector<float> x = {0, 0}, w = {1};
  std::vector<float> y(2);
  reference_conv1d(p, x.data(), w.data(), nullptr, y.data());
  EXPECT_EQ(y, (std::vector<float>{0.5f, 0.5f}));  // over time; over channels it would be 1, 1
}

TEST(Reference, GluHalvesTheLastAxis) {
  Conv1DSpec spec = spec_of(2, 1, Padding::kValid);
  spec.activation = Activation::kGlu;
  spec.use_bias = false;
  const Problem p = make_problem(spec, {1, 1, 1});
  EXPECT_EQ(p.output_size(), 1);
  const std::vector<float> x = {1}, w = {3, 0};  // a = 3, b = 0 -> 3 * sigmoid(0) = 1.5
  std::vector<float> y(1);
  reference_conv1d(p, x.data(), w.data(), nullptr, y.data());
  EXPECT_EQ(y[0], 1.5f);
}

TEST(Reference, ZeroLengthOutputWritesNothing) {
  const Problem p = make_problem(spec_of(3, 3, Padding::kSame), {2, 0, 1});
  EXPECT_EQ(p.out_length, 0);
  EXPECT_EQ(p.output_size(), 0);
  reference_conv1d(p, nullptr, nullptr, nullptr, nullptr);
}

}  // namespace
}  // namespace convjit::detail
