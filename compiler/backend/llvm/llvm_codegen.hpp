// LLVM code generation for convjit: target machines, the O3 pipeline, object and assembly
// emission. Included only by the backend's LLVM files.
#pragma once

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>

#include "compiler/backend/llvm/llvm_backend.hpp"

namespace convjit::detail {

/// The triple every kernel is generated for.
inline constexpr const char* kLlvmTriple = "x86_64-unknown-linux-gnu";

/// Registers the X86 target and printers (once per process, thread-safe).
void init_llvm_x86();

/// A target machine for `t`: PIC, small code model, aggressive code generation. The
/// assembly it prints is Intel syntax.
std::unique_ptr<llvm::TargetMachine> make_target_machine(const LlvmTarget& t);

/// Sets the module's triple, data layout and every function's target-cpu / tune-cpu, then
/// runs the new pass manager's default pipeline at `level` (2: O2, 3: O3).
void optimize_module(llvm::Module& m, llvm::TargetMachine& tm, const LlvmTarget& t, int level);

/// Runs code generation: the ELF object (binary) or the assembly listing (text). Both
/// change the module (CodeGenPrepare): emit from a clone when the module is needed again.
std::string emit_object(llvm::Module& m, llvm::TargetMachine& tm);
std::string emit_assembly(llvm::Module& m, llvm::TargetMachine& tm);

/// The module as .ll text.
std::string print_module(const llvm::Module& m);

}  // namespace convjit::detail
