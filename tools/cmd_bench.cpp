// convjit bench [--suite CSV] [--shape NAME] [--threads N] [--json OUT] [--quick]
//               [--isa avx2|avx512] [--backend xbyak|llvm] [--engine NAME] [--activation NAME]
// convjit bench --stream [--shape NAME] [--threads N] [--json OUT] [--quick] [--isa ISA]
//               [--backend B] [--no-onednn] [--budget S] [--seed S]
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "compiler/environment.hpp"
#include "harness/bench_suite.hpp"
#include "harness/micro_kernel.hpp"
#include "harness/onednn_runner.hpp"
#include "harness/stream_bench.hpp"
#include "tools/command.hpp"

namespace convjit::tool {
namespace {

void add_bench_command(CLI::App& app) {
  struct Args {
    harness::BenchOptions options;
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
      ->check(CLI::IsMember(harness::convjit_engine_names()));
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
    harness::BenchOptions& o = args->options;
    if (args->micro) {
      const harness::PeakInfo peaks = harness::measure_peaks(1);
      const auto results = harness::run_micro_kernels(peaks, o.quick ? 0.01 : 0.2);
      std::fputs(harness::format_micro_kernels(results, peaks).c_str(), stdout);
      set_exit_status(kExitOk);
      return;
    }
    if (args->stream) {
      harness::StreamBenchOptions so;
      so.shape = o.shape;
      so.threads = o.threads;
      so.quick = o.quick;
      so.isa = o.convjit.isa;
      so.backend = o.convjit.backend;
      so.use_onednn = !args->no_onednn;
      so.budget_seconds = o.budget_seconds;
      so.seed = o.seed;
      harness::StreamBenchReport report;
      try {
        report = harness::run_stream_bench(so, &std::cerr);
      } catch (const Error& e) {
        if (e.argument() == "shape") throw CLI::ValidationError("--shape", e.what());
        throw;
      }
      std::fputs(harness::format_stream_table(report).c_str(), stdout);
      std::fflush(stdout);
      if (!args->json.empty()) {
        harness::write_stream_json_file(report, args->json);
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
      harness::select_shapes(harness::read_suite(o.suite_path), o.shape);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kUnknownName) throw CLI::ValidationError("--shape", e.what());
      throw;
    }
    const harness::BenchReport report = harness::run_bench(o, &std::cerr);
    std::fputs(harness::format_table(report).c_str(), stdout);
    std::fflush(stdout);
    if (!args->json.empty()) {
      harness::write_json_file(report, args->json);
      fmt::print(stderr, "wrote {}\n", args->json);
    }
    set_exit_status(report.all_checks_ok() ? kExitOk : kExitFailure);
  });
}

const CommandRegistrar registrar(60, add_bench_command);

}  // namespace
}  // namespace convjit::tool
