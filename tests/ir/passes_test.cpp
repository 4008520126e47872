// The verifier finds broken IR; each pass keeps the meaning of the IR it rewrites.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "compiler/ir/lower.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/simplify.hpp"
#include "compiler/ir/unroll_loops.hpp"
#include "compiler/ir/unroll_reduction.hpp"
#include "compiler/ir/verifier.hpp"
#include "ir/ir_test_util.hpp"

namespace convjit::detail::ir::test {
namespace {

Func tiny_func(int registers) {
  Func f;
  f.name = "tiny";
  f.problem = make_problem(parse_spec("filters=1,kernel_size=1"), {1, 4, 1});
  f.vector_registers = registers;
  f.var("N");
  f.var("L");
  f.buffers.push_back({"input", BufferKind::kInput, make_var(Func::kVarL, "L")});
  f.buffers.push_back({"output", BufferKind::kOutput, make_var(Func::kVarL, "L")});
  f.regs.push_back({"acc", 4, 8});
  return f;
}

/// for t in [0, L): acc[0] = load8 input[t + offset] mask 1; store8 output[t] = acc[0] mask 1
Stmt copy_loop(Func& f, const Expr& offset) {
  const Expr t = f.var_expr("t");
  return For::make(t->var, 0, make_var(Func::kVarL, "L"), ForKind::kSerial, "",
                   Alloc::make({0}, Block::make({Load::make(VReg{0, 0}, Access{0, t + offset}, 1),
                                                 Store::make(VReg{0, 0}, Access{1, t}, 1)})));
}

TEST(Verifier, AcceptsAnInBoundsLoop) {
  Func f = tiny_func(32);
  f.body = copy_loop(f, 0);
  VerifyOptions o;
  o.lengths = {0, 1, 5};
  EXPECT_TRUE(verify(f, o).empty());
}

TEST(Verifier, FindsAnOutOfBoundsAccess) {
  Func f = tiny_func(32);
  f.body = copy_loop(f, 1);
  VerifyOptions o;
  o.lengths = {3};
  const auto errors = verify(f, o);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("input[3..3] outside [0, 3)"), std::string::npos) << errors[0];
}

TEST(Verifier, FindsAMaskWiderThanTheBuffer) {
  Func f = tiny_func(32);
  const Expr t = f.var_expr("t");
  f.body = For::make(t->var, 0, make_var(Func::kVarL, "L"), ForKind::kSerial, "",
                     Alloc::make({0}, Load::make(VReg{0, 0}, Access{0, t}, 2)));
  VerifyOptions o;
  o.lengths = {4};
  const auto errors = verify(f, o);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].find("input[3..4]"), std::string::npos) << errors[0];
}

TEST(Verifier, FindsUnboundVariablesAndRegistersOutsideAlloc) {
  Func f = tiny_func(32);
  const Expr t = f.var_expr("t");
  f.body = Store::make(VReg{0, 0}, Access{1, t}, 1);
  const auto errors = verify(f, {});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("register acc used outside its Alloc"), std::string::npos);
  EXPECT_NE(errors[1].find("variable t used outside"), std::string::npos);
}

TEST(Verifier, FindsARegisterTileBeyondTheIsa) {
  Func f = tiny_func(3);  // acc holds 4 registers
  f.body = copy_loop(f, 0);
  const auto errors = verify(f, {});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("needs 4 vector registers"), std::string::npos) << errors[0];
}

TEST(Verifier, FindsUnrolledLoopsLeftAfterUnrolling) {
  Func f = tiny_func(32);
  const Expr t = f.var_expr("t");
  f.body = For::make(t->var, 0, 2, ForKind::kUnrolled, "",
                     Alloc::make({0}, Store::make(VReg{0, 0}, Access{1, t}, 1)));
  VerifyOptions o;
  o.require_unrolled = true;
  EXPECT_EQ(verify(f, o).size(), 1u);
}

TEST(Simplify, FoldsConstantsAndIdentities) {
  const Expr x = make_var(5, "x");
  EXPECT_EQ(to_string(simplify((x + 0) * 1 + 3 * 4)), "x + 12");
  EXPECT_EQ(to_string(simplify((x + 2) - 5)), "x - 3");
  EXPECT_EQ(to_string(simplify(floor_div(x, 1) * 2 * 3)), "x*6");
  EXPECT_EQ(to_string(simplify(min(max(Expr(-3), 0), 7))), "0");
  EXPECT_EQ(to_string(simplify(floor_div(Expr(-7), 2))), "-4");
  EXPECT_EQ(to_string(simplify(x - x)), "0");
}

TEST(Eval, FloorDivisionRoundsDown) {
  EXPECT_EQ(floor_div_int(-7, 2), -4);
  EXPECT_EQ(floor_div_int(7, 2), 3);
  EXPECT_EQ(floor_div_int(-8, 2), -4);
  const std::int64_t env[1] = {-5};
  EXPECT_EQ(eval(ceil_div(make_var(0, "a"), 3), env), -1);
}

/// Each pass alone, applied to a lowered kernel, leaves the results unchanged (exactly:
/// the passes do not reorder arithmetic).
TEST(Passes, EachPassPreservesTheResultBitForBit) {
  const auto cases = load_cases("cases.jsonl");
  int checked = 0;
  for (const GoldenCase& c : cases) {
    if (c.id != "pub-0444" && c.id != "pub-0049" && c.id != "pub-0032" && c.id != "pub-0445") {
      continue;
    }
    const Problem p = make_problem(c.spec, c.shape);
    Schedule s = default_schedule(p, Isa::kAvx2);
    s.unroll_k = std::min<int>(2, static_cast<int>(p.kernel));
    if (s.strategy != Strategy::kDepthwise) s.unroll_ic = 3;
    const Func lowered = simplify(
        lower_conv(p, lower_plan_of(std::make_shared<const KernelPlan>(plan_kernel(p, s)))));
    const std::vector<float> base = run_func(lowered, p, c);
    EXPECT_EQ(compare(c, base), "") << c.id;
    const Func split = unroll_reduction(lowered, s.unroll_k, s.unroll_ic);
    EXPECT_EQ(run_func(split, p, c), base) << c.id << " unroll_reduction";
    const Func unrolled = unroll_loops(split);
    EXPECT_EQ(run_func(unrolled, p, c), base) << c.id << " unroll_loops";
    EXPECT_EQ(run_func(lower_scheduled(p, s), p, c), base) << c.id << " pipeline";
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(Passes, OneKernelServesEveryLength) {
  // A dynamic-length causal kernel with a pad much wider than the tile, checked for bounds
  // at every length from 0 to 120 and against the unscheduled IR at several lengths.
  const Conv1DSpec spec = parse_spec("filters=9,kernel_size=7,dilation_rate=5,padding=causal");
  const Problem p = make_problem(spec, {2, kDynamic, 3});
  const Func f = lower_scheduled(p, parse_schedule("isa=avx2 tile_t=5 tile_oc_vecs=1 unroll_k=3"));
  VerifyOptions o;
  for (std::int64_t l = 0; l <= 120; ++l) o.lengths.push_back(l);
  const auto errors = verify(f, o);
  EXPECT_TRUE(errors.empty()) << errors.front();
  for (std::int64_t l : {1, 7, 31, 32, 33, 64}) {
    GoldenCase c;
    c.input = random_case_values(2 * l * 3, 1);
    c.kernel = random_case_values(7 * 3 * 9, 2);
    c.bias = random_case_values(9, 3);
    const Problem pl = resolve_length(p, 2, l);
    const std::vector<float> got = run_func(f, pl, c);
    const std::vector<float> want = run_func(lower_unscheduled(pl), pl, c);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i], want[i], 1e-5) << "L=" << l << " element " << i;
    }
  }
}

/// The lowering a form test compares: lower_conv, simplify, the reduction and the tiles
/// unrolled (no call ranges or sweeps).
Func lower_and_unroll(const Problem& p, const LowerPlan& plan) {
  return unroll_loops(unroll_reduction(simplify(lower_conv(p, plan)), 1, 1));
}

/// `form` against `baseline` (same bits) and the unscheduled IR (1e-5) on random data of
/// batch 2 and each of `lengths`, after checking `form` in bounds at lengths 0..max_checked.
void expect_form_matches(const Problem& p, const Func& form, const Func& baseline,
                         std::initializer_list<std::int64_t> lengths, std::int64_t max_checked,
                         const std::string& what) {
  VerifyOptions o;
  for (std::int64_t l = 0; l <= max_checked; ++l) o.lengths.push_back(l);
  const auto errors = verify(form, o);
  EXPECT_TRUE(errors.empty()) << what << ": " << errors.front();
  for (std::int64_t l : lengths) {
    GoldenCase c;
    c.input = random_case_values(2 * l * p.in_channels, 11);
    c.kernel = random_case_values(p.kernel * p.ic_per_group * p.filters, 12);
    c.bias = random_case_values(p.filters, 13);
    const Problem pl = resolve_length(p, 2, l);
    const std::vector<float> got = run_func(form, pl, c);
    EXPECT_EQ(got, run_func(baseline, pl, c)) << what << " L=" << l;
    const std::vector<float> want = run_func(lower_unscheduled(pl), pl, c);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-5) << what << " L=" << l << " element " << i;
    }
  }
}

// Depthwise tap groups (LowerPlan::tap_group) load each input row once per group of taps;
// every accumulator still sees the taps in order, so the result is the tap loop's, bit for
// bit, at every length (tails of lanes and of rows included), and in bounds.
TEST(Passes, TapGroupsComputeTheTapLoopsBitsInBounds) {
  struct Case {
    const char* spec;
    std::int64_t channels;
    Isa isa;
  };
  const Case cases[] = {
      {"filters=200,kernel_size=4,groups=200,padding=causal", 200, Isa::kAvx512},
      {"filters=96,kernel_size=7,groups=96,dilation_rate=2,padding=same", 96, Isa::kAvx512},
      {"filters=40,kernel_size=3,groups=40,padding=same,activation=relu", 40, Isa::kAvx2},
      {"filters=36,kernel_size=5,groups=36,padding=valid", 36, Isa::kAvx2},
  };
  for (const Case& k : cases) {
    const Problem p = make_problem(parse_spec(k.spec), {2, kDynamic, k.channels});
    const auto plan =
        std::make_shared<const KernelPlan>(plan_kernel(p, default_schedule(p, k.isa)));
    ASSERT_GT(plan->dw_tap_block, 0) << k.spec << ": no tap groups to test";
    LowerPlan grouped = lower_plan_of(plan);
    ASSERT_EQ(grouped.tap_group, plan->dw_tap_block);
    LowerPlan tap_loop = grouped;
    tap_loop.tap_group = 0;
    expect_form_matches(p, lower_and_unroll(p, grouped), lower_and_unroll(p, tap_loop),
                        {5, 6, 13, 29, 64}, 40, k.spec);
  }
}

// Direct first layers sum their taps in classes k mod stride (LowerPlan::tap_class_size):
// the interior's broadcast-sharing form and the edges' checked taps in the same class order,
// so an output step gets the same bits whichever region computes it (the all-edges lowering
// is the reference), and the sums match the unscheduled IR.
TEST(Passes, TapClassesSumInOneOrderInEveryRegion) {
  struct Case {
    const char* spec;
    Isa isa;
  };
  const Case cases[] = {
      {"filters=512,kernel_size=10,strides=5,use_bias=false", Isa::kAvx512},
      {"filters=40,kernel_size=7,strides=3,padding=same,activation=relu", Isa::kAvx2},
      {"filters=24,kernel_size=5,strides=2,padding=causal", Isa::kAvx512},
  };
  for (const Case& k : cases) {
    const Problem p = make_problem(parse_spec(k.spec), {2, kDynamic, 1});
    const auto plan =
        std::make_shared<const KernelPlan>(plan_kernel(p, default_schedule(p, k.isa)));
    ASSERT_GT(plan->tap_class_size, 0) << k.spec << ": no tap classes to test";
    const LowerPlan classes = lower_plan_of(plan);
    ASSERT_EQ(classes.tap_class_size, plan->tap_class_size);
    LowerPlan all_edges = classes;
    all_edges.split_regions = false;  // every step one clipped tile: taps in class order
    expect_form_matches(p, lower_and_unroll(p, classes), lower_and_unroll(p, all_edges),
                        {10, 11, 37, 96, 161}, 60, k.spec);
  }
}

// Depthwise weights held in registers (LowerPlan::hold_weights): loaded once per channel
// block around its time loops, read by the interior tiles; the edges load one weight vector
// at a time. The same FMAs in the same order as the tap loop: the same bits, in bounds.
TEST(Passes, HeldWeightsComputeTheTapLoopsBitsInBounds) {
  struct Case {
    const char* spec;
    std::int64_t channels;
    Isa isa;
  };
  const Case cases[] = {
      {"filters=32,kernel_size=3,groups=32,padding=same", 32, Isa::kAvx512},
      {"filters=20,kernel_size=5,groups=20,padding=causal,dilation_rate=3", 20, Isa::kAvx512},
      {"filters=8,kernel_size=3,groups=8,padding=same", 8, Isa::kAvx2},
      {"filters=12,kernel_size=2,groups=12,strides=2,padding=valid", 12, Isa::kAvx512},
  };
  for (const Case& k : cases) {
    const Problem p = make_problem(parse_spec(k.spec), {2, kDynamic, k.channels});
    const auto plan =
        std::make_shared<const KernelPlan>(plan_kernel(p, default_schedule(p, k.isa)));
    ASSERT_TRUE(plan->dw_weights_in_regs) << k.spec << ": no held weights to test";
    const LowerPlan held = lower_plan_of(plan);
    ASSERT_TRUE(held.hold_weights);
    LowerPlan loaded = held;
    loaded.hold_weights = false;
    loaded.tap_group = 0;
    expect_form_matches(p, lower_and_unroll(p, held), lower_and_unroll(p, loaded),
                        {5, 6, 13, 29, 64}, 40, k.spec);
  }
}

// Edge groups (LowerPlan::edge_groups) run tile_t edge steps at once, every (row, tap)
// guarded; each row still sums its taps in range in ascending order (input channels inside,
// partial sums across ic blocks), so the result is the single steps', bit for bit, at every
// length: groups cut by the interior, groups that touch both edges (direct: capped), none.
TEST(Passes, EdgeGroupsComputeTheSingleStepsBitsInBounds) {
  struct Case {
    const char* spec;
    std::int64_t channels;
    Isa isa;
    std::int64_t block_ic;
  };
  const Case cases[] = {
      {"filters=40,kernel_size=9,padding=same,activation=relu,dilation_rate=4", 12, Isa::kAvx512,
       0},
      {"filters=24,kernel_size=11,strides=2,padding=causal", 16, Isa::kAvx2, 8},
      {"filters=16,kernel_size=4,padding=causal,dilation_rate=5", 8, Isa::kAvx2, 0},
      {"filters=24,kernel_size=31,groups=24,padding=same", 24, Isa::kAvx512, 0},
      {"filters=20,kernel_size=5,groups=20,padding=causal,dilation_rate=3", 20, Isa::kAvx512, 0},
      {"filters=8,kernel_size=31,groups=8,strides=2,padding=same", 8, Isa::kAvx2, 0},
  };
  for (const Case& k : cases) {
    const Problem p = make_problem(parse_spec(k.spec), {2, kDynamic, k.channels});
    Schedule s = default_schedule(p, k.isa);
    s.block_ic = k.block_ic;
    const auto plan = std::make_shared<const KernelPlan>(plan_kernel(p, s));
    ASSERT_TRUE(plan->edge_groups) << k.spec << ": no edge groups to test";
    if (k.block_ic > 0) {
      ASSERT_GT(plan->ic_blocks, 1) << k.spec;
    }
    const LowerPlan groups = lower_plan_of(plan);
    ASSERT_TRUE(groups.edge_groups);
    LowerPlan singles = groups;
    singles.edge_groups = false;
    expect_form_matches(p, lower_and_unroll(p, groups), lower_and_unroll(p, singles),
                        {1, 2, 3, 5, 6, 13, 29, 64}, 40, k.spec);
  }
}

}  // namespace
}  // namespace convjit::detail::ir::test
