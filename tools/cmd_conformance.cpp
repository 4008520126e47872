// convjit conformance [--engine NAME] [--results OUT.jsonl] FILE...
#include <fmt/format.h>

#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "tools/command.hpp"
#include "tools/conformance_runner.hpp"

namespace convjit::tool {
namespace {

void add_conformance_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> files;
    ConformanceOptions options;
  };
  auto args = std::make_shared<Args>();
  args->options.engine = detail::default_engine_name();
  auto* cmd = app.add_subcommand(
      "conformance",
      "Run golden Keras Conv1D cases (shared/conformance/*.jsonl) through an engine; prints\n"
      "`N passed, N failed[, N skipped]` last and exits non-zero on any failure.");
  cmd->add_option("files", args->files,
                  "golden JSONL files (cases, variants, extra_activations, "
                  "shapes, invalid)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--engine", args->options.engine,
                  fmt::format("engine: {} (default: the fastest correct one)",
                              fmt::join(detail::engine_names(), ", ")))
      ->check(CLI::IsMember(detail::engine_names()));
  cmd->add_option("--isa", args->options.engine_options.isa,
                  "jit ISA: auto, avx2, avx512 (llvm engine also: x86-64, SSE2)")
      ->check(CLI::IsMember({"auto", "avx2", "avx512", "x86-64"}));
  cmd->add_option("--schedule", args->options.engine_options.schedule,
                  "schedule text (see `convjit asm --schedule`); default: the heuristic");
  cmd->add_option("--threads", args->options.engine_options.threads, "threads (jit)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--results", args->options.results_path,
                  "write one candidate line per id (the format of FORMAT.md / check.py)");
  cmd->add_flag("-v,--verbose", args->options.verbose, "print a line per passing case too");
  cmd->callback([args] {
    if (args->options.engine_options.isa == "x86-64" && args->options.engine != "llvm") {
      throw Error(ErrorCode::kIncompatibleArguments, "isa",
                  "--isa x86-64 is a target of the llvm engine only (--engine llvm)");
    }
    if ((args->options.engine == "jit" || args->options.engine == "llvm") &&
        args->options.engine_options.isa != "x86-64") {
      resolve_isa(*find_isa(args->options.engine_options.isa));  // an ISA the CPU lacks: one error
    }
    const ConformanceSummary s = run_conformance(args->files, args->options);
    if (s.passed > 0) {
      fmt::print("worst error/tolerance ratio: {:.3g} ({})\n", s.worst_ratio, s.worst_id);
    }
    fmt::print("{} passed, {} failed", s.passed, s.failed);
    if (s.skipped > 0) fmt::print(", {} skipped", s.skipped);
    fmt::print("\n");
    set_exit_status(s.failed > 0 ? kExitFailure : kExitOk);
  });
}

const CommandRegistrar registrar(30, add_conformance_command);

}  // namespace
}  // namespace convjit::tool
