// Kernel::run through the fake backend: results against the reference, dynamic shapes,
// argument errors, and how runs are split over threads.
#include "convjit/kernel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/jit.hpp"
#include "fake_kernel.hpp"
#include "spec/expect_error.hpp"
#include "test_util.hpp"

namespace convjit {
namespace {

using testing::FakeBackendState;
using testing::make_fake_backend;
using testing::small_ints;

CompileOptions with_threads(int threads) {
  CompileOptions o;
  o.isa = Isa::kAvx2;
  o.threads = threads;
  return o;
}

/// The reference output of `spec` for a concrete input shape.
std::vector<float> reference(const Conv1DSpec& spec, const Shape3& shape,
                             const std::vector<float>& in, const std::vector<float>& kernel,
                             const std::vector<float>& bias) {
  const detail::Problem p = detail::make_problem(spec, shape);
  std::vector<float> out(static_cast<std::size_t>(p.output_size()));
  detail::reference_conv1d(p, in.data(), kernel.data(), spec.use_bias ? bias.data() : nullptr,
                           out.data());
  return out;
}

struct Case {
  Conv1DSpec spec;
  Shape3 shape;
};

Conv1DSpec make_spec(std::int64_t filters, std::int64_t k, std::int64_t s, std::int64_t d,
                     std::int64_t g, Padding pad, DataFormat df, Activation act, bool bias) {
  Conv1DSpec spec;
  spec.filters = filters;
  spec.kernel_size = k;
  spec.strides = s;
  spec.dilation_rate = d;
  spec.groups = g;
  spec.padding = pad;
  spec.data_format = df;
  spec.activation = act;
  spec.use_bias = bias;
  return spec;
}

TEST(KernelRun, MatchesTheReference) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const DataFormat cl = DataFormat::kChannelsLast, cf = DataFormat::kChannelsFirst;
  const std::vector<Case> cases = {
      {make_spec(8, 3, 1, 1, 1, Padding::kSame, cl, Activation::kLinear, true), {2, 17, 4}},
      {make_spec(6, 2, 2, 1, 1, Padding::kValid, cl, Activation::kRelu, false), {1, 9, 3}},
      {make_spec(4, 3, 1, 2, 2, Padding::kCausal, cl, Activation::kLinear, true), {3, 11, 6}},
      {make_spec(8, 5, 1, 1, 1, Padding::kSame, cf, Activation::kRelu, true), {2, 4, 13}},
      {make_spec(6, 1, 3, 1, 3, Padding::kValid, cf, Activation::kLinear, true), {1, 6, 10}},
  };
  for (const Case& c : cases) {
    const detail::Problem p = detail::make_problem(c.spec, c.shape);
    const auto in = small_ints(p.input_size(), 1);
    const auto w = small_ints(p.kernel_size_elems(), 2);
    const auto b = small_ints(p.filters, 3);
    for (int threads : {1, 3}) {
      const Kernel k = jit.compile(c.spec, c.shape, with_threads(threads));
      const bool channels_first = c.spec.data_format == DataFormat::kChannelsFirst;
      const std::int64_t length = channels_first ? c.shape[2] : c.shape[1];
      std::vector<float> out(static_cast<std::size_t>(k.output_size(c.shape[0], length)), -99.0f);
      k.run(in.data(), k.pack_weights(w.data(), c.spec.use_bias ? b.data() : nullptr), out.data(),
            c.shape[0], length);
      EXPECT_EQ(out, reference(c.spec, c.shape, in, w, b)) << p.to_string();
    }
  }
}

TEST(KernelRun, DynamicLengthServesEveryLengthWithOneCompile) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
    const Conv1DSpec spec =
        make_spec(5, 3, 2, 1, 1, pad, DataFormat::kChannelsLast, Activation::kLinear, true);
    const Kernel k = jit.compile(spec, {2, kDynamic, 3}, with_threads(1));
    EXPECT_TRUE(k.dynamic_length());
    EXPECT_FALSE(k.dynamic_batch());
    const auto w = small_ints(3 * 3 * 5, 4);
    const auto b = small_ints(5, 5);
    const PackedWeights packed = k.pack_weights(w.data(), b.data());
    for (std::int64_t length = pad == Padding::kValid ? 3 : 1; length <= 24; ++length) {
      const Shape3 shape{2, length, 3};
      const auto in = small_ints(2 * length * 3, static_cast<unsigned>(length));
      std::vector<float> out(static_cast<std::size_t>(k.output_size(2, length)));
      k.run(in.data(), packed, out.data(), 2, length);
      ASSERT_EQ(out, reference(spec, shape, in, w, b)) << "length " << length;
      const Shape3 expected = compute_output_shape(spec, shape);
      EXPECT_EQ(k.output_shape(2, length), expected);
    }
  }
  EXPECT_EQ(state.generated.load(), 3);
}

TEST(KernelRun, DynamicBatch) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Conv1DSpec spec = make_spec(4, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsFirst,
                                    Activation::kLinear, false);
  const Kernel k = jit.compile(spec, {kDynamic, 2, 10}, with_threads(2));
  EXPECT_TRUE(k.dynamic_batch());
  const auto w = small_ints(3 * 2 * 4, 6);
  const PackedWeights packed = k.pack_weights(w.data(), nullptr);
  for (std::int64_t batch : {0, 1, 5}) {
    const auto in = small_ints(batch * 2 * 10, 7);
    std::vector<float> out(static_cast<std::size_t>(k.output_size(batch, 10)));
    k.run(batch == 0 ? nullptr : in.data(), packed, batch == 0 ? nullptr : out.data(), batch, 10);
    EXPECT_EQ(out, reference(spec, {batch, 2, 10}, in, w, {})) << "batch " << batch;
  }
  EXPECT_EQ(k.output_shape(3, 10), (Shape3{3, 4, 10}));
  EXPECT_EQ(k.input_size(3, 10), 60);
}

TEST(KernelRun, OutputShapeWithGlu) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Conv1DSpec last =
      make_spec(8, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsLast, Activation::kGlu, true);
  const Kernel k = jit.compile(last, {kDynamic, kDynamic, 4}, with_threads(1));
  EXPECT_EQ(k.output_shape(2, 10), (Shape3{2, 10, 4}));
  EXPECT_EQ(k.output_size(2, 10), 80);
  const Conv1DSpec first =
      make_spec(8, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsFirst, Activation::kGlu, true);
  const Kernel kf = jit.compile(first, {1, 4, kDynamic}, with_threads(1));
  EXPECT_EQ(kf.output_shape(1, 10), (Shape3{1, 8, 5}));
  EXPECT_THROW(kf.output_shape(1, 9), Error);  // odd time axis for glu
}

void expect_error(const std::function<void()>& f, ErrorCode code, const std::string& argument) {
  try {
    f();
    ADD_FAILURE() << "expected Error(" << error_code_name(code) << ", " << argument << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_EQ(e.argument(), argument) << e.what();
  }
}

TEST(KernelRun, ArgumentErrors) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Conv1DSpec spec = make_spec(8, 3, 1, 1, 1, Padding::kValid, DataFormat::kChannelsLast,
                                    Activation::kLinear, true);
  const Kernel k = jit.compile(spec, {2, 16, 4}, with_threads(1));
  const auto w = small_ints(3 * 4 * 8, 1);
  const auto b = small_ints(8, 2);
  const PackedWeights packed = k.pack_weights(w.data(), b.data());
  EXPECT_EQ(packed.size(), w.size());
  std::vector<float> in(2 * 16 * 4), out(2 * 14 * 8);
  EXPECT_NO_THROW(k.run(in.data(), packed, out.data(), 2, 16));

  expect_error([&] { k.run(in.data(), packed, out.data(), 2, 15); }, ErrorCode::kShapeMismatch,
               "length");
  expect_error([&] { k.run(in.data(), packed, out.data(), 1, 16); }, ErrorCode::kShapeMismatch,
               "batch");
  expect_error([&] { k.run(nullptr, packed, out.data(), 2, 16); }, ErrorCode::kInvalidValue,
               "input");
  expect_error([&] { k.run(in.data(), packed, nullptr, 2, 16); }, ErrorCode::kInvalidValue,
               "output");
  expect_error([&] { k.run(in.data(), PackedWeights(), out.data(), 2, 16); },
               ErrorCode::kInvalidValue, "weights");
  expect_error([&] { k.pack_weights(nullptr, b.data()); }, ErrorCode::kInvalidValue, "kernel");
  expect_error([&] { k.pack_weights(w.data(), nullptr); }, ErrorCode::kInvalidValue, "bias");
  expect_error([&] { k.output_shape(2, 17); }, ErrorCode::kShapeMismatch, "length");

  Conv1DSpec no_bias = spec;
  no_bias.use_bias = false;
  const Kernel kn = jit.compile(no_bias, {2, 16, 4}, with_threads(1));
  expect_error([&] { kn.pack_weights(w.data(), b.data()); }, ErrorCode::kInvalidValue, "bias");

  // Weights packed for another layout are rejected; for the same layout accepted.
  expect_error([&] { kn.run(in.data(), packed, out.data(), 2, 16); }, ErrorCode::kShapeMismatch,
               "weights");
  FakeBackendState other_state;
  Jit other(JitOptions{}, make_fake_backend(other_state));
  const Kernel same_layout = other.compile(spec, {2, 16, 4}, with_threads(1));
  std::vector<float> out2(out.size());
  same_layout.run(in.data(), packed, out2.data(), 2, 16);
  k.run(in.data(), packed, out.data(), 2, 16);
  EXPECT_EQ(out, out2);

  // A dynamic-length kernel checks lengths the layer cannot take.
  const Kernel kd = jit.compile(spec, {kDynamic, kDynamic, 4}, with_threads(1));
  const PackedWeights pd = kd.pack_weights(w.data(), b.data());
  expect_error([&] { kd.run(in.data(), pd, out.data(), 2, -1); }, ErrorCode::kInvalidShape,
               "length");
  expect_error([&] { kd.run(in.data(), pd, out.data(), -1, 16); }, ErrorCode::kInvalidShape,
               "batch");
  // valid padding, length 2 < receptive field 3: refused as a static compile and Keras
  // refuse it (zero output steps), never an empty output; nothing is written.
  std::vector<float> untouched(4, 7.0f);
  for (std::int64_t length : {0, 1, 2}) {
    test::expect_error([&] { kd.output_size(2, length); }, ErrorCode::kInvalidShape,
                       "Computed output size would be zero or negative", "padding");
    test::expect_error([&] { kd.run(in.data(), pd, untouched.data(), 2, length); },
                       ErrorCode::kInvalidShape, "Computed output size would be zero or negative",
                       "padding");
    test::expect_error(
        [&] {
          jit.compile(spec, {2, length, 4}, with_threads(1));
        },
        ErrorCode::kInvalidShape, "Computed output size would be zero or negative", "padding");
  }
  EXPECT_EQ(untouched, std::vector<float>(4, 7.0f));
  EXPECT_EQ(kd.output_size(2, 3), 2 * 1 * 8);  // one step is a valid output
}

TEST(KernelRun, DynamicValidLengthShorterThanTheKernelIsRefusedAsStatic) {
  // The case: L=9, K=10, valid. A static kernel and Keras refuse it; so does a
  // dynamic-length kernel at run time, on every backend.
  const Conv1DSpec spec = parse_spec("filters=4,kernel_size=10");
  for (Backend backend : {Backend::kXbyak, Backend::kLlvm}) {
    if (backend == Backend::kXbyak && !host_supports(Isa::kAvx2)) continue;
    CompileOptions o;
    o.backend = backend;
    o.threads = 1;
    test::expect_error(
        [&] {
          compile(spec, {1, 9, 3}, o);
        },
        ErrorCode::kInvalidShape, "Computed output size would be zero or negative", "padding");
    const Kernel k = compile(spec, {1, kDynamic, 3}, o);
    std::vector<float> w(10 * 3 * 4, 0.5f), b(4, 0.0f), in(9 * 3, 1.0f), out(4, 7.0f);
    const PackedWeights p = k.pack_weights(w.data(), b.data());
    test::expect_error([&] { k.run(in.data(), p, out.data(), 1, 9); }, ErrorCode::kInvalidShape,
                       "Received length=9, kernel_size=10", "padding");
    EXPECT_EQ(out, std::vector<float>(4, 7.0f));
    in.resize(10 * 3, 1.0f);
    k.run(in.data(), p, out.data(), 1, 10);  // L=10: one step
    EXPECT_EQ(out, std::vector<float>(4, 15.0f));
  }
}

/// Checks that the recorded calls cover [0,N)x[0,Lout)x[0,F) exactly once, with oc cuts at
/// multiples of `oc_granularity` and t cuts at multiples of `t_unit` (or whole when !split_t).
void expect_exact_cover(const std::vector<detail::KernelArgs>& calls, std::int64_t n,
                        std::int64_t lout, std::int64_t f, std::int64_t oc_granularity,
                        std::int64_t t_unit, bool split_t) {
  std::vector<int> covered(static_cast<std::size_t>(n * lout * f), 0);
  for (const auto& c : calls) {
    ASSERT_LT(c.n_begin, c.n_end);
    ASSERT_LT(c.t_begin, c.t_end);
    ASSERT_LT(c.oc_begin, c.oc_end);
    EXPECT_EQ(c.oc_begin % oc_granularity, 0);
    EXPECT_TRUE(c.oc_end == f || c.oc_end % oc_granularity == 0) << c.oc_end;
    if (split_t) {
      EXPECT_EQ(c.t_begin % t_unit, 0);
      EXPECT_TRUE(c.t_end == lout || c.t_end % t_unit == 0) << c.t_end;
    } else {
      EXPECT_EQ(c.t_begin, 0);
      EXPECT_EQ(c.t_end, lout);
    }
    for (auto i = c.n_begin; i < c.n_end; ++i)
      for (auto t = c.t_begin; t < c.t_end; ++t)
        for (auto o = c.oc_begin; o < c.oc_end; ++o)
          covered[static_cast<std::size_t>((i * lout + t) * f + o)]++;
  }
  for (std::size_t i = 0; i < covered.size(); ++i) {
    ASSERT_EQ(covered[i], 1) << "output element " << i;
  }
}

TEST(KernelRun, ThreadsSplitIntoDisjointRangesAndGiveTheSameBits) {
  for (bool split_time : {true, false}) {
    FakeBackendState state;
    state.record_calls = true;
    state.oc_granularity = 8;
    state.split_time = split_time;
    Jit jit(JitOptions{}, make_fake_backend(state));
    const Conv1DSpec spec = make_spec(36, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsLast,
                                      Activation::kLinear, true);
    const Shape3 shape{2, 300, 16};
    const auto in = testing::uniform(2 * 300 * 16, 1);
    const auto w = testing::uniform(3 * 16 * 36, 2);
    const auto b = testing::uniform(36, 3);
    std::vector<float> first;
    for (int threads : {1, 2, 3, 4, 8}) {
      const Kernel k = jit.compile(spec, shape, with_threads(threads));
      state.calls.clear();
      std::vector<float> out(static_cast<std::size_t>(k.output_size(2, 300)));
      k.run(in.data(), k.pack_weights(w.data(), b.data()), out.data(), 2, 300);
      if (threads == 1) {
        first = out;
        ASSERT_EQ(state.calls.size(), 1u);
      } else {
        EXPECT_GT(state.calls.size(), 1u) << threads << " threads";
        EXPECT_EQ(out, first) << threads << " threads";
      }
      const auto tile_t = detail::parse_schedule(k.schedule_text()).tile_t;
      expect_exact_cover(state.calls, 2, 300, 36, 8, tile_t, split_time);
    }
  }
}

TEST(KernelRun, ManyThreadsRunOneKernelAtOnce) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Conv1DSpec spec = make_spec(16, 3, 1, 1, 1, Padding::kCausal, DataFormat::kChannelsLast,
                                    Activation::kRelu, true);
  const Kernel k = jit.compile(spec, {1, kDynamic, 8}, with_threads(2));
  const auto w = small_ints(3 * 8 * 16, 1);
  const auto b = small_ints(16, 2);
  const PackedWeights packed = k.pack_weights(w.data(), b.data());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 10; ++r) {
        const std::int64_t length = 50 + 37 * t + r;
        const auto in = small_ints(length * 8, static_cast<unsigned>(t * 100 + r));
        std::vector<float> out(static_cast<std::size_t>(k.output_size(1, length)));
        k.run(in.data(), packed, out.data(), 1, length);
        if (out != reference(spec, {1, length, 8}, in, w, b)) wrong++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace convjit
