// The memory-side paths of the Xbyak backend against the reference: software prefetch of
// later tiles' input rows, the depthwise channel-block sweep (loop_order btc with weights
// not in registers: one call computes many blocks), straight taps with weights as memory
// operands (K up to 32), and streaming stores (vmovntps) with their run-time alignment
// branch. Every run checks canaries, split ranges bit for bit, and that an aligned, a
// 16-byte aligned and a misaligned output buffer (the two store paths) give the same bits.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "compiler/backend/xbyak/generate.hpp"
#include "compiler/backend/xbyak/xbyak_kernel.hpp"
#include "jit_harness.hpp"

namespace convjit::detail::jit_test {
namespace {

// Runs the whole range into `out` (any alignment) and returns its floats.
std::vector<float> run_into(const GeneratedKernel& kernel, const Problem& p, const CaseData& d,
                            float* out) {
  std::vector<float> packed(kernel.packed_weights_floats() + 1);
  kernel.pack_weights(d.kernel.data(), packed.data());
  std::vector<float> scratch(kernel.scratch_floats(p.length) + 1);
  KernelArgs a;
  a.input = d.input.data();
  a.weights = packed.data();
  a.bias = p.use_bias ? d.bias.data() : nullptr;
  a.output = out;
  a.scratch = scratch.data();
  a.length = p.length;
  a.out_length = p.out_length;
  a.pad_left = p.pad_left;
  a.n_end = p.batch;
  a.t_end = p.out_length;
  a.oc_end = p.filters;
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
            s.block_t = pad == Padding::kSame ? 9 : 0;
            s.prefetch_distance = nt ? 512 : 0;
            s.nontemporal_stores = nt;
            const auto kernel = generate_xbyak(p, s);
            const auto& plan = static_cast<const XbyakKernel&>(*kernel).plan();
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
          s.unroll_k = nt ? 16 : 1;
          const auto kernel = generate_xbyak(p, s);
          EXPECT_GE(static_cast<const XbyakKernel&>(*kernel).plan().prefetch_tiles, 1);
          // Streaming stores only where rows are whole cache lines apart (F*4 % 64 == 0).
          EXPECT_EQ(static_cast<const XbyakKernel&>(*kernel).plan().nontemporal,
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
        s.block_t = pad == Padding::kCausal ? 25 : 0;
        const auto kernel = generate_xbyak(p, s);
        const auto& plan = static_cast<const XbyakKernel&>(*kernel).plan();
        // 10 accumulators, input and mask temporaries, 4 weight registers.
        EXPECT_EQ(plan.dw_tap_block, 4) << kernel->name();
        EXPECT_TRUE(plan.sweep) << kernel->name();
        const std::int64_t rows = 10 + (k - 1) * dilation;
        EXPECT_EQ(plan.sweep_blocks, std::max<std::int64_t>(1, 16384 / (rows * 32)));
        EXPECT_EQ(static_cast<const XbyakKernel&>(*kernel).full_stats().interior_fmas, 10 * k)
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
  const auto& plan = static_cast<const XbyakKernel&>(*kernel).plan();
  EXPECT_EQ(plan.ur_t, 10);
  EXPECT_EQ(plan.ur_oc, 1);
  EXPECT_EQ(plan.dw_tap_block, 4);
  int failures = 0;
  check_case(*kernel, p, 1400u, "default depthwise K=31", &failures);
  EXPECT_EQ(failures, 0);
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
    EXPECT_TRUE(static_cast<const XbyakKernel&>(*kernel).plan().sweep);
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
