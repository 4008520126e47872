// convjit tune (SPEC --input N,L,C | --shape NAME | --suite CSV) [--budget SECONDS]
//              [--threads N] [--db PATH] [--isa auto|avx2|avx512] [--max-candidates N]
//
// The autotuner: enumerates legal schedules (compiler/schedule/enumerate.hpp), ranks them with
// the cost model, measures them in that order within the budget (warm-up, repetitions,
// median; every candidate checked once against the reference), hill-climbs around the best,
// then times the best against the default heuristic head to head and appends every
// measurement to the tuning database (runtime/tuning_db.hpp). See docs/tuning.md.
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/enumerate.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/jit.hpp"
#include "harness/output_check.hpp"
#include "harness/peak_probe.hpp"
#include "harness/stats.hpp"
#include "harness/suite.hpp"
#include "runtime/engine.hpp"
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
// Candidates measured from the cost model's ranking before hill-climbing starts.
constexpr std::size_t kFirstRanked = 12;
// Share of the budget kept for the final head-to-head.
constexpr double kFinalShare = 0.15;

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

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
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

/// A measured (or resumed) candidate.
struct Result {
  detail::Schedule schedule;
  double time_us = NAN;
  bool checked = false;
  bool resumed = false;
  std::string check;
};

class Tuner {
 public:
  Tuner(const Target& t, const TuneArgs& args, const std::string& db_path, double peak)
      : t_(t),
        args_(args),
        db_path_(db_path),
        peak_(peak),
        key_(detail::make_tuning_key(t.spec, t.shape, args.threads)),
        problem_(detail::make_problem(t.spec, t.shape)),
        run_problem_(detail::make_problem(t.spec, t.run_shape)),
        jit_(JitOptions{64, ""}) {}

  int run();

 private:
  std::vector<Isa> isas() const;
  Result measure(const detail::Schedule& s, double slot_seconds, double best_us);
  void record(const Result& r, bool final, bool is_default);
  void progress(const Result& r, std::size_t index);
  std::pair<double, double> head_to_head(const detail::Schedule& a, const detail::Schedule& b);
  Kernel compile(const detail::Schedule& s, const Shape3& shape) {
    CompileOptions o;
    o.isa = s.isa;
    o.schedule = detail::to_string(s);
    o.threads = args_.threads;
    o.use_tuning_db = false;
    o.backend = *find_backend(args_.backend);
    return jit_.compile(t_.spec, shape, o);
  }
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
  double gflops(double time_us) const { return run_problem_.flops() / (time_us * 1e3); }

  const Target& t_;
  const TuneArgs& args_;
  std::string db_path_;
  double peak_;
  detail::TuningKey key_;
  detail::Problem problem_, run_problem_;
  Jit jit_;
  Data data_;
  detail::Schedule heuristic_;
  std::string backend_name_;  // Kernel::backend() of the candidates ("xbyak", "llvm")
  double start_ = 0.0;
  std::size_t total_ = 0;
  int failed_ = 0;
};

std::vector<Isa> Tuner::isas() const {
  if (args_.isa != "auto") return {*find_isa(args_.isa)};
  std::vector<Isa> out;
  const Isa best = resolve_isa(Isa::kAuto);
  out.push_back(best);  // the Jit's default first: its heuristic is the baseline
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (isa != best && host_supports(isa)) out.push_back(isa);
  }
  return out;
}

Result Tuner::measure(const detail::Schedule& s, double slot_seconds, double best_us) {
  Result r;
  r.schedule = s;
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
    time_runs(k, w, out, reps, samples, 1.5 * best_us);
    r.time_us = harness::median(samples);
  } catch (const Error& e) {
    r.checked = false;
    r.check = fmt::format("FAILED: {}", e.what());
  }
  return r;
}

void Tuner::record(const Result& r, bool final, bool is_default) {
  detail::TuningRecord rec;
  rec.key = key_;
  Conv1DSpec computation = parse_spec_keywords(key_.spec);
  rec.config = to_config_json(computation);
  rec.isa = isa_name(r.schedule.isa);
  rec.backend = backend_name_;
  rec.schedule = detail::to_string(r.schedule);
  rec.time_us = r.time_us;
  rec.gflops = std::isfinite(r.time_us) ? gflops(r.time_us) : NAN;
  rec.checked = r.checked;
  rec.check = r.check;
  rec.final = final;
  rec.is_default = is_default;
  rec.date = now_iso();
  detail::append_record(db_path_, rec);
}

void Tuner::progress(const Result& r, std::size_t index) {
  const std::string what = schedule_diff(r.schedule, heuristic_);
  total_ = std::max(total_, index);
  const double elapsed = harness::now_seconds() - start_;
  if (!r.checked) {
    fmt::print(stderr, "[{:3}/{} {:5.1f}s] !!! {}  {}\n", index, total_, elapsed, r.check, what);
    fmt::print(stderr, "    repro: convjit run '{}' --input {},{},{} --schedule '{}'\n",
               to_keywords(t_.spec), t_.run_shape[0], t_.run_shape[1], t_.run_shape[2],
               detail::to_string(r.schedule));
  } else {
    fmt::print(stderr, "[{:3}/{} {:5.1f}s] {:10.1f} us {:7.1f} GFLOP/s{}  {}\n", index, total_,
               elapsed, r.time_us, gflops(r.time_us), r.resumed ? " (resumed)" : "", what);
  }
}

std::pair<double, double> Tuner::head_to_head(const detail::Schedule& a,
                                              const detail::Schedule& b) {
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
  const double left = start_ + args_.budget - harness::now_seconds();
  const double slot = std::clamp(std::min(left, args_.budget * kFinalShare), 0.2, 5.0);
  const int reps = harness::repetitions_for(slot, pair_wall, 10, 5000);
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

int Tuner::run() {
  start_ = harness::now_seconds();
  const double deadline = start_ + args_.budget * (1.0 - kFinalShare);
  data_ = make_data(t_, args_.seed);
  const std::vector<Isa> search_isas = isas();
  heuristic_ = detail::default_schedule(problem_, search_isas.front());
  heuristic_.threads = args_.threads;
  backend_name_ = compile(heuristic_, t_.shape).backend();

  // What the database already knows for this key (resume).
  const detail::TuningDb db = detail::TuningDb::load(db_path_);
  detail::report_problems_once(db);
  std::map<std::string, const detail::TuningRecord*> known;
  for (const detail::TuningRecord* r : db.find(key_)) {
    if (r->backend != backend_name_) continue;
    auto& k = known[r->schedule];
    if (!k || (r->usable() && (!k->usable() || r->time_us < k->time_us))) k = r;
  }

  detail::EnumerateOptions eo;
  eo.isas = search_isas;
  eo.threads = args_.threads;
  std::vector<detail::Schedule> all = detail::enumerate_schedules(problem_, eo);
  const std::vector<detail::Schedule> defaults(all.begin(), all.begin() + search_isas.size());
  std::vector<detail::Schedule> ranked = detail::rank_by_cost(
      std::vector<detail::Schedule>(all.begin() + search_isas.size(), all.end()), problem_);
  total_ = all.size();
  fmt::print(stderr,
             "{}: {} {} threads={}: {} legal candidates ({} already in {}), budget {:.0f} s, "
             "checked {}\n",
             t_.name, key_.spec, shape_string(t_.shape), args_.threads, all.size(), known.size(),
             db_path_, args_.budget,
             data_.check_full ? "at full size"
                              : fmt::format("on {} with a dynamic-length kernel",
                                            shape_string(data_.check_shape)));

  std::deque<Result> results;  // stable addresses: `best` points into it
  std::set<std::string> done;
  std::size_t measured = 0, resumed = 0;
  double best_us = INFINITY;
  const Result* best = nullptr;
  const double slot = std::clamp(args_.budget / 60.0, 0.02, 0.3);
  auto out_of_budget = [&] {
    return harness::now_seconds() > deadline ||
           (args_.max_candidates > 0 && measured >= static_cast<std::size_t>(args_.max_candidates));
  };
  auto visit = [&](const detail::Schedule& s, bool is_default) {
    const std::string text = detail::to_string(s);
    if (!done.insert(text).second) return;
    Result r;
    if (auto it = known.find(text); it != known.end()) {
      r.schedule = s;
      r.time_us = it->second->time_us;
      r.checked = it->second->usable();
      r.check = it->second->check;
      r.resumed = true;
      ++resumed;
    } else {
      r = measure(s, slot, best_us);
      ++measured;
      if (!r.checked) ++failed_;
      record(r, false, is_default);
    }
    results.push_back(r);
    progress(r, done.size());
    if (r.checked && r.time_us < best_us) {
      best_us = r.time_us;
      best = &results.back();
    }
  };
  // 1. The defaults and the cost model's favourites.
  for (const auto& d : defaults) visit(d, true);
  for (std::size_t i = 0; i < ranked.size() && i < kFirstRanked && !out_of_budget(); ++i) {
    visit(ranked[i], false);
  }
  // 2. Hill-climb: the neighbours of the best, again while that improves.
  for (int climb = 0; climb < 8 && best && !out_of_budget(); ++climb) {
    const detail::Schedule center = best->schedule;
    for (const auto& n : detail::schedule_neighbors(center, problem_)) {
      if (out_of_budget()) break;
      if (std::find(search_isas.begin(), search_isas.end(), n.isa) == search_isas.end()) continue;
      visit(n, false);
    }
    if (best->schedule == center) break;
  }
  // 3. The rest, in the cost model's order.
  for (std::size_t i = 0; i < ranked.size() && !out_of_budget(); ++i) visit(ranked[i], false);

  // 4. The best against the heuristic, head to head: the tuned schedule is never slower than
  // the heuristic by construction (ties go to the heuristic).
  const Result* heur = nullptr;
  for (const Result& r : results) {
    if (r.schedule == heuristic_) heur = &r;
  }
  double heur_us = NAN, tuned_us = NAN;
  detail::Schedule tuned = heuristic_;
  if (heur == nullptr || !heur->checked) {
    fmt::print(stderr, "!!! the heuristic schedule failed its check: {}\n",
               heur ? heur->check : "not measured");
    if (best) tuned = best->schedule, tuned_us = best->time_us;
  } else if (best == nullptr || best->schedule == heuristic_) {
    const auto [a, b] = head_to_head(heuristic_, heuristic_);
    heur_us = tuned_us = std::min(a, b);
  } else {
    const auto [h, b] = head_to_head(heuristic_, best->schedule);
    heur_us = h;
    if (b < h) {
      tuned = best->schedule;
      tuned_us = b;
    } else {
      tuned_us = h;
    }
    Result rb = *best;
    rb.time_us = b;
    record(rb, true, false);
  }
  if (std::isfinite(heur_us)) {
    Result rh;
    rh.schedule = heuristic_;
    rh.time_us = heur_us;
    rh.checked = true;
    rh.check = heur->check;
    record(rh, true, true);
  }

  const double elapsed = harness::now_seconds() - start_;
  fmt::print("{}  {} {}  threads={}  {} measured, {} resumed, {} failed, {:.1f} s\n", t_.name,
             key_.spec, shape_string(t_.run_shape), args_.threads, measured, resumed, failed_,
             elapsed);
  auto row = [&](const char* label, double us, const std::string& what) {
    fmt::print("  {:<9} {:10.1f} us {:8.1f} GFLOP/s {:5.1f}% of peak  {}\n", label, us, gflops(us),
               100.0 * gflops(us) / peak_, what);
  };
  if (std::isfinite(heur_us)) row("heuristic", heur_us, detail::to_string(heuristic_));
  if (std::isfinite(tuned_us)) row("tuned", tuned_us, schedule_diff(tuned, heuristic_));
  if (std::isfinite(heur_us) && std::isfinite(tuned_us)) {
    fmt::print("  gain      {:.2f}x  (peak {:.1f} GFLOP/s, {} thread(s))\n", heur_us / tuned_us,
               peak_, args_.threads);
  }
  std::fflush(stdout);
  return failed_ > 0 ? kExitFailure : kExitOk;
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
      Tuner tuner(t, *args, db, peak);
      if (tuner.run() != kExitOk) status = kExitFailure;
    }
    fmt::print(stderr, "tuning database: {}\n", db);
    set_exit_status(status);
  });
}

const CommandRegistrar registrar(65, add_tune_command);

}  // namespace
}  // namespace convjit::tool
