// lower_to_llvm: one LLVM IR construct per IR node. Register arrays become allocas of
// vectors (promoted to SSA values by SROA/mem2reg, since their indices are constants after
// unrolling), loops become counted loops named after their tags, masked tails become
// llvm.masked.load/store with constant masks.
#include "compiler/backend/llvm/lower_llvm.hpp"

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

#include "compiler/backend/llvm/llvm_activation.hpp"
#include "compiler/backend/llvm/llvm_loop.hpp"
#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/interpreter.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/sweep_channels.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {
namespace {

constexpr std::int64_t kScratchAlign = 16;  // floats: 64 bytes

[[noreturn]] void lowering_bug(const char* what) {
  std::fprintf(stderr, "%s:%d: convjit internal error: LLVM lowering: %s\n", __FILE__, __LINE__,
               what);
  std::abort();
}

std::string block_name(const std::string& tag, const std::string& var) {
  std::string out = tag.empty() ? var : tag;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return out;
}

class Lowering {
 public:
  Lowering(const ir::Func& f, llvm::LLVMContext& ctx, llvm::Module& m, const LlvmLoweringOptions& o)
      : f_(f), ctx_(ctx), m_(m), o_(o), b_(ctx) {
    f32_ = llvm::Type::getFloatTy(ctx);
    i64_ = llvm::Type::getInt64Ty(ctx);
    ptr_ = llvm::PointerType::getUnqual(ctx);
  }

  void define_all() {
    llvm::Function* body = define_body();
    llvm::Function* samples = define_samples(body);
    define_run(samples);
    define_entry(samples);
    define_scratch_floats();
    define_output_floats();
    if (o_.pack_weights) define_pack_weights();
  }

 private:
  std::string sym(const char* suffix) const { return o_.prefix + "_" + suffix; }

  // --- expressions -----------------------------------------------------------------------

  llvm::Value* expr(const ir::Expr& e) {
    if (!e.defined()) lowering_bug("undefined expression");
    switch (e->op) {
      case ir::ExprOp::kConst: return b_.getInt64(static_cast<std::uint64_t>(e->value));
      case ir::ExprOp::kVar: {
        if (e->var < 0 || e->var >= static_cast<int>(env_.size()) || env_[e->var] == nullptr) {
          lowering_bug("unbound variable");
        }
        return env_[e->var];
      }
      case ir::ExprOp::kAdd: return b_.CreateNSWAdd(expr(e->a), expr(e->b));
      case ir::ExprOp::kSub: return b_.CreateNSWSub(expr(e->a), expr(e->b));
      case ir::ExprOp::kMul: return b_.CreateNSWMul(expr(e->a), expr(e->b));
      case ir::ExprOp::kFloorDiv: {
        llvm::Value* a = expr(e->a);
        llvm::Value* d = expr(e->b);  // > 0 by the IR's rules
        llvm::Value* q = b_.CreateSDiv(a, d);
        llvm::Value* r = b_.CreateSRem(a, d);
        return b_.CreateSub(q, b_.CreateZExt(b_.CreateICmpSLT(r, b_.getInt64(0)), i64_));
      }
      case ir::ExprOp::kMin: {
        llvm::Value* a = expr(e->a);
        llvm::Value* c = expr(e->b);
        return b_.CreateSelect(b_.CreateICmpSLT(a, c), a, c);
      }
      case ir::ExprOp::kMax: {
        llvm::Value* a = expr(e->a);
        llvm::Value* c = expr(e->b);
        return b_.CreateSelect(b_.CreateICmpSGT(a, c), a, c);
      }
    }
    lowering_bug("unknown expression");
  }

  // --- registers and memory ---------------------------------------------------------------

  const ir::RegArray& reg_array(const ir::VReg& r) const {
    if (r.array < 0 || r.array >= static_cast<int>(f_.regs.size())) lowering_bug("bad register");
    return f_.regs[static_cast<std::size_t>(r.array)];
  }
  llvm::FixedVectorType* vec_type(const ir::VReg& r) const {
    return llvm::FixedVectorType::get(f32_, static_cast<unsigned>(reg_array(r).lanes));
  }
  llvm::Value* reg_ptr(const ir::VReg& r) {
    const ir::RegArray& a = reg_array(r);
    llvm::Type* arr = llvm::ArrayType::get(vec_type(r), static_cast<std::uint64_t>(a.count));
    return b_.CreateInBoundsGEP(arr, regs_[static_cast<std::size_t>(r.array)],
                                {b_.getInt64(0), expr(r.index)});
  }
  llvm::Value* read(const ir::VReg& r) { return b_.CreateLoad(vec_type(r), reg_ptr(r)); }
  void write(const ir::VReg& r, llvm::Value* v) { b_.CreateStore(v, reg_ptr(r)); }

  /// An index as sum(coefficient * term) + constant, terms being the parts that are not sums
  /// or constant multiples (loop variables, min/max, products of variables).
  struct Linear {
    std::vector<std::pair<ir::Expr, std::int64_t>> terms;
    std::int64_t constant = 0;
  };

  static bool same_expr(const ir::Expr& a, const ir::Expr& b) {
    if (a->op != b->op) return false;
    switch (a->op) {
      case ir::ExprOp::kConst: return a->value == b->value;
      case ir::ExprOp::kVar: return a->var == b->var;
      default: return same_expr(a->a, b->a) && same_expr(a->b, b->b);
    }
  }

  static void linearize(const ir::Expr& e, std::int64_t scale, Linear& out) {
    std::int64_t c = 0;
    switch (e->op) {
      case ir::ExprOp::kConst: out.constant += scale * e->value; return;
      case ir::ExprOp::kAdd:
        linearize(e->a, scale, out);
        linearize(e->b, scale, out);
        return;
      case ir::ExprOp::kSub:
        linearize(e->a, scale, out);
        linearize(e->b, -scale, out);
        return;
      case ir::ExprOp::kMul:
        if (e->b.is_const(&c)) return linearize(e->a, scale * c, out);
        if (e->a.is_const(&c)) return linearize(e->b, scale * c, out);
        break;
      default: break;
    }
    for (auto& [term, coefficient] : out.terms) {
      if (same_expr(term, e)) {
        coefficient += scale;
        return;
      }
    }
    out.terms.emplace_back(e, scale);
  }

  /// Address of an access. Where channel blocks are innermost around the tiles (depthwise, or
  /// a swept direct nest), the index is emitted in linear form with its constant last, so the
  /// rows and taps of a tile (the same index plus constants) share one register and differ by
  /// displacements: LLVM otherwise kept (t0 + i)*F in a register per row and spilled them.
  /// Elsewhere the index as it is (the linear form there made code generation several times
  /// slower for no speed).
  llvm::Value* address(const ir::Access& a) {
    if (a.buffer < 0 || a.buffer >= static_cast<int>(buffers_.size())) lowering_bug("bad buffer");
    llvm::Value* base = buffers_[static_cast<std::size_t>(a.buffer)];
    if (f_.weights.kind != ir::WeightLayout::Kind::kDepthwise && swept_blocks_ == 0) {
      return b_.CreateInBoundsGEP(f32_, base, expr(a.index));
    }
    Linear lin;
    linearize(a.index, 1, lin);
    llvm::Value* index = nullptr;
    for (const auto& [term, coefficient] : lin.terms) {
      if (coefficient == 0) continue;
      llvm::Value* v = expr(term);
      if (coefficient != 1) {
        v = b_.CreateNSWMul(v, b_.getInt64(static_cast<std::uint64_t>(coefficient)));
      }
      index = index == nullptr ? v : b_.CreateNSWAdd(index, v);
    }
    if (index != nullptr) base = b_.CreateInBoundsGEP(f32_, base, index);
    return b_.CreateInBoundsGEP(f32_, base, b_.getInt64(static_cast<std::uint64_t>(lin.constant)));
  }

  /// Lanes [0, valid) of a vector of `lanes`: nullptr when all lanes are valid, an i1 vector
  /// otherwise (constant when `valid` is).
  llvm::Value* lane_mask(const ir::Expr& valid, int lanes, bool* none) {
    *none = false;
    std::int64_t v = 0;
    if (valid.is_const(&v)) {
      if (v >= lanes) return nullptr;
      if (v <= 0) {
        *none = true;
        return nullptr;
      }
      std::vector<llvm::Constant*> bits;
      for (int i = 0; i < lanes; ++i) bits.push_back(b_.getInt1(i < v));
      return llvm::ConstantVector::get(bits);
    }
    std::vector<llvm::Constant*> iota;
    for (int i = 0; i < lanes; ++i) iota.push_back(b_.getInt64(static_cast<std::uint64_t>(i)));
    llvm::Value* splat = b_.CreateVectorSplat(static_cast<unsigned>(lanes), expr(valid));
    return b_.CreateICmpSLT(llvm::ConstantVector::get(iota), splat);
  }

  llvm::Value* lane_pointers(llvm::Value* base, std::int64_t stride, int lanes) {
    std::vector<llvm::Constant*> offsets;
    for (int i = 0; i < lanes; ++i)
      offsets.push_back(b_.getInt64(static_cast<std::uint64_t>(i * stride)));
    return b_.CreateGEP(f32_, base, llvm::ConstantVector::get(offsets));
  }

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

  void store_vector(llvm::Value* value, const ir::Store& s) {
    auto* type = llvm::cast<llvm::FixedVectorType>(value->getType());
    const int lanes = static_cast<int>(type->getNumElements());
    bool none = false;
    llvm::Value* mask = lane_mask(s.valid_lanes, lanes, &none);
    if (none) return;
    llvm::Value* ptr = address(s.dst);
    if (s.lane_stride == 1) {
      if (s.nontemporal && stream_ && mask == nullptr) {
        const Congruence c = congruence(s.dst.index);
        if (c.modulus % lanes == 0 && c.residue % lanes == 0) {  // vector-aligned: vmovntps
          llvm::StoreInst* st =
              b_.CreateAlignedStore(value, ptr, llvm::Align(static_cast<std::uint64_t>(lanes) * 4));
          st->setMetadata(llvm::LLVMContext::MD_nontemporal,
                          llvm::MDNode::get(ctx_, llvm::ConstantAsMetadata::get(b_.getInt32(1))));
          streamed_ = true;
          return;
        }
      }
      if (mask == nullptr) {
        b_.CreateAlignedStore(value, ptr, llvm::Align(4));
        return;
      }
      b_.CreateMaskedStore(value, ptr, llvm::Align(4), mask);
      return;
    }
    if (mask == nullptr)
      mask = llvm::Constant::getAllOnesValue(
          llvm::FixedVectorType::get(b_.getInt1Ty(), static_cast<unsigned>(lanes)));
    b_.CreateMaskedScatter(value, lane_pointers(ptr, s.lane_stride, lanes), llvm::Align(4), mask);
  }

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

  static Congruence congruence(const ir::Expr& e) {
    auto gcd = [](std::int64_t a, std::int64_t b) {
      return std::gcd(a < 0 ? -a : a, b < 0 ? -b : b);
    };
    switch (e->op) {
      case ir::ExprOp::kConst: return {0, e->value};
      case ir::ExprOp::kVar:
      case ir::ExprOp::kFloorDiv: return {1, 0};
      default: break;
    }
    const Congruence a = congruence(e->a), b = congruence(e->b);
    switch (e->op) {
      case ir::ExprOp::kAdd: return {gcd(a.modulus, b.modulus), a.residue + b.residue};
      case ir::ExprOp::kSub: return {gcd(a.modulus, b.modulus), a.residue - b.residue};
      case ir::ExprOp::kMul: {
        std::int64_t mm = 0, mr = 0, rm = 0, rr = 0;
        if (__builtin_mul_overflow(a.modulus, b.modulus, &mm) ||
            __builtin_mul_overflow(a.modulus, b.residue, &mr) ||
            __builtin_mul_overflow(b.modulus, a.residue, &rm) ||
            __builtin_mul_overflow(a.residue, b.residue, &rr)) {
          return {1, 0};
        }
        return {gcd(gcd(mm, mr), rm), rr};
      }
      case ir::ExprOp::kMin:
      case ir::ExprOp::kMax:  // one of the two
        return {gcd(gcd(a.modulus, b.modulus), a.residue - b.residue), a.residue};
      default: return {1, 0};
    }
  }

  // --- statements ------------------------------------------------------------------------

  void emit(const ir::Stmt& s) {
    if (!s) return;
    if (const auto* n = ir::as<ir::Block>(s)) {
      for (const ir::Stmt& c : n->stmts) emit(c);
      return;
    }
    if (const auto* n = ir::as<ir::For>(s)) {
      llvm::Value* lo = expr(n->min);
      llvm::Value* end = b_.CreateNSWAdd(lo, expr(n->extent));
      const std::string name = block_name(n->tag, f_.vars.at(static_cast<std::size_t>(n->var)));
      const std::string& var = f_.vars.at(static_cast<std::size_t>(n->var));
      // Where channel blocks are innermost around the tiles (depthwise, or a swept direct
      // nest: a block loop inside a time region loop), each tap reloads its inputs.
      const bool region = n->tag == "left edge" || n->tag == "interior tiles" ||
                          n->tag == "interior tail" || n->tag == "right edge";
      const bool blocks = n->tag == "oc blocks" || n->tag == "channel blocks";
      const bool tap_barrier =
          (f_.weights.kind == ir::WeightLayout::Kind::kDepthwise || swept_blocks_ > 0) &&
          (var == "k" || var == "k_o");
      region_loops_ += region ? 1 : 0;
      swept_blocks_ += blocks && region_loops_ > 0 ? 1 : 0;
      emit_loop(
          b_, lo, end, name,
          [&](llvm::Value* i) {
            llvm::Value* saved = env_[n->var];
            env_[n->var] = i;
            // Each tap reloads its input rows or broadcasts (L1 hits, folded into the FMAs as
            // memory operands) instead of LLVM keeping every input of the tile in registers
            // across taps (or hoisting them out of the block loop), which spills accumulators.
            // An empty asm that clobbers memory stops load CSE and hoisting.
            if (tap_barrier) {
              b_.CreateCall(llvm::InlineAsm::get(llvm::FunctionType::get(b_.getVoidTy(), false), "",
                                                 "~{memory}", true));
            }
            emit(n->body);
            env_[n->var] = saved;
          },
          tap_barrier && n->min.is_const() && n->extent.is_const());
      region_loops_ -= region ? 1 : 0;
      swept_blocks_ -= blocks && region_loops_ > 0 ? 1 : 0;
      return;
    }
    if (const auto* n = ir::as<ir::Let>(s)) {
      llvm::Value* saved = env_[n->var];
      env_[n->var] = expr(n->value);
      emit(n->body);
      env_[n->var] = saved;
      return;
    }
    if (const auto* n = ir::as<ir::Alloc>(s)) {
      emit(n->body);
      return;
    }
    if (const auto* n = ir::as<ir::Zero>(s)) {
      write(n->dst, llvm::Constant::getNullValue(vec_type(n->dst)));
      return;
    }
    if (const auto* n = ir::as<ir::Load>(s)) {
      write(n->dst, load_vector(n->dst, n->src, n->valid_lanes, n->lane_stride));
      return;
    }
    if (const auto* n = ir::as<ir::Broadcast>(s)) {
      llvm::Value* x = b_.CreateAlignedLoad(f32_, address(n->src), llvm::Align(4));
      write(n->dst, b_.CreateVectorSplat(vec_type(n->dst)->getNumElements(), x));
      return;
    }
    if (const auto* n = ir::as<ir::Fma>(s)) {
      const llvm::Intrinsic::ID id = o_.fma ? llvm::Intrinsic::fma : llvm::Intrinsic::fmuladd;
      llvm::Value* r =
          b_.CreateIntrinsic(id, {vec_type(n->acc)}, {read(n->a), read(n->b), read(n->acc)});
      write(n->acc, r);
      return;
    }
    if (const auto* n = ir::as<ir::AddFrom>(s)) {
      llvm::Value* add = load_vector(n->dst, n->src, n->valid_lanes, n->lane_stride);
      write(n->dst, b_.CreateFAdd(read(n->dst), add));
      return;
    }
    if (const auto* n = ir::as<ir::Activate>(s)) {
      write(n->dst, emit_activation(b_, m_, n->activation, read(n->dst)));
      return;
    }
    if (const auto* n = ir::as<ir::Store>(s)) {
      store_vector(read(n->src), *n);
      return;
    }
    if (const auto* n = ir::as<ir::Prefetch>(s)) {
      b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {ptr_},
                         {address(n->src), b_.getInt32(0), b_.getInt32(3), b_.getInt32(1)});
      return;
    }
    if (const auto* n = ir::as<ir::Transpose>(s)) {
      llvm::Value* src = address(n->src);
      llvm::Value* dst = address(n->dst);
      llvm::Value* rows = expr(n->rows);
      llvm::Value* cols = expr(n->cols);
      // A call moves only its part: output rows (time) x columns (channels) of its ranges,
      // input columns (time) its taps read. The rest of a scratch buffer is never read.
      llvm::Value* r0 = b_.getInt64(0);
      llvm::Value* r1 = rows;
      llvm::Value* c0 = b_.getInt64(0);
      llvm::Value* c1 = cols;
      if (buffer_kind(n->dst.buffer) == ir::BufferKind::kOutput && bound(CallRangeNames::kTBegin)) {
        r0 = named(CallRangeNames::kTBegin);
        r1 = named(CallRangeNames::kTEnd);
        c0 = named(CallRangeNames::kOcBegin);
        c1 = named(CallRangeNames::kOcEnd);
      } else if (buffer_kind(n->src.buffer) == ir::BufferKind::kInput &&
                 bound(CallRangeNames::kInBegin)) {
        c0 = named(CallRangeNames::kInBegin);
        c1 = named(CallRangeNames::kInEnd);
      }
      emit_loop(b_, r0, r1, "transpose_rows", [&](llvm::Value* r) {
        emit_loop(b_, c0, c1, "transpose_cols", [&](llvm::Value* c) {
          llvm::Value* from =
              b_.CreateInBoundsGEP(f32_, src, b_.CreateNSWAdd(b_.CreateNSWMul(r, cols), c));
          llvm::Value* to =
              b_.CreateInBoundsGEP(f32_, dst, b_.CreateNSWAdd(b_.CreateNSWMul(c, rows), r));
          b_.CreateStore(b_.CreateLoad(f32_, from), to);
        });
      });
      return;
    }
    if (const auto* n = ir::as<ir::AxisActivation>(s)) {
      llvm::Function* fn = axis_activation_function(m_, n->activation);
      b_.CreateCall(fn, {address(n->src), expr(n->src_stride), expr(n->count), address(n->dst),
                         expr(n->dst_stride)});
      return;
    }
    lowering_bug("unknown statement");
  }

  // --- functions -------------------------------------------------------------------------

  void bind_lengths(llvm::Value* length) {
    env_.assign(f_.vars.size() + 1, nullptr);
    env_[ir::Func::kVarN] = b_.getInt64(1);
    env_[ir::Func::kVarL] = length;
  }

  /// The slot of variable `name`, or -1 when the IR does not have it.
  int var_slot(const char* name) const {
    for (std::size_t v = 0; v < f_.vars.size(); ++v) {
      if (f_.vars[v] == name) return static_cast<int>(v);
    }
    return -1;
  }
  bool bound(const char* name) const {
    const int v = var_slot(name);
    return v >= 0 && env_[static_cast<std::size_t>(v)] != nullptr;
  }
  llvm::Value* named(const char* name) const {
    if (!bound(name)) lowering_bug("unbound range variable");
    return env_[static_cast<std::size_t>(var_slot(name))];
  }
  ir::BufferKind buffer_kind(int buffer) const {
    return f_.buffers.at(static_cast<std::size_t>(buffer)).kind;
  }

  /// body(input, weights, bias, output, scratch, L, t_begin, t_end, oc_begin, oc_end): one
  /// sample (N = 1), the outputs of the call's ranges (IR without them: every output).
  llvm::Function* define_body() {
    auto* type = llvm::FunctionType::get(
        b_.getVoidTy(), {ptr_, ptr_, ptr_, ptr_, ptr_, i64_, i64_, i64_, i64_, i64_}, false);
    llvm::Function* fn =
        llvm::Function::Create(type, llvm::Function::InternalLinkage, sym("sample"), m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    for (unsigned i = 0; i < 5; ++i) fn->addParamAttr(i, llvm::Attribute::NoAlias);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    bind_lengths(fn->getArg(5));
    const char* params[] = {CallRangeNames::kTBeginParam, CallRangeNames::kTEndParam,
                            CallRangeNames::kOcBeginParam, CallRangeNames::kOcEndParam};
    for (unsigned i = 0; i < 4; ++i) {
      fn->getArg(6 + i)->setName(params[i]);
      const int v = var_slot(params[i]);
      if (v >= 0) env_[static_cast<std::size_t>(v)] = fn->getArg(6 + i);
    }
    for (const ir::RegArray& r : f_.regs) {
      llvm::Type* vec = llvm::FixedVectorType::get(f32_, static_cast<unsigned>(r.lanes));
      regs_.push_back(b_.CreateAlloca(
          llvm::ArrayType::get(vec, static_cast<std::uint64_t>(r.count)), nullptr, r.name));
    }
    llvm::Value* scratch_offset = b_.getInt64(0);
    for (const ir::BufferDecl& buf : f_.buffers) {
      switch (buf.kind) {
        case ir::BufferKind::kInput: buffers_.push_back(fn->getArg(0)); break;
        case ir::BufferKind::kWeights: buffers_.push_back(fn->getArg(1)); break;
        case ir::BufferKind::kBias: buffers_.push_back(fn->getArg(2)); break;
        case ir::BufferKind::kOutput: buffers_.push_back(fn->getArg(3)); break;
        case ir::BufferKind::kScratch: {
          buffers_.push_back(b_.CreateInBoundsGEP(f32_, fn->getArg(4), scratch_offset, buf.name));
          scratch_offset = b_.CreateNSWAdd(scratch_offset, rounded_size(buf));
          break;
        }
      }
    }
    llvm::Value* stream = streaming_allowed();
    if (stream == nullptr) {
      emit(f_.body);
    } else {
      auto* streaming = llvm::BasicBlock::Create(ctx_, "streaming_stores", fn);
      auto* plain = llvm::BasicBlock::Create(ctx_, "plain_stores", fn);
      auto* done = llvm::BasicBlock::Create(ctx_, "stores_done", fn);
      b_.CreateCondBr(stream, streaming, plain);
      b_.SetInsertPoint(streaming);
      stream_ = true;
      emit(f_.body);
      stream_ = false;
      b_.CreateBr(done);
      b_.SetInsertPoint(plain);
      const int down_var = var_slot(kSweepDownVar);
      if (down_var >= 0) env_[static_cast<std::size_t>(down_var)] = b_.getInt64(0);
      emit(f_.body);
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    }
    b_.CreateRetVoid();
    return fn;
  }

  /// Whether this call's tiles may stream their stores (nullptr: never; the stores stay
  /// plain), and binds the direction of a directional sweep (kSweepDownVar). The KernelPlan
  /// decides (plan.nontemporal: whole cache lines only; store_alias_shifts: a load whose
  /// address equals a pending streamed store's modulo 4 KiB waits until that store reaches
  /// memory, so the call streams only when no such alias lies ahead, else the sweep goes
  /// down, or the call stores plainly), here on the sample's base addresses and a
  /// line-aligned output.
  llvm::Value* streaming_allowed() {
    const int down_var = var_slot(kSweepDownVar);
    if (down_var >= 0) env_[static_cast<std::size_t>(down_var)] = b_.getInt64(0);
    int dst = -1;
    ir::visit(f_.body, [&](const ir::Stmt& c) {
      const auto* st = ir::as<ir::Store>(c);
      if (st != nullptr && st->nontemporal && dst < 0) dst = st->dst.buffer;
    });
    if (dst < 0 || f_.plan == nullptr || !f_.plan->nontemporal) return nullptr;
    int src = -1;
    for (std::size_t b = 0; b < f_.buffers.size(); ++b) {
      const ir::BufferDecl& buf = f_.buffers[b];
      if (buf.name == "input_t" || (src < 0 && buf.kind == ir::BufferKind::kInput)) {
        src = static_cast<int>(b);
      }
    }
    if (src < 0) return nullptr;
    // The plan's aliasing rule (KernelPlan::store_alias_shifts), evaluated on this call's
    // base addresses as store_mode() evaluates it for the Xbyak driver.
    constexpr std::int64_t kPage = 4096;
    const std::int64_t window = f_.plan->store_alias_window;
    llvm::Value* out_base = b_.CreatePtrToInt(buffers_[static_cast<std::size_t>(dst)], i64_);
    llvm::Value* base =
        b_.CreateSub(out_base, b_.CreatePtrToInt(buffers_[static_cast<std::size_t>(src)], i64_));
    llvm::Value* ahead_hazard = b_.getFalse();
    llvm::Value* behind_hazard = b_.getFalse();
    for (const std::int64_t shift : f_.plan->store_alias_shifts) {
      llvm::Value* ahead =
          b_.CreateAnd(b_.CreateAdd(base, b_.getInt64(static_cast<std::uint64_t>(shift))),
                       b_.getInt64(kPage - 1));
      // 0 < ahead <= window, as one unsigned compare: ahead - 1 < window.
      ahead_hazard = b_.CreateOr(ahead_hazard,
                                 b_.CreateICmpULT(b_.CreateSub(ahead, b_.getInt64(1)),
                                                  b_.getInt64(static_cast<std::uint64_t>(window))));
      behind_hazard = b_.CreateOr(
          behind_hazard,
          b_.CreateICmpUGE(ahead, b_.getInt64(static_cast<std::uint64_t>(kPage - window))));
    }
    llvm::Value* line_aligned =
        b_.CreateICmpEQ(b_.CreateAnd(out_base, b_.getInt64(63)), b_.getInt64(0));
    llvm::Value* order_ok = b_.CreateNot(ahead_hazard);
    if (down_var >= 0) {
      llvm::Value* down = b_.CreateAnd(ahead_hazard, b_.CreateNot(behind_hazard));
      order_ok = b_.CreateOr(order_ok, down);
      env_[static_cast<std::size_t>(down_var)] =
          b_.CreateZExt(b_.CreateAnd(line_aligned, down), i64_, kSweepDownVar);
    }
    return b_.CreateAnd(line_aligned, order_ok, "streaming_safe");
  }

  llvm::Value* rounded_size(const ir::BufferDecl& buf) {
    llvm::Value* size = expr(buf.size);
    llvm::Value* up = b_.CreateNSWAdd(size, b_.getInt64(kScratchAlign - 1));
    return b_.CreateMul(b_.CreateSDiv(up, b_.getInt64(kScratchAlign)), b_.getInt64(kScratchAlign));
  }

  const ir::BufferDecl& buffer_of(ir::BufferKind kind) const {
    for (const ir::BufferDecl& buf : f_.buffers) {
      if (buf.kind == kind) return buf;
    }
    lowering_bug("missing input or output buffer");
  }

  bool has_bias() const {
    for (const ir::BufferDecl& buf : f_.buffers) {
      if (buf.kind == ir::BufferKind::kBias) return true;
    }
    return false;
  }

  /// samples(input, weights, bias, output, scratch, n_begin, n_end, L, t_begin, t_end,
  /// oc_begin, oc_end): the outputs [n_begin, n_end) x [t_begin, t_end) x [oc_begin, oc_end).
  llvm::Function* define_samples(llvm::Function* body) {
    auto* type = llvm::FunctionType::get(
        b_.getVoidTy(), {ptr_, ptr_, ptr_, ptr_, ptr_, i64_, i64_, i64_, i64_, i64_, i64_, i64_},
        false);
    llvm::Function* fn =
        llvm::Function::Create(type, llvm::Function::InternalLinkage, sym("samples"), m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    bind_lengths(fn->getArg(7));
    llvm::Value* bias = fn->getArg(2);
    if (has_bias()) {  // a null bias reads zeros
      const std::uint64_t filters = static_cast<std::uint64_t>(f_.problem.filters);
      auto* zeros_type = llvm::ArrayType::get(f32_, filters == 0 ? 1 : filters);
      auto* zeros =
          new llvm::GlobalVariable(m_, zeros_type, true, llvm::GlobalValue::InternalLinkage,
                                   llvm::Constant::getNullValue(zeros_type), sym("zero_bias"));
      zeros->setAlignment(llvm::Align(64));
      bias = b_.CreateSelect(b_.CreateIsNull(bias), zeros, bias);
    }
    llvm::Value* in_sample = expr(buffer_of(ir::BufferKind::kInput).size);
    llvm::Value* out_sample = expr(buffer_of(ir::BufferKind::kOutput).size);
    emit_loop(b_, fn->getArg(5), fn->getArg(6), "batch_items", [&](llvm::Value* n) {
      llvm::Value* in = b_.CreateGEP(f32_, fn->getArg(0), b_.CreateNSWMul(n, in_sample));
      llvm::Value* out = b_.CreateGEP(f32_, fn->getArg(3), b_.CreateNSWMul(n, out_sample));
      b_.CreateCall(body, {in, fn->getArg(1), bias, out, fn->getArg(4), fn->getArg(7),
                           fn->getArg(8), fn->getArg(9), fn->getArg(10), fn->getArg(11)});
    });
    // Streaming stores are weakly ordered: visible before the call returns (as Xbyak does).
    if (streamed_) b_.CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});
    b_.CreateRetVoid();
    return fn;
  }

  /// run(input, weights, bias, output, scratch, n_begin, n_end, L): whole samples.
  void define_run(llvm::Function* samples) {
    auto* type = llvm::FunctionType::get(b_.getVoidTy(),
                                         {ptr_, ptr_, ptr_, ptr_, ptr_, i64_, i64_, i64_}, false);
    llvm::Function* fn =
        llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("run"), m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    llvm::Value* whole = b_.getInt64(static_cast<std::uint64_t>(kWholeRange));
    b_.CreateCall(samples, {fn->getArg(0), fn->getArg(1), fn->getArg(2), fn->getArg(3),
                            fn->getArg(4), fn->getArg(5), fn->getArg(6), fn->getArg(7),
                            b_.getInt64(0), whole, b_.getInt64(0), whole});
    b_.CreateRetVoid();
  }

  /// entry(const KernelArgs*): the GeneratedKernel calling convention.
  void define_entry(llvm::Function* samples) {
    auto* args_type = llvm::StructType::get(
        ctx_, {ptr_, ptr_, ptr_, ptr_, ptr_, i64_, i64_, i64_, i64_, i64_, i64_, i64_, i64_, i64_});
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false);
    llvm::Function* fn =
        llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("entry"), m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    llvm::Value* args = fn->getArg(0);
    auto field = [&](unsigned i) {
      llvm::Type* t = i < 5 ? static_cast<llvm::Type*>(ptr_) : i64_;
      return b_.CreateLoad(t, b_.CreateStructGEP(args_type, args, i));
    };
    // KernelArgs: input, weights, bias, output, scratch, length, out_length, pad_left,
    // n_begin, n_end, t_begin, t_end, oc_begin, oc_end.
    b_.CreateCall(samples, {field(0), field(1), field(2), field(3), field(4), field(8), field(9),
                            field(5), field(10), field(11), field(12), field(13)});
    b_.CreateRetVoid();
  }

  void define_scratch_floats() {
    auto* type = llvm::FunctionType::get(i64_, {i64_}, false);
    llvm::Function* fn =
        llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("scratch_floats"), m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    bind_lengths(fn->getArg(0));
    llvm::Value* total = b_.getInt64(0);
    for (const ir::BufferDecl& buf : f_.buffers) {
      if (buf.kind == ir::BufferKind::kScratch) total = b_.CreateNSWAdd(total, rounded_size(buf));
    }
    b_.CreateRet(total);
  }

  /// output_floats(batch, length): floats of the output of a call.
  void define_output_floats() {
    auto* type = llvm::FunctionType::get(i64_, {i64_, i64_}, false);
    llvm::Function* fn =
        llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("output_floats"), m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    bind_lengths(fn->getArg(1));
    env_[ir::Func::kVarN] = fn->getArg(0);
    b_.CreateRet(expr(buffer_of(ir::BufferKind::kOutput).size));
  }

  /// pack_weights(keras, packed): compiler/schedule/weight_layout.cpp as loops.
  void define_pack_weights() {
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, ptr_}, false);
    llvm::Function* fn =
        llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("pack_weights"), m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    const Problem& p = f_.problem;
    const ir::WeightLayout& layout = f_.weights;
    llvm::Value* keras = fn->getArg(0);
    llvm::Value* packed = fn->getArg(1);
    const std::int64_t total = packed_weights_size(p, layout);
    b_.CreateMemSet(packed, b_.getInt8(0), b_.getInt64(static_cast<std::uint64_t>(total * 4)),
                    llvm::MaybeAlign(4));
    auto c = [&](std::int64_t v) { return b_.getInt64(static_cast<std::uint64_t>(v)); };
    auto copy = [&](llvm::Value* to, llvm::Value* from) {
      b_.CreateStore(b_.CreateLoad(f32_, b_.CreateInBoundsGEP(f32_, keras, from)),
                     b_.CreateInBoundsGEP(f32_, packed, to));
    };
    const std::int64_t bw = layout.block_width, blocks = layout.blocks, kk = p.kernel;
    if (layout.kind == ir::WeightLayout::Kind::kDirect) {
      const std::int64_t cg = p.ic_per_group, fg = p.oc_per_group, f = p.filters;
      const std::int64_t bic = layout_ic_block(p, layout);
      for (std::int64_t bl = 0; bl < blocks; ++bl) {
        const std::int64_t cols = std::min(bw, fg - bl * bw);
        if (cols <= 0) continue;
        for (std::int64_t ic0 = 0; ic0 < cg; ic0 += bic) {
          emit_loop(b_, c(0), c(p.groups), "pack_g", [&](llvm::Value* g) {
            emit_loop(b_, c(0), c(kk), "pack_k", [&](llvm::Value* k) {
              emit_loop(b_, c(0), c(bic), "pack_ic", [&](llvm::Value* ic) {
                emit_loop(b_, c(0), c(cols), "pack_col", [&](llvm::Value* col) {
                  // packed_weights_offset(g, bl, k, ic0 + ic) + col:
                  // ((((g*blocks + bl)*ic_blocks + ic0/bic)*K + k)*bic + ic)*bw + col
                  llvm::Value* to = b_.CreateAdd(b_.CreateMul(g, c(blocks * (cg / bic))),
                                                 c(bl * (cg / bic) + ic0 / bic));
                  to = b_.CreateAdd(b_.CreateMul(to, c(kk)), k);
                  to = b_.CreateAdd(b_.CreateMul(to, c(bic)), ic);
                  to = b_.CreateAdd(b_.CreateMul(to, c(bw)), col);
                  // keras[(k*cg + ic0 + ic)*f + g*fg + bl*bw + col]
                  llvm::Value* from = b_.CreateMul(
                      b_.CreateAdd(b_.CreateMul(k, c(cg)), b_.CreateAdd(c(ic0), ic)), c(f));
                  from = b_.CreateAdd(from, b_.CreateMul(g, c(fg)));
                  from = b_.CreateAdd(from, b_.CreateAdd(c(bl * bw), col));
                  copy(to, from);
                });
              });
            });
          });
        }
      }
    } else {
      const std::int64_t fg = p.oc_per_group, f = p.filters;
      for (std::int64_t bl = 0; bl < blocks; ++bl) {
        const std::int64_t cols = std::min(bw, p.in_channels - bl * bw);
        if (cols <= 0) continue;
        emit_loop(b_, c(0), c(fg), "pack_j", [&](llvm::Value* j) {
          emit_loop(b_, c(0), c(kk), "pack_k", [&](llvm::Value* k) {
            emit_loop(b_, c(0), c(cols), "pack_col", [&](llvm::Value* col) {
              // packed[((j*blocks + bl)*K + k)*bw + col] = keras[k*f + (bl*bw + col)*fg + j]
              llvm::Value* to = b_.CreateAdd(b_.CreateMul(j, c(blocks)), c(bl));
              to = b_.CreateAdd(b_.CreateMul(to, c(kk)), k);
              to = b_.CreateAdd(b_.CreateMul(to, c(bw)), col);
              llvm::Value* ch = b_.CreateAdd(c(bl * bw), col);
              llvm::Value* from =
                  b_.CreateAdd(b_.CreateAdd(b_.CreateMul(k, c(f)), b_.CreateMul(ch, c(fg))), j);
              copy(to, from);
            });
          });
        });
      }
    }
    b_.CreateRetVoid();
  }

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
  bool stream_ = false;    ///< emitting the copy of the loop nest that streams
  int region_loops_ = 0;   ///< time region loops around the statement being emitted
  int swept_blocks_ = 0;   ///< channel-block loops inside those (a sweep)
  bool streamed_ = false;  ///< some streaming store was emitted (the call ends with sfence)
};

}  // namespace

std::unique_ptr<llvm::Module> lower_to_llvm(const ir::Func& f, llvm::LLVMContext& context,
                                            const LlvmLoweringOptions& options) {
  auto m = std::make_unique<llvm::Module>(options.prefix, context);
  Lowering(f, context, *m, options).define_all();
  return m;
}

std::int64_t llvm_scratch_floats(const ir::Func& f, std::int64_t length) {
  std::int64_t total = 0;
  for (std::size_t b = 0; b < f.buffers.size(); ++b) {
    if (f.buffers[b].kind != ir::BufferKind::kScratch) continue;
    const std::int64_t size = ir::buffer_size(f, static_cast<int>(b), 1, length);
    total += (size + kScratchAlign - 1) / kScratchAlign * kScratchAlign;
  }
  return total;
}

}  // namespace convjit::detail
