// The streaming C API (convjit.h, "Streaming"): every function against the C++ StreamKernel
// and bit for bit against convjit_kernel_run on the whole sequence, the state calls, and the
// error paths (status, argument, nothing written on failure).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "capi/c_handles.hpp"
#include "convjit/convjit.h"
#include "convjit/convjit.hpp"

namespace {

using namespace convjit::capi_test;  // NOLINT: the handle owners

constexpr float kCanary = -12345.5f;

std::vector<float> random_values(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::int64_t query(convjit_status (*fn)(const convjit_stream_kernel*, int64_t*),
                   const convjit_stream_kernel* k) {
  std::int64_t v = -7;
  EXPECT_EQ(fn(k, &v), CONVJIT_OK) << convjit_last_error();
  return v;
}

/// A compiled stream with packed weights and its whole-sequence kernel.
struct Compiled {
  StreamKernelHandle sk;
  KernelHandle whole;
  WeightsHandle weights;
  std::int64_t channels = 0, out_channels = 0;

  Compiled(const char* spec, std::int64_t c, std::mt19937& rng, std::int64_t sequence_length = 0,
           const convjit_compile_options* options = nullptr) {
    channels = c;
    EXPECT_EQ(
        convjit_compile_stream(convjit_default_jit(), spec, c, options, sequence_length, &sk.k),
        CONVJIT_OK)
        << spec << ": " << convjit_last_error();
    if (sk.k == nullptr) return;
    EXPECT_EQ(convjit_stream_kernel_kernel(sk.k, &whole.k), CONVJIT_OK);
    std::int64_t kf = 0, bf = 0;
    EXPECT_EQ(convjit_stream_kernel_weight_sizes(sk.k, &kf, &bf), CONVJIT_OK);
    const std::vector<float> w = random_values(static_cast<std::size_t>(kf), rng);
    const std::vector<float> b = random_values(static_cast<std::size_t>(bf), rng);
    EXPECT_EQ(
        convjit_stream_kernel_pack_weights(sk.k, w.data(), bf > 0 ? b.data() : nullptr, &weights.w),
        CONVJIT_OK)
        << convjit_last_error();
    out_channels = query(convjit_stream_kernel_output_channels, sk.k);
  }

  /// The whole sequence of each stream through convjit_kernel_run, concatenated.
  std::vector<float> whole_run(const std::vector<float>& x, std::int64_t streams,
                               std::int64_t length) const {
    std::int64_t out_floats = 0;
    EXPECT_EQ(convjit_kernel_output_size(whole.k, streams, length, &out_floats), CONVJIT_OK);
    std::vector<float> y(static_cast<std::size_t>(out_floats));
    EXPECT_EQ(convjit_kernel_run(whole.k, x.data(), weights.w, y.data(), streams, length),
              CONVJIT_OK)
        << convjit_last_error();
    return y;
  }
};

/// Streams `streams` sequences (x: streams x length x C) through slots `slots` of a pool of
/// `pool` slots in random chunks (the same chunk for every stream of a step, as a batch
/// step takes), then flushes each; returns each stream's outputs concatenated, stream by
/// stream. Checks the canaries after each step's output rows and the counts against
/// convjit_stream_kernel_step_outputs.
std::vector<float> stream_run(const Compiled& c, const std::vector<float>& x, std::int64_t streams,
                              std::int64_t length, const std::vector<std::int64_t>& slots,
                              std::int64_t pool, std::mt19937& rng, std::int64_t max_chunk) {
  const std::int64_t C = c.channels, F = c.out_channels;
  StateHandle state;
  EXPECT_EQ(convjit_stream_state_create(c.sk.k, pool, &state.s), CONVJIT_OK);
  std::vector<std::vector<float>> outs(static_cast<std::size_t>(streams));
  std::uniform_int_distribution<std::int64_t> pick(0, max_chunk);
  std::int64_t pos = 0;
  std::vector<float> in, out;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(streams));
  while (pos < length) {
    const std::int64_t chunk = std::min(pick(rng), length - pos);  // 0 included: a no-op
    in.assign(static_cast<std::size_t>(streams * chunk * C), 0.0f);
    for (std::int64_t b = 0; b < streams; ++b) {
      std::copy_n(x.begin() + (b * length + pos) * C, chunk * C, in.begin() + b * chunk * C);
    }
    std::int64_t rows = 0;
    EXPECT_EQ(convjit_stream_kernel_max_outputs(c.sk.k, chunk, &rows), CONVJIT_OK);
    out.assign(static_cast<std::size_t>((streams * rows + 1) * F), kCanary);
    std::vector<std::int64_t> expected(static_cast<std::size_t>(streams));
    for (std::int64_t b = 0; b < streams; ++b) {
      std::int64_t p = 0;
      EXPECT_EQ(convjit_stream_state_position(state.s, slots[b], &p), CONVJIT_OK);
      EXPECT_EQ(p, pos);
      EXPECT_EQ(convjit_stream_kernel_step_outputs(c.sk.k, p, chunk, &expected[b]), CONVJIT_OK);
    }
    std::int64_t total = -1;
    EXPECT_EQ(convjit_stream_step(c.sk.k, in.data(), chunk, c.weights.w, out.data(), state.s,
                                  slots.data(), streams, counts.data(), &total),
              CONVJIT_OK)
        << convjit_last_error();
    std::int64_t sum = 0;
    for (std::int64_t b = 0; b < streams; ++b) {
      EXPECT_EQ(counts[b], expected[b]) << "stream " << b << " at " << pos << ", chunk " << chunk;
      sum += counts[b];
      const float* rows_of_b = out.data() + b * rows * F;
      outs[b].insert(outs[b].end(), rows_of_b, rows_of_b + counts[b] * F);
      for (std::int64_t i = counts[b] * F; i < rows * F; ++i) {
        EXPECT_EQ(rows_of_b[i], kCanary) << "stream " << b << " wrote past its count";
      }
    }
    for (std::int64_t i = 0; i < F; ++i) EXPECT_EQ(out[streams * rows * F + i], kCanary);
    EXPECT_EQ(total, sum);
    pos += chunk;
  }
  std::int64_t flush_rows = 0;
  EXPECT_EQ(convjit_stream_kernel_max_flush_outputs(c.sk.k, &flush_rows), CONVJIT_OK);
  for (std::int64_t b = 0; b < streams; ++b) {
    std::vector<float> tail(static_cast<std::size_t>((flush_rows + 1) * F), kCanary);
    std::int64_t count = -1;
    EXPECT_EQ(convjit_stream_flush(c.sk.k, c.weights.w, tail.data(), state.s, slots[b], &count),
              CONVJIT_OK)
        << convjit_last_error();
    EXPECT_LE(count, flush_rows);
    EXPECT_EQ(tail[flush_rows * F], kCanary);
    outs[b].insert(outs[b].end(), tail.begin(), tail.begin() + count * F);
  }
  std::vector<float> all;
  for (const auto& o : outs) all.insert(all.end(), o.begin(), o.end());
  return all;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST(CApiStream, BitIdenticalToKernelRunWithScatteredSlots) {
  struct Case {
    const char* spec;
    std::int64_t channels;
    std::int64_t sequence_length;  // same with strides > 1
  };
  const Case cases[] = {
      {"filters=8,kernel_size=3,dilation_rate=2,padding=causal,activation=relu", 4, 0},
      {"filters=16,kernel_size=2,dilation_rate=8,padding=causal,activation=glu", 8, 0},
      {"filters=6,kernel_size=4,strides=3,padding=valid,activation=tanh", 5, 0},
      {"filters=8,kernel_size=5,padding=same,use_bias=false", 3, 0},
      {"filters=24,kernel_size=4,groups=24,padding=causal,activation=silu", 24, 0},
      {"filters=4,kernel_size=5,strides=2,padding=same", 3, 61},
  };
  std::mt19937 rng(17);
  const std::int64_t streams = 3, length = 61, pool = 7;
  const std::vector<std::int64_t> slots = {5, 0, 3};
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.spec);
    Compiled c(tc.spec, tc.channels, rng, tc.sequence_length);
    ASSERT_NE(c.weights.w, nullptr);
    const std::vector<float> x =
        random_values(static_cast<std::size_t>(streams * length * tc.channels), rng);
    const std::vector<float> expected = c.whole_run(x, streams, length);
    for (std::int64_t max_chunk : {1, 4, 40}) {
      const std::vector<float> got = stream_run(c, x, streams, length, slots, pool, rng, max_chunk);
      EXPECT_TRUE(same_bits(got, expected)) << "chunks up to " << max_chunk;
    }
  }
}

TEST(CApiStream, QueriesAgreeWithTheCppStreamKernel) {
  struct Case {
    const char* spec;
    std::int64_t channels, out_channels, history, delay, max_out_5, max_flush;
  };
  const Case cases[] = {
      {"filters=8,kernel_size=3,dilation_rate=2,padding=causal", 4, 8, 4, 0, 5, 0},
      {"filters=8,kernel_size=3,dilation_rate=2,padding=causal,activation=glu", 4, 4, 4, 0, 5, 0},
      {"filters=6,kernel_size=4,strides=2,padding=valid", 5, 6, 3, 0, 3, 0},
      {"filters=2,kernel_size=5,padding=same", 3, 2, 4, 2, 5, 2},  // flush: the 2 delayed outputs
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.spec);
    StreamKernelHandle sk;
    ASSERT_EQ(
        convjit_compile_stream(convjit_default_jit(), tc.spec, tc.channels, nullptr, 0, &sk.k),
        CONVJIT_OK)
        << convjit_last_error();
    const convjit::StreamKernel cpp =
        convjit::compile_stream(convjit::parse_spec(tc.spec), tc.channels);
    EXPECT_EQ(query(convjit_stream_kernel_channels, sk.k), tc.channels);
    EXPECT_EQ(query(convjit_stream_kernel_output_channels, sk.k), tc.out_channels);
    EXPECT_EQ(query(convjit_stream_kernel_history_rows, sk.k), tc.history);
    EXPECT_EQ(query(convjit_stream_kernel_delay, sk.k), tc.delay);
    EXPECT_EQ(query(convjit_stream_kernel_max_flush_outputs, sk.k), tc.max_flush);
    EXPECT_EQ(cpp.max_flush_outputs(), tc.max_flush);
    EXPECT_EQ(cpp.delay(), tc.delay);
    std::int64_t rows = -1;
    EXPECT_EQ(convjit_stream_kernel_max_outputs(sk.k, 5, &rows), CONVJIT_OK);
    EXPECT_EQ(rows, tc.max_out_5);
    EXPECT_EQ(convjit_stream_kernel_max_outputs(sk.k, 0, &rows), CONVJIT_OK);
    EXPECT_EQ(rows, 0);
    for (std::int64_t position : {0, 1, 3, 4, 9}) {
      for (std::int64_t chunk : {0, 1, 2, 7}) {
        EXPECT_EQ(convjit_stream_kernel_step_outputs(sk.k, position, chunk, &rows), CONVJIT_OK);
        EXPECT_EQ(rows, cpp.step_outputs(position, chunk)) << position << " " << chunk;
      }
    }
    // The weights' sizes are those of the whole-sequence kernel, whose weights fit the stream.
    KernelHandle whole;
    ASSERT_EQ(convjit_stream_kernel_kernel(sk.k, &whole.k), CONVJIT_OK);
    std::int64_t kf = 0, bf = 0, kf2 = 0, bf2 = 0;
    ASSERT_EQ(convjit_stream_kernel_weight_sizes(sk.k, &kf, &bf), CONVJIT_OK);
    ASSERT_EQ(convjit_kernel_weight_sizes(whole.k, &kf2, &bf2), CONVJIT_OK);
    EXPECT_EQ(kf, kf2);
    EXPECT_EQ(bf, bf2);
    int64_t shape[3] = {0, 0, 0};
    ASSERT_EQ(convjit_kernel_input_shape(whole.k, shape), CONVJIT_OK);
    EXPECT_EQ(shape[0], CONVJIT_DYNAMIC);
    EXPECT_EQ(shape[1], CONVJIT_DYNAMIC);
    EXPECT_EQ(shape[2], tc.channels);
    const char* name = nullptr;
    ASSERT_EQ(convjit_kernel_name(whole.k, &name), CONVJIT_OK);
    EXPECT_EQ(std::string(name), cpp.kernel().name());
    const std::vector<float> w(static_cast<std::size_t>(kf), 0.25f),
        b(static_cast<std::size_t>(bf));
    WeightsHandle from_kernel;
    ASSERT_EQ(convjit_kernel_pack_weights(whole.k, w.data(), b.data(), &from_kernel.w), CONVJIT_OK);
    StateHandle state;
    ASSERT_EQ(convjit_stream_state_create(sk.k, 1, &state.s), CONVJIT_OK);
    const std::vector<float> x(static_cast<std::size_t>(2 * tc.channels), 1.0f);
    std::vector<float> y(static_cast<std::size_t>(2 * tc.out_channels), kCanary);
    std::int64_t count = -1;
    EXPECT_EQ(convjit_stream_step(sk.k, x.data(), 2, from_kernel.w, y.data(), state.s, nullptr, 1,
                                  &count, nullptr),
              CONVJIT_OK)
        << convjit_last_error();
    EXPECT_EQ(count, cpp.step_outputs(0, 2));
  }
}

TEST(CApiStream, StateHistoryPositionResetAndClone) {
  std::mt19937 rng(5);
  const std::int64_t C = 3;
  Compiled c("filters=4,kernel_size=3,dilation_rate=2,padding=causal", C, rng);
  ASSERT_NE(c.weights.w, nullptr);
  const std::int64_t F = c.out_channels;
  StateHandle state;
  ASSERT_EQ(convjit_stream_state_create(c.sk.k, 4, &state.s), CONVJIT_OK);
  std::int64_t v = 0;
  ASSERT_EQ(convjit_stream_state_slots(state.s, &v), CONVJIT_OK);
  EXPECT_EQ(v, 4);
  ASSERT_EQ(convjit_stream_state_history_floats(state.s, &v), CONVJIT_OK);
  EXPECT_EQ(v, 4 * C);  // (3 - 1) * 2 rows
  std::size_t bytes = 0;
  ASSERT_EQ(convjit_stream_state_bytes(state.s, &bytes), CONVJIT_OK);
  EXPECT_GE(bytes, std::size_t(4 * 4 * C * sizeof(float)));

  // Slot 2 consumes 6 rows; its history is the last 4.
  const std::vector<float> x = random_values(static_cast<std::size_t>(12 * C), rng);
  std::vector<float> y(static_cast<std::size_t>(12 * F));
  const std::int64_t slot2 = 2;
  std::int64_t count = 0;
  ASSERT_EQ(convjit_stream_step(c.sk.k, x.data(), 6, c.weights.w, y.data(), state.s, &slot2, 1,
                                &count, nullptr),
            CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_position(state.s, 2, &v), CONVJIT_OK);
  EXPECT_EQ(v, 6);
  ASSERT_EQ(convjit_stream_state_position(state.s, 1, &v), CONVJIT_OK);
  EXPECT_EQ(v, 0);
  std::vector<float> history(static_cast<std::size_t>(4 * C), kCanary);
  ASSERT_EQ(convjit_stream_state_read_history(state.s, 2, history.data()), CONVJIT_OK);
  EXPECT_TRUE(same_bits(history, std::vector<float>(x.begin() + 2 * C, x.begin() + 6 * C)));
  // A fresh slot reads zeros (Keras's padding).
  ASSERT_EQ(convjit_stream_state_read_history(state.s, 0, history.data()), CONVJIT_OK);
  EXPECT_EQ(history, std::vector<float>(history.size(), 0.0f));

  // A checkpoint and a history written into another slot continue exactly like slot 2.
  StateHandle checkpoint;
  ASSERT_EQ(convjit_stream_state_clone(state.s, &checkpoint.s), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_read_history(state.s, 2, history.data()), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_write_history(state.s, 3, history.data(), 6), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_position(state.s, 3, &v), CONVJIT_OK);
  EXPECT_EQ(v, 6);
  std::vector<float> a(static_cast<std::size_t>(6 * F)), b(a.size()), d(a.size());
  ASSERT_EQ(convjit_stream_step(c.sk.k, x.data() + 6 * C, 6, c.weights.w, a.data(), state.s, &slot2,
                                1, &count, nullptr),
            CONVJIT_OK);
  const std::int64_t slot3 = 3;
  ASSERT_EQ(convjit_stream_step(c.sk.k, x.data() + 6 * C, 6, c.weights.w, b.data(), state.s, &slot3,
                                1, &count, nullptr),
            CONVJIT_OK);
  ASSERT_EQ(convjit_stream_step(c.sk.k, x.data() + 6 * C, 6, c.weights.w, d.data(), checkpoint.s,
                                &slot2, 1, &count, nullptr),
            CONVJIT_OK);
  EXPECT_TRUE(same_bits(a, b));
  EXPECT_TRUE(same_bits(a, d));
  const std::vector<float> whole = c.whole_run(x, 1, 12);
  EXPECT_TRUE(same_bits(a, std::vector<float>(whole.begin() + 6 * F, whole.end())));

  // Reset one slot, then all.
  ASSERT_EQ(convjit_stream_state_reset_slot(state.s, 2), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_position(state.s, 2, &v), CONVJIT_OK);
  EXPECT_EQ(v, 0);
  ASSERT_EQ(convjit_stream_state_position(state.s, 3, &v), CONVJIT_OK);
  EXPECT_EQ(v, 12);
  ASSERT_EQ(convjit_stream_state_reset(state.s), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_position(state.s, 3, &v), CONVJIT_OK);
  EXPECT_EQ(v, 0);
  // The checkpoint is independent.
  ASSERT_EQ(convjit_stream_state_position(checkpoint.s, 2, &v), CONVJIT_OK);
  EXPECT_EQ(v, 12);
  // A reset slot starts a new sequence: its outputs are the first ones again.
  ASSERT_EQ(convjit_stream_step(c.sk.k, x.data(), 6, c.weights.w, a.data(), state.s, &slot2, 1,
                                &count, nullptr),
            CONVJIT_OK);
  EXPECT_TRUE(same_bits(a, std::vector<float>(whole.begin(), whole.begin() + 6 * F)));
}

/// Expects a failed call: its status, argument and a message naming the argument.
void expect_error(convjit_status status, convjit_status expected, const char* argument,
                  const char* call) {
  EXPECT_EQ(status, expected) << call << ": " << convjit_last_error();
  EXPECT_STREQ(convjit_last_error_argument(), argument) << call << ": " << convjit_last_error();
  EXPECT_NE(std::string(convjit_last_error()), "") << call;
}

TEST(CApiStream, StepErrorsWriteNothing) {
  std::mt19937 rng(9);
  const std::int64_t C = 2;
  Compiled c("filters=3,kernel_size=2,padding=causal", C, rng);
  Compiled other("filters=3,kernel_size=3,padding=causal", C, rng);
  ASSERT_NE(c.weights.w, nullptr);
  ASSERT_NE(other.weights.w, nullptr);
  const std::int64_t F = c.out_channels;
  StateHandle state, other_state;
  ASSERT_EQ(convjit_stream_state_create(c.sk.k, 4, &state.s), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_create(other.sk.k, 4, &other_state.s), CONVJIT_OK);
  // Slot 1 has consumed 3 rows: every failed call below must leave it there.
  const std::vector<float> x = random_values(static_cast<std::size_t>(3 * 3 * C), rng);
  std::vector<float> y(static_cast<std::size_t>(3 * 3 * F), kCanary);
  const std::int64_t one = 1;
  std::int64_t counts[3] = {-1, -1, -1}, total = -1;
  ASSERT_EQ(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), state.s, &one, 1,
                                counts, &total),
            CONVJIT_OK);
  EXPECT_EQ(total, 3);

  auto unchanged = [&](const char* call) {
    for (float v : y) ASSERT_EQ(v, kCanary) << call << " wrote the output";
    for (std::int64_t n : counts) ASSERT_EQ(n, -7) << call << " wrote counts";
    EXPECT_EQ(total, 0) << call;
    std::int64_t p = -1;
    ASSERT_EQ(convjit_stream_state_position(state.s, 1, &p), CONVJIT_OK);
    EXPECT_EQ(p, 3) << call << " moved the state";
    for (std::int64_t s : {0, 2, 3}) {
      ASSERT_EQ(convjit_stream_state_position(state.s, s, &p), CONVJIT_OK);
      EXPECT_EQ(p, 0) << call << " moved slot " << s;
    }
    total = -1;
  };
  std::fill(y.begin(), y.end(), kCanary);
  std::fill(std::begin(counts), std::end(counts), -7);

  const std::int64_t repeated[3] = {0, 1, 0};
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), state.s, repeated, 3,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "slots", "repeated slot");
  EXPECT_NE(std::string(convjit_last_error()).find("repeated"), std::string::npos);
  unchanged("repeated slot");
  const std::int64_t out_of_range[3] = {0, 4, 2};
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), state.s,
                                   out_of_range, 3, counts, &total),
               CONVJIT_INVALID_VALUE, "slots", "slot out of range");
  unchanged("slot out of range");
  const std::int64_t negative_slot[1] = {-1};
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), state.s,
                                   negative_slot, 1, counts, &total),
               CONVJIT_INVALID_VALUE, "slots", "negative slot");
  unchanged("negative slot");
  expect_error(convjit_stream_step(c.sk.k, x.data(), -1, c.weights.w, y.data(), state.s, nullptr, 3,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "chunk", "negative chunk");
  unchanged("negative chunk");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), state.s, nullptr, -1,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "streams", "negative streams");
  unchanged("negative streams");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), state.s, nullptr, 5,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "streams", "more streams than slots");
  unchanged("more streams than slots");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), other_state.s,
                                   nullptr, 3, counts, &total),
               CONVJIT_SHAPE_MISMATCH, "state", "state of another kernel");
  unchanged("state of another kernel");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, other.weights.w, y.data(), state.s, nullptr,
                                   3, counts, &total),
               CONVJIT_SHAPE_MISMATCH, "weights", "weights of another kernel");
  unchanged("weights of another kernel");
  expect_error(convjit_stream_step(c.sk.k, nullptr, 3, c.weights.w, y.data(), state.s, nullptr, 3,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "input", "NULL input");
  unchanged("NULL input");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, nullptr, state.s, nullptr, 3,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "output", "NULL output");
  unchanged("NULL output");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), state.s, nullptr, 3,
                                   nullptr, &total),
               CONVJIT_INVALID_VALUE, "counts", "NULL counts");
  unchanged("NULL counts");
  expect_error(convjit_stream_step(nullptr, x.data(), 3, c.weights.w, y.data(), state.s, nullptr, 3,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "kernel", "NULL kernel");
  unchanged("NULL kernel");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, nullptr, y.data(), state.s, nullptr, 3,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "weights", "NULL weights");
  unchanged("NULL weights");
  expect_error(convjit_stream_step(c.sk.k, x.data(), 3, c.weights.w, y.data(), nullptr, nullptr, 3,
                                   counts, &total),
               CONVJIT_INVALID_VALUE, "state", "NULL state");
  unchanged("NULL state");

  // chunk 0 is a no-op that only zeroes the counts; NULL buffers are fine then.
  ASSERT_EQ(convjit_stream_step(c.sk.k, nullptr, 0, c.weights.w, nullptr, state.s, nullptr, 3,
                                counts, &total),
            CONVJIT_OK);
  EXPECT_EQ(total, 0);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[2], 0);
  EXPECT_STREQ(convjit_last_error(), "");
  // The state of a kernel compiled alike is accepted.
  StreamKernelHandle twin;
  ASSERT_EQ(convjit_compile_stream(convjit_default_jit(), "filters=3,kernel_size=2,padding=causal",
                                   C, nullptr, 0, &twin.k),
            CONVJIT_OK);
  ASSERT_EQ(convjit_stream_step(twin.k, x.data(), 1, c.weights.w, y.data(), state.s, &one, 1,
                                counts, nullptr),
            CONVJIT_OK);
  EXPECT_EQ(counts[0], 1);
}

TEST(CApiStream, CompileStateAndFlushErrors) {
  std::mt19937 rng(3);
  convjit_stream_kernel* sk = reinterpret_cast<convjit_stream_kernel*>(0x1);
  expect_error(convjit_compile_stream(convjit_default_jit(),
                                      "filters=4,kernel_size=3,data_format=channels_first,"
                                      "activation=softmax",
                                      2, nullptr, 0, &sk),
               CONVJIT_UNSUPPORTED, "activation", "whole sequence");
  EXPECT_EQ(sk, nullptr);
  expect_error(
      convjit_compile_stream(convjit_default_jit(),
                             "filters=4,kernel_size=3,strides=2,padding=same", 2, nullptr, 0, &sk),
      CONVJIT_INCOMPATIBLE_ARGUMENTS, "sequence_length", "same, strides 2, no length");
  expect_error(
      convjit_compile_stream(convjit_default_jit(), "filters=4,kernel_size=3", 2, nullptr, -1, &sk),
      CONVJIT_INVALID_VALUE, "sequence_length", "negative sequence_length");
  expect_error(
      convjit_compile_stream(convjit_default_jit(), "filters=0,kernel_size=3", 2, nullptr, 0, &sk),
      CONVJIT_INVALID_VALUE, "filters", "filters=0");
  expect_error(convjit_compile_stream(convjit_default_jit(), "filters=4,kernel_size=3,padding=full",
                                      2, nullptr, 0, &sk),
               CONVJIT_UNKNOWN_NAME, "padding", "padding=full");
  convjit_compile_options bad{};
  bad.reserved = 1;
  expect_error(
      convjit_compile_stream(convjit_default_jit(), "filters=4,kernel_size=3", 2, &bad, 0, &sk),
      CONVJIT_INVALID_VALUE, "options", "reserved");
  EXPECT_EQ(sk, nullptr);

  // same with strides 2 and a sequence length: steps past it and early flushes are refused.
  Compiled c("filters=4,kernel_size=3,strides=2,padding=same", 2, rng, 9);
  ASSERT_NE(c.weights.w, nullptr);
  StateHandle state;
  expect_error(convjit_stream_state_create(c.sk.k, 0, &state.s), CONVJIT_INVALID_VALUE, "slots",
               "0 slots");
  EXPECT_EQ(state.s, nullptr);
  ASSERT_EQ(convjit_stream_state_create(c.sk.k, 2, &state.s), CONVJIT_OK);
  const std::vector<float> x = random_values(20 * 2, rng);
  std::vector<float> y(40 * 4, kCanary);
  std::int64_t count = -1, total = -1;
  expect_error(convjit_stream_step(c.sk.k, x.data(), 10, c.weights.w, y.data(), state.s, nullptr, 1,
                                   &count, &total),
               CONVJIT_INVALID_VALUE, "sequence_length", "past sequence_length");
  EXPECT_EQ(count, -1);
  ASSERT_EQ(convjit_stream_step(c.sk.k, x.data(), 5, c.weights.w, y.data(), state.s, nullptr, 1,
                                &count, &total),
            CONVJIT_OK);
  expect_error(convjit_stream_flush(c.sk.k, c.weights.w, y.data(), state.s, 0, &count),
               CONVJIT_INVALID_VALUE, "sequence_length", "flush before sequence_length");
  EXPECT_EQ(count, 0);

  // Flush: slot out of range, another kernel's state and weights, NULLs.
  Compiled same("filters=3,kernel_size=5,padding=same", 2, rng);
  Compiled causal("filters=3,kernel_size=5,padding=causal", 2, rng);
  StateHandle s2, causal_state;
  ASSERT_EQ(convjit_stream_state_create(same.sk.k, 2, &s2.s), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_create(causal.sk.k, 2, &causal_state.s), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_step(same.sk.k, x.data(), 4, same.weights.w, y.data(), s2.s, nullptr, 1,
                                &count, nullptr),
            CONVJIT_OK);
  EXPECT_EQ(count, 2);  // delay 2
  std::fill(y.begin(), y.end(), kCanary);
  count = -1;
  expect_error(convjit_stream_flush(same.sk.k, same.weights.w, y.data(), s2.s, 2, &count),
               CONVJIT_INVALID_VALUE, "slot", "flush slot out of range");
  EXPECT_EQ(count, 0);
  expect_error(convjit_stream_flush(same.sk.k, same.weights.w, y.data(), causal_state.s, 0, &count),
               CONVJIT_SHAPE_MISMATCH, "state", "flush another kernel's state");
  // (Weights fit every kernel of the same layout: the causal kernel's would; K = 3's do not.)
  Compiled k3("filters=3,kernel_size=3,padding=same", 2, rng);
  expect_error(convjit_stream_flush(same.sk.k, k3.weights.w, y.data(), s2.s, 0, &count),
               CONVJIT_SHAPE_MISMATCH, "weights", "flush another kernel's weights");
  expect_error(convjit_stream_flush(same.sk.k, same.weights.w, nullptr, s2.s, 0, &count),
               CONVJIT_INVALID_VALUE, "output", "flush NULL output");
  for (float v : y) ASSERT_EQ(v, kCanary);
  expect_error(convjit_stream_flush(same.sk.k, same.weights.w, y.data(), s2.s, 0, nullptr),
               CONVJIT_INVALID_VALUE, "count", "flush NULL count");
  for (float v : y) ASSERT_EQ(v, kCanary);
  // Flush leaves the state: twice gives the same two rows.
  ASSERT_EQ(convjit_stream_flush(same.sk.k, same.weights.w, y.data(), s2.s, 0, &count), CONVJIT_OK);
  EXPECT_EQ(count, 2);
  std::vector<float> again(y.size(), kCanary);
  ASSERT_EQ(convjit_stream_flush(same.sk.k, same.weights.w, again.data(), s2.s, 0, &count),
            CONVJIT_OK);
  EXPECT_TRUE(same_bits(std::vector<float>(y.begin(), y.begin() + 6),
                        std::vector<float>(again.begin(), again.begin() + 6)));
  // A fresh slot owes nothing, and a causal stream never does: NULL output is fine.
  ASSERT_EQ(convjit_stream_flush(same.sk.k, same.weights.w, nullptr, s2.s, 1, &count), CONVJIT_OK);
  EXPECT_EQ(count, 0);
  ASSERT_EQ(convjit_stream_flush(causal.sk.k, causal.weights.w, nullptr, causal_state.s, 0, &count),
            CONVJIT_OK);
  EXPECT_EQ(count, 0);

  // State calls: slots out of range, negative positions, NULL histories.
  std::int64_t v = -1;
  expect_error(convjit_stream_state_position(s2.s, 2, &v), CONVJIT_INVALID_VALUE, "slot",
               "position slot");
  EXPECT_EQ(v, 0);
  expect_error(convjit_stream_state_reset_slot(s2.s, -1), CONVJIT_INVALID_VALUE, "slot",
               "reset_slot");
  std::vector<float> history(4 * 2, kCanary);
  expect_error(convjit_stream_state_read_history(s2.s, 5, history.data()), CONVJIT_INVALID_VALUE,
               "slot", "read_history slot");
  expect_error(convjit_stream_state_read_history(s2.s, 0, nullptr), CONVJIT_INVALID_VALUE,
               "history", "read_history NULL");
  expect_error(convjit_stream_state_write_history(s2.s, 0, history.data(), -1),
               CONVJIT_INVALID_VALUE, "position", "write_history position");
  expect_error(convjit_stream_state_write_history(s2.s, 0, nullptr, 4), CONVJIT_INVALID_VALUE,
               "history", "write_history NULL");
  expect_error(convjit_stream_state_write_history(s2.s, 9, history.data(), 4),
               CONVJIT_INVALID_VALUE, "slot", "write_history slot");
  ASSERT_EQ(convjit_stream_state_position(s2.s, 0, &v), CONVJIT_OK);
  EXPECT_EQ(v, 4);  // the failed writes changed nothing
  expect_error(convjit_stream_kernel_step_outputs(same.sk.k, -1, 3, &v), CONVJIT_INVALID_VALUE,
               "position", "step_outputs position");
  EXPECT_EQ(v, 0);
  // K = 1 keeps no history: NULL reads and writes are fine.
  Compiled pointwise("filters=2,kernel_size=1", 2, rng);
  StateHandle ps;
  ASSERT_EQ(convjit_stream_state_create(pointwise.sk.k, 1, &ps.s), CONVJIT_OK);
  EXPECT_EQ(convjit_stream_state_read_history(ps.s, 0, nullptr), CONVJIT_OK);
  EXPECT_EQ(convjit_stream_state_write_history(ps.s, 0, nullptr, 7), CONVJIT_OK);
  ASSERT_EQ(convjit_stream_state_position(ps.s, 0, &v), CONVJIT_OK);
  EXPECT_EQ(v, 7);
}

TEST(CApiStream, NullHandlesAndOutPointers) {
  std::mt19937 rng(1);
  Compiled c("filters=2,kernel_size=3,padding=causal", 2, rng);
  ASSERT_NE(c.weights.w, nullptr);
  StateHandle state;
  ASSERT_EQ(convjit_stream_state_create(c.sk.k, 1, &state.s), CONVJIT_OK);
  auto expect_null = [](convjit_status status, const char* argument, const char* call) {
    EXPECT_EQ(status, CONVJIT_INVALID_VALUE) << call;
    EXPECT_STREQ(convjit_last_error_argument(), argument) << call;
    EXPECT_NE(std::string(convjit_last_error()).find("NULL"), std::string::npos) << call;
  };
  convjit_stream_kernel* sk = nullptr;
  convjit_kernel* k = reinterpret_cast<convjit_kernel*>(0x1);
  convjit_weights* w = reinterpret_cast<convjit_weights*>(0x1);
  convjit_stream_state* s = reinterpret_cast<convjit_stream_state*>(0x1);
  std::int64_t v = 3, v2 = 4;
  std::size_t bytes = 5;
  const std::vector<float> kw(3 * 2 * 2, 1.0f), b(2, 0.0f);

  expect_null(convjit_compile_stream(nullptr, "filters=2,kernel_size=3", 2, nullptr, 0, &sk), "jit",
              "compile_stream jit");
  expect_null(convjit_compile_stream(convjit_default_jit(), nullptr, 2, nullptr, 0, &sk), "spec",
              "compile_stream spec");
  expect_null(convjit_compile_stream(convjit_default_jit(), "filters=2,kernel_size=3", 2, nullptr,
                                     0, nullptr),
              "out", "compile_stream out");
  expect_null(convjit_stream_kernel_kernel(nullptr, &k), "kernel", "kernel");
  EXPECT_EQ(k, nullptr);
  expect_null(convjit_stream_kernel_kernel(c.sk.k, nullptr), "out", "kernel out");
  expect_null(convjit_stream_kernel_weight_sizes(nullptr, &v, &v2), "kernel", "weight_sizes");
  EXPECT_EQ(v, 0);
  EXPECT_EQ(v2, 0);
  expect_null(convjit_stream_kernel_weight_sizes(c.sk.k, nullptr, &v2), "kernel_floats",
              "weight_sizes kernel_floats");
  expect_null(convjit_stream_kernel_weight_sizes(c.sk.k, &v, nullptr), "bias_floats",
              "weight_sizes bias_floats");
  expect_null(convjit_stream_kernel_pack_weights(nullptr, kw.data(), b.data(), &w), "kernel",
              "pack_weights");
  EXPECT_EQ(w, nullptr);
  expect_null(convjit_stream_kernel_pack_weights(c.sk.k, kw.data(), b.data(), nullptr), "out",
              "pack_weights out");
  EXPECT_EQ(convjit_stream_kernel_pack_weights(c.sk.k, nullptr, b.data(), &w),
            CONVJIT_INVALID_VALUE);
  EXPECT_EQ(w, nullptr);
  using Query = convjit_status (*)(const convjit_stream_kernel*, int64_t*);
  const std::pair<Query, const char*> queries[] = {
      {convjit_stream_kernel_channels, "channels"},
      {convjit_stream_kernel_output_channels, "channels"},
      {convjit_stream_kernel_history_rows, "rows"},
      {convjit_stream_kernel_delay, "inputs"},
      {convjit_stream_kernel_max_flush_outputs, "rows"},
  };
  for (const auto& [fn, out_name] : queries) {
    v = 3;
    expect_null(fn(nullptr, &v), "kernel", out_name);
    EXPECT_EQ(v, 0);
    expect_null(fn(c.sk.k, nullptr), out_name, out_name);
  }
  expect_null(convjit_stream_kernel_max_outputs(nullptr, 1, &v), "kernel", "max_outputs");
  expect_null(convjit_stream_kernel_max_outputs(c.sk.k, 1, nullptr), "rows", "max_outputs out");
  expect_null(convjit_stream_kernel_step_outputs(nullptr, 0, 1, &v), "kernel", "step_outputs");
  expect_null(convjit_stream_kernel_step_outputs(c.sk.k, 0, 1, nullptr), "rows",
              "step_outputs out");

  expect_null(convjit_stream_state_create(nullptr, 1, &s), "kernel", "state_create");
  EXPECT_EQ(s, nullptr);
  expect_null(convjit_stream_state_create(c.sk.k, 1, nullptr), "out", "state_create out");
  s = reinterpret_cast<convjit_stream_state*>(0x1);
  expect_null(convjit_stream_state_clone(nullptr, &s), "state", "clone");
  EXPECT_EQ(s, nullptr);
  expect_null(convjit_stream_state_clone(state.s, nullptr), "out", "clone out");
  v = 3;
  expect_null(convjit_stream_state_slots(nullptr, &v), "state", "slots");
  EXPECT_EQ(v, 0);
  expect_null(convjit_stream_state_slots(state.s, nullptr), "slots", "slots out");
  expect_null(convjit_stream_state_history_floats(nullptr, &v), "state", "history_floats");
  expect_null(convjit_stream_state_history_floats(state.s, nullptr), "floats",
              "history_floats out");
  expect_null(convjit_stream_state_bytes(nullptr, &bytes), "state", "bytes");
  EXPECT_EQ(bytes, 0u);
  expect_null(convjit_stream_state_bytes(state.s, nullptr), "bytes", "bytes out");
  expect_null(convjit_stream_state_position(nullptr, 0, &v), "state", "position");
  expect_null(convjit_stream_state_position(state.s, 0, nullptr), "position", "position out");
  expect_null(convjit_stream_state_reset(nullptr), "state", "reset");
  expect_null(convjit_stream_state_reset_slot(nullptr, 0), "state", "reset_slot");
  std::vector<float> history(4, 0.0f);
  expect_null(convjit_stream_state_read_history(nullptr, 0, history.data()), "state",
              "read_history");
  expect_null(convjit_stream_state_write_history(nullptr, 0, history.data(), 2), "state",
              "write_history");
  std::vector<float> y(8);
  v = 3;
  expect_null(convjit_stream_flush(nullptr, c.weights.w, y.data(), state.s, 0, &v), "kernel",
              "flush");
  EXPECT_EQ(v, 0);
  expect_null(convjit_stream_flush(c.sk.k, nullptr, y.data(), state.s, 0, &v), "weights",
              "flush weights");
  expect_null(convjit_stream_flush(c.sk.k, c.weights.w, y.data(), nullptr, 0, &v), "state",
              "flush state");

  // Destroying NULL does nothing; a state outlives its kernel.
  convjit_stream_kernel_destroy(nullptr);
  convjit_stream_state_destroy(nullptr);
  convjit_stream_state* orphan = nullptr;
  {
    StreamKernelHandle temp;
    ASSERT_EQ(convjit_compile_stream(convjit_default_jit(), "filters=2,kernel_size=3", 2, nullptr,
                                     0, &temp.k),
              CONVJIT_OK);
    ASSERT_EQ(convjit_stream_state_create(temp.k, 2, &orphan), CONVJIT_OK);
  }
  EXPECT_EQ(convjit_stream_state_slots(orphan, &v), CONVJIT_OK);
  EXPECT_EQ(v, 2);
  convjit_stream_state_destroy(orphan);
}

}  // namespace
