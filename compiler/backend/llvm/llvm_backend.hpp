// The LLVM backend's interface to the rest of convjit (no LLVM headers here): targets, JIT
// kernels and ahead-of-time objects made from the scheduled loop-nest IR.
//
// The same scheduled IR the Xbyak backend follows is lowered to LLVM IR with explicit vector
// types (<16 x float> for AVX-512, <8 x float> otherwise), masked loads and stores for tails,
// llvm.fma (llvm.fmuladd on CPUs without FMA), optimized by the new pass manager (O3) and
// compiled by the X86 code generator; kernels are linked in process by ORC LLJIT, or written
// as an object file plus a C header (AOT). See docs/llvm.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/backend/generated_kernel.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/isa.hpp"
#include "convjit/spec.hpp"

namespace convjit::detail {

/// What LLVM generates code for.
struct LlvmTarget {
  std::string cpu;       ///< LLVM CPU name, validated ("x86-64", "x86-64-v3", "znver4", ...)
  std::string tune_cpu;  ///< scheduling model ("" = cpu)
  bool avx2 = false;     ///< the CPU has AVX2 (and FMA when `fma`)
  bool fma = false;
  bool avx512 = false;  ///< AVX-512 F/VL/BW/DQ
  /// The ISA whose schedule the kernel follows: kAvx512 (16 lanes) when `avx512` and asked
  /// for, else kAvx2 (8 lanes; on a CPU without AVX2, LLVM splits each vector in two SSE halves).
  Isa schedule_isa = Isa::kAvx2;
};

/// The target for a request. `cpu`: "" (the CPU `isa` implies: x86-64-v4 for avx512,
/// x86-64-v3 for avx2, tuned for the host), "host" (this CPU, as LLVM names it), "x86-64"
/// (baseline SSE2: any x86-64 CPU), or any CPU name LLVM knows. `isa` kAuto follows the CPU
/// (avx512 when it has AVX-512, else avx2). Throws Error(kUnknownName, "cpu") for a name LLVM
/// does not know (checked before LLVM sees it: LLVM 14/15 abort on unknown names), and
/// Error(kIncompatibleArguments, "isa") for isa=avx512 on a CPU without AVX-512.
LlvmTarget llvm_target(const std::string& cpu, Isa isa);
/// The features of `t.cpu` this process's CPU lacks, sorted: every feature the CPU name
/// implies that cpuid and the OS do not report (llvm::sys::getHostCPUFeatures), except those
/// LLVM emits only for their own intrinsics (system and security instructions, AMX; a kernel
/// calls none). Empty for "x86-64".
std::vector<std::string> missing_host_features(const LlvmTarget& t);
/// True when this process's CPU can run code made for `t` (no missing_host_features).
bool host_can_run(const LlvmTarget& t);
/// True when `name` is a CPU name LLVM's X86 target knows.
bool is_valid_llvm_cpu(const std::string& name);

/// Compiles `p` with schedule `s` (legal, s.isa == t.schedule_isa) for `t` into an
/// executable kernel linked by ORC LLJIT. Its name starts with "conv1d_llvm_".
std::unique_ptr<GeneratedKernel> generate_llvm(const Problem& p, const Schedule& s,
                                               const LlvmTarget& t);
/// The same, for the scheduled IR ir::lower_scheduled made (what the Jit passes).
std::unique_ptr<GeneratedKernel> generate_llvm(std::shared_ptr<const ir::ScheduledIr> scheduled,
                                               const LlvmTarget& t);

/// An ahead-of-time kernel: an ELF object and the C header that declares it.
struct AotKernel {
  std::string object;    ///< ELF x86-64 relocatable object (PIC)
  std::string header;    ///< C header: documented functions and size macros
  std::string llvm_ir;   ///< the optimized LLVM IR (.ll text)
  std::string assembly;  ///< the LLVM assembly listing (Intel syntax)
};

/// Generates a self-contained kernel named `prefix` (a C identifier, not a C or C++ keyword)
/// for `spec` on `input_shape` (data_format order; batch and/or length may be kDynamic). The
/// object needs only libm (and libc) at link time. Throws Error for a bad spec, shape, prefix or
/// target.
AotKernel generate_aot(const Conv1DSpec& spec, const Shape3& input_shape, const LlvmTarget& t,
                       const std::string& prefix, const std::string& schedule_text = "");

}  // namespace convjit::detail
