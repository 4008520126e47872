// lower_to_llvm: a scheduled loop-nest IR Func -> an LLVM module (explicit vector types).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "compiler/ir/ir.hpp"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace convjit::detail {

struct LlvmLoweringOptions {
  std::string prefix = "convjit";  ///< symbol prefix of the defined functions
  bool fma = true;                 ///< llvm.fma (true) or llvm.fmuladd (CPUs without FMA)
  bool pack_weights = true;        ///< define <prefix>_pack_weights (the JIT packs in C++)
  int tile_rows = 1;  ///< the schedule's tile_t (rows the streaming-store check compares)
};

/// Defines, for `f` (N and L are run-time values; the call ranges of restrict_to_call_ranges,
/// when `f` has them, are the KernelArgs t and oc ranges):
///   void <prefix>_run(const float* input, const float* weights, const float* bias,
///                     float* output, float* scratch, i64 n_begin, i64 n_end, i64 length)
///       computes samples [n_begin, n_end) of the whole layer; bias may be null (zeros);
///       scratch holds <prefix>_scratch_floats(length) floats (reused per sample).
///   void <prefix>_entry(const KernelArgs*)        the GeneratedKernel calling convention:
///       the outputs of its n, t and oc ranges
/// Full nontemporal stores of a register tile become streaming stores when blocks and rows
/// are whole cache lines, the call's output does not alias its input rows modulo 4 KiB, and
/// all of the tile's addresses are vector-aligned (run-time checks, per call and per tile);
/// plain stores otherwise. A call that may stream ends with sfence.
///   i64  <prefix>_scratch_floats(i64 length)
///   i64  <prefix>_output_floats(i64 batch, i64 length)
///   void <prefix>_pack_weights(const float* keras_kernel, float* packed)
/// Element-wise activations call libm (exp, expm1, log1p, tanh, erf, log) per lane.
std::unique_ptr<llvm::Module> lower_to_llvm(const ir::Func& f, llvm::LLVMContext& context,
                                            const LlvmLoweringOptions& options);

/// Floats of scratch one call needs for input length `length` (what <prefix>_scratch_floats
/// returns): the IR's scratch buffers for one sample, each rounded up to 16 floats.
std::int64_t llvm_scratch_floats(const ir::Func& f, std::int64_t length);

}  // namespace convjit::detail
