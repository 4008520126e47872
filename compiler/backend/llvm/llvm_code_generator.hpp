// The LLVM backend's CodeGenerators, one per target, made once. No LLVM headers. Which
// compiles use them is the runtime's choice (runtime/backend_choice.hpp).
#pragma once

#include <memory>
#include <string>

#include "compiler/backend/code_generator.hpp"
#include "compiler/backend/llvm/llvm_backend.hpp"
#include "convjit/isa.hpp"

namespace convjit::detail {

/// The generator for the CPU a schedule ISA implies (llvm_target("", isa): x86-64-v3 for
/// avx2, x86-64-v4 for avx512, tuned for this CPU), named "llvm".
std::shared_ptr<const CodeGenerator> llvm_code_generator(Isa isa);

/// An explicit LLVM cpu name: its target and its generator (named "llvm-<cpu>").
struct LlvmCpuGenerator {
  LlvmTarget target;
  std::shared_ptr<const CodeGenerator> generator;
};
/// Made once per (cpu, isa); throws as llvm_target for a name LLVM does not know.
const LlvmCpuGenerator& llvm_code_generator_for_cpu(const std::string& cpu, Isa isa);

}  // namespace convjit::detail
