// convjit demo — the default job: compile a typical Conv1D, run it, check it, show it.
#include <fmt/format.h>

#include "tools/cli_util.hpp"
#include "tools/command.hpp"
#include "tools/run_check.hpp"

namespace convjit::tool {
namespace {

// A WaveNet-style dilated causal layer with a gelu epilogue.
constexpr const char* kDemoSpec =
    "filters=64,kernel_size=3,padding=causal,dilation_rate=2,activation=gelu,name=demo_conv";
constexpr Shape3 kDemoInput{2, 4096, 32};
// Timed calls (at least; at least 0.2 s of them): as many as `convjit run` times by default.
constexpr int kDemoCalls = 50;

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo",
      "Compile a default Conv1D, run it on generated data, check it against the\n"
      "reference and print the spec, shapes, timing and a few output values.");
  cmd->callback([] {
    const Conv1DSpec spec = parse_spec_keywords(kDemoSpec);
    const std::string engine = detail::default_engine_name();
    fmt::print("convjit demo: a Keras Conv1D, compiled and checked\n\n");
    fmt::print("get_config(): {}\n\n", to_config_json(spec));
    const RunReport r = run_and_check(spec, kDemoInput, engine, {}, 42, kDemoCalls);
    print_report(spec, kDemoInput, engine, r);
    set_exit_status(r.matches_reference ? kExitOk : kExitFailure);
  });
}

const CommandRegistrar registrar(10, add_demo_command);

}  // namespace
}  // namespace convjit::tool
