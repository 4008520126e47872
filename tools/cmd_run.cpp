// convjit run SPEC --input N,L,C [--engine NAME] [--seed S]
#include <fmt/format.h>

#include "tools/cli_util.hpp"
#include "tools/command.hpp"
#include "tools/run_check.hpp"

namespace convjit::tool {
namespace {

void add_run_command(CLI::App& app) {
  struct Args {
    std::string spec, input;
    std::string engine = detail::default_engine_name();
    detail::EngineOptions options;
    std::uint64_t seed = 1;
    int repeats = 50;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run SPEC on seeded random input and weights, check it against the reference, and\n"
      "print the output shape, time and GFLOP/s.");
  cmd->add_option("spec", args->spec, "keyword syntax or get_config JSON")->required();
  cmd->add_option("--input", args->input, "input shape N,L,C (N,C,L for channels_first)")
      ->required();
  cmd->add_option("--engine", args->engine,
                  fmt::format("engine: {}", fmt::join(detail::engine_names(), ", ")))
      ->check(CLI::IsMember(detail::engine_names()));
  cmd->add_option("--isa", args->options.isa, "jit ISA: auto, avx2, avx512 (llvm: also x86-64)")
      ->check(CLI::IsMember({"auto", "avx2", "avx512", "x86-64"}));
  cmd->add_option("--schedule", args->options.schedule, "schedule text; default: the heuristic");
  cmd->add_option("--threads", args->options.threads, "threads")->check(CLI::Range(1, 256));
  cmd->add_option("--seed", args->seed, "seed of the random input and weights");
  cmd->add_option("--repeats", args->repeats,
                  "least number of timed calls, after a warm-up; at least 0.2 s of calls are "
                  "timed and the median is printed")
      ->check(CLI::Range(1, 100000));
  cmd->callback([args] {
    const Shape3 shape = parse_input_shape(args->input);
    if (shape[0] == kDynamic || shape[1] == kDynamic) {
      throw CLI::ValidationError("--input", "run needs a concrete batch and length");
    }
    const Conv1DSpec spec = parse_spec_argument(args->spec);
    const RunReport r =
        run_and_check(spec, shape, args->engine, args->options, args->seed, args->repeats);
    print_report(spec, shape, args->engine, r);
    set_exit_status(r.matches_reference ? kExitOk : kExitFailure);
  });
}

const CommandRegistrar registrar(20, add_run_command);

}  // namespace
}  // namespace convjit::tool
