// The ABI wrappers of lower_to_llvm (see llvm_lowering.hpp): the per-sample body, the
// samples/run/entry functions around it, the scratch and output sizes, and the run-time
// streaming-store check.
#include "compiler/backend/llvm/llvm_activation.hpp"
#include "compiler/backend/llvm/llvm_loop.hpp"
#include "compiler/backend/llvm/llvm_lowering.hpp"
#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/interpreter.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/sweep_channels.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {

void LlvmLowering::define_all() {
  llvm::Function* body = define_body();
  llvm::Function* samples = define_samples(body);
  define_run(samples);
  define_entry(samples);
  define_scratch_floats();
  define_output_floats();
  if (o_.pack_weights) define_pack_weights();
}

/// body(input, weights, bias, output, scratch, L, t_begin, t_end, oc_begin, oc_end): one
/// sample (N = 1), the outputs of the call's ranges (IR without them: every output).
llvm::Function* LlvmLowering::define_body() {
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
    regs_.push_back(b_.CreateAlloca(llvm::ArrayType::get(vec, static_cast<std::uint64_t>(r.count)),
                                    nullptr, r.name));
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
llvm::Value* LlvmLowering::streaming_allowed() {
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
    llvm::Value* ahead = b_.CreateAnd(
        b_.CreateAdd(base, b_.getInt64(static_cast<std::uint64_t>(shift))), b_.getInt64(kPage - 1));
    // 0 < ahead <= window, as one unsigned compare: ahead - 1 < window.
    ahead_hazard = b_.CreateOr(ahead_hazard,
                               b_.CreateICmpULT(b_.CreateSub(ahead, b_.getInt64(1)),
                                                b_.getInt64(static_cast<std::uint64_t>(window))));
    behind_hazard = b_.CreateOr(
        behind_hazard,
        b_.CreateICmpUGE(ahead, b_.getInt64(static_cast<std::uint64_t>(kPage - window))));
  }
  llvm::Value* line_aligned = b_.CreateICmpEQ(
      b_.CreateAnd(out_base, b_.getInt64(KernelPlan::kStreamAlignment - 1)), b_.getInt64(0));
  llvm::Value* order_ok = b_.CreateNot(ahead_hazard);
  if (down_var >= 0) {
    llvm::Value* down = b_.CreateAnd(ahead_hazard, b_.CreateNot(behind_hazard));
    order_ok = b_.CreateOr(order_ok, down);
    env_[static_cast<std::size_t>(down_var)] =
        b_.CreateZExt(b_.CreateAnd(line_aligned, down), i64_, kSweepDownVar);
  }
  return b_.CreateAnd(line_aligned, order_ok, "streaming_safe");
}

llvm::Value* LlvmLowering::rounded_size(const ir::BufferDecl& buf) {
  llvm::Value* size = expr(buf.size);
  llvm::Value* up = b_.CreateNSWAdd(size, b_.getInt64(kScratchAlign - 1));
  return b_.CreateMul(b_.CreateSDiv(up, b_.getInt64(kScratchAlign)), b_.getInt64(kScratchAlign));
}

const ir::BufferDecl& LlvmLowering::buffer_of(ir::BufferKind kind) const {
  for (const ir::BufferDecl& buf : f_.buffers) {
    if (buf.kind == kind) return buf;
  }
  lowering_bug("missing input or output buffer");
}

bool LlvmLowering::has_bias() const {
  for (const ir::BufferDecl& buf : f_.buffers) {
    if (buf.kind == ir::BufferKind::kBias) return true;
  }
  return false;
}

/// samples(input, weights, bias, output, scratch, n_begin, n_end, L, t_begin, t_end,
/// oc_begin, oc_end): the outputs [n_begin, n_end) x [t_begin, t_end) x [oc_begin, oc_end).
llvm::Function* LlvmLowering::define_samples(llvm::Function* body) {
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
    b_.CreateCall(body, {in, fn->getArg(1), bias, out, fn->getArg(4), fn->getArg(7), fn->getArg(8),
                         fn->getArg(9), fn->getArg(10), fn->getArg(11)});
  });
  // Streaming stores are weakly ordered: visible before the call returns (as Xbyak does).
  if (streamed_) b_.CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});
  b_.CreateRetVoid();
  return fn;
}

/// run(input, weights, bias, output, scratch, n_begin, n_end, L): whole samples.
void LlvmLowering::define_run(llvm::Function* samples) {
  auto* type = llvm::FunctionType::get(b_.getVoidTy(),
                                       {ptr_, ptr_, ptr_, ptr_, ptr_, i64_, i64_, i64_}, false);
  llvm::Function* fn =
      llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("run"), m_);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  llvm::Value* whole = b_.getInt64(static_cast<std::uint64_t>(kWholeRange));
  b_.CreateCall(samples, {fn->getArg(0), fn->getArg(1), fn->getArg(2), fn->getArg(3), fn->getArg(4),
                          fn->getArg(5), fn->getArg(6), fn->getArg(7), b_.getInt64(0), whole,
                          b_.getInt64(0), whole});
  b_.CreateRetVoid();
}

/// entry(const KernelArgs*): the GeneratedKernel calling convention.
void LlvmLowering::define_entry(llvm::Function* samples) {
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

void LlvmLowering::define_scratch_floats() {
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
void LlvmLowering::define_output_floats() {
  auto* type = llvm::FunctionType::get(i64_, {i64_, i64_}, false);
  llvm::Function* fn =
      llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("output_floats"), m_);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  bind_lengths(fn->getArg(1));
  env_[ir::Func::kVarN] = fn->getArg(0);
  b_.CreateRet(expr(buffer_of(ir::BufferKind::kOutput).size));
}

}  // namespace convjit::detail
