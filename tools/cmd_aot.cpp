// convjit aot SPEC --input N,L,C [--isa avx512|avx2|x86-64] [--cpu NAME] -o PREFIX
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "compiler/backend/llvm/llvm_backend.hpp"
#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "tools/cli_util.hpp"
#include "tools/command.hpp"

namespace convjit::tool {
namespace {

void write_file(const std::string& path, const std::string& contents) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  const bool ok =
      f != nullptr && std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  const bool closed = f != nullptr && std::fclose(f) == 0;
  if (!ok || !closed) {
    throw Error(ErrorCode::kIoError, "-o", fmt::format("Cannot write {}", path));
  }
}

/// The C name of the kernel: the last path component of PREFIX.
std::string kernel_name(const std::string& prefix) {
  const std::size_t slash = prefix.find_last_of('/');
  return slash == std::string::npos ? prefix : prefix.substr(slash + 1);
}

void add_aot_command(CLI::App& app) {
  struct Args {
    std::string spec, input, isa = "avx2", cpu, schedule, output, name;
    bool emit_llvm = false, emit_asm = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "aot",
      "Generate a kernel ahead of time with LLVM: PREFIX.o (an ELF object needing only libm)\n"
      "and PREFIX.h (its C declarations, documented), for a host that cannot JIT.");
  cmd->add_option("spec", args->spec, "keyword syntax or get_config JSON")->required();
  cmd->add_option("--input", args->input,
                  "input shape N,L,C (N,C,L for channels_first); ? makes N or L a run-time "
                  "argument")
      ->required();
  cmd->add_option("--isa", args->isa,
                  "avx512 (generate only where the CPU lacks it), avx2 (default), x86-64 (SSE2)")
      ->check(CLI::IsMember({"avx512", "avx2", "x86-64"}));
  cmd->add_option("--cpu", args->cpu,
                  "an LLVM CPU name instead of --isa (znver4, haswell, host, ...)");
  cmd->add_option("--schedule", args->schedule, "schedule text; default: the heuristic");
  cmd->add_option("-o,--output", args->output, "output prefix: writes PREFIX.o and PREFIX.h")
      ->required();
  cmd->add_option("--name", args->name, "C name of the kernel (default: PREFIX's file name)");
  cmd->add_flag("--emit-llvm", args->emit_llvm, "also write PREFIX.ll (optimized LLVM IR)");
  cmd->add_flag("--emit-asm", args->emit_asm, "also write PREFIX.s (Intel syntax)");
  cmd->callback([args] {
    const Conv1DSpec spec = parse_spec_argument(args->spec);
    const Shape3 shape = parse_input_shape(args->input);
    detail::LlvmTarget target;
    if (!args->cpu.empty()) {
      target = detail::llvm_target(args->cpu, Isa::kAuto);
    } else if (args->isa == "x86-64") {
      target = detail::llvm_target("x86-64", Isa::kAuto);
    } else {
      target = detail::llvm_target("", *find_isa(args->isa));
      target.tune_cpu.clear();  // an AOT object is not tuned for the machine that built it
    }
    const std::string name = args->name.empty() ? kernel_name(args->output) : args->name;
    const detail::AotKernel k = detail::generate_aot(spec, shape, target, name, args->schedule);
    write_file(args->output + ".o", k.object);
    write_file(args->output + ".h", k.header);
    if (args->emit_llvm) write_file(args->output + ".ll", k.llvm_ir);
    if (args->emit_asm) write_file(args->output + ".s", k.assembly);
    fmt::print("{}.o ({} bytes, cpu={}) and {}.h: kernel {}\n", args->output, k.object.size(),
               target.cpu, args->output, name);
  });
}

const CommandRegistrar registrar(66, add_aot_command);

}  // namespace
}  // namespace convjit::tool
