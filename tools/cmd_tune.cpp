// convjit tune (SPEC --input N,L,C | --shape NAME | --suite CSV) [--budget SECONDS]
//              [--threads N] [--db PATH] [--isa auto|avx2|avx512] [--max-candidates N]
//
// The autotuner's command. The search (candidates ranked by the cost model, the budget,
// hill-climbing, the head-to-head against the heuristic, the database records) is
// runtime/tuner.hpp; this file parses the command line, makes the layer's data and its
// reference output, compiles, checks and times the candidates the search asks for (with the
// bench harness's statistics and peak), appends the records to the tuning database
// (runtime/tuning_db.hpp) and prints the progress and the result. See docs/tuning.md.
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/jit.hpp"
#include "harness/output_check.hpp"
#include "harness/peak_probe.hpp"
#include "harness/stats.hpp"
#include "harness/suite.hpp"
#include "runtime/engine.hpp"
#include "runtime/tuner.hpp"
#include "runtime/tuning_db.hpp"
#include "tools/cli_util.hpp"
#include "tools/command.hpp"

namespace convjit::tool {
namespace {

// Shapes up to this many flops are checked at their full size with the measured kernel
// itself (the reference runs once per shape); bigger ones with a dynamic-length kernel of
// the same schedule on a shorter input.
constexpr double kFullCheckFlops = 3e8;
constexpr double kShortCheckFlops = 2e7;

struct TuneArgs {
  std::string spec, input, shape, suite;
  double budget = 25.0;
  int threads = 1;
  std::string db;
  std::string isa = "auto";
  int max_candidates = 0;
  std::int64_t length = 1024;  // run length for a dynamic-length --input
  std::uint64_t seed = 1;
  bool show = false;
  std::string backend = "xbyak";
};

/// One layer to tune.
struct Target {
  std::string name;
  Conv1DSpec spec;
  Shape3 shape{};      ///< as compiled (kDynamic allowed)
  Shape3 run_shape{};  ///< the concrete shape measured
};

bool channels_first(const Conv1DSpec& spec) {
  return spec.data_format == DataFormat::kChannelsFirst;
}
int length_axis(const Conv1DSpec& spec) {
  return channels_first(spec) ? 2 : 1;
}

/// Seconds of CPU time of the calling thread (1-thread runs: immune to preemption on a
/// busy machine), or wall seconds for multi-thread runs.
double clock_seconds(bool thread_cpu) {
  if (!thread_cpu) return harness::now_seconds();
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

/// The words of `s` that differ from `base` ("heuristic" when none).
std::string schedule_diff(const detail::Schedule& s, const detail::Schedule& base) {
  const auto a = words_of(detail::to_string(s)), b = words_of(detail::to_string(base));
  std::string out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i >= b.size() || a[i] != b[i]) out += (out.empty() ? "" : " ") + a[i];
  }
  return out.empty() ? "heuristic" : out;
}

/// Layer data and the reference output of the check.
struct Data {
  std::vector<float> input, kernel, bias;  // at run_shape
  Shape3 check_shape{};                    // concrete
  bool check_full = true;                  // check_shape == run_shape, with the kernel itself
  std::vector<float> check_input;          // at check_shape (== input when check_full)
  std::vector<float> reference;            // reference output at check_shape
  double acc_scale = 0.0;                  // conformance/FORMAT.md
};

Data make_data(const Target& t, std::uint64_t seed) {
  Data d;
  const detail::Problem p = detail::make_problem(t.spec, t.run_shape);
  d.input = random_values(p.input_size(), seed);
  d.kernel = random_values(p.kernel_size_elems(), seed + 1);
  const float scale = 1.0f / std::sqrt(static_cast<float>(p.kernel * p.ic_per_group));
  for (float& w : d.kernel) w *= scale;
  if (t.spec.use_bias) {
    d.bias = random_values(p.filters, seed + 2);
    for (float& b : d.bias) b *= 0.5f;
  }
  d.check_shape = t.run_shape;
  d.check_full = p.flops() <= kFullCheckFlops;
  if (!d.check_full) {
    // One sample, and halve the length down to a few million flops (keeping a few tiles).
    const int la = length_axis(t.spec);
    Shape3 s = t.run_shape;
    s[0] = 1;
    const std::int64_t min_length =
        (t.spec.kernel_size - 1) * t.spec.dilation_rate + 1 + 64 * t.spec.strides;
    while (s[la] / 2 >= min_length && detail::make_problem(t.spec, s).flops() > kShortCheckFlops) {
      s[la] /= 2;
    }
    d.check_shape = s;
  }
  const detail::Problem cp = detail::make_problem(t.spec, d.check_shape);
  d.check_input = d.check_full ? d.input : random_values(cp.input_size(), seed + 3);
  d.reference.assign(static_cast<std::size_t>(cp.output_size()), 0.0f);
  const float* bias = d.bias.empty() ? nullptr : d.bias.data();
  detail::reference_conv1d(cp, d.check_input.data(), d.kernel.data(), bias, d.reference.data());
  // acc_scale = max over outputs of sum |x*w| + |b|: the linear pre-activation of |x|, |w|, |b|.
  detail::Problem abs_p = cp;
  abs_p.activation = Activation::kLinear;
  std::vector<float> ax = d.check_input, aw = d.kernel, ab = d.bias;
  for (auto* v : {&ax, &aw, &ab}) {
    for (float& x : *v) x = std::fabs(x);
  }
  std::vector<double> pre(static_cast<std::size_t>(abs_p.batch * abs_p.out_length * abs_p.filters));
  detail::reference_preactivation(abs_p, ax.data(), aw.data(), ab.empty() ? nullptr : ab.data(),
                                  pre.data());
  for (double v : pre) d.acc_scale = std::max(d.acc_scale, v);
  return d;
}

/// Compiles, checks and times candidates of one layer for the search (runtime/tuner.hpp).
class Measurer {
 public:
  Measurer(const Target& t, const TuneArgs& args, const Data& data)
      : t_(t), args_(args), data_(data), jit_(JitOptions{64, ""}) {}

  Kernel compile(const detail::Schedule& s, const Shape3& shape) {
    CompileOptions o;
    o.isa = s.isa;
    o.schedule = detail::to_string(s);
    o.threads = args_.threads;
    o.use_tuning_db = false;
    o.backend = *find_backend(args_.backend);
    return jit_.compile(t_.spec, shape, o);
  }
  detail::Measurement measure(const detail::Schedule& s, double slot_seconds, double stop_above_us);
  std::pair<double, double> head_to_head(const detail::Schedule& a, const detail::Schedule& b,
                                         double slot_seconds);

 private:
  void time_runs(const Kernel& k, const PackedWeights& w, std::vector<float>& out, int reps,
                 std::vector<double>& samples, double stop_above_us) {
    const bool cpu = args_.threads == 1;
    const std::int64_t n = t_.run_shape[0], l = t_.run_shape[length_axis(t_.spec)];
    for (int i = 0; i < reps; ++i) {
      const double t0 = clock_seconds(cpu);
      k.run(data_.input.data(), w, out.data(), n, l);
      samples.push_back((clock_seconds(cpu) - t0) * 1e6);
      if (samples.size() >= 3 && harness::median(samples) > stop_above_us) break;
    }
  }

  const Target& t_;
  const TuneArgs& args_;
  const Data& data_;
  Jit jit_;
};

detail::Measurement Measurer::measure(const detail::Schedule& s, double slot_seconds,
                                      double stop_above_us) {
  detail::Measurement r;
  try {
    const Kernel k = compile(s, t_.shape);
    const PackedWeights w =
        k.pack_weights(data_.kernel.data(), data_.bias.empty() ? nullptr : data_.bias.data());
    std::vector<float> out(static_cast<std::size_t>(
        k.output_size(t_.run_shape[0], t_.run_shape[length_axis(t_.spec)])));
    // Check once against the reference (the kernel itself, or the same schedule compiled
    // for a dynamic length on a shorter input).
    std::vector<float> got;
    if (data_.check_full) {
      k.run(data_.input.data(), w, out.data(), t_.run_shape[0], t_.run_shape[length_axis(t_.spec)]);
      got = out;
    } else {
      Shape3 dyn = t_.shape;
      dyn[0] = kDynamic;
      dyn[length_axis(t_.spec)] = kDynamic;
      const Kernel ck = compile(s, dyn);
      const PackedWeights cw =
          ck.pack_weights(data_.kernel.data(), data_.bias.empty() ? nullptr : data_.bias.data());
      const std::int64_t n = data_.check_shape[0], l = data_.check_shape[length_axis(t_.spec)];
      got.assign(static_cast<std::size_t>(ck.output_size(n, l)), 0.0f);
      ck.run(data_.check_input.data(), cw, got.data(), n, l);
    }
    const harness::CheckResult c = harness::compare_outputs(got, data_.reference, data_.acc_scale);
    r.check = c.describe(got, data_.reference);
    r.checked = c.ok();
    if (!r.checked) return r;
    // Warm-up (also sizes the repetitions), then timed runs; a candidate clearly slower than
    // the best so far stops after 3 runs.
    std::vector<double> warm;
    time_runs(k, w, out, 1, warm, INFINITY);
    const int reps = harness::repetitions_for(slot_seconds, warm[0] * 1e-6, 3, 2000);
    std::vector<double> samples;
    time_runs(k, w, out, reps, samples, stop_above_us);
    r.time_us = harness::median(samples);
  } catch (const Error& e) {
    r.checked = false;
    r.check = fmt::format("FAILED: {}", e.what());
  }
  return r;
}

std::pair<double, double> Measurer::head_to_head(const detail::Schedule& a,
                                                 const detail::Schedule& b, double slot_seconds) {
  const float* bias = data_.bias.empty() ? nullptr : data_.bias.data();
  const Kernel ka = compile(a, t_.shape), kb = compile(b, t_.shape);
  const PackedWeights wa = ka.pack_weights(data_.kernel.data(), bias);
  const PackedWeights wb = kb.pack_weights(data_.kernel.data(), bias);
  const std::int64_t n = t_.run_shape[0], l = t_.run_shape[length_axis(t_.spec)];
  std::vector<float> out(static_cast<std::size_t>(ka.output_size(n, l)));
  // Sized by wall time (a busy machine stretches it), to end near the shape's budget.
  std::vector<double> warm;
  const double w0 = harness::now_seconds();
  time_runs(ka, wa, out, 1, warm, INFINITY);
  time_runs(kb, wb, out, 1, warm, INFINITY);
  const double pair_wall = harness::now_seconds() - w0;
  const int reps = harness::repetitions_for(slot_seconds, pair_wall, 10, 5000);
  constexpr int kRounds = 5;
  const int per_round = std::max(2, reps / kRounds);
  std::vector<double> sa, sb;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<double> x, y;
    time_runs(ka, wa, out, per_round + 1, x, INFINITY);
    time_runs(kb, wb, out, per_round + 1, y, INFINITY);
    sa.insert(sa.end(), x.begin() + 1, x.end());  // the first run after a switch is dropped
    sb.insert(sb.end(), y.begin() + 1, y.end());
  }
  return {harness::median(sa), harness::median(sb)};
}

/// The ISAs searched: the Jit's default first (its heuristic is the baseline), then every
/// other one this CPU has; or the one of --isa.
std::vector<Isa> search_isas(const TuneArgs& args) {
  if (args.isa != "auto") return {*find_isa(args.isa)};
  std::vector<Isa> out;
  const Isa best = resolve_isa(Isa::kAuto);
  out.push_back(best);
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (isa != best && host_supports(isa)) out.push_back(isa);
  }
  return out;
}

/// Tunes one layer: the search with this process's kernels and clocks, its progress on
/// stderr, its result on stdout. kExitFailure when a candidate failed its check.
int tune_target(const Target& t, const TuneArgs& args, const std::string& db_path, double peak) {
  const double start = harness::now_seconds();
  const Data data = make_data(t, args.seed);
  Measurer measurer(t, args, data);
  const detail::TuningKey key = detail::make_tuning_key(t.spec, t.shape, args.threads);
  const detail::Problem problem = detail::make_problem(t.spec, t.shape);
  const double run_flops = detail::make_problem(t.spec, t.run_shape).flops();
  auto gflops = [&](double time_us) { return run_flops / (time_us * 1e3); };

  const detail::TuneCandidates candidates =
      detail::tune_candidates(problem, search_isas(args), args.threads);
  const detail::Schedule& heuristic = candidates.defaults.front();
  const std::string backend = measurer.compile(heuristic, t.shape).backend();

  // What the database already knows for this key (resume).
  const detail::TuningDb db = detail::TuningDb::load(db_path);
  detail::report_problems_once(db);
  const auto known = detail::resumable_records(db, key, backend);
  fmt::print(stderr,
             "{}: {} {} threads={}: {} legal candidates ({} already in {}), budget {:.0f} s, "
             "checked {}\n",
             t.name, key.spec, shape_string(t.shape), args.threads, candidates.size(), known.size(),
             db_path, args.budget,
             data.check_full ? "at full size"
                             : fmt::format("on {} with a dynamic-length kernel",
                                           shape_string(data.check_shape)));

  detail::TuneBudget budget;
  budget.seconds = args.budget;
  budget.max_candidates = args.max_candidates;
  detail::TuneCallbacks callbacks;
  callbacks.measure = [&](const detail::Schedule& s, double slot, double stop_above_us) {
    return measurer.measure(s, slot, stop_above_us);
  };
  callbacks.head_to_head = [&](const detail::Schedule& a, const detail::Schedule& b, double slot) {
    return measurer.head_to_head(a, b, slot);
  };
  callbacks.record = [&](const detail::TuningRecord& r) { detail::append_record(db_path, r); };
  callbacks.now = harness::now_seconds;
  callbacks.progress = [&](const detail::TuneResult& r, std::size_t index, std::size_t total,
                           double elapsed) {
    const std::string what = schedule_diff(r.schedule, heuristic);
    if (!r.checked) {
      fmt::print(stderr, "[{:3}/{} {:5.1f}s] !!! {}  {}\n", index, total, elapsed, r.check, what);
      fmt::print(stderr, "    repro: convjit run '{}' --input {},{},{} --schedule '{}'\n",
                 to_keywords(t.spec), t.run_shape[0], t.run_shape[1], t.run_shape[2],
                 detail::to_string(r.schedule));
    } else {
      fmt::print(stderr, "[{:3}/{} {:5.1f}s] {:10.1f} us {:7.1f} GFLOP/s{}  {}\n", index, total,
                 elapsed, r.time_us, gflops(r.time_us), r.resumed ? " (resumed)" : "", what);
    }
  };
  const detail::TuneOutcome o = detail::tune_search(candidates, {problem, key, backend, run_flops},
                                                    known, budget, callbacks, start);
  if (!o.heuristic_result.checked) {
    fmt::print(stderr, "!!! the heuristic schedule failed its check: {}\n",
               o.heuristic_result.check);
  }

  const double elapsed = harness::now_seconds() - start;
  fmt::print("{}  {} {}  threads={}  {} measured, {} resumed, {} failed, {:.1f} s\n", t.name,
             key.spec, shape_string(t.run_shape), args.threads, o.measured, o.resumed, o.failed,
             elapsed);
  auto row = [&](const char* label, double us, const std::string& what) {
    fmt::print("  {:<9} {:10.1f} us {:8.1f} GFLOP/s {:5.1f}% of peak  {}\n", label, us, gflops(us),
               100.0 * gflops(us) / peak, what);
  };
  if (std::isfinite(o.heuristic_us)) row("heuristic", o.heuristic_us, detail::to_string(heuristic));
  if (std::isfinite(o.tuned_us)) row("tuned", o.tuned_us, schedule_diff(o.tuned, heuristic));
  if (std::isfinite(o.heuristic_us) && std::isfinite(o.tuned_us)) {
    fmt::print("  gain      {:.2f}x  (peak {:.1f} GFLOP/s, {} thread(s))\n",
               o.heuristic_us / o.tuned_us, peak, args.threads);
  }
  std::fflush(stdout);
  return o.failed > 0 ? kExitFailure : kExitOk;
}

std::vector<Target> targets_of(const TuneArgs& a) {
  const int given = (!a.spec.empty() ? 1 : 0) + (!a.shape.empty() ? 1 : 0) +
                    (!a.suite.empty() && a.shape.empty() ? 1 : 0);
  if (given != 1) {
    throw CLI::ValidationError("tune",
                               "give exactly one of SPEC --input, --shape NAME, --suite CSV");
  }
  std::vector<Target> out;
  if (!a.spec.empty()) {
    if (a.input.empty()) throw CLI::ValidationError("--input", "SPEC needs --input N,L,C");
    Target t;
    t.name = "spec";
    t.spec = parse_spec_argument(a.spec);
    t.shape = parse_input_shape(a.input);
    t.run_shape = t.shape;
    if (t.run_shape[0] == kDynamic) t.run_shape[0] = 1;
    const bool dynamic_length = t.run_shape[length_axis(t.spec)] == kDynamic;
    if (dynamic_length) t.run_shape[length_axis(t.spec)] = a.length;
    // The library's size checks and the tuner's own data, before anything is allocated.
    detail::check_engine_limits("jit", t.spec, t.run_shape);
    check_data_memory(t.spec, t.run_shape, 4, dynamic_length ? "--length" : "--input");
    out.push_back(t);
    return out;
  }
  const std::string suite_path =
      a.suite.empty() ? std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv" : a.suite;
  const std::vector<harness::SuiteShape> suite = harness::read_suite(suite_path);
  for (const harness::SuiteShape& s : suite) {
    if (!a.shape.empty() && s.name != a.shape) continue;
    out.push_back(Target{s.name, s.spec(), s.input_shape(), s.input_shape()});
  }
  if (out.empty()) {
    std::vector<std::string> names;
    for (const auto& s : suite) names.push_back(s.name);
    throw CLI::ValidationError("--shape", fmt::format("Unknown shape: {}. Valid shapes: {}",
                                                      a.shape, fmt::join(names, ", ")));
  }
  return out;
}

void add_tune_command(CLI::App& app) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand(
      "tune",
      "Autotune: search legal schedules of SPEC --input N,L,C, of one suite --shape or of a\n"
      "whole --suite, measure them (each checked against the reference), print the best\n"
      "against the heuristic, and append every measurement to the tuning database, which\n"
      "Jit::compile reads (CompileOptions::tuning_db or CONVJIT_TUNING_DB).");
  cmd->add_option("spec", args->spec, "keyword syntax or get_config JSON");
  cmd->add_option("--input", args->input,
                  "input shape N,L,C (N,C,L for channels_first); ? for a dynamic N or L");
  cmd->add_option("--shape", args->shape, "a shape of the suite by name");
  cmd->add_option("--suite", args->suite, "every shape of this suite CSV")
      ->check(CLI::ExistingFile);
  cmd->add_option("--budget", args->budget, "seconds of search per shape")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--threads", args->threads, "threads the kernels run on (part of the key)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--db", args->db,
                  "tuning database (default: $CONVJIT_TUNING_DB, else ./convjit_tuning.jsonl)");
  cmd->add_option("--isa", args->isa, "ISAs to search: auto (every one this CPU has), avx2, avx512")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "avx2", "avx512"}));
  cmd->add_option("--max-candidates", args->max_candidates,
                  "stop after measuring this many new candidates (0: the budget decides)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--length", args->length, "length measured for a dynamic-length --input")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--seed", args->seed, "seed of the random input and weights");
  cmd->add_option("--backend", args->backend,
                  "code generator of the candidates: xbyak, or llvm (milliseconds per compile: "
                  "fewer candidates fit the budget)")
      ->capture_default_str()
      ->check(CLI::IsMember({"xbyak", "llvm"}));
  cmd->add_flag("--show", args->show,
                "measure nothing: print the schedule Jit::compile picks now (from --db, else "
                "CONVJIT_TUNING_DB, else the heuristic)");
  cmd->callback([args] {
    const std::vector<Target> targets = targets_of(*args);
    if (args->show) {
      for (const Target& t : targets) {
        CompileOptions o;
        o.threads = args->threads;
        o.tuning_db = args->db;  // empty: CONVJIT_TUNING_DB, as for any compile
        o.backend = *find_backend(args->backend);
        Jit jit;
        const Kernel k = jit.compile(t.spec, t.shape, o);
        CompileOptions h = o;
        h.use_tuning_db = false;
        const bool tuned = k.schedule_text() != jit.compile(t.spec, t.shape, h).schedule_text();
        fmt::print("{}: {} ({})\n", t.name, k.schedule_text(), tuned ? "tuned" : "heuristic");
      }
      set_exit_status(kExitOk);
      return;
    }
    if (args->isa != "auto") resolve_isa(*find_isa(args->isa));  // an ISA the CPU lacks: Error
    std::string db = args->db;
    if (db.empty()) db = detail::tuning_db_environment();
    if (db.empty()) db = "convjit_tuning.jsonl";
    detail::TuningDb::load(db);  // not a regular file, too large: an error before measuring
    fmt::print(stderr, "measuring the FMA peak ...\n");
    const harness::PeakInfo peaks = harness::measure_peaks(args->threads, 0.05);
    const bool zmm = args->isa != "avx2" && host_supports(Isa::kAvx512);
    const double peak = peaks.peak(zmm, args->threads);
    int status = kExitOk;
    for (const Target& t : targets) {
      if (tune_target(t, *args, db, peak) != kExitOk) status = kExitFailure;
    }
    fmt::print(stderr, "tuning database: {}\n", db);
    set_exit_status(status);
  });
}

const CommandRegistrar registrar(65, add_tune_command);

}  // namespace
}  // namespace convjit::tool
