// lower_to_llvm: one LLVM IR construct per IR node. Register arrays become allocas of
// vectors (promoted to SSA values by SROA/mem2reg, since their indices are constants after
// unrolling), loops become counted loops named after their tags, masked tails become
// llvm.masked.load/store with constant masks.
#include "compiler/backend/llvm/lower_llvm.hpp"

#include "compiler/backend/llvm/llvm_activation.hpp"
#include "compiler/backend/llvm/llvm_loop.hpp"
#include "compiler/backend/llvm/llvm_lowering.hpp"
#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/interpreter.hpp"
#include "compiler/ir/loop_tags.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/sweep_channels.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {

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

llvm::Value* LlvmLowering::expr(const ir::Expr& e) {
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

const ir::RegArray& LlvmLowering::reg_array(const ir::VReg& r) const {
  if (r.array < 0 || r.array >= static_cast<int>(f_.regs.size())) lowering_bug("bad register");
  return f_.regs[static_cast<std::size_t>(r.array)];
}

llvm::FixedVectorType* LlvmLowering::vec_type(const ir::VReg& r) const {
  return llvm::FixedVectorType::get(f32_, static_cast<unsigned>(reg_array(r).lanes));
}

llvm::Value* LlvmLowering::reg_ptr(const ir::VReg& r) {
  const ir::RegArray& a = reg_array(r);
  llvm::Type* arr = llvm::ArrayType::get(vec_type(r), static_cast<std::uint64_t>(a.count));
  return b_.CreateInBoundsGEP(arr, regs_[static_cast<std::size_t>(r.array)],
                              {b_.getInt64(0), expr(r.index)});
}

bool LlvmLowering::same_expr(const ir::Expr& a, const ir::Expr& b) {
  if (a->op != b->op) return false;
  switch (a->op) {
    case ir::ExprOp::kConst: return a->value == b->value;
    case ir::ExprOp::kVar: return a->var == b->var;
    default: return same_expr(a->a, b->a) && same_expr(a->b, b->b);
  }
}

void LlvmLowering::linearize(const ir::Expr& e, std::int64_t scale, Linear& out) {
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
llvm::Value* LlvmLowering::address(const ir::Access& a) {
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
llvm::Value* LlvmLowering::lane_mask(const ir::Expr& valid, int lanes, bool* none) {
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

llvm::Value* LlvmLowering::lane_pointers(llvm::Value* base, std::int64_t stride, int lanes) {
  std::vector<llvm::Constant*> offsets;
  for (int i = 0; i < lanes; ++i)
    offsets.push_back(b_.getInt64(static_cast<std::uint64_t>(i * stride)));
  return b_.CreateGEP(f32_, base, llvm::ConstantVector::get(offsets));
}

void LlvmLowering::store_vector(llvm::Value* value, const ir::Store& s) {
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

LlvmLowering::Congruence LlvmLowering::congruence(const ir::Expr& e) {
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

void LlvmLowering::emit(const ir::Stmt& s) {
  if (!s) return;
  if (const auto* n = ir::as<ir::Block>(s)) {
    for (const ir::Stmt& c : n->stmts) emit(c);
    return;
  }
  if (const auto* n = ir::as<ir::For>(s); n != nullptr && n->tag == ir::tags::kTapInRange) {
    // A guard (zero or one iteration, docs/ir.md "Edge groups"): a branch, not a loop. As
    // loops, an edge group's guards cost LLVM's loop passes 0.2-0.8 s per compile.
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock* then = llvm::BasicBlock::Create(b_.getContext(), "tap_ok", fn);
    llvm::BasicBlock* done = llvm::BasicBlock::Create(b_.getContext(), "tap_ok.done", fn);
    b_.CreateCondBr(b_.CreateICmpSGT(expr(n->extent), b_.getInt64(0)), then, done);
    b_.SetInsertPoint(then);
    llvm::Value* saved = env_[n->var];
    env_[n->var] = expr(n->min);
    emit(n->body);
    env_[n->var] = saved;
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    return;
  }
  if (const auto* n = ir::as<ir::For>(s)) {
    llvm::Value* lo = expr(n->min);
    llvm::Value* end = b_.CreateNSWAdd(lo, expr(n->extent));
    const std::string name = block_name(n->tag, f_.vars.at(static_cast<std::size_t>(n->var)));
    const std::string& var = f_.vars.at(static_cast<std::size_t>(n->var));
    // Where channel blocks are innermost around the tiles (depthwise, or a swept direct
    // nest: a block loop inside a time region loop), each tap reloads its inputs.
    const bool region = ir::tags::is_time_region(n->tag);
    const bool blocks = ir::tags::is_channel_blocks(n->tag);
    const bool tap_barrier =
        (f_.weights.kind == ir::WeightLayout::Kind::kDepthwise || swept_blocks_ > 0) &&
        (var == "k" || var == "k_o");
    region_loops_ += region ? 1 : 0;
    swept_blocks_ += blocks && region_loops_ > 0 ? 1 : 0;
    const bool group_taps = n->tag == ir::tags::kTapsCheckedPerRow;
    edge_group_loops_ += group_taps ? 1 : 0;
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
        // (An edge group's taps stay a loop: unrolled, K taps of guarded rows cost LLVM up to
        // 0.8 s per compile, for cold code.)
        tap_barrier && n->min.is_const() && n->extent.is_const() && edge_group_loops_ == 0,
        edge_group_loops_ > 0);
    edge_group_loops_ -= group_taps ? 1 : 0;
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

void LlvmLowering::bind_lengths(llvm::Value* length) {
  env_.assign(f_.vars.size() + 1, nullptr);
  env_[ir::Func::kVarN] = b_.getInt64(1);
  env_[ir::Func::kVarL] = length;
}

/// The slot of variable `name`, or -1 when the IR does not have it.
int LlvmLowering::var_slot(const char* name) const {
  for (std::size_t v = 0; v < f_.vars.size(); ++v) {
    if (f_.vars[v] == name) return static_cast<int>(v);
  }
  return -1;
}

bool LlvmLowering::bound(const char* name) const {
  const int v = var_slot(name);
  return v >= 0 && env_[static_cast<std::size_t>(v)] != nullptr;
}

llvm::Value* LlvmLowering::named(const char* name) const {
  if (!bound(name)) lowering_bug("unbound range variable");
  return env_[static_cast<std::size_t>(var_slot(name))];
}

ir::BufferKind LlvmLowering::buffer_kind(int buffer) const {
  return f_.buffers.at(static_cast<std::size_t>(buffer)).kind;
}

std::unique_ptr<llvm::Module> lower_to_llvm(const ir::Func& f, llvm::LLVMContext& context,
                                            const LlvmLoweringOptions& options) {
  auto m = std::make_unique<llvm::Module>(options.prefix, context);
  LlvmLowering(f, context, *m, options).define_all();
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
