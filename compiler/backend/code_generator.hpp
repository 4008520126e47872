// CodeGenerator — a machine-code backend as the Jit sees it: a name (part of the kernel
// cache key) and a function from the scheduled IR to executable code.
//
// The backends live below the runtime: compiler/backend/{xbyak,llvm} make CodeGenerators,
// runtime/ picks one per compile (runtime/backend_choice.hpp) and caches what it makes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "compiler/backend/generated_kernel.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail {

/// A backend's entry point: executable code for a scheduled IR (its Problem, its KernelPlan
/// and the loop nest ir::lower_scheduled makes of them). Every backend receives the same.
using GenerateFn = std::function<std::unique_ptr<GeneratedKernel>(
    std::shared_ptr<const ir::ScheduledIr> scheduled)>;

struct CodeGenerator {
  std::string name;  ///< part of the cache key and of the kernel's dump name
  GenerateFn generate;
};

/// The Xbyak backend (generate_xbyak): AVX2 and AVX-512, the default of every Jit.
std::shared_ptr<const CodeGenerator> xbyak_code_generator();

}  // namespace convjit::detail
