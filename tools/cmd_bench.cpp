// convjit bench [--suite CSV] [--shape NAME] [--threads N] [--json OUT] [--quick]
//               [--isa avx2|avx512] [--backend xbyak|llvm] [--engine NAME] [--activation NAME]
// convjit bench --stream [--shape NAME] [--threads N] [--json OUT] [--quick] [--isa ISA]
//               [--backend B] [--no-onednn] [--budget S] [--seed S]
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "tools/command.hpp"

#ifdef CONVJIT_HAVE_BENCH
#include "bench/bench_suite.hpp"
#include "bench/micro_kernel.hpp"
#include "bench/onednn_runner.hpp"
#include "bench/stream_bench.hpp"
#include "compiler/environment.hpp"
#endif

namespace convjit::tool {
namespace {

#ifdef CONVJIT_HAVE_BENCH

void add_bench_command(CLI::App& app) {
  struct Args {
    bench::BenchOptions options;
    std::string json;
    std::string activation = "linear";
    bool no_onednn = false;
    bool tuned = false;
    bool micro = false;
    bool stream = false;
    std::string db;
  };
  auto args = std::make_shared<Args>();
  args->options.suite_path = std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv";
  auto* cmd = app.add_subcommand(
      "bench",
      "Benchmark the shape suite: GFLOP/s and % of the measured FMA peak of convjit and, when\n"
      "built with oneDNN, of oneDNN in the same process (same threads, bias and activation\n"
      "fused, its fastest formulation), with the outputs checked against each other.");
  cmd->add_option("--suite", args->options.suite_path, "suite CSV")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  cmd->add_option("--shape", args->options.shape, "run only the shape of this name");
  cmd->add_option("--threads", args->options.threads, "threads of both convjit and oneDNN")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--json", args->json, "also write the rows as a JSON array to this file");
  cmd->add_flag("--quick", args->options.quick,
                "a few seconds in all: tiny repetition counts, big shapes shrunk (for CI)");
  cmd->add_option("--isa", args->options.convjit.isa, "convjit's ISA")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "avx2", "avx512"}));
  cmd->add_option("--backend", args->options.convjit.backend, "convjit's code generator")
      ->capture_default_str()
      ->check(CLI::IsMember({"xbyak", "llvm"}));
  cmd->add_option("--engine", args->options.convjit.engine,
                  "convjit engine: jit (the Kernel API) or a slower reference engine")
      ->capture_default_str()
      ->check(CLI::IsMember(bench::convjit_engine_names()));
  cmd->add_option("--activation", args->activation,
                  "Keras activation fused in both engines (the suite's layers are linear)")
      ->capture_default_str();
  cmd->add_flag("--no-onednn", args->no_onednn, "time convjit only");
  cmd->add_option("--budget", args->options.budget_seconds,
                  "timed seconds per shape and engine (ignored with --quick)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100.0));
  cmd->add_option("--seed", args->options.seed, "seed of the random input and weights");
  cmd->add_option("--clock", args->options.clock,
                  "wall, or cpu: the calling thread's CPU time, robust to other processes on a\n"
                  "shared machine (--threads 1 only)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wall", "cpu"}));
  cmd->add_flag("--tuned", args->tuned,
                "also time the tuning database's schedules (convjit tune) head to head with the\n"
                "heuristic's, per shape");
  cmd->add_flag("--micro", args->micro,
                "time only the micro-kernels: each strategy's generated inner loop alone, data\n"
                "in L1, for every ISA this CPU runs, against the FMA peak (run it first on a new "
                "CPU)");
  cmd->add_flag("--stream", args->stream,
                "the streaming table instead of the suite: one step of one new sample (1 and 64\n"
                "streams) against recomputing the receptive window (convjit, oneDNN) and a plain\n"
                "-O3 -march=native loop, and 256-row steps against the full-sequence kernel, on\n"
                "issue 17's shapes (--shape picks one of them; --budget per measurement)");
  cmd->add_option("--db", args->db,
                  "tuning database of --tuned (default: $CONVJIT_TUNING_DB, else "
                  "./convjit_tuning.jsonl)");
  cmd->callback([args] {
    bench::BenchOptions& o = args->options;
    if (args->micro) {
      const bench::PeakInfo peaks = bench::measure_peaks(1);
      const auto results = bench::run_micro_kernels(peaks, o.quick ? 0.01 : 0.2);
      std::fputs(bench::format_micro_kernels(results, peaks).c_str(), stdout);
      set_exit_status(kExitOk);
      return;
    }
    if (args->stream) {
      bench::StreamBenchOptions so;
      so.shape = o.shape;
      so.threads = o.threads;
      so.quick = o.quick;
      so.isa = o.convjit.isa;
      so.backend = o.convjit.backend;
      so.use_onednn = !args->no_onednn;
      so.budget_seconds = o.budget_seconds;
      so.seed = o.seed;
      bench::StreamBenchReport report;
      try {
        report = bench::run_stream_bench(so, &std::cerr);
      } catch (const Error& e) {
        if (e.argument() == "shape") throw CLI::ValidationError("--shape", e.what());
        throw;
      }
      std::fputs(bench::format_stream_table(report).c_str(), stdout);
      std::fflush(stdout);
      if (!args->json.empty()) {
        bench::write_stream_json_file(report, args->json);
        fmt::print(stderr, "wrote {}\n", args->json);
      }
      set_exit_status(report.all_checks_ok() ? kExitOk : kExitFailure);
      return;
    }
    const auto activation = find_activation(args->activation);
    if (!activation || is_axis_activation(*activation)) {
      throw CLI::ValidationError(
          "--activation",
          fmt::format("'{}' is not an element-wise Keras activation", args->activation));
    }
    o.activation = *activation;
    o.use_onednn = !args->no_onednn;
    if (args->tuned) {
      o.tuning_db = args->db;
      if (o.tuning_db.empty()) {
        const std::string& env = detail::environment().tuning_db;
        o.tuning_db = !env.empty() ? env : "convjit_tuning.jsonl";
      }
    }
    // Check --shape before the (slow) peak probe: an unknown name lists the valid ones.
    try {
      bench::select_shapes(bench::read_suite(o.suite_path), o.shape);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kUnknownName) throw CLI::ValidationError("--shape", e.what());
      throw;
    }
    const bench::BenchReport report = bench::run_bench(o, &std::cerr);
    std::fputs(bench::format_table(report).c_str(), stdout);
    std::fflush(stdout);
    if (!args->json.empty()) {
      bench::write_json_file(report, args->json);
      fmt::print(stderr, "wrote {}\n", args->json);
    }
    set_exit_status(report.all_checks_ok() ? kExitOk : kExitFailure);
  });
}

#else

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Benchmark the shape suite (not in this build)");
  cmd->allow_extras();
  cmd->callback([] {
    fmt::print(stderr,
               "convjit: this build has no bench (configure with CONVJIT_BUILD_BENCH=ON)\n");
    set_exit_status(kExitFailure);
  });
}

#endif

const CommandRegistrar registrar(60, add_bench_command);

}  // namespace
}  // namespace convjit::tool
