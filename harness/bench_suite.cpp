#include "harness/bench_suite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "convjit/isa.hpp"
#include "harness/onednn_runner.hpp"
#include "harness/output_check.hpp"
#include "harness/stats.hpp"

namespace convjit::harness {
namespace {

// Untimed pause before switching engines when running several threads (see below).
constexpr double kSwitchPauseSeconds = 0.003;

// Repetition policy: the full bench aims at `budget` timed seconds per shape and engine
// over kRounds interleaved rounds; --quick takes a handful of runs.
struct Policy {
  double budget;
  int min_reps, max_reps, rounds;
  int trial_min, trial_max;  // oneDNN formulation trials
  int compile_repeats;
  double peak_seconds;
};

Policy policy_for(const BenchOptions& o) {
  if (o.quick) return {0.01, 3, 20, 2, 2, 5, 3, 0.02};
  return {o.budget_seconds, 5, 100000, 5, 3, 200, 7, 0.1};
}

std::vector<float> uniform(std::int64_t count, float scale, std::mt19937_64& rng) {
  std::vector<float> v(static_cast<std::size_t>(count));
  for (float& x : v) {
    x = scale * static_cast<float>(static_cast<double>(rng() >> 40) / 8388608.0 - 1.0);
  }
  return v;
}

// The clock of the timed runs (BenchOptions::clock): the steady clock, or the calling
// thread's CPU time.
bool g_cpu_clock = false;

double clock_seconds() {
  if (!g_cpu_clock) return now_seconds();
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double time_once(const std::function<void()>& run) {
  const double t0 = clock_seconds();
  run();
  return clock_seconds() - t0;
}

// Interleaved timing of two engines: each round runs A `per_round + 1` times, then B; the
// first run after a switch is dropped (it pays for the other engine's cache and
// thread-pool state). With several threads, each switch also waits `pause` seconds first,
// untimed: OpenMP's workers (oneDNN) spin for a while after a parallel region and would
// otherwise steal the cores convjit's pool is about to use. Returns every kept sample.
struct Interleaved {
  std::vector<double> a_us, b_us;
};

Interleaved time_interleaved(const std::function<void()>& a, int reps_a,
                             const std::function<void()>* b, int reps_b, int rounds, double pause) {
  Interleaved r;
  const int per_a = std::max(1, (reps_a + rounds - 1) / rounds);
  const int per_b = std::max(1, (reps_b + rounds - 1) / rounds);
  auto settle = [pause] {
    if (pause > 0) std::this_thread::sleep_for(std::chrono::duration<double>(pause));
  };
  for (int round = 0; round < rounds; ++round) {
    settle();
    a();
    for (int i = 0; i < per_a; ++i) r.a_us.push_back(time_once(a) * 1e6);
    if (b == nullptr) continue;
    settle();
    (*b)();
    for (int i = 0; i < per_b; ++i) r.b_us.push_back(time_once(*b) * 1e6);
  }
  return r;
}

bool zmm_allowed(const std::string& isa) {
  if (isa == "avx2") return false;
  return host_supports(Isa::kAvx512);
}

double gflops_of(double flops, double time_us) {
  return flops / (time_us * 1e3);
}

// The 1-minute load average, or a negative value when /proc/loadavg is not there.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1.0;
  if (!(in >> load)) return -1.0;
  return load;
}

// A note when other work competes for the CPUs: wall times then include waiting.
void note_load(BenchReport& report, const char* when) {
  const double load = load_average();
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  if (load > 0.75 * cpus) {
    report.notes.push_back(fmt::format(
        "machine busy {}: load average {:.1f} on {} CPUs; times include waiting for a CPU "
        "(compare ratios within this run, rerun on an idle machine for absolute numbers)",
        when, load, cpus));
  }
}

}  // namespace

std::vector<SuiteShape> select_shapes(const std::vector<SuiteShape>& suite,
                                      const std::string& name) {
  if (name.empty()) return suite;
  const int i = find_shape(suite, name);
  if (i < 0) {
    std::vector<std::string> names;
    for (const auto& s : suite) names.push_back(s.name);
    throw Error(ErrorCode::kUnknownName, "shape",
                fmt::format("Unknown shape: {}. Valid shapes: {}", name, fmt::join(names, ", ")));
  }
  return {suite[static_cast<std::size_t>(i)]};
}

BenchReport run_bench(const BenchOptions& options, std::ostream* progress) {
  const Policy policy = policy_for(options);
  const std::vector<SuiteShape> shapes =
      select_shapes(read_suite(options.suite_path), options.shape);
  if (options.clock != "wall" && options.clock != "cpu") {
    throw Error(ErrorCode::kInvalidValue, "clock",
                fmt::format("clock must be wall or cpu. Received: clock={}", options.clock));
  }
  if (options.clock == "cpu" && options.threads != 1) {
    throw Error(ErrorCode::kInvalidValue, "clock",
                fmt::format("clock=cpu times the calling thread only and needs threads=1. "
                            "Received: threads={}",
                            options.threads));
  }
  g_cpu_clock = options.clock == "cpu";
  ConvjitOptions copts = options.convjit;
  copts.threads = options.threads;
  if (!options.tuning_db.empty()) copts.use_tuning_db = false;  // --tuned: main columns = heuristic
  if (const auto isa = find_isa(copts.isa)) {
    resolve_isa(*isa);  // an ISA this CPU lacks fails here, before the peak probe
  }
  const bool with_onednn =
      options.use_onednn && onednn_available() && onednn_supports_activation(options.activation);

  BenchReport report;
  report.date = iso_date_now();
  report.cpu = cpu_model_name();
  report.threads = options.threads;
  report.quick = options.quick;
  report.tuning_db = options.tuning_db;
  report.onednn = onednn_available()
                      ? onednn_description() +
                            fmt::format(", {} thread(s) via omp_set_num_threads", options.threads)
                      : onednn_description();
  if (onednn_available() && !options.use_onednn) report.onednn += " (disabled by --no-onednn)";
  if (onednn_available() && !onednn_supports_activation(options.activation)) {
    report.onednn += fmt::format(" (not run: no oneDNN eltwise for activation={})",
                                 activation_name(options.activation));
  }
  if (g_cpu_clock) {
    report.notes.push_back(
        "clock=cpu: times are the calling thread's CPU time (time spent descheduled by other "
        "processes is not counted)");
  } else {
    note_load(report, "at the start");
  }
  if (progress) *progress << "measuring the FMA peak ...\n" << std::flush;
  report.peaks = measure_peaks(options.threads, policy.peak_seconds);
  if (with_onednn) onednn_set_threads(options.threads);
  if (options.quick) {
    report.notes.push_back(
        fmt::format("--quick: tiny repetition counts; shapes above {:.0e} flops run with N=1 and a "
                    "shorter L (marked *): not comparable with full runs",
                    kQuickMaxFlops));
  }
  if (options.activation != Activation::kLinear) {
    report.notes.push_back(
        fmt::format("activation={} fused in both engines", activation_name(options.activation)));
  }

  std::mt19937_64 rng(options.seed);
  const double peak = report.peaks.peak(zmm_allowed(copts.isa), options.threads);
  for (std::size_t si = 0; si < shapes.size(); ++si) {
    const SuiteShape& full = shapes[si];
    if (progress) {
      *progress << fmt::format("[{}/{}] {} ...\n", si + 1, shapes.size(), full.name) << std::flush;
    }
    BenchRow row;
    row.name = full.name;
    row.threads = options.threads;
    row.shape = options.quick ? shrink_to_flops(full, kQuickMaxFlops) : full;
    row.shrunk = row.shape.batch != full.batch || row.shape.length != full.length;
    row.peak_gflops = peak;
    row.time_us = row.gflops = row.pct_peak = row.compile_us = NAN;
    const SuiteShape& s = row.shape;
    const std::int64_t fan_in = s.kernel * (s.in_channels / s.groups);
    const std::vector<float> input = uniform(s.input_elems(), 1.0f, rng);
    const std::vector<float> kernel =
        uniform(s.kernel_elems(), 1.0f / std::sqrt(static_cast<float>(fan_in)), rng);
    const std::vector<float> bias = uniform(s.filters, 0.5f, rng);

    try {
      ConvjitRunner cj(s, options.activation, copts, input.data(), kernel.data(), bias.data());
      row.engine = cj.describe();
      row.compile_us = cj.fresh_compile_us(policy.compile_repeats);
      const double t_cj = time_once([&] { cj.run(); });  // warm-up

      // oneDNN: every formulation (creation outside timing), trial-timed; keep the fastest
      // one whose output agrees with the first that worked.
      std::unique_ptr<OnednnRunner> best;
      std::vector<float> onednn_out;
      double best_trial_us = INFINITY;
      std::optional<double> scale;
      auto get_scale = [&] {
        if (!scale) scale = acc_scale(s, input.data(), kernel.data(), bias.data());
        return *scale;
      };
      std::vector<float> first_out;
      if (with_onednn) {
        for (const OnednnFormulation f : all_onednn_formulations()) {
          FormulationResult fr;
          fr.name = onednn_formulation_name(f);
          fr.time_us = NAN;
          try {
            auto runner = std::make_unique<OnednnRunner>(s, options.activation, f, input.data(),
                                                         kernel.data(), bias.data());
            fr.creation_us = runner->creation_us();
            fr.description = runner->describe();
            if (runner->implementation().rfind("ref:", 0) == 0) {
              // oneDNN's reference loops: never its best, and slow enough to stall the bench.
              fr.description += " (skipped: oneDNN's reference implementation)";
              row.formulations.push_back(fr);
              continue;
            }
            const double t = time_once([&] { runner->run(); });
            std::vector<double> samples{t * 1e6};
            if (t * 1e6 < 20 * best_trial_us) {
              // Worth a real trial (one 20x slower than the best so far is not).
              const int n =
                  repetitions_for(policy.budget / 4, t, policy.trial_min, policy.trial_max);
              samples.clear();
              for (int i = 0; i < n; ++i) {
                samples.push_back(time_once([&] { runner->run(); }) * 1e6);
              }
            }
            fr.time_us = median(samples);
            std::vector<float> out = runner->output();
            if (first_out.empty()) {
              first_out = out;
              fr.ok = true;
            } else {
              const CheckResult c = compare_outputs(out, first_out, get_scale());
              fr.ok = c.ok();
              if (!c.ok())
                fr.description += " !!! vs first formulation: " + c.describe(out, first_out);
            }
            if (fr.ok && fr.time_us < best_trial_us) {
              best_trial_us = fr.time_us;
              best = std::move(runner);
              onednn_out = std::move(out);
            }
          } catch (const Error& e) {
            fr.description = e.what();
          }
          row.formulations.push_back(fr);
        }
        for (const auto& fr : row.formulations) {
          if (!fr.ok && std::isfinite(fr.time_us)) {
            row.check_ok = false;  // a formulation that ran but disagreed is loud
          }
        }
      }

      // Interleaved timing.
      const int reps_cj = repetitions_for(policy.budget, t_cj, policy.min_reps, policy.max_reps);
      const std::function<void()> run_cj = [&] { cj.run(); };
      std::function<void()> run_dnn;
      int reps_dnn = 0;
      if (best) {
        run_dnn = [&] { best->run(); };
        reps_dnn =
            repetitions_for(policy.budget, best_trial_us * 1e-6, policy.min_reps, policy.max_reps);
      }
      const Interleaved times =
          time_interleaved(run_cj, reps_cj, best ? &run_dnn : nullptr, reps_dnn, policy.rounds,
                           options.threads > 1 ? kSwitchPauseSeconds : 0.0);
      row.repetitions = static_cast<int>(times.a_us.size());
      row.time_us = median(times.a_us);
      row.gflops = gflops_of(s.flops, row.time_us);
      row.pct_peak = 100.0 * row.gflops / peak;

      std::string check;
      if (best) {
        row.onednn = true;
        row.onednn_formulation = best->describe();
        row.onednn_creation_us = best->creation_us();
        row.onednn_time_us = median(times.b_us);
        row.onednn_gflops = gflops_of(s.flops, row.onednn_time_us);
        row.onednn_pct_peak = 100.0 * row.onednn_gflops / peak;
        row.ratio_vs_onednn = row.gflops / row.onednn_gflops;
        onednn_out = best->output();
        const CheckResult c = compare_outputs(cj.output(), onednn_out, get_scale());
        check = "vs oneDNN " + c.describe(cj.output(), onednn_out);
        if (!c.ok()) row.check_ok = false;
      } else if (copts.engine != "reference" && s.flops <= kReferenceCheckMaxFlops) {
        const detail::Problem p = detail::make_problem(s.spec(options.activation), s.input_shape());
        std::vector<float> ref(static_cast<std::size_t>(p.output_size()));
        detail::reference_conv1d(p, input.data(), kernel.data(), bias.data(), ref.data());
        const CheckResult c = compare_outputs(cj.output(), ref, get_scale());
        check = "vs reference " + c.describe(cj.output(), ref);
        if (!c.ok()) row.check_ok = false;
      } else {
        check = with_onednn                   ? "unchecked: every oneDNN formulation failed"
                : copts.engine == "reference" ? "unchecked: no oneDNN; the engine is the reference"
                                              : "unchecked: no oneDNN; too big for the reference";
      }
      if (!options.tuning_db.empty() && copts.engine == "jit") {
        // --tuned: the database's schedule against the heuristic, interleaved, same data.
        ConvjitOptions topts = copts;
        topts.tuning_db = options.tuning_db;
        topts.use_tuning_db = true;
        ConvjitRunner tuned(s, options.activation, topts, input.data(), kernel.data(), bias.data());
        row.tuned = true;
        row.tuned_schedule = tuned.schedule_text();
        row.tuned_found = row.tuned_schedule != cj.schedule_text();
        const double t_tuned = time_once([&] { tuned.run(); });  // warm-up
        const std::function<void()> run_tuned = [&] { tuned.run(); };
        const int reps = repetitions_for(policy.budget, std::max(t_cj, t_tuned), policy.min_reps,
                                         policy.max_reps);
        const Interleaved pair = time_interleaved(run_cj, reps, &run_tuned, reps, policy.rounds,
                                                  options.threads > 1 ? kSwitchPauseSeconds : 0.0);
        row.tuned_heuristic_time_us = median(pair.a_us);
        row.tuned_time_us = median(pair.b_us);
        row.tuned_gflops = gflops_of(s.flops, row.tuned_time_us);
        row.tuned_pct_peak = 100.0 * row.tuned_gflops / peak;
        row.tuned_speedup = row.tuned_heuristic_time_us / row.tuned_time_us;
        const CheckResult c = compare_outputs(tuned.output(), cj.output(), get_scale());
        if (!c.ok()) {
          row.check_ok = false;
          check += "; !!! tuned vs heuristic " + c.describe(tuned.output(), cj.output());
        }
      }
      if (with_onednn && !best) row.check_ok = false;
      for (const auto& fr : row.formulations) {
        if (!fr.ok && std::isfinite(fr.time_us)) check += "; !!! oneDNN " + fr.description;
      }
      row.check = check;
    } catch (const Error& e) {
      row.check_ok = false;
      row.check = fmt::format("FAILED: {}", e.what());
    }
    if (progress) {
      *progress << fmt::format("[{}/{}] {}: {:.1f} us, {:.1f} GFLOP/s{}{}\n", si + 1, shapes.size(),
                               row.name, row.time_us, row.gflops,
                               row.onednn ? fmt::format(" (oneDNN {:.1f})", row.onednn_gflops)
                                          : std::string(),
                               row.check_ok ? "" : "  !!! " + row.check)
                << std::flush;
    }
    report.rows.push_back(std::move(row));
  }
  if (!g_cpu_clock) note_load(report, "at the end");
  return report;
}

}  // namespace convjit::harness
