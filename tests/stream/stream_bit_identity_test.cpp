// Streaming is bit-identical to the whole sequence: every golden spec, random chunkings,
// every ISA the host runs, both backends, 1 and 2 threads, one stream and batches of
// streams at different positions through state indices, with canaries around every buffer.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "convjit/convjit.hpp"
#include "tests/stream/stream_test_util.hpp"

namespace convjit {
namespace {

using Json = nlohmann::json;
using testing_stream::Canaried;
using testing_stream::first_difference;
using testing_stream::random_chunks;

std::vector<Json> golden_forward_cases() {
  std::vector<Json> cases;
  for (const char* name : {"cases.jsonl", "extra_activations.jsonl"}) {
    const std::string path = std::string(CONVJIT_SHARED_DIR) + "/conformance/" + name;
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot read " << path;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) cases.push_back(Json::parse(line));
    }
  }
  return cases;
}

struct Variant {
  Isa isa;
  Backend backend;
  int threads;
};

/// Xbyak on every ISA the host runs, 1 and 2 threads.
std::vector<Variant> xbyak_variants() {
  std::vector<Variant> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!host_supports(isa)) continue;
    out.push_back({isa, Backend::kXbyak, 1});
    out.push_back({isa, Backend::kXbyak, 2});
  }
  return out;
}

/// LLVM on the host's best ISA (its compiles take milliseconds: fewer cases).
std::vector<Variant> llvm_variants() {
  const Isa best = host_supports(Isa::kAvx512) ? Isa::kAvx512 : Isa::kAvx2;
  if (!host_supports(best)) return {};
  return {{best, Backend::kLlvm, 1}, {best, Backend::kLlvm, 2}};
}

std::vector<Variant> variants() {
  std::vector<Variant> out = xbyak_variants();
  for (const Variant& v : llvm_variants()) out.push_back(v);
  return out;
}

/// Runs `length` steps of one stream through `sk` in random chunks, then flushes; returns the
/// concatenated outputs in the spec's layout: (Lout, F') rows, or (F', Lout) for
/// channels_first, whose chunks are (C, chunk) and outputs (F', count) with channel rows
/// max_outputs(chunk) apart. Checks the canaries of every output buffer.
std::vector<float> stream_whole(const StreamKernel& sk, const PackedWeights& w,
                                const std::vector<float>& x, std::int64_t length, unsigned seed,
                                const std::string& where, bool channels_first) {
  const std::int64_t C = sk.channels(), Fo = sk.output_channels();
  StreamState state = sk.make_state(1);
  std::vector<float> out;                       // channels_last rows
  std::vector<std::vector<float>> columns(Fo);  // channels_first: per output channel
  auto take = [&](const float* y, std::int64_t n, std::int64_t stride) {
    if (!channels_first) {
      out.insert(out.end(), y, y + n * Fo);
      return;
    }
    for (std::int64_t c = 0; c < Fo; ++c) {
      columns[c].insert(columns[c].end(), y + c * stride, y + c * stride + n);
    }
  };
  std::int64_t at = 0;
  std::vector<float> chunk_in;
  for (std::int64_t chunk : random_chunks(length, seed)) {
    const float* in = x.data() + at * C;
    if (channels_first) {  // columns [at, at + chunk) of every channel
      chunk_in.resize(static_cast<std::size_t>(C * chunk));
      for (std::int64_t c = 0; c < C; ++c) {
        std::copy(x.begin() + c * length + at, x.begin() + c * length + at + chunk,
                  chunk_in.begin() + c * chunk);
      }
      in = chunk_in.data();
    }
    Canaried y(sk.max_outputs(chunk) * Fo);
    const std::int64_t n = sk.step(in, chunk, w, y.data(), state);
    EXPECT_LE(n, sk.max_outputs(chunk)) << where;
    if (!channels_first) {
      EXPECT_TRUE(y.intact(n * Fo)) << where << ": a step wrote past its " << n << " outputs";
    } else {
      EXPECT_TRUE(y.intact(sk.max_outputs(chunk) * Fo)) << where;
    }
    take(y.data(), n, sk.max_outputs(chunk));
    at += chunk;
  }
  EXPECT_EQ(state.position(0), length) << where;
  Canaried tail(sk.max_flush_outputs() * Fo);
  const std::int64_t n = sk.flush(w, tail.data(), state);
  EXPECT_LE(n, sk.max_flush_outputs()) << where;
  EXPECT_TRUE(tail.intact(channels_first ? sk.max_flush_outputs() * Fo : n * Fo))
      << where << ": flush wrote past its " << n << " outputs";
  take(tail.data(), n, sk.max_flush_outputs());
  if (channels_first) {
    for (const auto& column : columns) out.insert(out.end(), column.begin(), column.end());
  }
  return out;
}

/// Streams every `every`-th golden case (at its length and 150 longer, or only the longer
/// one) through each variant and compares with Kernel::run on the whole sequence; returns
/// the number of comparisons.
int check_golden_cases(const std::vector<Variant>& vars, std::size_t every, bool both_lengths) {
  const std::vector<Json> cases = golden_forward_cases();
  EXPECT_GT(cases.size(), 500u);
  int compared = 0, refused_over_time = 0;
  for (const Variant& v : vars) {
    for (std::size_t ci = 0; ci < cases.size(); ci += every) {
      const Json& c = cases[ci];
      const std::string id = c["id"].get<std::string>();
      Conv1DSpec spec = parse_spec_json(c["spec"].dump());
      const bool cf = spec.data_format == DataFormat::kChannelsFirst;
      const std::int64_t C = c["input_shape"][cf ? 1 : 2].get<std::int64_t>();
      CompileOptions opts;
      opts.isa = v.isa;
      opts.backend = v.backend;
      opts.threads = v.threads;
      if (cf && is_axis_activation(spec.activation)) {
        try {  // over time: every output depends on the whole sequence
          (void)compile_stream(spec, C, opts);
          ADD_FAILURE() << id << ": an axis activation over time should be refused";
        } catch (const Error& e) {
          EXPECT_EQ(e.argument(), "activation") << id;
          ++refused_over_time;
        }
        continue;
      }
      // The case's length, and a longer one that makes slots compact and chunks run in place.
      const std::int64_t case_length = c["input_shape"][cf ? 2 : 1].get<std::int64_t>();
      for (std::int64_t length : {case_length, case_length + 150}) {
        if (!both_lengths && length == case_length) continue;
        const std::string where = fmt::format("{} [{} {} threads={} L={}]", id, isa_name(v.isa),
                                              backend_name(v.backend), v.threads, length);
        StreamOptions so;
        so.sequence_length = length;  // needed by same + strides > 1 only
        StreamKernel sk = compile_stream(spec, C, opts, so);
        const std::int64_t K = spec.kernel_size, Cg = C / spec.groups;
        const std::vector<float> kernel = testing_stream::uniform(K * Cg * spec.filters, 7);
        const std::vector<float> bias = testing_stream::uniform(spec.filters, 8);
        const std::vector<float> x = testing_stream::uniform(length * C, 9);
        const PackedWeights w =
            sk.pack_weights(kernel.data(), spec.use_bias ? bias.data() : nullptr);

        // The whole sequence, through a kernel compiled for exactly this length.
        Kernel whole = compile(spec, cf ? Shape3{1, C, length} : Shape3{1, length, C}, opts);
        std::vector<float> expected;
        try {
          expected.resize(static_cast<std::size_t>(whole.output_size(1, length)));
          const PackedWeights ww =
              whole.pack_weights(kernel.data(), spec.use_bias ? bias.data() : nullptr);
          whole.run(x.data(), ww, expected.data(), 1, length);
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::kInvalidShape) << where << e.what();
          expected.clear();  // a valid conv shorter than its window: no output at all
        }
        for (unsigned seed : {1u, 2u}) {
          const std::vector<float> got =
              stream_whole(sk, w, x, length, seed * 31 + compared, where, cf);
          const std::string diff = first_difference(got, expected, sk.output_channels());
          EXPECT_TRUE(diff.empty()) << where << " seed " << seed << ": " << diff;
          if (!diff.empty()) return compared;
        }
        ++compared;
      }
    }
  }
  if (every == 1) {
    EXPECT_GT(refused_over_time, 0);
  }
  return compared;
}

TEST(StreamBitIdentity, EveryGoldenSpecAnyChunkingMatchesTheWholeSequenceXbyak) {
  if (xbyak_variants().empty()) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  EXPECT_GT(check_golden_cases(xbyak_variants(), 1, true), 1000);
}

TEST(StreamBitIdentity, GoldenSpecsAnyChunkingMatchTheWholeSequenceLlvm) {
  if (llvm_variants().empty()) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  EXPECT_GT(check_golden_cases(llvm_variants(), 9, false), 80);
}

/// Three streams of every golden spec stepped together one sample at a time (the batched
/// path: their outputs computed by one call), the third joining late.
TEST(StreamBitIdentity, EveryGoldenSpecBatchedSampleBySampleMatchesTheWholeSequence) {
  const std::vector<Json> cases = golden_forward_cases();
  int compared = 0;
  for (const Variant& v : xbyak_variants()) {
    for (const Json& c : cases) {
      const Conv1DSpec spec = parse_spec_json(c["spec"].dump());
      if (spec.data_format == DataFormat::kChannelsFirst) continue;
      const std::int64_t C = c["input_shape"][2].get<std::int64_t>();
      const std::int64_t L = c["input_shape"][1].get<std::int64_t>() + 40, late = 5;
      CompileOptions opts;
      opts.isa = v.isa;
      opts.threads = v.threads;
      const std::string where =
          fmt::format("{} [{} threads={}]", c["id"].get<std::string>(), isa_name(v.isa), v.threads);
      StreamOptions so;
      so.sequence_length = L;
      const StreamKernel sk = compile_stream(spec, C, opts, so);
      const std::int64_t K = spec.kernel_size, Cg = C / spec.groups, Fo = sk.output_channels();
      const auto kernel = testing_stream::uniform(K * Cg * spec.filters, 21);
      const auto bias = testing_stream::uniform(spec.filters, 22);
      const PackedWeights w = sk.pack_weights(kernel.data(), spec.use_bias ? bias.data() : nullptr);
      std::vector<std::vector<float>> x, got(3);
      for (unsigned b = 0; b < 3; ++b) x.push_back(testing_stream::uniform(L * C, 30 + b));
      StreamState state = sk.make_state(4);
      const std::int64_t slot_of[3] = {3, 1, 2};
      for (std::int64_t t = 0; t < L + late; ++t) {
        std::vector<float> in;
        std::vector<std::int64_t> idx, who;
        for (std::int64_t b = 0; b < 3; ++b) {
          const std::int64_t at = b == 2 ? t - late : t;
          if (at < 0 || at >= L) continue;
          in.insert(in.end(), x[b].begin() + at * C, x[b].begin() + (at + 1) * C);
          idx.push_back(slot_of[b]);
          who.push_back(b);
        }
        const auto B = static_cast<std::int64_t>(idx.size());
        Canaried y(B * sk.max_outputs(1) * Fo);
        std::vector<std::int64_t> counts(idx.size());
        sk.step(in.data(), 1, w, y.data(), state, idx.data(), B, counts.data());
        ASSERT_TRUE(y.intact(B * sk.max_outputs(1) * Fo)) << where;
        for (std::int64_t j = 0; j < B; ++j) {
          const float* rows = y.data() + j * sk.max_outputs(1) * Fo;
          got[who[j]].insert(got[who[j]].end(), rows, rows + counts[j] * Fo);
        }
      }
      Kernel whole = compile(spec, {1, L, C}, opts);
      std::vector<float> expected;
      try {
        expected.resize(static_cast<std::size_t>(whole.output_size(1, L)));
      } catch (const Error&) {
        continue;  // a valid conv longer than the sequence
      }
      const PackedWeights ww =
          whole.pack_weights(kernel.data(), spec.use_bias ? bias.data() : nullptr);
      for (std::int64_t b = 0; b < 3; ++b) {
        std::vector<float> tail(sk.max_flush_outputs() * Fo + 1);
        const std::int64_t n = sk.flush(w, tail.data(), state, slot_of[b]);
        got[b].insert(got[b].end(), tail.begin(), tail.begin() + n * Fo);
        whole.run(x[b].data(), ww, expected.data(), 1, L);
        const std::string diff = first_difference(got[b], expected, Fo);
        ASSERT_TRUE(diff.empty()) << where << " stream " << b << ": " << diff;
      }
      EXPECT_TRUE(testing_stream::state_canaries_intact(state)) << where;
      ++compared;
    }
  }
  if (!xbyak_variants().empty()) {
    EXPECT_GT(compared, 400);
  }
}

TEST(StreamBitIdentity, BatchedStreamsAtDifferentPositionsThroughStateIndices) {
  const char* specs[] = {
      "filters=128,kernel_size=2,dilation_rate=4,padding=causal,activation=tanh",
      "filters=48,kernel_size=3,padding=same,groups=48,activation=silu",
      "filters=40,kernel_size=10,strides=5,padding=valid,activation=gelu",
      "filters=32,kernel_size=5,padding=same,use_bias=False",
      "filters=64,kernel_size=3,strides=2,padding=causal,activation=glu",
  };
  const std::int64_t channels[] = {64, 48, 1, 24, 16};
  for (const Variant& v : variants()) {
    for (int i = 0; i < 5; ++i) {
      const Conv1DSpec spec = parse_spec(specs[i]);
      const std::int64_t C = channels[i], L = 300, streams = 5, slots = 8;
      CompileOptions opts;
      opts.isa = v.isa;
      opts.backend = v.backend;
      opts.threads = v.threads;
      const std::string where = fmt::format("{} [{} {} threads={}]", specs[i], isa_name(v.isa),
                                            backend_name(v.backend), v.threads);
      StreamKernel sk = compile_stream(spec, C, opts);
      const std::int64_t K = spec.kernel_size, Cg = C / spec.groups, Fo = sk.output_channels();
      const auto kernel = testing_stream::uniform(K * Cg * spec.filters, 3);
      const auto bias = testing_stream::uniform(spec.filters, 4);
      const PackedWeights w = sk.pack_weights(kernel.data(), spec.use_bias ? bias.data() : nullptr);
      // Stream b is its own sequence, and joins the batch after b * 7 inputs.
      std::vector<std::vector<float>> x, got(streams);
      for (std::int64_t b = 0; b < streams; ++b)
        x.push_back(testing_stream::uniform(L * C, 50 + b));
      const std::int64_t slot_of[] = {6, 2, 0, 7, 3};  // a permutation's prefix
      StreamState state = sk.make_state(slots);
      std::vector<std::int64_t> consumed(streams, 0);
      std::mt19937 rng(11);
      std::int64_t clock = 0;
      while (true) {
        const std::int64_t chunk = std::uniform_int_distribution<std::int64_t>(1, 9)(rng);
        std::vector<std::int64_t> active, idx;
        std::vector<float> in;
        for (std::int64_t b = 0; b < streams; ++b) {
          if (clock < b * 7 || consumed[b] + chunk > L) continue;
          active.push_back(b);
          idx.push_back(slot_of[b]);
          in.insert(in.end(), x[b].begin() + consumed[b] * C,
                    x[b].begin() + (consumed[b] + chunk) * C);
        }
        clock += chunk;
        if (active.empty()) {
          if (clock > 7 * streams) break;
          continue;
        }
        const auto B = static_cast<std::int64_t>(active.size());
        Canaried y(B * sk.max_outputs(chunk) * Fo);
        std::vector<std::int64_t> counts(active.size(), -1);
        sk.step(in.data(), chunk, w, y.data(), state, idx.data(), B, counts.data());
        for (std::int64_t j = 0; j < B; ++j) {
          const float* rows = y.data() + j * sk.max_outputs(chunk) * Fo;
          got[active[j]].insert(got[active[j]].end(), rows, rows + counts[j] * Fo);
          consumed[active[j]] += chunk;
        }
        EXPECT_TRUE(y.intact(B * sk.max_outputs(chunk) * Fo)) << where;
      }
      Kernel whole = compile(spec, {1, kDynamic, C}, opts);
      const PackedWeights ww =
          whole.pack_weights(kernel.data(), spec.use_bias ? bias.data() : nullptr);
      for (std::int64_t b = 0; b < streams; ++b) {
        std::vector<float> tail(sk.max_flush_outputs() * Fo);
        const std::int64_t n = sk.flush(w, tail.data(), state, slot_of[b]);
        got[b].insert(got[b].end(), tail.begin(), tail.begin() + n * Fo);
        const std::int64_t len = consumed[b];
        std::vector<float> expected(static_cast<std::size_t>(whole.output_size(1, len)));
        whole.run(x[b].data(), ww, expected.data(), 1, len);
        ASSERT_EQ(got[b].size(), expected.size()) << where << " stream " << b;
        const std::string diff = first_difference(got[b], expected, Fo);
        ASSERT_TRUE(diff.empty()) << where << " stream " << b << ": " << diff;
      }
      EXPECT_TRUE(testing_stream::state_canaries_intact(state)) << where;
    }
  }
}

}  // namespace
}  // namespace convjit
