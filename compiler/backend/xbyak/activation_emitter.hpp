// ActivationEmitter — element-wise Keras activations as vector code, in registers.
//
// Contract between the conv code generator (compiler/backend/xbyak/*) and the
// activation emitters: the generator owns register allocation and calls emit() on
// each accumulator register during the epilogue; constants live in a table the
// emitter places after the code (emit_constants()) and reaches RIP-relative, so no
// general-purpose register is used.
#pragma once

#include <xbyak/xbyak.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "compiler/activation_description.hpp"
#include "convjit/activation.hpp"
#include "convjit/isa.hpp"

namespace convjit::detail {

class ActivationEmitter {
 public:
  /// Upper bound of temps_needed() over every activation; generators reserve this many.
  static constexpr int kMaxTemps = kMaxActivationVectorTemps;

  /// `act` must be element-wise (not softmax/log_softmax/sparsemax/glu).
  ActivationEmitter(Xbyak::CodeGenerator& gen, Isa isa, Activation act);

  /// Vector temporaries emit() needs besides the value register (<= kMaxTemps): the
  /// description's activation_vector_temps(), which the planner reads without Xbyak.
  int temps_needed() const;
  /// True when the activation is the identity (emit() emits nothing).
  bool is_identity() const;

  /// Applies the activation in place to vector register `value` (ymm index for AVX2, zmm
  /// for AVX-512), clobbering the given temporaries (indices, at least temps_needed()).
  /// On AVX-512 it may also clobber mask registers k5..k7; it never touches GPRs, the
  /// stack, other vector registers, or k1..k4.
  void emit(int value, const std::vector<int>& temps);

  /// Emits the constant table (aligned). Call once, after the last instruction of the
  /// function (after ret), whether or not emit() was called.
  void emit_constants();

 private:
  template <class Vmm>
  class Codegen;                         // the per-ISA instruction sequences (the .cpp)
  friend struct ActivationEmitterProbe;  // tests read the trace below

  Xbyak::CodeGenerator& gen_;
  Isa isa_;
  Activation act_;
  Xbyak::Label table_;
  std::vector<std::uint32_t> constants_;  // table entries (float bit patterns), in order
  bool constants_emitted_ = false;
  // Trace of emit(): the code offset of every instruction's first byte, and the vector
  // (bit i: ymm/zmm i) and mask (bit i: k i) registers that appeared as operands.
  std::vector<std::size_t> instruction_starts_;
  std::uint32_t vector_regs_used_ = 0;
  std::uint32_t mask_regs_used_ = 0;
};

}  // namespace convjit::detail
