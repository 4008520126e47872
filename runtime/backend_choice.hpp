// Which code generator compiles a kernel: CompileOptions::backend and ::cpu, the
// CONVJIT_BACKEND variable, and the fallback to LLVM on CPUs without AVX2.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "compiler/backend/code_generator.hpp"
#include "convjit/isa.hpp"
#include "convjit/jit.hpp"

namespace convjit::detail {

/// True when a compile with `options` uses the LLVM backend: backend kLlvm; or kAuto with
/// CONVJIT_BACKEND=llvm, or with CONVJIT_BACKEND unset on a CPU without AVX2+FMA. Throws
/// Error(kUnknownName, "CONVJIT_BACKEND") for another value of the variable.
bool wants_llvm_backend(const CompileOptions& options);

/// The LLVM CodeGenerator for a compile and, in *isa, the ISA of its schedule (never kAuto).
/// `pick_isa` resolves the ISA as the Jit does (option, schedule word, CONVJIT_ISA, host);
/// it is not called for an explicit `options.cpu`, whose own ISA is used, nor on a CPU
/// without AVX2 (cpu "x86-64", the avx2 schedule). Throws Error for a bad cpu (see
/// CompileOptions::cpu). Cheap on repeated calls: generators are made once per target.
std::shared_ptr<const CodeGenerator> llvm_code_generator_for(const CompileOptions& options,
                                                             Isa* isa,
                                                             const std::function<Isa()>& pick_isa);

}  // namespace convjit::detail
