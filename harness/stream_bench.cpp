#include "harness/stream_bench.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "convjit/jit.hpp"
#include "convjit/stream.hpp"
#include "harness/bench_report.hpp"
#include "harness/naive_stream_loop.hpp"
#include "harness/onednn_runner.hpp"
#include "harness/output_check.hpp"
#include "harness/stats.hpp"

namespace convjit::harness {
namespace {

/// Streams of the batched T = 1 step (state slots 0..63).
constexpr std::int64_t kBatchStreams = 64;
/// Rows of the long-chunk step.
constexpr std::int64_t kLongChunk = 256;

StreamShape make_shape(const char* name, std::int64_t channels, std::int64_t filters,
                       std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
                       std::int64_t groups, Padding padding, Activation activation,
                       const char* origin) {
  SuiteShape s;
  s.name = name;
  s.in_channels = channels;
  s.filters = filters;
  s.kernel = kernel;
  s.stride = stride;
  s.dilation = dilation;
  s.groups = groups;
  s.padding = padding;
  s.origin = origin;
  return {resize(s, 1, (kernel - 1) * dilation + 1), activation};
}

/// The layer on (1, length) rows: pads, output length and flops recomputed.
SuiteShape at_length(const StreamShape& shape, std::int64_t length) {
  return resize(shape.layer, 1, length);
}

/// The receptive window as a `valid` layer of exactly one output.
SuiteShape window_layer(const StreamShape& shape) {
  SuiteShape s = shape.layer;
  s.padding = Padding::kValid;
  return resize(s, 1, (s.kernel - 1) * s.dilation + 1);
}

std::vector<float> uniform(std::int64_t count, float scale, std::mt19937_64& rng) {
  std::vector<float> v(static_cast<std::size_t>(count));
  for (float& x : v) {
    x = scale * static_cast<float>(static_cast<double>(rng() >> 40) / 8388608.0 - 1.0);
  }
  return v;
}

bool zmm_allowed(const std::string& isa) {
  return isa != "avx2" && host_supports(Isa::kAvx512);
}

/// The last `rows` input rows of a stream, contiguous and oldest first, for one memcpy per
/// new row: row r is kept at r % rows and at r % rows + rows of a 2 * rows buffer.
class WindowRing {
 public:
  WindowRing(std::int64_t rows, std::int64_t channels)
      : rows_(rows), channels_(channels), data_(static_cast<std::size_t>(2 * rows * channels)) {}
  void push(const float* row) {
    const std::int64_t slot = consumed_++ % rows_;
    const std::size_t bytes = static_cast<std::size_t>(channels_) * sizeof(float);
    std::memcpy(data_.data() + slot * channels_, row, bytes);
    std::memcpy(data_.data() + (slot + rows_) * channels_, row, bytes);
  }
  /// The last `rows` rows pushed (zeros before the first).
  const float* window() const { return data_.data() + (consumed_ % rows_) * channels_; }
  std::int64_t consumed() const { return consumed_; }

 private:
  std::int64_t rows_, channels_;
  std::vector<float> data_;
  std::int64_t consumed_ = 0;
};

/// Per new sample of one stream, recomputing the receptive window whenever an output is due
/// (every `strides` samples, once the first window is full; causal padding's zero rows are
/// the ring's zeros): `run(window)` computes that one output.
template <class Run>
double time_window_recompute(const StreamShape& shape, const float* row, Run&& run,
                             double seconds) {
  const SuiteShape& s = shape.layer;
  const std::int64_t window = (s.kernel - 1) * s.dilation + 1;
  WindowRing ring(window, s.in_channels);
  const std::int64_t pad_left = s.padding == Padding::kCausal ? window - 1 : 0;
  return median_seconds_per_call(
      [&] {
        ring.push(row);
        const std::int64_t last = ring.consumed() - 1 + pad_left - (window - 1);
        if (last >= 0 && last % s.stride == 0) run(ring.window());
      },
      seconds);
}

double gflops(double flops, double seconds) {
  return seconds > 0 ? flops / seconds * 1e-9 : NAN;
}

CompileOptions compile_options(const StreamBenchOptions& o) {
  CompileOptions c;
  c.isa = *find_isa(o.isa);
  c.backend = *find_backend(o.backend);
  c.threads = o.threads;
  c.use_tuning_db = false;  // the heuristic, like the stream's own compile
  return c;
}

/// Measures one shape into `row` (which holds NaN for everything not measured yet).
void measure_shape(const StreamBenchOptions& o, const StreamShape& shape, double seconds,
                   std::mt19937_64& rng, StreamBenchRow& row, std::ostream* progress) {
  const SuiteShape& s = shape.layer;
  const std::int64_t C = s.in_channels, F = s.filters;
  const std::int64_t window = (s.kernel - 1) * s.dilation + 1;
  const std::int64_t fan_in = s.kernel * (C / s.groups);
  const std::vector<float> kernel =
      uniform(s.kernel_elems(), 1.0f / std::sqrt(static_cast<float>(fan_in)), rng);
  const std::vector<float> bias = uniform(F, 0.5f, rng);
  const CompileOptions copts = compile_options(o);
  const Conv1DSpec spec = s.spec(shape.activation);

  const StreamKernel sk = compile_stream(spec, C, copts);
  row.kernel = fmt::format("{} {} {}", sk.kernel().name(), isa_name(sk.kernel().isa()),
                           sk.kernel().backend());
  const PackedWeights weights = sk.pack_weights(kernel.data(), bias.data());
  auto note = [&](const char* what) {
    if (progress) *progress << "  " << what << "\n" << std::flush;
  };

  // ---- check: a short sequence, one sample per step, against the plain loop; the last
  // output against the window kernels ----
  const std::int64_t check_length = 2 * window + 3 * s.stride + 20;
  const std::vector<float> sequence = uniform(check_length * C, 1.0f, rng);
  std::vector<float> streamed;
  std::vector<float> out(static_cast<std::size_t>(sk.max_outputs(kLongChunk) * F));
  {
    StreamState state = sk.make_state(1);
    for (std::int64_t t = 0; t < check_length; ++t) {
      const std::int64_t n = sk.step(sequence.data() + t * C, 1, weights, out.data(), state);
      streamed.insert(streamed.end(), out.begin(), out.begin() + n * F);
    }
  }
  const SuiteShape checked = at_length(shape, check_length);
  const double scale = acc_scale(checked, sequence.data(), kernel.data(), bias.data());
  std::vector<std::string> problems, oks;
  auto compare = [&](const char* what, const std::vector<float>& got,
                     const std::vector<float>& want) {
    const CheckResult r = compare_outputs(got, want, scale);
    if (r.ok()) {
      oks.push_back(fmt::format("{} {:.2g}", what, r.max_error_ratio));
    } else {
      problems.push_back(fmt::format("{}: {}", what, r.describe(got, want)));
    }
  };
  {
    NaiveStreamLoop naive(s, shape.activation, kernel.data(), bias.data());
    std::vector<float> naive_out;
    std::vector<float> one(static_cast<std::size_t>(F));
    for (std::int64_t t = 0; t < check_length; ++t) {
      if (naive.step(sequence.data() + t * C, one.data())) {
        naive_out.insert(naive_out.end(), one.begin(), one.end());
      }
    }
    compare("loop", naive_out, streamed);
  }
  // The last output's window: output j reads rows [j*s - pad_left, j*s - pad_left + window).
  const auto outputs = static_cast<std::int64_t>(streamed.size()) / F;
  const std::int64_t last_start = (outputs - 1) * s.stride - checked.pad_left;
  const std::vector<float> last_output(streamed.end() - F, streamed.end());
  const float* last_window = sequence.data() + last_start * C;

  // ---- T = 1: one stream, then 64 ----
  note("T=1 steps");
  const std::vector<float> rows = uniform(kBatchStreams * C, 1.0f, rng);
  {
    StreamState state = sk.make_state(1);
    const double t = median_seconds_per_call(
        [&] { sk.step(rows.data(), 1, weights, out.data(), state); }, seconds);
    row.step1_us = t * 1e6;
    row.step1_gflops = gflops(row.flops_per_output * row.outputs_per_sample, t);
  }
  {
    StreamState state = sk.make_state(kBatchStreams);
    std::vector<float> batch_out(static_cast<std::size_t>(kBatchStreams * F));
    std::vector<std::int64_t> counts(static_cast<std::size_t>(kBatchStreams));
    const double t = median_seconds_per_call(
        [&] {
          sk.step(rows.data(), 1, weights, batch_out.data(), state, nullptr, kBatchStreams,
                  counts.data());
        },
        seconds);
    row.step64_us = t * 1e6;
    row.step64_gflops = gflops(row.flops_per_output * row.outputs_per_sample * kBatchStreams, t);
  }

  // ---- today: the window through convjit's full kernel, oneDNN, a plain loop ----
  note("baselines");
  const SuiteShape win = window_layer(shape);
  {
    const Kernel whole =
        Jit::default_jit().compile(win.spec(shape.activation), {1, window, C}, copts);
    const PackedWeights packed = whole.pack_weights(kernel.data(), bias.data());
    std::vector<float> one(static_cast<std::size_t>(F));
    whole.run(last_window, packed, one.data(), 1, window);
    compare("window", one, last_output);
    row.window_convjit_us =
        time_window_recompute(
            shape, rows.data(),
            [&](const float* w) { whole.run(w, packed, one.data(), 1, window); }, seconds) *
        1e6;
  }
  if (!o.use_onednn || !onednn_available()) {
    row.onednn_formulation = o.use_onednn ? "absent (built without oneDNN)" : "not run";
  } else if (!onednn_supports_activation(shape.activation)) {
    row.onednn_formulation = "no oneDNN eltwise for this activation";
  } else {
    // The formulations a host would pick between for one output; the faster one counts.
    row.window_onednn_us = INFINITY;
    for (const OnednnFormulation f : {OnednnFormulation::k1dNwc, OnednnFormulation::k1dAny}) {
      try {
        OnednnRunner runner(win, shape.activation, f, last_window, kernel.data(), bias.data());
        runner.run_on(last_window);
        compare(onednn_formulation_name(f), runner.output(), last_output);
        const double t =
            time_window_recompute(
                shape, rows.data(), [&](const float* w) { runner.run_on(w); }, seconds) *
            1e6;
        if (t < row.window_onednn_us) {
          row.window_onednn_us = t;
          row.onednn_formulation = runner.describe();
        }
      } catch (const Error& e) {
        if (row.onednn_formulation.empty()) row.onednn_formulation = e.what();
      }
    }
    if (!std::isfinite(row.window_onednn_us)) row.window_onednn_us = NAN;
  }
  {
    NaiveStreamLoop naive(s, shape.activation, kernel.data(), bias.data());
    std::vector<float> one(static_cast<std::size_t>(F));
    row.naive_us =
        median_seconds_per_call([&] { naive.step(rows.data(), one.data()); }, seconds) * 1e6;
  }
  row.speedup_vs_window_convjit = row.window_convjit_us / row.step1_us;
  row.speedup_vs_window_onednn = row.window_onednn_us / row.step1_us;
  row.speedup_vs_naive = row.naive_us / row.step1_us;

  // ---- T = 256, one stream, against the full kernel on 256 rows ----
  note("T=256");
  const std::vector<float> chunk = uniform(kLongChunk * C, 1.0f, rng);
  {
    StreamState state = sk.make_state(1);
    const double t = median_seconds_per_call(
        [&] { sk.step(chunk.data(), kLongChunk, weights, out.data(), state); }, seconds);
    row.t256_stream_us = t * 1e6;
    row.t256_stream_gflops = gflops(row.flops_per_output * row.outputs_per_sample * kLongChunk, t);
  }
  {
    // The same outputs from the same rows: a `valid` run over the history and the 256 new
    // run_rows (its windows all inside the data, as the stream's in steady state).
    SuiteShape run_rows = window_layer(shape);
    run_rows = resize(run_rows, 1, window - 1 + kLongChunk);
    const std::vector<float> history_and_chunk = uniform(run_rows.length * C, 1.0f, rng);
    const Kernel whole =
        Jit::default_jit().compile(run_rows.spec(shape.activation), {1, run_rows.length, C}, copts);
    const PackedWeights packed = whole.pack_weights(kernel.data(), bias.data());
    std::vector<float> full_out(static_cast<std::size_t>(whole.output_size(1, run_rows.length)));
    const double t = median_seconds_per_call(
        [&] { whole.run(history_and_chunk.data(), packed, full_out.data(), 1, run_rows.length); },
        seconds);
    row.t256_full_us = t * 1e6;
    row.t256_full_gflops =
        gflops(row.flops_per_output * static_cast<double>(run_rows.out_length), t);
  }
  {
    // The layer itself on the 256 rows alone: what precedes them is its zero padding, whose
    // taps the kernel skips (most of them with dilation 256): an upper bound, not a peer.
    const SuiteShape run_rows = at_length(shape, kLongChunk);
    const Kernel whole = Jit::default_jit().compile(spec, {1, kLongChunk, C}, copts);
    const PackedWeights packed = whole.pack_weights(kernel.data(), bias.data());
    std::vector<float> full_out(static_cast<std::size_t>(whole.output_size(1, kLongChunk)));
    const double t = median_seconds_per_call(
        [&] { whole.run(chunk.data(), packed, full_out.data(), 1, kLongChunk); }, seconds);
    row.t256_padded_gflops =
        gflops(row.flops_per_output * static_cast<double>(run_rows.out_length), t);
  }
  row.t256_ratio = row.t256_stream_gflops / row.t256_full_gflops;

  row.check_ok = problems.empty();
  row.check = problems.empty() ? fmt::format("ok (err/tol: {})", fmt::join(oks, ", "))
                               : fmt::format("MISMATCH: {}", fmt::join(problems, "; "));
}

nlohmann::json number_or_null(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

std::string fixed_or_dash(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

std::vector<StreamShape> stream_bench_shapes() {
  return {
      make_shape("wavenet_d1", 64, 128, 2, 1, 1, 1, Padding::kCausal, Activation::kLinear,
                 "WaveNet layer, dilation 1"),
      make_shape("wavenet_d256", 64, 128, 2, 1, 256, 1, Padding::kCausal, Activation::kLinear,
                 "WaveNet layer, dilation 256"),
      make_shape("mamba_dw", 1536, 1536, 4, 1, 1, 1536, Padding::kCausal, Activation::kSilu,
                 "Mamba's depthwise causal conv (d_inner 1536)"),
      make_shape("tcn_d4", 128, 128, 3, 1, 4, 1, Padding::kCausal, Activation::kLinear,
                 "TCN layer"),
      make_shape("frontend_s5", 1, 512, 10, 5, 1, 1, Padding::kValid, Activation::kLinear,
                 "wav2vec-style strided front end"),
  };
}

bool StreamBenchReport::all_checks_ok() const {
  return std::all_of(rows.begin(), rows.end(), [](const StreamBenchRow& r) { return r.check_ok; });
}

StreamBenchReport run_stream_bench(const StreamBenchOptions& o, std::ostream* progress) {
  std::vector<StreamShape> shapes = stream_bench_shapes();
  if (!o.shape.empty()) {
    std::vector<std::string> names;
    for (const auto& s : shapes) names.push_back(s.layer.name);
    const auto it = std::find(names.begin(), names.end(), o.shape);
    if (it == names.end()) {
      throw Error(ErrorCode::kUnknownName, "shape",
                  fmt::format("Unknown streaming shape: {}. Valid shapes: {}", o.shape,
                              fmt::join(names, ", ")));
    }
    shapes = {shapes[static_cast<std::size_t>(it - names.begin())]};
  }
  const auto isa = find_isa(o.isa);
  if (!isa) {
    throw Error(ErrorCode::kUnknownName, "isa",
                fmt::format("Unknown isa: {}. Expected one of: auto, avx2, avx512", o.isa));
  }
  if (!find_backend(o.backend)) {
    throw Error(ErrorCode::kUnknownName, "backend",
                fmt::format("Unknown backend: {}. Expected one of: xbyak, llvm", o.backend));
  }
  resolve_isa(*isa);  // an ISA this CPU lacks fails here, before the peak probe

  StreamBenchReport report;
  report.date = iso_date_now();
  report.cpu = cpu_model_name();
  report.threads = o.threads;
  report.quick = o.quick;
  report.onednn = onednn_available()
                      ? onednn_description() + fmt::format(", {} thread(s)", o.threads)
                      : onednn_description();
  if (progress) *progress << "measuring the FMA peak ...\n" << std::flush;
  report.peaks = measure_peaks(o.threads, o.quick ? 0.02 : 0.1);
  if (o.use_onednn && onednn_available()) onednn_set_threads(o.threads);
  const double seconds = o.quick ? 0.01 : o.budget_seconds;
  if (o.quick) {
    report.notes.push_back("--quick: 10 ms per measurement; not comparable with full runs");
  }
  report.notes.push_back(
      "T=1 GFLOP/s count useful flops, 2*F*(C/g)*K per output, one output per `strides` "
      "samples; baselines are per new sample of one stream, recomputing the receptive window "
      "when an output is due");
  const double peak = report.peaks.peak(zmm_allowed(o.isa), o.threads);

  std::mt19937_64 rng(o.seed);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const StreamShape& shape = shapes[i];
    if (progress) {
      *progress << fmt::format("[{}/{}] {} ...\n", i + 1, shapes.size(), shape.layer.name)
                << std::flush;
    }
    StreamBenchRow row;
    row.name = shape.layer.name;
    row.shape = shape;
    row.spec = to_keywords(shape.layer.spec(shape.activation));
    row.threads = o.threads;
    row.peak_gflops = peak;
    row.flops_per_output = 2.0 * static_cast<double>(shape.layer.filters) *
                           static_cast<double>(shape.layer.in_channels / shape.layer.groups) *
                           static_cast<double>(shape.layer.kernel);
    row.outputs_per_sample = 1.0 / static_cast<double>(shape.layer.stride);
    for (double* v : {&row.step1_us, &row.step1_gflops, &row.step64_us, &row.step64_gflops,
                      &row.window_convjit_us, &row.window_onednn_us, &row.naive_us,
                      &row.t256_stream_us, &row.t256_stream_gflops, &row.t256_full_us,
                      &row.t256_full_gflops, &row.t256_padded_gflops}) {
      *v = NAN;
    }
    try {
      measure_shape(o, shape, seconds, rng, row, progress);
    } catch (const Error& e) {
      row.check_ok = false;
      row.check = fmt::format("failed: {}", e.what());
    }
    row.step1_pct_peak = 100.0 * row.step1_gflops / peak;
    row.step64_pct_peak = 100.0 * row.step64_gflops / peak;
    row.speedup_vs_window_convjit = row.window_convjit_us / row.step1_us;
    row.speedup_vs_window_onednn = row.window_onednn_us / row.step1_us;
    row.speedup_vs_naive = row.naive_us / row.step1_us;
    row.t256_ratio = row.t256_stream_gflops / row.t256_full_gflops;
    if (progress) *progress << "  " << row.check << "\n" << std::flush;
    report.rows.push_back(std::move(row));
  }
  return report;
}

std::string format_stream_table(const StreamBenchReport& report) {
  std::string t;
  const PeakInfo& p = report.peaks;
  t += fmt::format("convjit bench --stream  {}  cpu: {}  threads: {}\n", report.date, report.cpu,
                   report.threads);
  t += fmt::format("fp32 FMA peak (measured): ymm {:.1f} GFLOP/s (1 thread), {:.1f} ({} threads)",
                   p.ymm_1t, p.ymm_nt, p.threads);
  if (p.has_zmm) {
    t += fmt::format("; zmm {:.1f} (1 thread), {:.1f} ({} threads)", p.zmm_1t, p.zmm_nt, p.threads);
  }
  t += "\n" + fma_units_line(p) + "\n" + report.onednn + "\n";
  for (const auto& n : report.notes) t += "note: " + n + "\n";
  t += "\nT=1, one new sample per step (us per step; x = baseline time / stream 1 time)\n";
  t += fmt::format(
      "{:<13} {:>8} {:>7} {:>6} {:>9} {:>7} {:>6} {:>10} {:>6} {:>10} {:>6} "
      "{:>8} {:>6}\n",
      "shape", "1str_us", "GFLOP/s", "%peak", "64str_us", "GFLOP/s", "%peak", "cj_win_us", "x",
      "dnnl_win", "x", "loop_us", "x");
  for (const StreamBenchRow& r : report.rows) {
    t += fmt::format(
        "{:<13} {:>8} {:>7} {:>6} {:>9} {:>7} {:>6} {:>10} {:>6} {:>10} {:>6} {:>8} {:>6}\n",
        r.name, fixed_or_dash(r.step1_us, 3), fixed_or_dash(r.step1_gflops, 1),
        fixed_or_dash(r.step1_pct_peak, 1), fixed_or_dash(r.step64_us, 2),
        fixed_or_dash(r.step64_gflops, 1), fixed_or_dash(r.step64_pct_peak, 1),
        fixed_or_dash(r.window_convjit_us, 3), fixed_or_dash(r.speedup_vs_window_convjit, 1),
        fixed_or_dash(r.window_onednn_us, 3), fixed_or_dash(r.speedup_vs_window_onednn, 1),
        fixed_or_dash(r.naive_us, 3), fixed_or_dash(r.speedup_vs_naive, 1));
  }
  t += fmt::format(
      "\nT={0}, one stream in steady state, against the full-sequence kernel computing the same "
      "outputs\n(a valid run over the history + {0} rows; padded_GF/s: the layer on the {0} rows "
      "alone, its zero-padding taps skipped)\n",
      kLongChunk);
  t += fmt::format("{:<13} {:>10} {:>8} {:>10} {:>8} {:>6} {:>11}  {}\n", "shape", "stream_us",
                   "GFLOP/s", "full_us", "GFLOP/s", "ratio", "padded_GF/s",
                   "check / kernel / oneDNN");
  for (const StreamBenchRow& r : report.rows) {
    t += fmt::format("{:<13} {:>10} {:>8} {:>10} {:>8} {:>6} {:>11}  {}{} / {} / {}\n", r.name,
                     fixed_or_dash(r.t256_stream_us, 2), fixed_or_dash(r.t256_stream_gflops, 1),
                     fixed_or_dash(r.t256_full_us, 2), fixed_or_dash(r.t256_full_gflops, 1),
                     fixed_or_dash(r.t256_ratio, 2), fixed_or_dash(r.t256_padded_gflops, 1),
                     r.check_ok ? "" : "!!! ", r.check, r.kernel, r.onednn_formulation);
  }
  if (!report.all_checks_ok()) {
    t += "!!! CHECK FAILED: a row failed or its outputs disagree (see the check column)\n";
  }
  return t;
}

std::string stream_report_to_json(const StreamBenchReport& report, int indent) {
  nlohmann::json rows = nlohmann::json::array();
  for (const StreamBenchRow& r : report.rows) {
    const SuiteShape& s = r.shape.layer;
    nlohmann::json o;
    o["name"] = r.name;
    o["spec"] = r.spec;
    o["threads"] = r.threads;
    o["kernel"] = r.kernel;
    o["shape"] = {{"Cin", s.in_channels},
                  {"F", s.filters},
                  {"K", s.kernel},
                  {"s", s.stride},
                  {"d", s.dilation},
                  {"g", s.groups},
                  {"pad", padding_name(s.padding)},
                  {"activation", activation_name(r.shape.activation)}};
    o["flops_per_output"] = r.flops_per_output;
    o["outputs_per_sample"] = r.outputs_per_sample;
    o["peak_gflops"] = number_or_null(r.peak_gflops);
    o["peak_gflops_1t"] = number_or_null(report.peaks.peak(true, 1));
    o["step1_us"] = number_or_null(r.step1_us);
    o["step1_gflops"] = number_or_null(r.step1_gflops);
    o["step1_pct_peak"] = number_or_null(r.step1_pct_peak);
    o["step64_us"] = number_or_null(r.step64_us);
    o["step64_gflops"] = number_or_null(r.step64_gflops);
    o["step64_pct_peak"] = number_or_null(r.step64_pct_peak);
    o["window_convjit_us"] = number_or_null(r.window_convjit_us);
    o["window_onednn_us"] = number_or_null(r.window_onednn_us);
    o["onednn_formulation"] = r.onednn_formulation;
    o["naive_us"] = number_or_null(r.naive_us);
    o["speedup_vs_window_convjit"] = number_or_null(r.speedup_vs_window_convjit);
    o["speedup_vs_window_onednn"] = number_or_null(r.speedup_vs_window_onednn);
    o["speedup_vs_naive"] = number_or_null(r.speedup_vs_naive);
    o["t256_stream_us"] = number_or_null(r.t256_stream_us);
    o["t256_stream_gflops"] = number_or_null(r.t256_stream_gflops);
    o["t256_full_us"] = number_or_null(r.t256_full_us);
    o["t256_full_gflops"] = number_or_null(r.t256_full_gflops);
    o["t256_ratio"] = number_or_null(r.t256_ratio);
    o["t256_padded_gflops"] = number_or_null(r.t256_padded_gflops);
    o["check"] = r.check;
    o["check_ok"] = r.check_ok;
    o["quick"] = report.quick;
    o["onednn"] = report.onednn;
    o["notes"] = report.notes;
    o["date"] = report.date;
    o["cpu"] = report.cpu;
    rows.push_back(std::move(o));
  }
  return rows.dump(indent);
}

void write_stream_json_file(const StreamBenchReport& report, const std::string& path) {
  write_json_text(stream_report_to_json(report), path);
}

}  // namespace convjit::harness
