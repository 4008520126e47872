// Every public golden case through lowering and the interpreter: unscheduled, under the
// default schedule of both ISAs, and under random legal schedules (seeded; the seed of
// a failure is printed: rerun with CONVJIT_IR_SEED=<seed>).
// CONVJIT_IR_CASES=<n>: each of the three runs n cases drawn with the seed instead of its
// default (all, all, 96); the sanitizer run in CI (scripts/sanitizers.sh) sets it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/verifier.hpp"
#include "ir/ir_test_util.hpp"

namespace convjit::detail::ir::test {
namespace {

constexpr int kRandomSchedulesPerCase = 20;
/// Cases that get random schedules (a seeded sample, to bound the time);
/// CONVJIT_IR_ALL_CASES=1 runs every case.
constexpr std::size_t kSampledCases = 96;

std::uint64_t base_seed() {
  const char* v = std::getenv("CONVJIT_IR_SEED");
  return v ? std::strtoull(v, nullptr, 10) : 20250601ULL;
}

const std::vector<GoldenCase>& cases() {
  static const std::vector<GoldenCase> c = all_cases();
  return c;
}

/// Indices of the cases a test runs: `default_count` of them (all when 0), or
/// CONVJIT_IR_CASES of them, in an order shuffled by `seed` (in file order when all run).
std::vector<std::size_t> case_sample(std::uint64_t seed, std::size_t default_count) {
  const std::size_t total = cases().size();
  std::size_t n = default_count == 0 ? total : default_count;
  if (const char* v = std::getenv("CONVJIT_IR_CASES")) n = std::strtoull(v, nullptr, 10);
  if (std::getenv("CONVJIT_IR_ALL_CASES") != nullptr) n = total;
  n = std::clamp<std::size_t>(n, 1, total);
  std::vector<std::size_t> order(total);
  for (std::size_t i = 0; i < total; ++i) order[i] = i;
  if (n < total) {
    std::mt19937_64 sampler(seed);
    std::shuffle(order.begin(), order.end(), sampler);
    order.resize(n);
    std::printf("%zu of %zu cases (CONVJIT_IR_CASES=%zu, CONVJIT_IR_SEED=%llu)\n", n, total, n,
                static_cast<unsigned long long>(seed));
  }
  return order;
}

TEST(IrConformance, LoadsEveryPublicForwardCase) {
  // 447 cases + 66 extra activations; a short read would make every test below vacuous.
  EXPECT_EQ(cases().size(), 513u);
}

TEST(IrConformance, UnscheduledIrMatchesGolden) {
  for (std::size_t ci : case_sample(base_seed(), 0)) {
    const GoldenCase& c = cases()[ci];
    const Problem p = make_problem(c.spec, c.shape);
    const Func f = lower_unscheduled(p);
    const std::string diff = compare(c, run_func(f, p, c));
    EXPECT_EQ(diff, "") << c.id << " (unscheduled)";
  }
}

TEST(IrConformance, DefaultScheduleMatchesGoldenOnBothIsas) {
  for (std::size_t ci : case_sample(base_seed(), 0)) {
    const GoldenCase& c = cases()[ci];
    const Problem p = make_problem(c.spec, c.shape);
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      const Schedule s = default_schedule(p, isa);
      ASSERT_NO_THROW(check_legal(s, p)) << c.id << " " << to_string(s);
      const Func f = lower_scheduled(p, s);
      VerifyOptions o;
      o.lengths = verification_lengths(f, 6);
      o.require_unrolled = true;
      const std::vector<std::string> errors = verify(f, o);
      EXPECT_TRUE(errors.empty()) << c.id << " " << to_string(s) << ": " << errors.front();
      const std::string diff = compare(c, run_func(f, p, c));
      EXPECT_EQ(diff, "") << c.id << " default schedule: " << to_string(s);
    }
  }
}

TEST(IrConformance, RandomLegalSchedulesMatchGolden) {
  const std::uint64_t seed = base_seed();
  std::printf("random schedules: CONVJIT_IR_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::map<std::string, int> covered;
  int illegal = 0, runs = 0;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::size_t> order = case_sample(seed, kSampledCases);
  for (std::size_t ci : order) {
    const GoldenCase& c = cases()[ci];
    const Problem p = make_problem(c.spec, c.shape);
    const std::uint64_t case_seed = seed * 1000003ULL + ci;
    std::mt19937_64 rng(case_seed);
    for (int r = 0; r < kRandomSchedulesPerCase; ++r) {
      const Schedule s = random_legal_schedule(rng, p, &illegal);
      const Func f = lower_scheduled(p, s);
      const std::string diff = compare(c, run_func(f, p, c));
      ++runs;
      ASSERT_EQ(diff, "") << c.id << " schedule #" << r << " (case seed " << case_seed
                          << ", CONVJIT_IR_SEED=" << seed << "): " << to_string(s);
      covered[s.isa == Isa::kAvx2 ? "lanes 8" : "lanes 16"]++;
      if (s.tile_t > 1) covered["tile_t > 1"]++;
      if (s.tile_oc_vecs > 1) covered["tile_oc_vecs > 1"]++;
      if (s.block_ic > 0 && s.block_ic < p.ic_per_group) covered["ic blocks"]++;
      if (s.block_t > 0) covered["time blocks"]++;
      covered[s.loop_order == LoopOrder::kBatchTimeChannel ? "btc" : "bct"]++;
      if (s.unroll_k > 1) covered["unroll_k"]++;
      if (s.unroll_ic > 1) covered["unroll_ic"]++;
      if (s.strategy == Strategy::kDepthwise) covered["depthwise"]++;
      if (p.is_pointwise()) covered["pointwise problem"]++;
      if (p.in_channels <= 4 && p.stride >= 2) covered["first-layer problem"]++;
      if (f.plan != nullptr && f.plan->sweep) covered["sweep"]++;
      if (p.data_format == DataFormat::kChannelsFirst) covered["channels_first transpose"]++;
      if (s.prefetch_distance > 0) covered["prefetch"]++;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d random legal schedules over %zu cases (%d illegal draws refused) in %.1f s\n",
              runs, order.size(), illegal, seconds);
  for (const char* what :
       {"lanes 8", "lanes 16", "tile_t > 1", "tile_oc_vecs > 1", "ic blocks", "time blocks", "btc",
        "bct", "unroll_k", "unroll_ic", "depthwise", "channels_first transpose", "prefetch"}) {
    EXPECT_GT(covered[what], 0) << "random schedules never covered " << what;
  }
  // Properties of the sampled problems and of their plans: logged, not required (a small
  // CONVJIT_IR_CASES sample may hold no pointwise or first layer).
  std::printf("pointwise problems %d, first-layer problems %d, swept plans %d\n",
              covered["pointwise problem"], covered["first-layer problem"], covered["sweep"]);
  EXPECT_GT(illegal, 0) << "the generator should also draw illegal schedules";
}

}  // namespace
}  // namespace convjit::detail::ir::test
