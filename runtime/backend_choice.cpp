// CompileOptions::backend and ::cpu resolved to a CodeGenerator; the public backend names.
#include "runtime/backend_choice.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "compiler/backend/llvm/llvm_code_generator.hpp"
#include "compiler/environment.hpp"

namespace convjit {

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::kAuto: return "auto";
    case Backend::kXbyak: return "xbyak";
    case Backend::kLlvm: return "llvm";
  }
  return "auto";
}

std::optional<Backend> find_backend(std::string_view name) {
  for (Backend b : {Backend::kAuto, Backend::kXbyak, Backend::kLlvm}) {
    if (name == backend_name(b)) return b;
  }
  return std::nullopt;
}

namespace detail {

bool wants_llvm_backend(const CompileOptions& options) {
  if (options.backend != convjit::Backend::kAuto) return options.backend == convjit::Backend::kLlvm;
  const std::string& env = environment().backend;
  if (env.empty() || env == "auto") return !host_supports(Isa::kAvx2);
  if (env == "llvm") return true;
  if (env == "xbyak") return false;
  throw Error(ErrorCode::kUnknownName, "CONVJIT_BACKEND",
              fmt::format("Unknown backend: CONVJIT_BACKEND={}. Expected xbyak or llvm", env));
}

std::shared_ptr<const CodeGenerator> llvm_code_generator_for(const CompileOptions& options,
                                                             Isa* isa,
                                                             const std::function<Isa()>& pick_isa) {
  std::string cpu = options.cpu;
  if (cpu.empty() && options.isa == Isa::kAuto && environment().isa.empty() &&
      !host_supports(Isa::kAvx2)) {
    cpu = "x86-64";  // no AVX2: baseline code, which every x86-64 CPU runs
  }
  if (cpu.empty()) {
    *isa = pick_isa();
    return llvm_code_generator(*isa);
  }
  const LlvmCpuGenerator& named = llvm_code_generator_for_cpu(cpu, options.isa);
  if (!options.allow_unsupported_isa) {
    const std::vector<std::string> missing = missing_host_features(named.target);
    if (!missing.empty()) {
      throw Error(ErrorCode::kUnsupported, "cpu",
                  fmt::format("This CPU cannot run code for cpu={}: it lacks {}; set "
                              "allow_unsupported_isa to generate it for reading only",
                              named.target.cpu, fmt::join(missing, ", ")));
    }
  }
  *isa = named.target.schedule_isa;
  return named.generator;
}

}  // namespace detail
}  // namespace convjit
