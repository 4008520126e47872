// run_stream_bench — `convjit bench --stream`: the streaming kernel's step against what a
// host does today to get one new output per sample (issue 17's table).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "harness/peak_probe.hpp"
#include "harness/suite.hpp"

namespace convjit::harness {

/// A streaming layer of the bench: the layer (its batch and length are irrelevant) and its
/// fused activation.
struct StreamShape {
  SuiteShape layer;
  Activation activation = Activation::kLinear;
};

/// Issue 17's shapes: WaveNet 64->128 K2 d1 and d256 causal, Mamba's depthwise 1536 K4
/// causal silu, a TCN 128->128 K3 d4 causal, a strided front end 1->512 K10 s5 valid.
std::vector<StreamShape> stream_bench_shapes();

struct StreamBenchOptions {
  std::string shape;  ///< one shape by name; empty: every shape
  int threads = 1;    ///< threads of every convjit kernel and of oneDNN
  bool quick = false;
  std::string isa = "auto";       ///< convjit's ISA: auto, avx2, avx512
  std::string backend = "xbyak";  ///< convjit's code generator: xbyak, llvm
  bool use_onednn = true;
  double budget_seconds = 0.2;  ///< timed seconds per measurement (not under --quick)
  std::uint64_t seed = 1;
};

/// One shape, measured. Times in microseconds, medians; NaN where a value does not exist.
struct StreamBenchRow {
  std::string name;
  std::string spec;  ///< Keras keywords
  StreamShape shape;
  int threads = 1;
  std::string kernel;             ///< the streaming kernel's name, isa and backend
  double flops_per_output = 0.0;  ///< useful flops of one output row: 2*F*(C/g)*K
  double outputs_per_sample = 1;  ///< 1 / strides
  double peak_gflops = 0.0;       ///< the FMA peak pct_peak refers to
  // T = 1: one step of one new sample.
  double step1_us = 0.0, step1_gflops = 0.0, step1_pct_peak = 0.0;     ///< 1 stream
  double step64_us = 0.0, step64_gflops = 0.0, step64_pct_peak = 0.0;  ///< 64 streams
  // What a host does today, per new sample of one stream.
  double window_convjit_us = 0.0;  ///< the receptive window through convjit's full kernel
  double window_onednn_us = 0.0;   ///< the same through a oneDNN primitive
  std::string onednn_formulation;  ///< the fastest one, or why there is none
  double naive_us = 0.0;           ///< a ring buffer and nested loops, -O3 -march=native
  double speedup_vs_window_convjit = 0.0, speedup_vs_window_onednn = 0.0,
         speedup_vs_naive = 0.0;  ///< baseline time / step1_us
  // T = 256, one stream in steady state, against the full-sequence kernel computing the same
  // outputs from the same rows: a `valid` run over the history and the 256 new rows.
  double t256_stream_us = 0.0, t256_stream_gflops = 0.0;
  double t256_full_us = 0.0, t256_full_gflops = 0.0;
  double t256_ratio = 0.0;  ///< t256_stream_gflops / t256_full_gflops
  /// The layer on the 256 rows alone (the rows before them its zero padding, whose taps the
  /// kernel skips): useful flops counted as if computed, so an upper bound.
  double t256_padded_gflops = 0.0;
  bool check_ok = true;
  std::string check;  ///< "ok (...)" or what disagreed
};

struct StreamBenchReport {
  std::string date, cpu, onednn;
  int threads = 1;
  bool quick = false;
  PeakInfo peaks;
  std::vector<std::string> notes;
  std::vector<StreamBenchRow> rows;
  bool all_checks_ok() const;
};

/// Runs it; progress lines go to `progress` when not null. Throws Error(kUnknownName,
/// "shape") for an unknown shape name (listing the valid ones), Error(kUnknownName, "isa" /
/// "backend"), and Error(kUnsupported, "isa") for an ISA this CPU lacks, before the peak
/// probe. A shape that fails becomes a row with check_ok false.
StreamBenchReport run_stream_bench(const StreamBenchOptions& options, std::ostream* progress);

/// The table: machine, peaks, then one line per shape for T = 1 (1 and 64 streams) against
/// the baselines, and one for T = 256.
std::string format_stream_table(const StreamBenchReport& report);

/// The rows as a JSON array, one object per shape with every StreamBenchRow field (NaN as
/// null), the shape, date, cpu, peak_gflops_1t and notes.
std::string stream_report_to_json(const StreamBenchReport& report, int indent = 2);
/// Writes it to `path`; Error(kIoError, "json") when it cannot.
void write_stream_json_file(const StreamBenchReport& report, const std::string& path);

}  // namespace convjit::harness
