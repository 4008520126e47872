// convjit asm SPEC --input N,L,C [--isa avx2|avx512] [--ir] [--schedule] [--schedule-text TEXT]
//
// Shows what the compiler makes of a spec: the chosen schedule with the reason for each
// choice, the IR before and after scheduling, and (added by the JIT backend) the
// annotated assembly. Each is one section function over the same AsmContext.
#include <fmt/format.h>

#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "tools/cli_util.hpp"
#include "tools/command.hpp"

namespace convjit::tool {
namespace {

/// Everything a section prints from: planned once, shared by all sections.
struct AsmContext {
  detail::Problem problem;
  detail::Schedule schedule;
  bool schedule_given = false;  ///< from --schedule-text rather than the heuristic
};

void print_schedule_section(const AsmContext& c) {
  fmt::print("# schedule\n{}\n", detail::to_string(c.schedule));
  if (c.schedule_given) {
    fmt::print("# (given with --schedule-text)\n");
  } else {
    fmt::print("# why:\n");
    const std::string why = detail::explain_default_schedule(c.problem, c.schedule.isa);
    std::size_t pos = 0;
    while (pos < why.size()) {
      const std::size_t end = why.find('\n', pos);
      fmt::print("#   {}\n", why.substr(pos, end - pos));
      pos = end == std::string::npos ? why.size() : end + 1;
    }
  }
}

void print_ir_section(const AsmContext& c) {
  fmt::print("# IR before scheduling\n{}\n",
             detail::ir::to_string(detail::ir::lower_unscheduled(c.problem)));
  fmt::print("# IR after scheduling\n{}\n",
             detail::ir::to_string(detail::ir::lower_scheduled(c.problem, c.schedule)));
}

// The JIT backend adds print_assembly_section(const AsmContext&) here and a flag below.

void add_asm_command(CLI::App& app) {
  struct Args {
    std::string spec, input, isa = "avx512", schedule_text;
    bool ir = false, schedule = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "asm",
      "Show how SPEC is compiled: the schedule and why (--schedule), the loop-nest IR\n"
      "before and after scheduling (--ir).");
  cmd->add_option("spec", args->spec, "keyword syntax or get_config JSON")->required();
  cmd->add_option("--input", args->input,
                  "input shape N,L,C (N,C,L for channels_first); L may be ? (dynamic)")
      ->required();
  cmd->add_option("--isa", args->isa, "target ISA: avx2, avx512 (auto: this host)")
      ->check(CLI::IsMember({"auto", "avx2", "avx512"}));
  cmd->add_flag("--ir", args->ir, "print the IR before and after scheduling");
  cmd->add_flag("--schedule", args->schedule, "print the schedule and the reason for each choice");
  cmd->add_option("--schedule-text", args->schedule_text,
                  "use this schedule (the text --schedule prints) instead of the heuristic");
  cmd->callback([args] {
    const Conv1DSpec spec = parse_spec_argument(args->spec);
    AsmContext c;
    c.problem = detail::make_problem(spec, parse_input_shape(args->input));
    // Planning and the IR do not run code: a named ISA need not be the host's.
    const Isa named = *find_isa(args->isa);
    const Isa isa = named == Isa::kAuto ? resolve_isa(named) : named;
    if (args->schedule_text.empty()) {
      c.schedule = detail::default_schedule(c.problem, isa);
    } else {
      c.schedule = detail::parse_schedule(args->schedule_text);
      c.schedule_given = true;
    }
    detail::check_legal(c.schedule, c.problem);
    fmt::print("# {}\n", c.problem.to_string());
    const bool all = !args->ir && !args->schedule;
    if (args->schedule || all) print_schedule_section(c);
    if (args->ir) print_ir_section(c);
    set_exit_status(kExitOk);
  });
}

const CommandRegistrar registrar(40, add_asm_command);

}  // namespace
}  // namespace convjit::tool
