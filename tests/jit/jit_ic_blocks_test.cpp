// Input-channel blocks in the Xbyak direct kernel (Schedule::block_ic, KernelPlan::ic_block):
// the reduction runs one ic block per column call, partial sums in the output (every block
// but the first starts from them, every block but the last stores them raw). Checked against
// the reference with canaries and split ranges, over paddings, strides, dilations, groups,
// tail vectors, fused and axis activations, edges and both layouts.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <vector>

#include "compiler/backend/xbyak/generate.hpp"
#include "compiler/backend/xbyak/xbyak_driver.hpp"
#include "jit_harness.hpp"

namespace convjit::detail::jit_test {
namespace {

const XbyakDriver& as_xbyak(const GeneratedKernel& k) {
  return static_cast<const XbyakDriver&>(k);
}

std::vector<Isa> runnable_isas() {
  std::vector<Isa> isas{Isa::kAvx2};
  if (host_has_avx512()) isas.push_back(Isa::kAvx512);
  return isas;
}

TEST(JitIcBlocks, PlanTakesTheLargestDivisorNotAboveBlockIc) {
  struct Expect {
    std::int64_t channels, groups, block_ic, ic_block, ic_blocks;
  };
  for (const Expect e :
       {Expect{24, 1, 8, 8, 3}, Expect{24, 1, 5, 4, 6}, Expect{24, 1, 7, 6, 4},
        Expect{24, 2, 4, 4, 3}, Expect{512, 1, 85, 64, 8},
        // 13 is prime: the divisor 1 is under half of 4, so no blocks.
        Expect{13, 1, 4, 13, 1}, Expect{24, 1, 0, 24, 1}, Expect{24, 1, 24, 24, 1}}) {
    ConvCase c;
    c.channels = e.channels;
    c.groups = e.groups;
    c.filters = 16 * e.groups;
    c.length = 20;
    const Problem p = make_case_problem(c);
    Schedule s = make_schedule(Isa::kAvx2, 3, 2, Strategy::kDirect, 4);
    s.block_ic = e.block_ic;
    const auto kernel = generate_xbyak(p, s);
    const KernelPlan& plan = as_xbyak(*kernel).plan();
    EXPECT_EQ(plan.ic_block, e.ic_block) << "C=" << e.channels << " block_ic=" << e.block_ic;
    EXPECT_EQ(plan.ic_blocks, e.ic_blocks) << "C=" << e.channels << " block_ic=" << e.block_ic;
    // Packed weights are the same size whatever the blocking.
    EXPECT_EQ(plan.packed_floats, plan.blocks_per_group * plan.block_weight_floats * e.groups);
  }
}

TEST(JitIcBlocks, PartialSumsMatchReference) {
  int cases = 0, failures = 0;
  std::uint32_t seed = 7300;
  struct Shape {
    std::int64_t channels, groups, filters, kernel, stride, dilation, block_ic;
  };
  const Shape shapes[] = {
      {24, 1, 16, 3, 1, 1, 8},   // three blocks of 8
      {24, 1, 40, 3, 2, 1, 5},   // six blocks of 4, a masked tail of output channels
      {24, 2, 32, 2, 1, 3, 4},   // groups: 12 input channels per group in blocks of 4
      {36, 1, 24, 5, 1, 1, 12},  // blocks of 12 with unroll 4, K = 5 over the edges
      {18, 1, 16, 3, 1, 2, 7},   // blocks of 6: unroll 4 leaves a remainder of 2
  };
  for (const Isa isa : runnable_isas()) {
    for (const Shape& sh : shapes) {
      for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
        if (pad == Padding::kCausal && sh.stride > 1) continue;
        if (sh.stride > 1 && sh.dilation > 1) continue;
        for (const Activation act :
             {Activation::kLinear, Activation::kGelu, Activation::kSoftmax, Activation::kRelu}) {
          for (const auto& [tile_t, tile_oc] : {std::pair{4, 2}, std::pair{1, 1}}) {
            ++seed;
            ConvCase c;
            c.batch = 2;
            c.length = 29 + static_cast<std::int64_t>(seed % 5);
            c.channels = sh.channels;
            c.groups = sh.groups;
            c.filters = sh.filters;
            c.kernel = sh.kernel;
            c.stride = sh.stride;
            c.dilation = sh.dilation;
            c.padding = pad;
            c.activation = act;
            c.use_bias = (seed % 3) != 0;
            c.dynamic = (seed % 4) == 1;
            c.format = (seed % 5) == 2 ? DataFormat::kChannelsFirst : DataFormat::kChannelsLast;
            const Problem base = make_case_problem(c);
            Schedule s = make_schedule(isa, tile_t, tile_oc, Strategy::kDirect, 4);
            s.block_ic = sh.block_ic;
            s.loop_order =
                (seed % 2) == 0 ? LoopOrder::kBatchTimeChannel : LoopOrder::kBatchChannelTime;
            s.block_t = (seed % 3) == 1 ? 8 / s.tile_t * s.tile_t : 0;
            const auto kernel = generate_xbyak(base, s);
            ASSERT_GT(as_xbyak(*kernel).plan().ic_blocks, 1) << to_string(s);
            const Problem p = c.dynamic ? with_length(base, c.batch, c.length) : base;
            const CheckResult r = run_and_check(*kernel, p, make_data(p, seed), true);
            ++cases;
            if (!r.ok) {
              ++failures;
              ADD_FAILURE() << to_string(s) << "\n" << r.message;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(failures, 0) << failures << " of " << cases << " cases failed";
  EXPECT_GE(cases, 100);
}

TEST(JitIcBlocks, InteriorBranchesOnlyOnTheBlockFlags) {
  // The tile loop of an ic-blocked kernel: the guard, the loops' back-edges, and one branch
  // each for ColumnArgs::accumulate and ::partial; no stack traffic.
  ConvCase c;
  c.channels = 64;
  c.filters = 16;
  c.length = 64;
  const Problem p = make_case_problem(c);
  Schedule s = make_schedule(Isa::kAvx2, 6, 2, Strategy::kDirect, 4);
  s.block_ic = 16;
  const auto kernel = generate_xbyak(p, s);
  const EmitStats& st = as_xbyak(*kernel).full_stats();
  EXPECT_EQ(as_xbyak(*kernel).plan().ic_blocks, 4);
  EXPECT_EQ(st.interior_loops, 3);  // t, k, ic
  EXPECT_EQ(st.interior_cond_branches, st.interior_loops + 1 + 2);
  EXPECT_EQ(st.interior_stack_refs, 0);
  EXPECT_EQ(st.innermost_loop_fmas, 4 * 6 * 2);
}

}  // namespace
}  // namespace convjit::detail::jit_test
