// BenchRow and BenchReport — what a bench run measured, as a table or as JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/peak_probe.hpp"
#include "harness/suite.hpp"

namespace convjit::harness {

/// One formulation oneDNN was tried with for a shape.
struct FormulationResult {
  std::string name;          ///< "1d_nwc", ...
  std::string description;   ///< layouts and implementation, or why it failed
  double time_us = 0.0;      ///< median of its trial runs (NaN when it failed)
  double creation_us = 0.0;  ///< primitive creation
  bool ok = false;           ///< created, ran and agreed with the first formulation
};

/// One shape of the suite, measured. Times are medians over interleaved repetitions;
/// NaN marks a value that does not exist (no oneDNN, an engine without a compile step).
struct BenchRow {
  std::string name;
  SuiteShape shape;     ///< the layer as run (shrunk under --quick)
  bool shrunk = false;  ///< shape differs from the suite's (N and/or L reduced)
  int threads = 1;
  std::string engine;   ///< convjit engine description
  int repetitions = 0;  ///< timed runs of each engine
  double time_us = 0.0;
  double gflops = 0.0;
  double pct_peak = 0.0;
  double compile_us = 0.0;
  double peak_gflops = 0.0;  ///< the peak pct_peak refers to (row's threads and ISA)
  bool onednn = false;       ///< oneDNN ran for this row
  std::string onednn_formulation;
  double onednn_time_us = 0.0;
  double onednn_gflops = 0.0;
  double onednn_pct_peak = 0.0;
  double onednn_creation_us = 0.0;
  double ratio_vs_onednn = 0.0;  ///< convjit GFLOP/s / oneDNN GFLOP/s (> 1: convjit faster)
  std::vector<FormulationResult> formulations;
  bool check_ok = true;
  std::string check;  ///< "ok (...)", "MISMATCH: ...", "unchecked: ..."
  // --tuned: the heuristic and the tuning database's schedule, timed interleaved.
  bool tuned = false;
  std::string tuned_schedule;            ///< the tuned kernel's schedule text
  bool tuned_found = false;              ///< the database had a record (else: the heuristic)
  double tuned_heuristic_time_us = 0.0;  ///< the heuristic, in the head-to-head
  double tuned_time_us = 0.0;
  double tuned_gflops = 0.0;
  double tuned_pct_peak = 0.0;
  double tuned_speedup = 0.0;  ///< tuned_heuristic_time_us / tuned_time_us
};

/// A whole run: the machine, the peaks, the rows.
struct BenchReport {
  std::string date;    ///< ISO 8601, local time
  std::string cpu;     ///< model name from /proc/cpuinfo
  std::string onednn;  ///< onednn_description()
  int threads = 1;
  bool quick = false;
  PeakInfo peaks;
  std::vector<std::string> notes;  ///< said once, above the table (shrunk shapes, ...)
  std::vector<BenchRow> rows;
  std::string tuning_db;  ///< --tuned: the database the tuned columns come from

  /// True when every row's check passed.
  bool all_checks_ok() const;
};

/// The "model name" line of /proc/cpuinfo ("unknown" when there is none).
std::string cpu_model_name();
/// Local time as "2026-11-05T14:03:00".
std::string iso_date_now();

/// The JSON array of the rows: one object per row with name, threads, time_us, gflops,
/// pct_peak, compile_us, peak_gflops, peak_gflops_1t, date, cpu, notes, the shape actually
/// run, check; with oneDNN also onednn_time_us, onednn_gflops, onednn_pct_peak,
/// ratio_vs_onednn, onednn_formulation, onednn_creation_us and the formulations tried.
/// NaN values are written as null.
std::string report_to_json(const BenchReport& report, int indent = 2);

/// Writes report_to_json to `path`; throws Error(kIoError) when it cannot.
/// Writes `json` and a newline to `path`; Error(kIoError, "json") when it cannot.
void write_json_text(const std::string& json, const std::string& path);
void write_json_file(const BenchReport& report, const std::string& path);

/// "fma units: avx512-full (cpuid: ...); probes: zmm/ymm = 2.01 (full width)": the FMA width
/// the heuristic reads from CPUID, beside what the probes measured.
std::string fma_units_line(const PeakInfo& peaks);

/// The human-readable table (header with machine, peaks and notes, one line per row).
std::string format_table(const BenchReport& report);

}  // namespace convjit::harness
