// LlvmLowering — the state and the methods of lower_to_llvm (lower_llvm.hpp), shared by its
// three files: lower_llvm.cpp (the translation: one LLVM construct per IR node),
// llvm_abi.cpp (the ABI wrappers: body, samples, run, entry, scratch and output sizes, the
// streaming-store check) and llvm_aot_packing.cpp (the AOT object's pack_weights). Internal
// to compiler/backend/llvm.
#pragma once

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Metadata.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/interpreter.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/sweep_channels.hpp"
#include "compiler/schedule/weight_layout.hpp"

#include "compiler/backend/llvm/lower_llvm.hpp"

namespace convjit::detail {

constexpr std::int64_t kScratchAlign = 16;  // floats: 64 bytes

[[noreturn]] void lowering_bug(const char* what);
std::string block_name(const std::string& tag, const std::string& var);

class LlvmLowering {
 public:
  LlvmLowering(const ir::Func& f, llvm::LLVMContext& ctx, llvm::Module& m,
               const LlvmLoweringOptions& o)
      : f_(f), ctx_(ctx), m_(m), o_(o), b_(ctx) {
    f32_ = llvm::Type::getFloatTy(ctx);
    i64_ = llvm::Type::getInt64Ty(ctx);
    ptr_ = llvm::PointerType::getUnqual(ctx);
  }

  void define_all();

 private:
  std::string sym(const char* suffix) const { return o_.prefix + "_" + suffix; }

  // --- expressions -----------------------------------------------------------------------

  llvm::Value* expr(const ir::Expr& e);

  // --- registers and memory ---------------------------------------------------------------

  const ir::RegArray& reg_array(const ir::VReg& r) const;
  llvm::FixedVectorType* vec_type(const ir::VReg& r) const;
  llvm::Value* reg_ptr(const ir::VReg& r);
  llvm::Value* read(const ir::VReg& r) { return b_.CreateLoad(vec_type(r), reg_ptr(r)); }
  void write(const ir::VReg& r, llvm::Value* v) { b_.CreateStore(v, reg_ptr(r)); }

  /// An index as sum(coefficient * term) + constant, terms being the parts that are not sums
  /// or constant multiples (loop variables, min/max, products of variables).
  struct Linear {
    std::vector<std::pair<ir::Expr, std::int64_t>> terms;
    std::int64_t constant = 0;
  };

  static bool same_expr(const ir::Expr& a, const ir::Expr& b);

  static void linearize(const ir::Expr& e, std::int64_t scale, Linear& out);

  /// Address of an access. Where channel blocks are innermost around the tiles (depthwise, or
  /// a swept direct nest), the index is emitted in linear form with its constant last, so the
  /// rows and taps of a tile (the same index plus constants) share one register and differ by
  /// displacements: LLVM otherwise kept (t0 + i)*F in a register per row and spilled them.
  /// Elsewhere the index as it is (the linear form there made code generation several times
  /// slower for no speed).
  llvm::Value* address(const ir::Access& a);

  /// Lanes [0, valid) of a vector of `lanes`: nullptr when all lanes are valid, an i1 vector
  /// otherwise (constant when `valid` is).
  llvm::Value* lane_mask(const ir::Expr& valid, int lanes, bool* none);

  llvm::Value* lane_pointers(llvm::Value* base, std::int64_t stride, int lanes);

  llvm::Value* load_vector(const ir::VReg& dst, const ir::Access& src, const ir::Expr& valid,
                           std::int64_t stride) {
    llvm::FixedVectorType* type = vec_type(dst);
    const int lanes = static_cast<int>(type->getNumElements());
    bool none = false;
    llvm::Value* mask = lane_mask(valid, lanes, &none);
    llvm::Value* zero = llvm::Constant::getNullValue(type);
    if (none) return zero;
    llvm::Value* ptr = address(src);
    if (stride == 1) {
      if (mask == nullptr) return b_.CreateAlignedLoad(type, ptr, llvm::Align(4));
      return b_.CreateMaskedLoad(type, ptr, llvm::Align(4), mask, zero);
    }
    if (mask == nullptr)
      mask = llvm::Constant::getAllOnesValue(
          llvm::FixedVectorType::get(b_.getInt1Ty(), static_cast<unsigned>(lanes)));
    return b_.CreateMaskedGather(type, lane_pointers(ptr, stride, lanes), llvm::Align(4), mask,
                                 zero);
  }

  void store_vector(llvm::Value* value, const ir::Store& s);

  // --- streaming stores ------------------------------------------------------------------
  //
  // A call that may stream (streaming_allowed) runs a second copy of the loop nest whose full
  // nontemporal stores are aligned streaming stores (!nontemporal, align = vector bytes:
  // vmovntps) where the index is provably a multiple of the vector (congruence) from the
  // line-aligned base; the other copy stores plainly. One branch per call, no value shared
  // between the copies (so no address kept in a register across a branch or spilled: a
  // reload from the stack that aliases a pending streamed store modulo 4 KiB would wait).

  /// value == residue (mod modulus) for every value of the variables (modulus 0: exactly
  /// residue). Variables are any integer; floor division is unknown.
  struct Congruence {
    std::int64_t modulus = 1, residue = 0;
  };

  static Congruence congruence(const ir::Expr& e);

  // --- statements ------------------------------------------------------------------------

  void emit(const ir::Stmt& s);

  // --- functions -------------------------------------------------------------------------

  void bind_lengths(llvm::Value* length);

  /// The slot of variable `name`, or -1 when the IR does not have it.
  int var_slot(const char* name) const;
  bool bound(const char* name) const;
  llvm::Value* named(const char* name) const;
  ir::BufferKind buffer_kind(int buffer) const;

  /// body(input, weights, bias, output, scratch, L, t_begin, t_end, oc_begin, oc_end): one
  /// sample (N = 1), the outputs of the call's ranges (IR without them: every output).
  llvm::Function* define_body();

  /// Whether this call's tiles may stream their stores (nullptr: never; the stores stay
  /// plain), and binds the direction of a directional sweep (kSweepDownVar). The KernelPlan
  /// decides (plan.nontemporal: whole cache lines only; store_alias_shifts: a load whose
  /// address equals a pending streamed store's modulo 4 KiB waits until that store reaches
  /// memory, so the call streams only when no such alias lies ahead, else the sweep goes
  /// down, or the call stores plainly), here on the sample's base addresses and a
  /// line-aligned output.
  llvm::Value* streaming_allowed();

  llvm::Value* rounded_size(const ir::BufferDecl& buf);

  const ir::BufferDecl& buffer_of(ir::BufferKind kind) const;

  bool has_bias() const;

  /// samples(input, weights, bias, output, scratch, n_begin, n_end, L, t_begin, t_end,
  /// oc_begin, oc_end): the outputs [n_begin, n_end) x [t_begin, t_end) x [oc_begin, oc_end).
  llvm::Function* define_samples(llvm::Function* body);

  /// run(input, weights, bias, output, scratch, n_begin, n_end, L): whole samples.
  void define_run(llvm::Function* samples);

  /// entry(const KernelArgs*): the GeneratedKernel calling convention.
  void define_entry(llvm::Function* samples);

  void define_scratch_floats();

  /// output_floats(batch, length): floats of the output of a call.
  void define_output_floats();

  /// pack_weights(keras, packed): compiler/schedule/weight_layout.cpp as loops.
  void define_pack_weights();

  const ir::Func& f_;
  llvm::LLVMContext& ctx_;
  llvm::Module& m_;
  const LlvmLoweringOptions& o_;
  llvm::IRBuilder<> b_;
  llvm::Type* f32_ = nullptr;
  llvm::Type* i64_ = nullptr;
  llvm::PointerType* ptr_ = nullptr;
  std::vector<llvm::Value*> env_;
  std::vector<llvm::Value*> buffers_;
  std::vector<llvm::Value*> regs_;
  // Streaming stores (see streaming_allowed).
  bool stream_ = false;       ///< emitting the copy of the loop nest that streams
  int region_loops_ = 0;      ///< time region loops around the statement being emitted
  int swept_blocks_ = 0;      ///< channel-block loops inside those (a sweep)
  int edge_group_loops_ = 0;  ///< edge-group tap loops around it (cold: not unrolled)
  bool streamed_ = false;     ///< some streaming store was emitted (the call ends with sfence)
};

}  // namespace convjit::detail
