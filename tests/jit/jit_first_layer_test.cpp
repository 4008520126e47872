// The edge and first-layer paths of the Xbyak direct kernel against the reference: the
// direct edge in groups of ur_t steps (each tap's in-range rows found at run time), tap classes
// (one input channel, stride > 1: each input row broadcast once for every tap that reads it, the
// taps of each element summed in KernelPlan::tap_order, the edge in the same order) and the
// direct channel-block sweep (loop_order btc, weights of the sweep in L1: one call computes
// whole output rows). Every run checks canaries and split ranges bit for bit: a split that
// moves an element from the interior to the edge must not change its bits.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "compiler/backend/xbyak/generate.hpp"
#include "compiler/backend/xbyak/xbyak_driver.hpp"
#include "jit_harness.hpp"

namespace convjit::detail::jit_test {
namespace {

const XbyakDriver& as_xbyak(const GeneratedKernel& k) {
  return static_cast<const XbyakDriver&>(k);
}

// Taps in classes k mod s, ascending within a class.
std::vector<std::int64_t> class_order(std::int64_t kernel, std::int64_t stride) {
  std::vector<std::int64_t> order;
  for (std::int64_t c = 0; c < stride; ++c) {
    for (std::int64_t k = c; k < kernel; k += stride) order.push_back(k);
  }
  return order;
}

TEST(JitFirstLayer, TapClassesMatchReference) {
  int cases = 0, failures = 0;
  std::uint32_t seed = 4100;
  struct Shape {
    std::int64_t kernel, stride;
  };
  // K = 2s (wav2vec2), K not a multiple of s, K = s + 1, long K with small s.
  for (const Shape shape : {Shape{10, 5}, Shape{7, 3}, Shape{3, 2}, Shape{8, 2}}) {
    for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
      // 64: four full blocks (sweep); 40: two blocks (sweep) + a masked tail; 8: one vector.
      for (std::int64_t filters : {64, 40, 8}) {
        for (LoopOrder order : {LoopOrder::kBatchTimeChannel, LoopOrder::kBatchChannelTime}) {
          ConvCase c;
          c.batch = 2;
          c.length = 97;
          c.channels = 1;
          c.filters = filters;
          c.kernel = shape.kernel;
          c.stride = shape.stride;
          c.padding = pad;
          c.activation = (seed % 3) == 0 ? Activation::kGelu : Activation::kLinear;
          c.use_bias = (seed % 4) != 1;
          const Problem p = make_case_problem(c);
          const std::int64_t class_taps = (shape.kernel + shape.stride - 1) / shape.stride;
          const int tile_oc = 2;
          const int tile_t = static_cast<int>(
              std::min<std::int64_t>(4, (16 - 1 - class_taps * tile_oc) / tile_oc));
          Schedule s = make_schedule(Isa::kAvx2, tile_t, tile_oc, Strategy::kDirect);
          s.loop_order = order;
          s.block_t = pad == Padding::kCausal ? 3 * tile_t : 0;  // several calls per column
          const auto kernel = generate_xbyak(p, s);
          const KernelPlan& plan = as_xbyak(*kernel).plan();
          EXPECT_EQ(plan.tap_class_size, class_taps) << kernel->name();
          EXPECT_EQ(plan.tap_order, class_order(shape.kernel, shape.stride)) << kernel->name();
          EXPECT_EQ(plan.sweep, order == LoopOrder::kBatchTimeChannel && filters >= 32)
              << kernel->name();
          // No loop inside a tile: every tap of every accumulator is straight code.
          const EmitStats& st = as_xbyak(*kernel).full_stats();
          if (plan.full.present) {
            EXPECT_EQ(st.interior_fmas, tile_t * tile_oc * shape.kernel) << kernel->name();
            EXPECT_EQ(st.interior_stack_refs, 0) << kernel->name();
          }
          const CaseData d = make_data(p, seed++);
          const CheckResult r = run_and_check(*kernel, p, d, /*check_splits=*/true);
          if (!r.ok && ++failures <= 10) {
            ADD_FAILURE() << fmt::format("K={} s={} {} F={} {}: {}", shape.kernel, shape.stride,
                                         padding_name(pad), filters, kernel->name(), r.message);
          }
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 4 * 3 * 3 * 2);
  EXPECT_EQ(failures, 0);
}

// Grouped convolutions with one input channel per group (a depth multiplier > 1 runs as
// grouped direct) take tap classes too; dilation > 1 and K <= s do not.
TEST(JitFirstLayer, TapClassesOnlyWhereTheyApply) {
  ConvCase grouped;
  grouped.batch = 1;
  grouped.length = 50;
  grouped.channels = 4;
  grouped.groups = 4;
  grouped.filters = 32;  // 8 per group: one vector each
  grouped.kernel = 6;
  grouped.stride = 2;
  grouped.padding = Padding::kSame;
  const Problem p = make_case_problem(grouped);
  const auto kernel = generate_xbyak(p, make_schedule(Isa::kAvx2, 4, 1, Strategy::kDirect));
  EXPECT_EQ(as_xbyak(*kernel).plan().tap_class_size, 3);
  const CheckResult r = run_and_check(*kernel, p, make_data(p, 7), /*check_splits=*/true);
  EXPECT_TRUE(r.ok) << r.message;

  ConvCase dilated = grouped;
  dilated.channels = 1;
  dilated.groups = 1;
  dilated.dilation = 2;
  const auto k2 = generate_xbyak(make_case_problem(dilated),
                                 make_schedule(Isa::kAvx2, 4, 1, Strategy::kDirect));
  EXPECT_EQ(as_xbyak(*k2).plan().tap_class_size, 0);

  ConvCase no_overlap = grouped;
  no_overlap.channels = 1;
  no_overlap.groups = 1;
  no_overlap.kernel = 2;
  no_overlap.stride = 2;
  const auto k3 = generate_xbyak(make_case_problem(no_overlap),
                                 make_schedule(Isa::kAvx2, 4, 1, Strategy::kDirect));
  EXPECT_EQ(as_xbyak(*k3).plan().tap_class_size, 0);
  EXPECT_EQ(as_xbyak(*k3).plan().tap_order, (std::vector<std::int64_t>{0, 1}));

  // A tile too tall for the class's weights falls back to the tap loop.
  ConvCase tall = grouped;
  tall.channels = 1;
  tall.groups = 1;
  tall.kernel = 10;
  tall.stride = 5;
  const auto k4 =
      generate_xbyak(make_case_problem(tall), make_schedule(Isa::kAvx2, 6, 2, Strategy::kDirect));
  EXPECT_EQ(as_xbyak(*k4).plan().tap_class_size, 0);
}

// The heuristic leaves room for the class's weights: wav2vec2's first layer gets a 5x2 AVX2
// tile (10 accumulators, 2x2 weights, 1 broadcast), a 5x4 AVX-512 tile, and the sweep.
TEST(JitFirstLayer, DefaultScheduleForWav2vec2FirstLayer) {
  ConvCase c;
  c.batch = 1;
  c.length = 16000;
  c.channels = 1;
  c.filters = 512;
  c.kernel = 10;
  c.stride = 5;
  const Problem p = make_case_problem(c);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const Schedule s = default_schedule(p, isa);
    EXPECT_EQ(s.strategy, Strategy::kDirect);
    EXPECT_EQ(s.tile_t, 5) << to_string(s);
    EXPECT_EQ(s.tile_oc_vecs, isa == Isa::kAvx2 ? 2 : 4) << to_string(s);
    const auto kernel = generate_xbyak(p, s);
    const KernelPlan& plan = as_xbyak(*kernel).plan();
    EXPECT_EQ(plan.tap_class_size, 2);
    EXPECT_TRUE(plan.sweep);
    if (isa == Isa::kAvx2 || host_has_avx512()) {
      const Problem small = with_length(p, 1, 400);  // the reference is slow at 16000
      const auto k_small = generate_xbyak(small, s);
      const CheckResult r =
          run_and_check(*k_small, small, make_data(small, 11), /*check_splits=*/true);
      EXPECT_TRUE(r.ok) << r.message;
    }
  }
}

// The direct edge in groups of ur_t steps: long edges (dilated causal and same padding,
// WaveNet's d=256), strides, tails, groups that touch both ends of a short input (they take
// single steps), and splits that move elements between the interior, the groups and the
// single steps: every element must keep its bits.
TEST(JitDirectEdge, GroupsOfStepsMatchReference) {
  int cases = 0, failures = 0;
  std::uint32_t seed = 5200;
  for (std::int64_t length : {9, 23, 120}) {
    for (std::int64_t dilation : {1, 7, 33}) {
      for (std::int64_t stride : {1, 2}) {
        for (Padding pad : {Padding::kSame, Padding::kCausal, Padding::kValid}) {
          if (pad == Padding::kCausal && stride > 1) continue;
          ConvCase c;
          c.batch = 2;
          c.length = length;
          c.channels = 5 + static_cast<std::int64_t>(seed % 3) * 6;  // 5, 11, 17
          c.filters = (seed % 2) != 0 ? 19 : 32;                     // with and without a tail
          c.kernel = 2 + static_cast<std::int64_t>(seed % 3);
          c.dilation = dilation;
          c.stride = stride;
          c.padding = pad;
          c.activation = (seed % 4) == 0 ? Activation::kTanh : Activation::kLinear;
          c.use_bias = (seed % 5) != 0;
          const Problem p = make_case_problem(c);
          if (p.out_length <= 0) continue;
          const int tile_t = (seed % 2) != 0 ? 6 : 3;
          Schedule s = make_schedule(Isa::kAvx2, tile_t, 2, Strategy::kDirect, 4);
          s.loop_order =
              (seed % 3) == 0 ? LoopOrder::kBatchTimeChannel : LoopOrder::kBatchChannelTime;
          const auto kernel = generate_xbyak(p, s);
          EXPECT_EQ(as_xbyak(*kernel).plan().tap_class_size, 0) << kernel->name();
          const CaseData d = make_data(p, seed++);
          const CheckResult r = run_and_check(*kernel, p, d, /*check_splits=*/true);
          if (!r.ok && ++failures <= 10) {
            ADD_FAILURE() << fmt::format("L={} d={} s={} {}: {}", length, dilation, stride,
                                         kernel->name(), r.message);
          }
          ++cases;
        }
      }
    }
  }
  EXPECT_GE(cases, 40);
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace convjit::detail::jit_test
