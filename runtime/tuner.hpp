// The autotuner's search (docs/tuning.md): the candidates of a layer ranked by the cost model,
// measured in that order within a budget, hill-climbing around the best, the final
// head-to-head against the heuristic, and the tuning-database records of it all.
//
// How a candidate is measured (compile, check against the reference, time) and how two are
// timed head to head is the caller's, through callbacks, as is the clock the budget is
// counted on: the search itself runs no kernel, so a test drives it with a cost function.
// `convjit tune` (tools/cmd_tune.cpp) is its command.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/isa.hpp"
#include "runtime/tuning_db.hpp"

namespace convjit::detail {

/// What measuring one candidate found.
struct Measurement {
  double time_us = NAN;  ///< median time of one run; NaN when it was not timed
  bool checked = false;  ///< its output matched the reference within the golden tolerance
  std::string check;     ///< "ok (...)", "MISMATCH: ...", "FAILED: ..."
};

/// A candidate the search visited: measured now, or resumed from the database.
struct TuneResult {
  Schedule schedule;
  double time_us = NAN;
  bool checked = false;
  bool resumed = false;
  std::string check;
};

/// The candidates of one search, in the order they are tried.
struct TuneCandidates {
  /// default_schedule for every ISA searched; the first one is the baseline heuristic.
  std::vector<Schedule> defaults;
  /// The others, cheapest estimate_cost first.
  std::vector<Schedule> ranked;

  std::size_t size() const { return defaults.size() + ranked.size(); }
};

/// What identifies a candidate: two candidates of the same identity are one kernel, measured
/// once. The text of its KernelPlan (plan_kernel) and its thread count, as
/// enumerate_schedules de-duplicates; unique_candidates and the search's never-twice rule
/// both go through it.
std::string candidate_identity(const Schedule& s, const Problem& p);

/// `candidates` without those whose candidate_identity an earlier one has, in order.
std::vector<Schedule> unique_candidates(const std::vector<Schedule>& candidates, const Problem& p);

/// The search space of `p` (enumerate_schedules) for `isas` (non-empty; the first gives the
/// baseline heuristic) with Schedule::threads = `threads`, through unique_candidates, the
/// non-defaults ranked by the cost model (rank_by_cost).
TuneCandidates tune_candidates(const Problem& p, const std::vector<Isa>& isas, int threads);

/// The records of `db` for `key` and `backend` that a search resumes from, by schedule text:
/// for each schedule its fastest usable record, else its first one.
std::map<std::string, TuningRecord> resumable_records(const TuningDb& db, const TuningKey& key,
                                                      const std::string& backend);

/// How long the search runs.
struct TuneBudget {
  double seconds = 25.0;   ///< of the whole search, the final head-to-head included
  int max_candidates = 0;  ///< stop after measuring this many new candidates (0: no limit)
  /// Candidates measured from the cost model's ranking before hill-climbing starts.
  std::size_t first_ranked = 12;
  int max_climbs = 8;         ///< rounds of hill-climbing, each while the best changes
  double final_share = 0.15;  ///< share of `seconds` kept for the head-to-head
  /// A candidate is timed for about seconds / 60, within these bounds.
  double min_slot = 0.02, max_slot = 0.3;
  /// A candidate this many times slower than the best so far may stop being timed.
  double stop_factor = 1.5;
};

/// What the search measures, for its records.
struct TuneTarget {
  Problem problem;       ///< as compiled (dynamic N or L allowed)
  TuningKey key;         ///< of every record
  std::string backend;   ///< Kernel::backend() of the candidates
  double run_flops = 0;  ///< flops of one measured run (the records' GFLOP/s)
};

/// Where the search reports to and how it measures.
struct TuneCallbacks {
  /// Measures one candidate: compiles it, checks it against the reference once, times it
  /// for about `slot_seconds` (it may stop timing once the median exceeds `stop_above_us`).
  std::function<Measurement(const Schedule& s, double slot_seconds, double stop_above_us)> measure;
  /// Times `a` and `b` interleaved for about `slot_seconds`; their median times in us.
  std::function<std::pair<double, double>(const Schedule& a, const Schedule& b,
                                          double slot_seconds)>
      head_to_head;
  /// After every visited candidate: `index` counts visits from 1, `total` the candidates
  /// known so far (hill-climbing adds some), `elapsed` the seconds since the search began.
  std::function<void(const TuneResult& r, std::size_t index, std::size_t total, double elapsed)>
      progress;
  /// Every new measurement, then the head-to-head results, as records, when they are made
  /// (`convjit tune` appends each to the database at once). Resumed candidates make none.
  std::function<void(const TuningRecord& r)> record;
  /// Seconds of a monotonic clock, which the budget is counted on (empty: the steady clock).
  std::function<double()> now;
};

/// What a search found.
struct TuneOutcome {
  std::vector<TuneResult> results;  ///< every visited candidate, in the order visited
  std::size_t measured = 0;         ///< results measured now
  std::size_t resumed = 0;          ///< results taken from the database
  std::size_t failed = 0;           ///< measured results that failed their check
  Schedule heuristic;               ///< the baseline: the first default
  /// The heuristic's result: it failed its check (or was never visited) when !checked.
  TuneResult heuristic_result;
  /// The winner of the head-to-head: the best candidate when it was faster than the
  /// heuristic, else the heuristic (a tie is the heuristic). When the heuristic failed, the
  /// best checked candidate, if any.
  Schedule tuned;
  double heuristic_us = NAN;  ///< the heuristic's head-to-head time (NaN: no head-to-head)
  double tuned_us = NAN;      ///< the winner's (NaN when nothing passed its check)
};

/// Runs the search over `candidates` of `target`: 1. the defaults, then the first
/// budget.first_ranked of the ranking; 2. hill-climbing: the neighbours of the best
/// (schedule_neighbors, on the ISAs of the defaults) while the best changes; 3. the rest of
/// the ranking; each while the budget lasts (its time less final_share, and
/// max_candidates). A candidate in `known` (resumable_records) is not measured again, nor is
/// one with the identity of a visited one. 4. The best against the heuristic, head to head.
/// `start` is the clock reading the budget counts from (NaN: now).
TuneOutcome tune_search(const TuneCandidates& candidates, const TuneTarget& target,
                        const std::map<std::string, TuningRecord>& known, const TuneBudget& budget,
                        const TuneCallbacks& callbacks, double start = NAN);

}  // namespace convjit::detail
