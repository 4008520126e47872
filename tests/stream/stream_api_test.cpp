// The StreamKernel and StreamState contract: output counts and delays per padding, state
// checkpoints, and bad input refused with an Error naming the argument before anything is
// written.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "convjit/convjit.hpp"
#include "tests/stream/stream_test_util.hpp"

namespace convjit {
namespace {

using testing_stream::Canaried;
using testing_stream::uniform;

struct Fixture {
  StreamKernel sk;
  PackedWeights w;
  std::int64_t C = 0;
};

Fixture make(const std::string& spec_text, std::int64_t channels, StreamOptions so = {}) {
  const Conv1DSpec spec = parse_spec(spec_text);
  Fixture f;
  f.C = channels;
  CompileOptions opts;
  opts.threads = 1;
  f.sk = compile_stream(spec, channels, opts, so);
  const auto kernel = uniform(spec.kernel_size * channels / spec.groups * spec.filters, 1);
  const auto bias = uniform(spec.filters, 2);
  f.w = f.sk.pack_weights(kernel.data(), spec.use_bias ? bias.data() : nullptr);
  return f;
}

/// Calls `fn`, expects an Error with `code` naming `argument`.
void expect_error(const std::function<void()>& fn, ErrorCode code, const std::string& argument) {
  try {
    fn();
    ADD_FAILURE() << "no Error; expected one naming " << argument;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_EQ(e.argument(), argument) << e.what();
  }
}

/// Outputs per step of one sample, for the first `steps` samples.
std::vector<std::int64_t> counts_per_sample(Fixture& f, std::int64_t steps) {
  StreamState state = f.sk.make_state();
  std::vector<std::int64_t> counts;
  const auto x = uniform(steps * f.C, 3);
  std::vector<float> y(static_cast<std::size_t>(f.sk.output_channels()));
  for (std::int64_t t = 0; t < steps; ++t) {
    counts.push_back(f.sk.step(x.data() + t * f.C, 1, f.w, y.data(), state));
  }
  return counts;
}

TEST(StreamKernel, OutputsFollowThePaddingsDelayRule) {
  {  // causal: one output per input, no delay
    Fixture f = make("filters=4,kernel_size=3,dilation_rate=2,padding=causal", 2);
    EXPECT_EQ(f.sk.history_rows(), 4);
    EXPECT_EQ(f.sk.delay(), 0);
    EXPECT_EQ(f.sk.max_flush_outputs(), 0);
    EXPECT_EQ(counts_per_sample(f, 6), (std::vector<std::int64_t>{1, 1, 1, 1, 1, 1}));
  }
  {  // causal, strides 2: one output per 2 inputs, on the first of them
    Fixture f = make("filters=4,kernel_size=3,strides=2,padding=causal", 2);
    EXPECT_EQ(f.sk.max_outputs(1), 1);
    EXPECT_EQ(f.sk.max_outputs(5), 3);
    EXPECT_EQ(counts_per_sample(f, 6), (std::vector<std::int64_t>{1, 0, 1, 0, 1, 0}));
  }
  {  // valid: the first output once the window (K-1)*d+1 = 5 has arrived
    Fixture f = make("filters=4,kernel_size=3,dilation_rate=2,padding=valid", 2);
    EXPECT_EQ(f.sk.delay(), 0);
    EXPECT_EQ(counts_per_sample(f, 7), (std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 1}));
  }
  {  // same: delayed by the right padding (K-1)*d - (K-1)*d/2 = 2; flush owes 2 outputs
    Fixture f = make("filters=4,kernel_size=3,dilation_rate=2,padding=same", 2);
    EXPECT_EQ(f.sk.delay(), 2);
    EXPECT_EQ(f.sk.max_flush_outputs(), 2);
    EXPECT_EQ(counts_per_sample(f, 5), (std::vector<std::int64_t>{0, 0, 1, 1, 1}));
    StreamState state = f.sk.make_state();
    const auto x = uniform(5 * f.C, 3);
    std::vector<float> y(static_cast<std::size_t>(5 * f.sk.output_channels()));
    EXPECT_EQ(f.sk.step(x.data(), 5, f.w, y.data(), state), 3);
    Canaried tail(2 * f.sk.output_channels());
    EXPECT_EQ(f.sk.flush(f.w, tail.data(), state), 2);
    EXPECT_TRUE(tail.intact(2 * f.sk.output_channels()));
    EXPECT_EQ(state.position(0), 5);  // flush leaves the state as it was
    EXPECT_EQ(f.sk.flush(f.w, tail.data(), state), 2);
  }
}

TEST(StreamKernel, SameWithStridesNeedsTheSequenceLength) {
  // kernel_size 3, strides 2: Keras pads 0 rows on the left of an even length, 1 of an odd one
  expect_error([] { make("filters=4,kernel_size=3,strides=2,padding=same", 2); },
               ErrorCode::kIncompatibleArguments, "sequence_length");
  StreamOptions so;
  so.sequence_length = 9;
  Fixture f = make("filters=4,kernel_size=3,strides=2,padding=same", 2, so);
  StreamState state = f.sk.make_state();
  const auto x = uniform(10 * f.C, 3);
  std::vector<float> y(static_cast<std::size_t>(10 * f.sk.output_channels()));
  expect_error([&] { f.sk.step(x.data(), 10, f.w, y.data(), state); }, ErrorCode::kInvalidValue,
               "sequence_length");
  EXPECT_EQ(state.position(0), 0);
  f.sk.step(x.data(), 4, f.w, y.data(), state);
  expect_error([&] { f.sk.flush(f.w, y.data(), state); }, ErrorCode::kInvalidValue,
               "sequence_length");
  f.sk.step(x.data() + 4 * f.C, 5, f.w, y.data(), state);
  EXPECT_GE(f.sk.flush(f.w, y.data(), state), 0);
  // Left paddings that do not depend on the length need no length: kernel_size 1 (0 rows)
  // and kernel_size 4 with strides 2 (1 row; only the right padding changes).
  EXPECT_NO_THROW(make("filters=4,kernel_size=1,strides=2,padding=same", 2));
  EXPECT_NO_THROW(make("filters=4,kernel_size=4,strides=2,padding=same", 2));
}

TEST(StreamKernel, ActivationsOverTimeAreRefusedByName) {
  // channels_first puts time on the last axis, which softmax and glu normalize or split.
  for (const char* act : {"softmax", "log_softmax", "sparsemax", "glu"}) {
    expect_error(
        [&] {
          make(std::string("filters=4,kernel_size=3,padding=causal,data_format=channels_first,"
                           "activation=") +
                   act,
               2);
        },
        ErrorCode::kUnsupported, "activation");
  }
  // Over channels (channels_last) they stream.
  EXPECT_NO_THROW(make("filters=4,kernel_size=3,padding=causal,activation=softmax", 2));
}

TEST(StreamKernel, BadArgumentsAreRefusedBeforeAnythingIsWritten) {
  Fixture f = make("filters=8,kernel_size=3,padding=causal", 4);
  StreamState state = f.sk.make_state(3);
  const auto x = uniform(3 * 5 * f.C, 3);
  Canaried y(3 * 5 * f.sk.output_channels());
  std::int64_t counts[3] = {-7, -7, -7};
  const std::int64_t repeated[3] = {0, 2, 0};
  const std::int64_t out_of_range[3] = {0, 3, 1};
  auto untouched = [&] {
    EXPECT_TRUE(y.intact(0)) << "the output was written";
    for (std::int64_t s = 0; s < 3; ++s) EXPECT_EQ(state.position(s), 0);
    for (std::int64_t c : counts) EXPECT_EQ(c, -7);
  };
  expect_error([&] { f.sk.step(x.data(), -1, f.w, y.data(), state); }, ErrorCode::kInvalidValue,
               "chunk");
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), state, repeated, 3, counts); },
               ErrorCode::kInvalidValue, "slots");
  untouched();
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), state, out_of_range, 3, counts); },
               ErrorCode::kInvalidValue, "slots");
  untouched();
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), state, 3); }, ErrorCode::kInvalidValue,
               "slots");
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), state, nullptr, 4, counts); },
               ErrorCode::kInvalidValue, "streams");
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), state, nullptr, -1, counts); },
               ErrorCode::kInvalidValue, "streams");
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), state, nullptr, 2, nullptr); },
               ErrorCode::kInvalidValue, "counts");
  expect_error([&] { f.sk.step(nullptr, 5, f.w, y.data(), state); }, ErrorCode::kInvalidValue,
               "input");
  expect_error([&] { f.sk.step(x.data(), 5, f.w, nullptr, state); }, ErrorCode::kInvalidValue,
               "output");
  expect_error([&] { f.sk.step(x.data(), 5, PackedWeights(), y.data(), state); },
               ErrorCode::kInvalidValue, "weights");
  untouched();
  // A state or weights of another kernel.
  Fixture other = make("filters=8,kernel_size=5,padding=causal", 4);
  StreamState foreign = other.sk.make_state(3);
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), foreign); }, ErrorCode::kShapeMismatch,
               "state");
  expect_error([&] { f.sk.step(x.data(), 5, other.w, y.data(), state); }, ErrorCode::kShapeMismatch,
               "weights");
  expect_error([&] { f.sk.flush(f.w, y.data(), foreign); }, ErrorCode::kShapeMismatch, "state");
  untouched();
  // Empty objects.
  StreamState empty_state;
  expect_error([&] { f.sk.step(x.data(), 5, f.w, y.data(), empty_state); },
               ErrorCode::kInvalidValue, "state");
  expect_error([&] { (void)StreamKernel().make_state(1); }, ErrorCode::kInvalidValue,
               "stream_kernel");
  expect_error([&] { (void)f.sk.make_state(0); }, ErrorCode::kInvalidValue, "slots");
  // chunk = 0 is a no-op, even with null buffers.
  EXPECT_EQ(f.sk.step(nullptr, 0, f.w, nullptr, state), 0);
  untouched();
}

TEST(StreamState, HistoryRoundTripsAndCheckpointsResume) {
  Fixture f = make("filters=6,kernel_size=3,dilation_rate=3,padding=causal,activation=tanh", 5);
  const std::int64_t Fo = f.sk.output_channels();
  const auto x = uniform(40 * f.C, 9);
  StreamState a = f.sk.make_state(2);
  EXPECT_EQ(a.history_rows(), 6);
  EXPECT_EQ(a.history_floats(), 30);
  EXPECT_GT(a.bytes(), 0u);
  std::vector<float> y(static_cast<std::size_t>(40 * Fo)), z = y;
  f.sk.step(x.data(), 17, f.w, y.data(), a, 1);
  // Checkpoint slot 1 into slot 0 through read/write_history, and as a clone.
  std::vector<float> history(static_cast<std::size_t>(a.history_floats()));
  a.read_history(1, history.data());
  for (std::int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(history[static_cast<std::size_t>(i * f.C)],
              x[static_cast<std::size_t>((11 + i) * f.C)]);
  }
  a.write_history(0, history.data(), a.position(1));
  StreamState b = a.clone();
  // All three continue with the same input and give the same bits.
  const std::int64_t n1 = f.sk.step(x.data() + 17 * f.C, 23, f.w, y.data(), a, 1);
  const std::int64_t n0 = f.sk.step(x.data() + 17 * f.C, 23, f.w, z.data(), a, 0);
  ASSERT_EQ(n0, n1);
  EXPECT_EQ(std::memcmp(y.data(), z.data(), static_cast<std::size_t>(n0 * Fo) * 4), 0);
  const std::int64_t nb = f.sk.step(x.data() + 17 * f.C, 23, f.w, z.data(), b, 1);
  ASSERT_EQ(nb, n1);
  EXPECT_EQ(std::memcmp(y.data(), z.data(), static_cast<std::size_t>(nb * Fo) * 4), 0);
  // Before the sequence start the history reads as zeros, and a reset slot is fresh.
  a.reset(1);
  EXPECT_EQ(a.position(1), 0);
  f.sk.step(x.data(), 2, f.w, y.data(), a, 1);
  a.read_history(1, history.data());
  for (std::int64_t i = 0; i < 4 * f.C; ++i) EXPECT_EQ(history[static_cast<std::size_t>(i)], 0.0f);
  EXPECT_EQ(history[static_cast<std::size_t>(4 * f.C)], x[0]);
  expect_error([&] { a.write_history(0, history.data(), -1); }, ErrorCode::kInvalidValue,
               "position");
  expect_error([&] { a.write_history(0, nullptr, 3); }, ErrorCode::kInvalidValue, "history");
  expect_error([&] { a.read_history(2, history.data()); }, ErrorCode::kInvalidValue, "slot");
  EXPECT_EQ(a.position(0), 40);  // the failed writes changed nothing
  EXPECT_TRUE(testing_stream::state_canaries_intact(a));
}

}  // namespace
}  // namespace convjit
