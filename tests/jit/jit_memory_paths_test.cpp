// The memory-side paths of the Xbyak backend against the reference: software prefetch of
// later tiles' input rows, the depthwise channel-block sweep (loop_order btc with weights
// not in registers: one call computes many blocks), straight taps with weights as memory
// operands (K up to 32), and streaming stores (vmovntps) with their run-time alignment
// branch. Every run checks canaries, split ranges bit for bit, and that an aligned, a
// 16-byte aligned and a misaligned output buffer (the two store paths) give the same bits.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "compiler/backend/xbyak/generate.hpp"
#include "compiler/backend/xbyak/xbyak_driver.hpp"
#include "compiler/reference/reference.hpp"
#include "jit_harness.hpp"

namespace convjit::detail::jit_test {
namespace {

// Runs the whole range into `out` (any alignment) and returns its floats. The input is
// `input` when given (a copy of d.input placed elsewhere), else d.input.
std::vector<float> run_into(const GeneratedKernel& kernel, const Problem& p, const CaseData& d,
                            float* out, const float* input = nullptr) {
  std::vector<float> packed(kernel.packed_weights_floats() + 1);
  kernel.pack_weights(d.kernel.data(), packed.data());
  std::vector<float> scratch(kernel.scratch_floats(p.length) + 1);
  const KernelArgs a = kernel_args(p, input != nullptr ? input : d.input.data(), packed.data(),
                                   d.bias.data(), out, scratch.data());
  kernel.entry()(&a);
  return std::vector<float>(out, out + p.output_size());
}

// Checks `kernel` on `p`: reference + splits, then the aligned and misaligned store paths.
void check_case(const GeneratedKernel& kernel, const Problem& p, std::uint32_t seed,
                const std::string& what, int* failures) {
  const CaseData d = make_data(p, seed);
  std::vector<float> got;
  const CheckResult r = run_and_check(kernel, p, d, /*check_splits=*/true, &got);
  if (!r.ok) {
    if (++*failures <= 10) ADD_FAILURE() << what << ": " << r.message;
    return;
  }
  const std::size_t n = static_cast<std::size_t>(p.output_size());
  // aligned_alloc needs a size that is a multiple of the alignment (ASan checks it).
  float* storage = static_cast<float*>(std::aligned_alloc(64, ((n + 64) * 4 + 63) / 64 * 64));
  ASSERT_NE(storage, nullptr);
  // 64-byte aligned, 4 bytes off, 16 bytes off (a std::vector's usual alignment)
  for (std::size_t shift : {std::size_t{0}, std::size_t{1}, std::size_t{4}}) {
    const std::vector<float> out = run_into(kernel, p, d, storage + shift);
    if (n > 0 && std::memcmp(out.data(), got.data(), n * 4) != 0 && ++*failures <= 10) {
      ADD_FAILURE() << what << ": output at +" << shift * 4
                    << " bytes differs from the harness run [" << kernel.name() << " | "
                    << to_string(kernel.schedule()) << "]";
    }
  }
  std::free(storage);
}

TEST(JitMemoryPaths, DepthwiseSweepPrefetchAndStreamingStores) {
  const int v = 8;  // AVX2: runs here
  int cases = 0, failures = 0;
  std::uint32_t seed = 500;
  struct Tile {
    int t, oc;
  };
  // 4x2: 8 accumulators + 3 temps, K*2 weights do not fit for K >= 3 -> sweep;
  // 6x1 with K=4: 6 + 4 + 3 registers -> weights in registers (no sweep), for contrast.
  for (const Tile tile : {Tile{4, 2}, Tile{6, 1}}) {
    for (std::int64_t channels : {std::int64_t{5 * v + 3}, std::int64_t{4 * v}}) {
      for (std::int64_t k : {3, 4, 31}) {
        for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
          for (bool nt : {false, true}) {
            ConvCase c;
            c.batch = 2;
            c.length = k == 31 ? 45 : 23;
            c.channels = channels;
            c.filters = channels;
            c.groups = channels;
            c.kernel = k;
            c.padding = pad;
            c.dilation = k == 3 ? 2 : 1;
            c.activation = nt ? Activation::kGelu : Activation::kRelu;
            c.use_bias = (seed % 3) != 0;
            const Problem p = make_case_problem(c);
            Schedule s = make_schedule(Isa::kAvx2, tile.t, tile.oc, Strategy::kDepthwise);
            s.loop_order = LoopOrder::kBatchTimeChannel;
            s.block_t = pad == Padding::kSame ? 9 / s.tile_t * s.tile_t : 0;
            s.prefetch_distance = nt ? 512 : 0;
            s.nontemporal_stores = nt;
            const auto kernel = generate_xbyak(p, s);
            const auto& plan = static_cast<const XbyakDriver&>(*kernel).plan();
            EXPECT_EQ(plan.sweep, !plan.dw_weights_in_regs) << kernel->name();
            EXPECT_EQ(plan.unroll_k, true) << kernel->name();
            check_case(*kernel, p, seed++, fmt::format("depthwise C={} K={}", channels, k),
                       &failures);
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 2 * 2 * 3 * 3 * 2);
  EXPECT_EQ(failures, 0);
}

TEST(JitMemoryPaths, DirectPrefetchAndStreamingStores) {
  const int v = 8;
  int cases = 0, failures = 0;
  std::uint32_t seed = 900;
  struct Dense {
    std::int64_t channels, filters, groups;
  };
  for (const Dense shape : {Dense{5, 2 * v + 3, 1}, Dense{12, 4 * v, 2}, Dense{1, 4 * v, 1}}) {
    for (std::int64_t stride : {1, 2, 5}) {
      for (std::int64_t dilation : {1, 3}) {
        for (bool nt : {false, true}) {
          ConvCase c;
          c.batch = 2;
          c.length = 61;
          c.channels = shape.channels;
          c.filters = shape.filters;
          c.groups = shape.groups;
          c.kernel = stride == 5 ? 10 : 3;
          c.stride = stride;
          c.dilation = stride == 5 ? 1 : dilation;
          c.padding = dilation == 3 ? Padding::kCausal : Padding::kSame;
          c.activation = nt ? Activation::kSilu : Activation::kLinear;
          const Problem p = make_case_problem(c);
          Schedule s = make_schedule(Isa::kAvx2, 3, 2, Strategy::kDirect, 2);
          s.loop_order = nt ? LoopOrder::kBatchTimeChannel : LoopOrder::kBatchChannelTime;
          s.prefetch_distance = 64 * (1 + static_cast<int>(seed % 3));
          s.nontemporal_stores = nt;
          s.unroll_k = nt ? static_cast<int>(std::min<std::int64_t>(16, p.kernel)) : 1;
          const auto kernel = generate_xbyak(p, s);
          EXPECT_GE(static_cast<const XbyakDriver&>(*kernel).plan().prefetch_tiles, 1);
          // Streaming stores only where rows are whole cache lines apart (F*4 % 64 == 0).
          EXPECT_EQ(static_cast<const XbyakDriver&>(*kernel).plan().nontemporal,
                    nt && (shape.filters * 4) % 64 == 0)
              << kernel->name();
          check_case(*kernel, p, seed++,
                     fmt::format("direct C={} F={} g={} s={}", shape.channels, shape.filters,
                                 shape.groups, stride),
                     &failures);
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 3 * 3 * 2 * 2);
  EXPECT_EQ(failures, 0);
}

// Long depthwise kernels with a tall one-vector tile: tap groups with their weights in
// registers and each input row loaded once per group (dw_tap_block), the edge computed in
// groups of ur_t steps, and sweeps capped at sweep_blocks blocks per call (C = 13 full
// blocks + a masked tail: two sweep calls and the tail call per time chunk).
TEST(JitMemoryPaths, DepthwiseTapGroupsAndEdgeRows) {
  const int v = 8;
  int cases = 0, failures = 0;
  std::uint32_t seed = 1300;
  for (std::int64_t k : {9, 31}) {
    for (std::int64_t dilation : {1, 2}) {
      for (Padding pad : {Padding::kSame, Padding::kCausal, Padding::kValid}) {
        ConvCase c;
        c.batch = 2;
        c.length = 77;
        c.channels = 13 * v + 3;
        c.filters = c.channels;
        c.groups = c.channels;
        c.kernel = k;
        c.dilation = dilation;
        c.padding = pad;
        c.activation = (seed % 2) != 0 ? Activation::kSilu : Activation::kLinear;
        c.use_bias = (seed % 3) != 0;
        const Problem p = make_case_problem(c);
        Schedule s = make_schedule(Isa::kAvx2, 10, 1, Strategy::kDepthwise);
        s.loop_order = LoopOrder::kBatchTimeChannel;
        s.block_t = pad == Padding::kCausal ? 25 / s.tile_t * s.tile_t : 0;
        const auto kernel = generate_xbyak(p, s);
        const auto& plan = static_cast<const XbyakDriver&>(*kernel).plan();
        // 10 accumulators, input and mask temporaries, 4 weight registers.
        EXPECT_EQ(plan.dw_tap_block, 4) << kernel->name();
        EXPECT_TRUE(plan.sweep) << kernel->name();
        const std::int64_t rows = 10 + (k - 1) * dilation;
        EXPECT_EQ(plan.sweep_blocks, std::max<std::int64_t>(1, 16384 / (rows * 32)));
        EXPECT_EQ(static_cast<const XbyakDriver&>(*kernel).full_stats().interior_fmas, 10 * k)
            << kernel->name();
        check_case(*kernel, p, seed++, fmt::format("depthwise tap groups K={} d={}", k, dilation),
                   &failures);
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 2 * 2 * 3);
  EXPECT_EQ(failures, 0);
}

// The default schedule of a long depthwise kernel takes the tall tile (and so tap groups).
TEST(JitMemoryPaths, DefaultScheduleUsesTapGroupsForLongDepthwise) {
  ConvCase c;
  c.batch = 1;
  c.length = 64;
  c.channels = 32;
  c.filters = 32;
  c.groups = 32;
  c.kernel = 31;
  c.padding = Padding::kSame;
  const Problem p = make_case_problem(c);
  const auto kernel = generate_xbyak(p, default_schedule(p, Isa::kAvx2));
  const auto& plan = static_cast<const XbyakDriver&>(*kernel).plan();
  EXPECT_EQ(plan.ur_t, 10);
  EXPECT_EQ(plan.ur_oc, 1);
  EXPECT_EQ(plan.dw_tap_block, 4);
  int failures = 0;
  check_case(*kernel, p, 1400u, "default depthwise K=31", &failures);
  EXPECT_EQ(failures, 0);
}

// Streaming stores and 4 KiB aliasing: where the output runs a few blocks ahead of the
// input modulo 4 KiB, ascending sweeps would make every input load wait for the previous
// blocks' streamed stores, so the driver sweeps down (or, without a sweep, stores
// normally). Every placement must give the reference's values and the same bits.
TEST(JitMemoryPaths, StoreModeFollowsBufferPlacement) {
  ConvCase c;
  c.batch = 1;
  c.length = 40;
  c.channels = 512;  // rows 2 KiB apart: row pairs alias at 0 and 2 KiB
  c.filters = 512;
  c.groups = 512;
  c.kernel = 4;
  c.padding = Padding::kCausal;
  const Problem p = make_case_problem(c);
  Schedule s = make_schedule(Isa::kAvx2, 6, 2, Strategy::kDepthwise);
  s.loop_order = LoopOrder::kBatchTimeChannel;
  s.nontemporal_stores = true;
  const auto kernel = generate_xbyak(p, s);
  const KernelPlan& plan = static_cast<const XbyakDriver&>(*kernel).plan();
  ASSERT_TRUE(plan.sweep);
  ASSERT_TRUE(plan.nontemporal);

  const std::size_t in_floats = static_cast<std::size_t>(p.input_size());
  const std::size_t out_floats = static_cast<std::size_t>(p.output_size());
  const std::size_t arena_bytes = (in_floats + out_floats) * 4 + 3 * 4096;
  auto* arena = static_cast<float*>(std::aligned_alloc(4096, arena_bytes / 4096 * 4096 + 4096));
  ASSERT_NE(arena, nullptr);
  const CaseData d = make_data(p, 31);
  std::vector<float> expected(out_floats);
  reference_conv1d(p, d.input.data(), d.kernel.data(), d.bias.data(), expected.data());
  const double tol = 1e-5 * accumulation_scale(p, d);

  struct Placement {
    std::int64_t in_shift, out_shift;  // bytes past 4 KiB boundaries
    StoreMode mode;
  };
  const std::vector<float>* first = nullptr;
  std::vector<std::vector<float>> results;
  results.reserve(4);
  // Output 64 bytes behind the input (ascending is safe), 64 ahead (descending), 48 ahead
  // with a 16-byte aligned input (a std::vector's; `convjit bench`), 1 KiB ahead.
  for (const Placement& pl : {Placement{64, 0, {true, false}}, Placement{0, 64, {true, true}},
                              Placement{16, 64, {true, true}}, Placement{0, 1024, {true, false}}}) {
    const std::size_t in_bytes = (in_floats * 4 + 64 + 4095) / 4096 * 4096;
    float* in = arena + pl.in_shift / 4;
    float* out = arena + (in_bytes + static_cast<std::size_t>(pl.out_shift)) / 4;
    const std::int64_t out_minus_in = pl.out_shift - pl.in_shift;
    std::copy(d.input.begin(), d.input.end(), in);
    const StoreMode mode = store_mode(plan, in, out);
    EXPECT_EQ(mode.streaming, pl.mode.streaming) << out_minus_in;
    EXPECT_EQ(mode.descending, pl.mode.descending) << out_minus_in;
    results.push_back(run_into(*kernel, p, d, out, in));
    double worst = 0.0;
    for (std::size_t i = 0; i < out_floats; ++i) {
      worst = std::max(worst, std::abs(static_cast<double>(results.back()[i]) - expected[i]));
    }
    EXPECT_LE(worst, tol) << "out - in = " << out_minus_in;
    if (first == nullptr) first = &results.front();
    EXPECT_EQ(std::memcmp(first->data(), results.back().data(), out_floats * 4), 0)
        << "out - in = " << out_minus_in;
  }
  // Without a sweep there is no other order: a hazardous placement stores normally.
  Schedule columns = s;
  columns.loop_order = LoopOrder::kBatchChannelTime;
  const auto k2 = generate_xbyak(p, columns);
  const KernelPlan& plan2 = static_cast<const XbyakDriver&>(*k2).plan();
  EXPECT_FALSE(plan2.sweep);
  EXPECT_FALSE(store_mode(plan2, arena, arena + 16).streaming);  // output 64 bytes ahead
  EXPECT_TRUE(store_mode(plan2, arena + 16, arena).streaming);
  EXPECT_FALSE(store_mode(plan2, arena, arena + 4100).streaming);  // misaligned output
  std::free(arena);
}

// The AVX-512 forms of the same paths generate (execution needs an AVX-512 host).
TEST(JitMemoryPaths, Avx512FormsGenerate) {
  int generated = 0;
  for (bool nt : {false, true}) {
    ConvCase c;
    c.length = 40;
    c.channels = 70;
    c.filters = 70;
    c.groups = 70;
    c.kernel = 31;
    c.padding = Padding::kSame;
    Schedule s = make_schedule(Isa::kAvx512, 6, 2, Strategy::kDepthwise);
    s.loop_order = LoopOrder::kBatchTimeChannel;
    s.prefetch_distance = 512;
    s.nontemporal_stores = nt;
    const Problem p = make_case_problem(c);
    const auto kernel = generate_xbyak(p, s);
    EXPECT_TRUE(static_cast<const XbyakDriver&>(*kernel).plan().sweep);
    EXPECT_GT(kernel->code_size(), 0u);
    ++generated;
    if (host_has_avx512()) {
      int failures = 0;
      check_case(*kernel, p, 77u + static_cast<std::uint32_t>(nt), "avx512 depthwise", &failures);
      EXPECT_EQ(failures, 0);
    }
  }
  EXPECT_EQ(generated, 2);
  if (!host_has_avx512()) GTEST_SKIP() << "host has no AVX-512: 2 kernels generated, not run";
}

}  // namespace
}  // namespace convjit::detail::jit_test
