// Conv1D's streaming mode: chunks fed with stream_step (or stream_step_into), then
// stream_flush, give layer(x) bit for bit for every padding; the StreamKernel and its packed
// weights are cached like the layer's Kernel; bad input is refused before the state changes.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "convjit/error.hpp"
#include "convjit/jit.hpp"
#include "convjit/layer.hpp"
#include "spec/expect_error.hpp"

namespace convjit {
namespace {

using test::expect_error;

/// Jit::default_jit()'s lookups since construction: compiles (misses) and cache hits.
struct CompileCounter {
  CacheStats start = Jit::default_jit().stats();
  std::uint64_t lookups() const {
    const CacheStats now = Jit::default_jit().stats();
    return now.misses - start.misses + now.hits - start.hits;
  }
};

Tensor random_tensor(const Shape& shape, unsigned seed) {
  Tensor t(shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < t.size(); ++i) t.data()[i] = dist(rng);
  return t;
}

/// Rows [t0, t0 + rows) of every sequence of x (B, L, C), as a new (B, rows, C) tensor.
Tensor slice_rows(const Tensor& x, std::int64_t t0, std::int64_t rows) {
  const std::int64_t B = x.shape()[0], L = x.shape()[1], C = x.shape()[2];
  Tensor out({B, rows, C});
  if (rows == 0) return out;  // no data to copy (and memcpy takes no null pointer)
  for (std::int64_t b = 0; b < B; ++b) {
    std::memcpy(out.data() + b * rows * C, x.data() + (b * L + t0) * C,
                static_cast<std::size_t>(rows * C) * sizeof(float));
  }
  return out;
}

/// Appends y (B, T, F) to the per-stream outputs.
void append(std::vector<std::vector<float>>& outs, const Tensor& y) {
  const std::int64_t B = y.shape()[0], T = y.shape()[1], F = y.shape()[2];
  ASSERT_EQ(static_cast<std::int64_t>(outs.size()), B);
  for (std::int64_t b = 0; b < B; ++b) {
    outs[b].insert(outs[b].end(), y.data() + b * T * F, y.data() + (b + 1) * T * F);
  }
}

bool same_bits(const std::vector<std::vector<float>>& outs, const Tensor& y) {
  std::vector<float> all;
  for (const auto& o : outs) all.insert(all.end(), o.begin(), o.end());
  return static_cast<std::int64_t>(all.size()) == y.size() &&
         (all.empty() || std::memcmp(all.data(), y.data(), all.size() * sizeof(float)) == 0);
}

/// Streams x (B, L, C) through `layer` in random chunks of at most max_chunk rows (stream b in
/// slots[b] of a state of `pool` slots, or slot b), then flushes; the outputs, per stream.
std::vector<std::vector<float>> stream_through(Conv1D& layer, const Tensor& x,
                                               std::int64_t max_chunk, std::mt19937& rng,
                                               std::int64_t sequence_length = 0,
                                               const std::vector<std::int64_t>& slots = {},
                                               std::int64_t pool = 0) {
  const std::int64_t B = x.shape()[0], L = x.shape()[1], C = x.shape()[2];
  StreamState state = layer.make_stream_state(pool > 0 ? pool : B, C, sequence_length);
  std::vector<std::vector<float>> outs(static_cast<std::size_t>(B));
  std::uniform_int_distribution<std::int64_t> pick(0, max_chunk);
  for (std::int64_t t = 0; t < L;) {
    const std::int64_t rows = std::min(pick(rng), L - t);
    const Tensor y = layer.stream_step(slice_rows(x, t, rows), state, slots);
    EXPECT_EQ(y.shape()[0], B);
    append(outs, y);
    t += rows;
  }
  if (slots.empty() && pool == 0) {
    append(outs, layer.stream_flush(state));  // every slot
  } else {
    std::vector<std::int64_t> used = slots;
    if (used.empty()) {
      for (std::int64_t b = 0; b < B; ++b) used.push_back(b);
    }
    append(outs, layer.stream_flush(state, used));
  }
  return outs;
}

struct Case {
  const char* spec;
  std::int64_t channels;
  std::int64_t sequence_length;  // same with strides > 1
};

const Case kCases[] = {
    {"filters=8,kernel_size=3,dilation_rate=2,padding=causal,activation=relu", 4, 0},
    {"filters=6,kernel_size=4,strides=3,padding=valid,activation=tanh", 5, 0},
    {"filters=8,kernel_size=5,padding=same,use_bias=false", 3, 0},
    {"filters=16,kernel_size=4,padding=same,activation=glu", 6, 0},
    {"filters=12,kernel_size=4,groups=12,padding=causal,activation=silu", 12, 0},
    {"filters=4,kernel_size=5,strides=2,padding=same", 3, 47},
};

TEST(LayerStream, ChunkedStepsAndFlushEqualTheCallBitForBit) {
  std::mt19937 rng(11);
  for (const Case& tc : kCases) {
    SCOPED_TRACE(tc.spec);
    Conv1D layer(parse_spec(tc.spec));
    const Tensor x = random_tensor({3, 47, tc.channels}, 5);
    const Tensor y = layer(x);
    for (std::int64_t max_chunk : {1, 5, 60}) {
      EXPECT_TRUE(same_bits(stream_through(layer, x, max_chunk, rng, tc.sequence_length), y))
          << "chunks up to " << max_chunk;
    }
    // Streams in scattered slots of a larger pool.
    EXPECT_TRUE(same_bits(stream_through(layer, x, 7, rng, tc.sequence_length, {4, 0, 2}, 6), y));
  }
}

/// channels_first: chunks (B, C, T), outputs (B, F, T'); concatenated along time they are
/// layer(x) bit for bit, flush included.
TEST(LayerStream, ChannelsFirstChunksEqualTheCall) {
  for (const char* text : {"filters=6,kernel_size=3,dilation_rate=2,padding=causal,"
                           "data_format=channels_first,activation=tanh",
                           "filters=5,kernel_size=4,padding=same,data_format=channels_first",
                           "filters=4,kernel_size=3,strides=2,padding=valid,"
                           "data_format=channels_first"}) {
    Conv1D layer(parse_spec(text));
    const std::int64_t B = 2, C = 3, L = 41;
    const Tensor x = random_tensor({B, C, L}, 5);
    const Tensor want = layer(x);
    const std::int64_t F = want.shape()[1];
    StreamState state = layer.make_stream_state(B, C);
    std::vector<std::vector<std::vector<float>>> got(B, std::vector<std::vector<float>>(F));
    auto take = [&](const Tensor& y) {
      const std::int64_t T = y.shape()[2];
      ASSERT_EQ(y.shape()[1], F);
      for (std::int64_t b = 0; b < B; ++b) {
        for (std::int64_t f = 0; f < F; ++f) {
          const float* row = y.data() + (b * F + f) * T;
          got[b][f].insert(got[b][f].end(), row, row + T);
        }
      }
    };
    std::mt19937 rng(9);
    for (std::int64_t t = 0; t < L;) {
      const std::int64_t rows =
          std::min<std::int64_t>(std::uniform_int_distribution<int>(1, 7)(rng), L - t);
      Tensor chunk({B, C, rows});
      for (std::int64_t b = 0; b < B; ++b) {
        for (std::int64_t c = 0; c < C; ++c) {
          std::memcpy(chunk.data() + (b * C + c) * rows, x.data() + (b * C + c) * L + t,
                      static_cast<std::size_t>(rows) * sizeof(float));
        }
      }
      take(layer.stream_step(chunk, state));
      t += rows;
    }
    take(layer.stream_flush(state));
    std::vector<float> all;
    for (const auto& stream : got) {
      for (const auto& row : stream) all.insert(all.end(), row.begin(), row.end());
    }
    ASSERT_EQ(static_cast<std::int64_t>(all.size()), want.size()) << text;
    EXPECT_EQ(std::memcmp(all.data(), want.data(), all.size() * sizeof(float)), 0) << text;
  }
}

TEST(LayerStream, StreamStepIntoEqualsTheCallAndReturnsCounts) {
  std::mt19937 rng(3);
  for (const Case& tc : kCases) {
    SCOPED_TRACE(tc.spec);
    Conv1D layer(parse_spec(tc.spec));
    const Tensor x = random_tensor({2, 47, tc.channels}, 8);
    const Tensor y = layer(x);
    StreamState state = layer.make_stream_state(2, kDynamic, tc.sequence_length);
    std::vector<std::vector<float>> outs(2);
    std::vector<std::int64_t> counts;
    for (std::int64_t t = 0; t < 47;) {
      const std::int64_t rows =
          std::min<std::int64_t>(std::uniform_int_distribution<>(0, 9)(rng), 47 - t);
      const Shape3 shape = layer.stream_output_shape(2, rows);
      Tensor out({shape[0], shape[1], shape[2]}, -7.0f);
      const std::int64_t total = layer.stream_step_into(slice_rows(x, t, rows), state, out, counts);
      ASSERT_EQ(counts.size(), 2u);
      EXPECT_EQ(total, counts[0] + counts[1]);
      for (std::int64_t b = 0; b < 2; ++b) {
        const float* rows_b = out.data() + b * shape[1] * shape[2];
        outs[b].insert(outs[b].end(), rows_b, rows_b + counts[b] * shape[2]);
        for (std::int64_t i = counts[b] * shape[2]; i < shape[1] * shape[2]; ++i) {
          ASSERT_EQ(rows_b[i], -7.0f) << "wrote past its count";
        }
      }
      t += rows;
    }
    append(outs, layer.stream_flush(state));
    EXPECT_TRUE(same_bits(outs, y));
  }
}

TEST(LayerStream, StreamsAtDifferentPositions) {
  // Causal, strides 1: one output per input whatever the position, so stream_step takes
  // streams at different positions (a Mamba-style decode of sequences that started apart).
  Conv1D causal(parse_spec("filters=8,kernel_size=4,groups=8,padding=causal,activation=silu"));
  const Tensor x = random_tensor({2, 12, 8}, 2);
  const Tensor y = causal(x);
  StreamState state = causal.make_stream_state(2, 8);
  // Stream 0 takes 5 rows alone (slot 0), then both advance one row at a time.
  std::vector<std::vector<float>> outs(2);
  {
    const Tensor first = causal.stream_step(slice_rows(random_tensor({1, 1, 8}, 0), 0, 0), state);
    EXPECT_EQ(first.shape(), (Shape{1, 0, 8}));
  }
  Tensor head({1, 5, 8});
  std::memcpy(head.data(), x.data(), 5 * 8 * sizeof(float));
  const Tensor y_head = causal.stream_step(head, state, {0});
  outs[0].insert(outs[0].end(), y_head.data(), y_head.data() + y_head.size());
  for (std::int64_t t = 0; t < 7; ++t) {
    Tensor chunk({2, 1, 8});
    std::memcpy(chunk.data(), x.data() + (5 + t) * 8, 8 * sizeof(float));  // stream 0
    std::memcpy(chunk.data() + 8, x.data() + (12 + t) * 8, 8 * sizeof(float));
    append(outs, causal.stream_step(chunk, state));
  }
  EXPECT_EQ(state.position(0), 12);
  EXPECT_EQ(state.position(1), 7);
  EXPECT_EQ(std::memcmp(outs[0].data(), y.data(), 12 * 8 * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(outs[1].data(), y.data() + 12 * 8, 7 * 8 * sizeof(float)), 0);

  // Valid, K3: a stream at position 0 gets no output from one row, one at 5 gets one.
  Conv1D valid(parse_spec("filters=2,kernel_size=3"));
  StreamState vs = valid.make_stream_state(2, 3);
  const Tensor warm = random_tensor({1, 5, 3}, 4);
  EXPECT_EQ(valid.stream_step(warm, vs, {1}).shape(), (Shape{1, 3, 2}));
  const Tensor one = random_tensor({2, 1, 3}, 6);
  expect_error([&] { valid.stream_step(one, vs); }, ErrorCode::kInvalidValue,
               "different numbers of outputs", "slots");
  EXPECT_EQ(vs.position(0), 0);  // refused before running
  EXPECT_EQ(vs.position(1), 5);
  Tensor out({2, 1, 2}, -1.0f);
  std::vector<std::int64_t> counts;
  EXPECT_EQ(valid.stream_step_into(one, vs, out, counts), 1);
  EXPECT_EQ(counts, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(out.at(0, 0, 0), -1.0f);
  // Flush of valid owes nothing.
  EXPECT_EQ(valid.stream_flush(vs).shape(), (Shape{2, 0, 2}));

  // Same, K5: a fresh slot owes nothing at flush, a started one owes two.
  Conv1D same(parse_spec("filters=2,kernel_size=5,padding=same"));
  StreamState ss = same.make_stream_state(2, 3);
  same.stream_step(random_tensor({1, 4, 3}, 1), ss);
  EXPECT_EQ(same.stream_flush(ss, {0}).shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(same.stream_flush(ss, {1}).shape(), (Shape{1, 0, 2}));
  expect_error([&] { same.stream_flush(ss); }, ErrorCode::kInvalidValue, "owe different", "slots");
}

TEST(LayerStream, CachedLikeTheKernelAndRepackedOnNewWeights) {
  Conv1D layer(parse_spec("filters=8,kernel_size=3,dilation_rate=2,padding=causal"));
  const Tensor x = random_tensor({2, 30, 4}, 1);
  std::mt19937 rng(1);
  StreamState state = layer.make_stream_state(2, 4);
  EXPECT_TRUE(same_bits(stream_through(layer, x, 4, rng), layer(x)));

  // Steps compile nothing and look nothing up once the layer streams.
  const CompileCounter counter;
  for (int i = 0; i < 5; ++i) layer.stream_step(slice_rows(x, i, 1), state);
  EXPECT_EQ(counter.lookups(), 0u);

  // New weights: the next step uses them.
  layer.set_weights({random_tensor({3, 4, 8}, 9), random_tensor({8}, 10)});
  EXPECT_TRUE(same_bits(stream_through(layer, x, 6, rng), layer(x)));

  // Threads and engines: a new StreamKernel, the bits of the layer's call on that engine.
  layer.set_threads(2);
  EXPECT_TRUE(same_bits(stream_through(layer, x, 6, rng), layer(x)));
  layer.set_threads(1);
  layer.set_engine("llvm");
  const Tensor llvm = layer(x);
  EXPECT_TRUE(same_bits(stream_through(layer, x, 6, rng), llvm));
  layer.set_weights({random_tensor({3, 4, 8}, 11), random_tensor({8}, 12)});
  EXPECT_TRUE(same_bits(stream_through(layer, x, 3, rng), layer(x)));
  layer.set_engine("jit");
  EXPECT_TRUE(same_bits(stream_through(layer, x, 3, rng), layer(x)));
}

TEST(LayerStream, ApplyConstraintsRepacks) {
  Conv1D layer(parse_spec("filters=4,kernel_size=2,padding=causal"));
  StreamState state = layer.make_stream_state(1, 3);
  layer.set_weights({random_tensor({2, 3, 4}, 1), random_tensor({4}, 2)});
  const Tensor x = random_tensor({1, 10, 3}, 3);
  layer.stream_step(x, state);  // packs
  Conv1DSpec constrained = parse_spec("filters=4,kernel_size=2,padding=causal");
  constrained.kernel_constraint.kind = Constraint::Kind::kNonNeg;
  Conv1D nonneg(constrained);
  StreamState s2 = nonneg.make_stream_state(1, 3);
  nonneg.set_weights(layer.get_weights());
  nonneg.stream_step(x, s2);  // packs the unconstrained weights
  nonneg.apply_constraints();
  s2.reset();
  const Tensor streamed = nonneg.stream_step(x, s2);
  const Tensor called = nonneg(x);
  EXPECT_EQ(std::memcmp(streamed.data(), called.data(), called.size() * sizeof(float)), 0);
  state.reset();
  const Tensor before = layer.stream_step(x, state);
  EXPECT_NE(std::memcmp(streamed.data(), before.data(), before.size() * sizeof(float)), 0);
}

TEST(LayerStream, MakeStreamStateBuildsOrChecksTheChannels) {
  Conv1D layer(parse_spec("filters=4,kernel_size=3,padding=causal"));
  expect_error([&] { layer.make_stream_state(1); }, ErrorCode::kInvalidValue, "not built",
               "channels");
  EXPECT_FALSE(layer.built());
  StreamState state = layer.make_stream_state(3, 5);
  EXPECT_TRUE(layer.built());
  EXPECT_EQ(*layer.build_input_shape(), (Shape3{kDynamic, kDynamic, 5}));
  EXPECT_EQ(state.slots(), 3);
  EXPECT_EQ(state.history_rows(), 2);
  EXPECT_EQ(layer.make_stream_state(1).channels(), 5);
  expect_error([&] { layer.make_stream_state(1, 6); }, ErrorCode::kShapeMismatch,
               "built for 5 input channels. Received: channels=6", "channels");
  expect_error([&] { layer.make_stream_state(0, 5); }, ErrorCode::kInvalidValue,
               "Received: streams=0", "streams");

  // Keras's constructor/shape messages, and nothing built when they fail.
  Conv1D grouped(parse_spec("filters=4,kernel_size=3,groups=2"));
  expect_error([&] { grouped.make_stream_state(1, 3); }, ErrorCode::kInvalidShape, "groups",
               "groups");
  EXPECT_FALSE(grouped.built());
  // same with strides 2 needs the sequence length; nothing is built without it.
  Conv1D strided(parse_spec("filters=4,kernel_size=3,strides=2,padding=same"));
  expect_error([&] { strided.make_stream_state(1, 3); }, ErrorCode::kIncompatibleArguments,
               "sequence_length", "sequence_length");
  EXPECT_FALSE(strided.built());
  StreamState s9 = strided.make_stream_state(1, 3, 9);
  StreamState s11 = strided.make_stream_state(1, 3, 11);  // another sequence length
  const Tensor x = random_tensor({1, 9, 3}, 1);
  expect_error([&] { strided.stream_step(x, s9); }, ErrorCode::kShapeMismatch,
               "another streaming kernel", "state");
  EXPECT_EQ(s9.position(0), 0);
  EXPECT_EQ(strided.stream_step(random_tensor({1, 11, 3}, 2), s11).shape()[1], 5);
}

TEST(LayerStream, Errors) {
  Conv1D layer(parse_spec("filters=4,kernel_size=3,padding=causal"));
  StreamState state = layer.make_stream_state(2, 3);
  layer.stream_step(random_tensor({2, 4, 3}, 1), state);
  auto unchanged = [&] {
    EXPECT_EQ(state.position(0), 4);
    EXPECT_EQ(state.position(1), 4);
  };
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 3}, 1), state);
      },
      ErrorCode::kShapeMismatch, "expected ndim=3, found ndim=2", "inputs");
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 1, 4}, 1), state);
      },
      ErrorCode::kShapeMismatch, "expected axis -1 of input shape to have value 3", "inputs");
  expect_error(
      [&] {
        layer.stream_step(random_tensor({3, 1, 3}, 1), state);
      },
      ErrorCode::kInvalidValue, "the state has 2 slots", "streams");
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 1, 3}, 1), state, {0});
      },
      ErrorCode::kShapeMismatch, "one slot per stream", "slots");
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 1, 3}, 1), state, {0, 2});
      },
      ErrorCode::kInvalidValue, "slots[1] must be in [0, 2)", "slots");
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 1, 3}, 1), state, {1, 1});
      },
      ErrorCode::kInvalidValue, "repeated", "slots");
  unchanged();
  Conv1D other(parse_spec("filters=4,kernel_size=5,padding=causal"));
  StreamState foreign = other.make_stream_state(2, 3);
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 1, 3}, 1), foreign);
      },
      ErrorCode::kShapeMismatch, "another streaming kernel", "state");
  EXPECT_EQ(foreign.position(0), 0);
  StreamState empty;
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 1, 3}, 1), empty);
      },
      ErrorCode::kInvalidValue, "empty", "state");
  expect_error([&] { layer.stream_flush(state, {5}); }, ErrorCode::kInvalidValue,
               "slots[0] must be in [0, 2)", "slots");

  // stream_step_into: the output's shape, overlap; counts untouched on failure.
  std::vector<std::int64_t> counts = {42};
  Tensor wrong({2, 2, 4});
  expect_error(
      [&] {
        layer.stream_step_into(random_tensor({2, 1, 3}, 1), state, wrong, counts);
      },
      ErrorCode::kShapeMismatch, "(2, 1, 4)", "output");
  std::vector<float> buffer(64);
  const Tensor chunk = Tensor::view(buffer.data(), {2, 1, 3});
  expect_error(
      [&] {
        layer.stream_step_into(chunk, state, Tensor::view(buffer.data() + 2, {2, 1, 4}), counts);
      },
      ErrorCode::kInvalidValue, "must not overlap", "output");
  Tensor out({2, 1, 4});
  expect_error(
      [&] {
        layer.stream_step_into(chunk, state, out, counts, {0, 0});
      },
      ErrorCode::kInvalidValue, "repeated", "slots");
  EXPECT_EQ(counts, (std::vector<std::int64_t>{42}));
  unchanged();

  // Engines without compiled code, channels_first.
  Conv1D reference(parse_spec("filters=4,kernel_size=3,padding=causal"));
  reference.set_engine("reference");
  expect_error([&] { reference.make_stream_state(1, 3); }, ErrorCode::kUnsupported,
               "streaming runs compiled code", "engine");
  EXPECT_FALSE(reference.built());
  layer.set_engine("reference");
  expect_error(
      [&] {
        layer.stream_step(random_tensor({2, 1, 3}, 1), state);
      },
      ErrorCode::kUnsupported, "engine reference", "engine");
  expect_error([&] { layer.stream_flush(state); }, ErrorCode::kUnsupported, "engine reference",
               "engine");
  layer.set_engine("jit");
  unchanged();
  EXPECT_EQ(layer.stream_step(random_tensor({2, 1, 3}, 1), state).shape(), (Shape{2, 1, 4}));
  // channels_first puts time on the last axis, which softmax normalizes: no streaming.
  Conv1D over_time(
      parse_spec("filters=4,kernel_size=3,data_format=channels_first,activation=softmax"));
  expect_error([&] { over_time.make_stream_state(1, 3); }, ErrorCode::kUnsupported,
               "whole sequence", "activation");
  EXPECT_FALSE(over_time.built());
}

}  // namespace
}  // namespace convjit
