// The tuner's search (runtime/tuner.hpp) driven by a fake measurement: a cost function of the
// schedule and a fake clock, so what it finds, what it measures and when it stops are exact.
#include "runtime/tuner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compiler/schedule/enumerate.hpp"
#include "convjit/jit.hpp"
#include "tune_test_util.hpp"

namespace convjit::detail {
namespace {

constexpr const char* kSpec = "filters=64,kernel_size=3,padding=same";
const Shape3 kShape{1, 512, 256};
constexpr double kSecondsPerMeasure = 0.125;  // exact in binary: budgets count exactly

/// The fake machine: every schedule field away from `best` costs time, so `best` is the one
/// fastest schedule, and it is not what the cost model ranks first.
struct FakeMachine {
  Schedule best;
  double clock = 0.0;
  std::vector<std::string> measured;  // to_string of every measured schedule, in order
  std::set<std::string> failing;      // schedules whose check fails
  std::vector<double> slots;          // slot_seconds of every measure call
  int head_to_heads = 0;
  double h2h_slot = 0.0;
  double h2h_a = 0.0, h2h_b = 0.0;  // what head_to_head returns (0: the cost)

  double cost(const Schedule& s) const {
    double t = 100.0;
    t +=
        7.0 * std::abs(s.tile_t - best.tile_t) + 9.0 * std::abs(s.tile_oc_vecs - best.tile_oc_vecs);
    t += s.unroll_k == best.unroll_k ? 0.0 : 5.0;
    t += s.prefetch_distance == best.prefetch_distance ? 0.0 : 3.0;
    t += s.unroll_ic == best.unroll_ic ? 0.0 : 2.5;
    t += s.strategy == best.strategy ? 0.0 : 50.0;
    t += s.loop_order == best.loop_order ? 0.0 : 1.5;
    t += s.block_ic == best.block_ic ? 0.0 : 4.5;
    t += s.block_t == best.block_t ? 0.0 : 6.5;
    t += s.nontemporal_stores == best.nontemporal_stores ? 0.0 : 8.5;
    t += s.isa == best.isa ? 0.0 : 60.0;
    return t;
  }

  TuneCallbacks callbacks() {
    TuneCallbacks c;
    c.measure = [this](const Schedule& s, double slot, double) {
      measured.push_back(to_string(s));
      slots.push_back(slot);
      clock += kSecondsPerMeasure;
      Measurement m;
      m.checked = failing.count(to_string(s)) == 0;
      m.check = m.checked ? "ok (fake)" : "MISMATCH: fake";
      if (m.checked) m.time_us = cost(s);
      return m;
    };
    c.head_to_head = [this](const Schedule& a, const Schedule& b, double slot) {
      ++head_to_heads;
      h2h_slot = slot;
      return std::make_pair(h2h_a > 0 ? h2h_a : cost(a), h2h_b > 0 ? h2h_b : cost(b));
    };
    c.now = [this] { return clock; };
    return c;
  }
};

struct TunerTest : ::testing::Test {
  Problem problem = make_problem(parse_spec(kSpec), kShape);
  TuneCandidates candidates = tune_candidates(problem, {Isa::kAvx2}, 1);
  TuneTarget target{problem, make_tuning_key(parse_spec(kSpec), kShape, 1), "xbyak",
                    problem.flops()};
  FakeMachine machine;

  void SetUp() override {
    // The fastest schedule is the cost model's favourite with the unrolling of the input
    // channels and the prefetch distance changed: only hill-climbing reaches it (the grid
    // varies tiles, blocks and the loop order, not those).
    const Schedule& favourite = candidates.ranked.front();
    machine.best = favourite;
    machine.best.unroll_ic = favourite.unroll_ic == 2 ? 4 : 2;
    machine.best.prefetch_distance = favourite.prefetch_distance == 0 ? 256 : 0;
    ASSERT_NO_THROW(check_legal(machine.best, problem));
    const std::string best = candidate_identity(machine.best, problem);
    for (const Schedule& s : candidates.ranked) {
      ASSERT_NE(candidate_identity(s, problem), best) << "the best must not be in the grid";
    }
  }

  static TuneBudget unlimited() {
    TuneBudget b;
    b.seconds = 1e9;
    return b;
  }

  static const TuneResult* fastest(const TuneOutcome& o) {
    const TuneResult* best = nullptr;
    for (const TuneResult& r : o.results) {
      if (r.checked && (best == nullptr || r.time_us < best->time_us)) best = &r;
    }
    return best;
  }
};

TEST_F(TunerTest, CandidatesAreTheDefaultsThenTheRestRankedByCost) {
  Schedule d = default_schedule(problem, Isa::kAvx2);
  ASSERT_EQ(candidates.defaults.size(), 1u);
  EXPECT_EQ(candidates.defaults[0], d);
  EnumerateOptions eo;
  eo.isas = {Isa::kAvx2};
  EXPECT_EQ(candidates.size(), enumerate_schedules(problem, eo).size());
  std::set<std::string> texts{to_string(d)};
  for (std::size_t i = 0; i < candidates.ranked.size(); ++i) {
    EXPECT_TRUE(texts.insert(to_string(candidates.ranked[i])).second);
    if (i > 0) {
      EXPECT_LE(estimate_cost(candidates.ranked[i - 1], problem),
                estimate_cost(candidates.ranked[i], problem));
    }
  }
  // Two ISAs: one default each, in the order given.
  const TuneCandidates both = tune_candidates(problem, {Isa::kAvx512, Isa::kAvx2}, 2);
  ASSERT_EQ(both.defaults.size(), 2u);
  EXPECT_EQ(both.defaults[0].isa, Isa::kAvx512);
  EXPECT_EQ(both.defaults[1].isa, Isa::kAvx2);
  EXPECT_EQ(both.defaults[1].threads, 2);
}

TEST_F(TunerTest, UniqueCandidatesKeepsTheFirstOfEachIdentityInOrder) {
  const Schedule a = candidates.ranked[0], b = candidates.ranked[1], c = candidates.ranked[2];
  const std::vector<Schedule> u = unique_candidates({a, b, a, c, b, c}, problem);
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[0], a);
  EXPECT_EQ(u[1], b);
  EXPECT_EQ(u[2], c);
  EXPECT_EQ(candidate_identity(a, problem), candidate_identity(u[0], problem));
  EXPECT_NE(candidate_identity(a, problem), candidate_identity(b, problem));
  // Schedules that resolve to one plan are one candidate: an input-channel block as large as
  // the reduction is no block.
  const Problem pointwise = make_problem(parse_spec("filters=16,kernel_size=1"), {1, 64, 16});
  Schedule one = default_schedule(pointwise, Isa::kAvx2), two = one;
  one.block_ic = 0;
  two.block_ic = 16;
  EXPECT_EQ(candidate_identity(one, pointwise), candidate_identity(two, pointwise));
  EXPECT_EQ(unique_candidates({two, one}, pointwise).size(), 1u);
  // The thread count is part of it.
  two = one;
  two.threads = 2;
  EXPECT_NE(candidate_identity(one, pointwise), candidate_identity(two, pointwise));
}

TEST_F(TunerTest, FindsTheBestByHillClimbingWellWithinTheBudget) {
  TuneBudget budget = unlimited();
  budget.max_candidates = 30;
  std::vector<Schedule> progress_schedules;
  TuneCallbacks callbacks = machine.callbacks();
  callbacks.progress = [&](const TuneResult& r, std::size_t, std::size_t, double) {
    progress_schedules.push_back(r.schedule);
  };
  const TuneOutcome o = tune_search(candidates, target, {}, budget, callbacks, 0.0);
  // 30 of more than 200 candidates: the ranking and two rounds of climbing find it.
  EXPECT_EQ(o.measured, 30u);
  ASSERT_GT(candidates.size(), 200u);
  const TuneResult* best = fastest(o);
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(best->schedule, machine.best) << to_string(best->schedule);
  EXPECT_EQ(best->time_us, 100.0);
  // The head-to-head confirms it: the tuned schedule is the best, at its head-to-head time.
  EXPECT_EQ(machine.head_to_heads, 1);
  EXPECT_EQ(o.tuned, machine.best);
  EXPECT_EQ(o.tuned_us, 100.0);
  EXPECT_EQ(o.heuristic, candidates.defaults.front());
  EXPECT_EQ(o.heuristic_us, machine.cost(o.heuristic));
  EXPECT_TRUE(o.heuristic_result.checked);
  // Visited in order: the heuristic first, then the cost model's favourites.
  ASSERT_GE(progress_schedules.size(), 13u);
  EXPECT_EQ(progress_schedules[0], candidates.defaults[0]);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(progress_schedules[i + 1], candidates.ranked[i]);
}

TEST_F(TunerTest, WithoutALimitVisitsEveryCandidateOnceAndKeepsTheFastest) {
  const TuneOutcome o = tune_search(candidates, target, {}, unlimited(), machine.callbacks(), 0.0);
  EXPECT_GE(o.results.size(), candidates.size());  // plus neighbours found while climbing
  EXPECT_EQ(o.measured, o.results.size());
  EXPECT_EQ(o.resumed, 0u);
  EXPECT_EQ(o.failed, 0u);
  std::set<std::string> once(machine.measured.begin(), machine.measured.end());
  EXPECT_EQ(once.size(), machine.measured.size()) << "a candidate was measured twice";
  std::set<std::string> visited;
  for (const TuneResult& r : o.results) visited.insert(to_string(r.schedule));
  for (const Schedule& s : candidates.ranked) EXPECT_TRUE(visited.count(to_string(s)));
  EXPECT_EQ(fastest(o)->schedule, machine.best);
  EXPECT_EQ(o.tuned, machine.best);
}

TEST_F(TunerTest, StopsAtTheTimeBudgetLessTheShareOfTheHeadToHead) {
  TuneBudget budget;
  budget.seconds = 2.0;  // searching until 1.7 s, 0.125 s per measurement
  const TuneOutcome o = tune_search(candidates, target, {}, budget, machine.callbacks(), 0.0);
  // Visits start while the clock is at most 1.7 s: at 0, 0.125, ..., 1.625.
  EXPECT_EQ(o.measured, 14u);
  EXPECT_EQ(machine.measured.size(), 14u);
  // Each candidate is timed for budget / 60 seconds (within [0.02, 0.3]).
  for (double slot : machine.slots) EXPECT_DOUBLE_EQ(slot, 2.0 / 60.0);
  // The head-to-head gets what is left (2 - 1.75 s), at least 0.2 s.
  EXPECT_EQ(machine.head_to_heads, 1);
  EXPECT_DOUBLE_EQ(machine.h2h_slot, 0.25);
  // The budget counts from `start`: started 1 s before, 6 measurements fit.
  FakeMachine late = machine;
  late.measured.clear();
  late.clock = 1.0;
  const TuneOutcome o2 = tune_search(candidates, target, {}, budget, late.callbacks(), 0.0);
  EXPECT_EQ(o2.measured, 6u);  // at 1.0, 1.125, ..., 1.625
}

TEST_F(TunerTest, StopsAfterMaxCandidatesNewMeasurementsResumedOnesAreFree) {
  TuneBudget budget = unlimited();
  budget.max_candidates = 10;
  // The database already holds the heuristic and the first two ranked candidates.
  std::map<std::string, TuningRecord> known;
  for (const Schedule& s : {candidates.defaults[0], candidates.ranked[0], candidates.ranked[1]}) {
    TuningRecord r;
    r.schedule = to_string(s);
    r.time_us = 500.0;
    r.checked = true;
    r.check = "ok (earlier)";
    known[r.schedule] = r;
  }
  std::vector<TuningRecord> records;
  TuneCallbacks callbacks = machine.callbacks();
  callbacks.record = [&](const TuningRecord& r) { records.push_back(r); };
  const TuneOutcome o = tune_search(candidates, target, known, budget, callbacks, 0.0);
  EXPECT_EQ(o.measured, 10u);
  EXPECT_EQ(o.resumed, 3u);
  for (const std::string& s : machine.measured) EXPECT_EQ(known.count(s), 0u) << s;
  ASSERT_GE(o.results.size(), 3u);
  EXPECT_TRUE(o.results[0].resumed);
  EXPECT_EQ(o.results[0].time_us, 500.0);
  // One record per new measurement, in order, then the two head-to-head records.
  ASSERT_EQ(records.size(), 12u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(records[i].schedule, machine.measured[i]);
    EXPECT_FALSE(records[i].final);
    EXPECT_FALSE(records[i].is_default);
  }
  EXPECT_TRUE(records[10].final);
  EXPECT_FALSE(records[10].is_default);
  // The best measured (whether or not it beat the heuristic), at its head-to-head time.
  const TuneResult* best = fastest(o);
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(records[10].schedule, to_string(best->schedule));
  EXPECT_EQ(records[10].time_us, machine.cost(best->schedule));
  EXPECT_TRUE(records[11].final);
  EXPECT_TRUE(records[11].is_default);
  EXPECT_EQ(records[11].schedule, to_string(candidates.defaults[0]));
  EXPECT_EQ(records[11].time_us, machine.cost(candidates.defaults[0]));
}

TEST_F(TunerTest, ReportsProgressForEveryVisit) {
  struct Line {
    std::size_t index, total;
    double elapsed;
    bool resumed;
  };
  std::vector<Line> lines;
  TuneCallbacks callbacks = machine.callbacks();
  callbacks.progress = [&](const TuneResult& r, std::size_t index, std::size_t total,
                           double elapsed) {
    lines.push_back({index, total, elapsed, r.resumed});
  };
  TuneBudget budget = unlimited();
  budget.max_candidates = 20;
  std::map<std::string, TuningRecord> known;
  TuningRecord earlier;
  earlier.schedule = to_string(candidates.ranked[0]);
  earlier.time_us = 300.0;
  earlier.checked = true;
  known[earlier.schedule] = earlier;
  const TuneOutcome o = tune_search(candidates, target, known, budget, callbacks, 0.0);
  ASSERT_EQ(lines.size(), o.results.size());
  ASSERT_EQ(lines.size(), 21u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].index, i + 1);
    EXPECT_GE(lines[i].total, candidates.size());
    EXPECT_GE(lines[i].total, lines[i].index);
    EXPECT_EQ(lines[i].resumed, o.results[i].resumed);
  }
  EXPECT_TRUE(lines[1].resumed);
  // Elapsed is the search's clock since `start`: one measurement per non-resumed visit.
  EXPECT_DOUBLE_EQ(lines[0].elapsed, kSecondsPerMeasure);
  EXPECT_DOUBLE_EQ(lines[1].elapsed, kSecondsPerMeasure);
  EXPECT_DOUBLE_EQ(lines.back().elapsed, 20 * kSecondsPerMeasure);
}

TEST_F(TunerTest, AFailedCandidateIsNeverChosenAndIsRecordedAsFailed) {
  machine.failing.insert(to_string(machine.best));
  std::vector<TuningRecord> records;
  TuneCallbacks callbacks = machine.callbacks();
  callbacks.record = [&](const TuningRecord& r) { records.push_back(r); };
  const TuneOutcome o = tune_search(candidates, target, {}, unlimited(), callbacks, 0.0);
  EXPECT_EQ(o.failed, 1u);
  EXPECT_NE(o.tuned, machine.best);
  EXPECT_GT(o.tuned_us, 100.0);
  int failed_records = 0;
  for (const TuningRecord& r : records) {
    if (!r.checked) {
      ++failed_records;
      EXPECT_EQ(r.schedule, to_string(machine.best));
      EXPECT_EQ(r.check, "MISMATCH: fake");
    }
  }
  EXPECT_EQ(failed_records, 1);
}

TEST_F(TunerTest, TheHeadToHeadDecidesATieGoesToTheHeuristic) {
  TuneBudget budget = unlimited();
  budget.max_candidates = 30;
  // The best candidate wins the head-to-head: it is the tuned schedule, at that time.
  machine.h2h_a = 120.0;
  machine.h2h_b = 110.0;
  std::vector<TuningRecord> records;
  TuneCallbacks callbacks = machine.callbacks();
  callbacks.record = [&](const TuningRecord& r) { records.push_back(r); };
  TuneOutcome o = tune_search(candidates, target, {}, budget, callbacks, 0.0);
  EXPECT_NE(o.tuned, o.heuristic);
  EXPECT_EQ(o.heuristic_us, 120.0);
  EXPECT_EQ(o.tuned_us, 110.0);
  ASSERT_GE(records.size(), 2u);
  const TuningRecord& best_final = records[records.size() - 2];
  EXPECT_TRUE(best_final.final);
  EXPECT_EQ(best_final.time_us, 110.0);
  EXPECT_EQ(best_final.key, target.key);
  EXPECT_EQ(best_final.backend, "xbyak");
  EXPECT_EQ(best_final.isa, "avx2");
  EXPECT_DOUBLE_EQ(best_final.gflops, problem.flops() / (110.0 * 1e3));
  EXPECT_EQ(records.back().time_us, 120.0);
  // A tie: the heuristic.
  FakeMachine tie = machine;
  tie.h2h_a = tie.h2h_b = 120.0;
  o = tune_search(candidates, target, {}, budget, tie.callbacks(), 0.0);
  EXPECT_EQ(o.tuned, o.heuristic);
  EXPECT_EQ(o.tuned_us, 120.0);
}

TEST_F(TunerTest, AFailedHeuristicSkipsTheHeadToHead) {
  machine.failing.insert(to_string(candidates.defaults[0]));
  TuneBudget budget = unlimited();
  budget.max_candidates = 40;
  const TuneOutcome o = tune_search(candidates, target, {}, budget, machine.callbacks(), 0.0);
  EXPECT_EQ(machine.head_to_heads, 0);
  EXPECT_FALSE(o.heuristic_result.checked);
  EXPECT_EQ(o.heuristic_result.check, "MISMATCH: fake");
  EXPECT_TRUE(std::isnan(o.heuristic_us));
  const TuneResult* best = fastest(o);
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(o.tuned, best->schedule);
  EXPECT_EQ(o.tuned_us, best->time_us);
}

TEST(TunerResume, TheFastestUsableRecordOfASchedulePerBackend) {
  TuningRecord failed = test::sample_record("tile_t=2", 10.0);
  failed.checked = false;
  TuningRecord later = test::sample_record("tile_t=2", 50.0);
  TuningRecord llvm = test::sample_record("tile_t=5", 5.0);
  llvm.backend = "llvm";
  const TuningDb db = TuningDb::parse(
      record_to_json(test::sample_record("tile_t=3", 40.0)) + "\n" +
          record_to_json(test::sample_record("tile_t=3", 30.0)) + "\n" + record_to_json(failed) +
          "\n" + record_to_json(later) + "\n" + record_to_json(llvm) + "\n",
      "test");
  const TuningKey key = make_tuning_key(test::sample_spec(), test::sample_shape(), 1);
  const auto known = resumable_records(db, key, "xbyak");
  ASSERT_EQ(known.size(), 2u);
  EXPECT_EQ(known.at(test::sample_record("tile_t=3", 0).schedule).time_us, 30.0);
  EXPECT_EQ(known.at(failed.schedule).time_us, 50.0);  // usable beats failed
  EXPECT_EQ(resumable_records(db, key, "llvm").size(), 1u);
  const TuningKey other = make_tuning_key(test::sample_spec(), test::sample_shape(), 2);
  EXPECT_TRUE(resumable_records(db, other, "xbyak").empty());
}

}  // namespace
}  // namespace convjit::detail
