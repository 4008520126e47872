// The tuner's search space: only legal schedules, the default first, no duplicates, every
// candidate of a small layer computes the layer; the cost model's order.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/enumerate.hpp"
#include "compiler/schedule/kernel_plan.hpp"
#include "convjit/jit.hpp"

namespace convjit::detail {
namespace {

struct Layer {
  const char* spec;
  Shape3 shape;
};

// Direct, depthwise, pointwise, first layer, grouped, channels_first, dynamic length,
// a big reduction (block_ic candidates), a length shorter than a tile.
const Layer kLayers[] = {
    {"filters=32,kernel_size=3,padding=same", {1, 128, 32}},
    {"filters=64,kernel_size=5,groups=64,padding=causal", {2, 100, 64}},
    {"filters=48,kernel_size=1", {1, 64, 40}},
    {"filters=24,kernel_size=10,strides=5", {1, 400, 1}},
    {"filters=32,kernel_size=3,groups=4,padding=same", {1, 50, 16}},
    {"filters=16,kernel_size=3,data_format=channels_first", {1, 8, 30}},
    {"filters=16,kernel_size=3,padding=causal", {kDynamic, kDynamic, 8}},
    {"filters=128,kernel_size=3", {1, 60, 512}},
    {"filters=8,kernel_size=3,padding=same", {1, 3, 4}},
};

TEST(Enumerate, OnlyLegalSchedulesDefaultFirstNoDuplicates) {
  for (const Layer& l : kLayers) {
    SCOPED_TRACE(std::string(l.spec));
    const Problem p = make_problem(parse_spec(l.spec), l.shape);
    EnumerateOptions o;
    o.isas = {Isa::kAvx2, Isa::kAvx512};
    o.threads = 3;
    const std::vector<Schedule> all = enumerate_schedules(p, o);
    ASSERT_GE(all.size(), 10u);
    Schedule d2 = default_schedule(p, Isa::kAvx2), d5 = default_schedule(p, Isa::kAvx512);
    d2.threads = d5.threads = 3;
    EXPECT_EQ(all[0], d2);
    EXPECT_EQ(all[1], d5);
    std::set<std::string> texts, plans;
    std::set<Strategy> strategies;
    std::set<std::pair<int, int>> tiles;
    for (const Schedule& s : all) {
      EXPECT_NO_THROW(check_legal(s, p)) << to_string(s);
      EXPECT_TRUE(texts.insert(to_string(s)).second) << "duplicate " << to_string(s);
      // No two candidates resolve to the same plan: they would compile the same code.
      EXPECT_TRUE(plans.insert(to_string(plan_kernel(p, s))).second)
          << "same plan as an earlier candidate: " << to_string(s);
      EXPECT_EQ(s.threads, 3);
      strategies.insert(s.strategy);
      tiles.insert({s.tile_t, s.tile_oc_vecs});
    }
    EXPECT_TRUE(strategies.count(Strategy::kDirect));
    EXPECT_EQ(strategies.count(Strategy::kDepthwise),
              p.is_depthwise() && p.oc_per_group == 1 ? 1u : 0u);
    EXPECT_GE(tiles.size(), 3u);
  }
}

TEST(Enumerate, SearchesEveryFieldTheIssueNames) {
  const Problem p = make_problem(parse_spec("filters=128,kernel_size=3"), {1, 5000, 512});
  const std::vector<Schedule> all = enumerate_schedules(p, EnumerateOptions{{Isa::kAvx2}, 1});
  std::set<std::int64_t> block_ic, block_t;
  std::set<int> prefetch, unroll;
  std::set<LoopOrder> orders;
  bool nontemporal = false;
  for (const Schedule& s : all) {
    block_ic.insert(s.block_ic);
    block_t.insert(s.block_t);
    prefetch.insert(s.prefetch_distance);
    unroll.insert(s.unroll_ic);
    orders.insert(s.loop_order);
    nontemporal = nontemporal || s.nontemporal_stores;
  }
  EXPECT_GE(block_ic.size(), 3u);
  EXPECT_GE(block_t.size(), 2u);
  // Distances that prefetch the same tiles ahead resolve to one plan: two are left.
  EXPECT_GE(prefetch.size(), 2u);
  EXPECT_GE(unroll.size(), 3u);
  EXPECT_EQ(orders.size(), 2u);
  EXPECT_TRUE(nontemporal);
}

TEST(Enumerate, NeighborsAreLegalAndDifferFromTheCenter) {
  for (const Layer& l : kLayers) {
    SCOPED_TRACE(std::string(l.spec));
    const Problem p = make_problem(parse_spec(l.spec), l.shape);
    const Schedule d = default_schedule(p, Isa::kAvx2);
    const std::vector<Schedule> n = schedule_neighbors(d, p);
    EXPECT_GE(n.size(), 4u);
    for (const Schedule& s : n) {
      EXPECT_NE(s, d);
      EXPECT_NO_THROW(check_legal(s, p)) << to_string(s);
    }
  }
}

TEST(Enumerate, EveryCandidateOfASmallLayerComputesTheLayer) {
  // Every schedule the tuner could pick, compiled and run: none may be wrong.
  const Conv1DSpec spec = parse_spec("filters=12,kernel_size=3,padding=same,activation=relu");
  const Shape3 shape{2, 19, 6};
  const Problem p = make_problem(spec, shape);
  std::vector<float> x(static_cast<std::size_t>(p.input_size())), w(p.kernel_size_elems()), b(12);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 9) - 4.0f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 5) - 2.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 3) - 1.0f;
  std::vector<float> want(static_cast<std::size_t>(p.output_size()));
  reference_conv1d(p, x.data(), w.data(), b.data(), want.data());
  const std::vector<Schedule> all = enumerate_schedules(p, EnumerateOptions{{Isa::kAvx2}, 1});
  ASSERT_GE(all.size(), 20u);
  Jit jit(JitOptions{8, ""});
  for (const Schedule& s : all) {
    CompileOptions o;
    o.isa = Isa::kAvx2;
    o.threads = 1;
    o.schedule = to_string(s);
    const Kernel k = jit.compile(spec, shape, o);
    std::vector<float> got(want.size(), -99.0f);
    k.run(x.data(), k.pack_weights(w.data(), b.data()), got.data(), 2, 19);
    EXPECT_EQ(got, want) << to_string(s);  // small integers: exact
  }
}

TEST(CostModel, RanksRegisterReuseAboveSingleFmaTiles) {
  const Problem p =
      make_problem(parse_spec("filters=128,kernel_size=3,padding=same"), {8, 1024, 128});
  Schedule big = default_schedule(p, Isa::kAvx2);
  Schedule tiny = big;
  tiny.tile_t = 1;
  tiny.tile_oc_vecs = 1;
  EXPECT_LT(estimate_cost(big, p), estimate_cost(tiny, p));
  // Partial sums cost traffic: splitting a reduction that fits is worse.
  Schedule split = big;
  split.block_ic = 16;
  EXPECT_LT(estimate_cost(big, p), estimate_cost(split, p));
  // The cost is positive and grows with the work.
  const Problem twice =
      make_problem(parse_spec("filters=128,kernel_size=3,padding=same"), {16, 1024, 128});
  EXPECT_GT(estimate_cost(big, p), 0.0);
  EXPECT_GT(estimate_cost(big, twice), 1.5 * estimate_cost(big, p));
}

TEST(CostModel, RankByCostIsASortedPermutation) {
  const Problem p = make_problem(parse_spec("filters=64,kernel_size=3"), {1, 300, 64});
  const std::vector<Schedule> all = enumerate_schedules(p, EnumerateOptions{{Isa::kAvx2}, 1});
  const std::vector<Schedule> ranked = rank_by_cost(all, p);
  ASSERT_EQ(ranked.size(), all.size());
  std::set<std::string> a, r;
  for (const auto& s : all) a.insert(to_string(s));
  for (const auto& s : ranked) r.insert(to_string(s));
  EXPECT_EQ(a, r);
  for (std::size_t i = 1; i < ranked.size(); ++i) {
    EXPECT_LE(estimate_cost(ranked[i - 1], p), estimate_cost(ranked[i], p));
  }
}

}  // namespace
}  // namespace convjit::detail
