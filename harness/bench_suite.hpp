// run_bench — the whole `convjit bench`: peaks, then every suite shape with convjit and
// oneDNN in the same process, interleaved, checked against each other.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "harness/bench_report.hpp"
#include "harness/convjit_runner.hpp"

namespace convjit::harness {

/// Under --quick, shapes above this many flops are shrunk (N to 1, then L).
inline constexpr double kQuickMaxFlops = 4e6;
/// Without oneDNN, convjit is checked against the (slow) reference up to this many flops.
inline constexpr double kReferenceCheckMaxFlops = 1.2e8;

struct BenchOptions {
  std::string suite_path;  ///< the suite CSV
  std::string shape;       ///< one shape by name; empty: every shape
  int threads = 1;         ///< threads of both convjit and oneDNN (and the N-thread peak)
  bool quick = false;      ///< a few seconds in total: tiny shapes and repetition counts
  Activation activation = Activation::kLinear;  ///< fused in both (suite layers are linear)
  ConvjitOptions convjit;       ///< engine, isa, backend (threads is taken from `threads`)
  bool use_onednn = true;       ///< false: convjit only, even when oneDNN is built in
  double budget_seconds = 0.3;  ///< timed seconds per shape and engine (not under --quick)
  std::uint64_t seed = 1;       ///< of the random input and weights
  /// "wall" (steady clock) or "cpu": the calling thread's CPU time, which does not count
  /// time spent descheduled by other processes (1 thread only: both engines then run on
  /// the calling thread). Error(kInvalidValue, "clock") for another value or cpu with
  /// threads > 1.
  std::string clock = "wall";
  /// --tuned: this tuning database's schedules (`convjit tune`) are timed head to head with
  /// the heuristic's for every shape (BenchRow::tuned_*); convjit's main columns then use
  /// the heuristic. Empty: no tuned columns (CONVJIT_TUNING_DB applies as for any compile).
  std::string tuning_db;
};

/// The shapes `options` selects from `suite`: all, or the one named. Throws
/// Error(kUnknownName, "shape") listing the valid names for an unknown one.
std::vector<SuiteShape> select_shapes(const std::vector<SuiteShape>& suite,
                                      const std::string& name);

/// Runs the bench. Progress lines ("[3/11] wavenet_d1 ...") go to `progress` when not null.
/// A failing shape (e.g. a spec the engine rejects) becomes a row with check_ok false.
BenchReport run_bench(const BenchOptions& options, std::ostream* progress);

}  // namespace convjit::harness
