// convjit asm SPEC --input N,L,C [--isa avx2|avx512|x86-64] [--backend xbyak|llvm] [--ir]
//                   [--schedule] [--asm]
//                   [--schedule-text TEXT]
//
// Shows what the compiler makes of a spec: the chosen schedule with the reason for each
// choice, the IR before and after scheduling, and the annotated assembly. Each is one section
// function over the same AsmContext.
#include <fmt/format.h>

#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/error.hpp"
#include "convjit/jit.hpp"
#include "convjit/kernel.hpp"
#include "tools/cli_util.hpp"
#include "tools/command.hpp"

namespace convjit::tool {
namespace {

/// Everything a section prints from: planned once, shared by all sections.
struct AsmContext {
  detail::Problem problem;
  detail::Schedule schedule;
  bool schedule_given = false;       ///< from --schedule-text rather than the heuristic
  Backend backend = Backend::kAuto;  ///< --backend (llvm: LLVM's own listing)
  std::string cpu;                   ///< LLVM CPU ("x86-64" for --isa x86-64)
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
  // The one pipeline's output: exactly the IR both backends receive (the Jit lowers once
  // and hands the result to the chosen backend; tests/llvm/same_ir_test.cpp checks it).
  fmt::print("# IR after scheduling (what the Xbyak and LLVM backends compile)\n{}\n",
             detail::ir::to_string(detail::ir::lower_scheduled(c.problem, c.schedule)));
}

void print_assembly_section(const AsmContext& c, const Conv1DSpec& spec, const Shape3& shape) {
  CompileOptions options;
  options.isa = c.schedule.isa;
  options.schedule = detail::to_string(c.schedule);
  options.threads = 1;
  options.allow_unsupported_isa = true;  // reading code needs no CPU support
  options.backend = c.backend;
  options.cpu = c.cpu;
  Jit jit;
  const Kernel kernel = jit.compile(spec, shape, options);
  fmt::print("# assembly ({} bytes of {} code)\n{}", kernel.code_size(), isa_name(kernel.isa()),
             kernel.disassemble());
}

void add_asm_command(CLI::App& app) {
  struct Args {
    std::string spec, input, isa = "auto", schedule_text, backend = "auto";
    bool ir = false, schedule = false, assembly = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "asm",
      "Show how SPEC is compiled: the schedule and why (--schedule), the loop-nest IR\n"
      "before and after scheduling (--ir), the annotated machine code (--asm). With none of\n"
      "these flags: the schedule and the assembly.");
  cmd->add_option("spec", args->spec, "keyword syntax or get_config JSON")->required();
  cmd->add_option("--input", args->input,
                  "input shape N,L,C (N,C,L for channels_first); L may be ? (dynamic)")
      ->required();
  cmd->add_option("--isa", args->isa,
                  "target ISA: avx2, avx512 (auto: this host); x86-64 (SSE2) with --backend llvm")
      ->check(CLI::IsMember({"auto", "avx2", "avx512", "x86-64"}));
  cmd->add_option("--backend", args->backend, "code generator: xbyak, llvm (auto: the default)")
      ->check(CLI::IsMember({"auto", "xbyak", "llvm"}));
  cmd->add_flag("--ir", args->ir, "print the IR before and after scheduling");
  cmd->add_flag("--schedule", args->schedule, "print the schedule and the reason for each choice");
  cmd->add_flag("--asm", args->assembly,
                "print the generated code as annotated Intel-syntax assembly (any ISA, even one "
                "this CPU lacks)");
  cmd->add_option("--schedule-text", args->schedule_text,
                  "use this schedule (the text --schedule prints) instead of the heuristic");
  cmd->callback([args] {
    const Conv1DSpec spec = parse_spec_argument(args->spec);
    AsmContext c;
    c.problem = detail::make_problem(spec, parse_input_shape(args->input));
    // Planning and the IR do not run code: a named ISA need not be the host's.
    c.backend = *find_backend(args->backend);
    if (args->isa == "x86-64") {  // baseline x86-64: the LLVM backend, avx2 schedules
      if (c.backend == Backend::kXbyak) {
        throw Error(ErrorCode::kIncompatibleArguments, "isa",
                    "--isa x86-64 needs the LLVM backend (--backend llvm)");
      }
      c.backend = Backend::kLlvm;
      c.cpu = "x86-64";
    }
    const Isa named = c.cpu.empty() ? *find_isa(args->isa) : Isa::kAvx2;
    const Isa isa = named == Isa::kAuto ? resolve_isa(named) : named;
    if (args->schedule_text.empty()) {
      c.schedule = detail::default_schedule(c.problem, isa);
    } else {
      c.schedule = detail::parse_schedule(args->schedule_text);
      c.schedule_given = true;
    }
    detail::check_legal(c.schedule, c.problem);
    fmt::print("# {}\n", c.problem.to_string());
    const bool all = !args->ir && !args->schedule && !args->assembly;
    if (args->schedule || all) print_schedule_section(c);
    if (args->ir) print_ir_section(c);
    if (args->assembly || all) print_assembly_section(c, spec, parse_input_shape(args->input));
    set_exit_status(kExitOk);
  });
}

const CommandRegistrar registrar(40, add_asm_command);

}  // namespace
}  // namespace convjit::tool
