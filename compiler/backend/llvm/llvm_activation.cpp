// Activations in LLVM IR, following compiler/activation_math.cpp formula by formula (in
// double, rounded once to float), so the LLVM backend agrees with the reference as closely
// as the interpreter does.
#include "compiler/backend/llvm/llvm_activation.hpp"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "compiler/activation_description.hpp"
#include "compiler/backend/llvm/llvm_loop.hpp"

namespace convjit::detail {
namespace {

static_assert(kEluAlpha == 1.0 && kCeluAlpha == 1.0, "elu and celu have alpha 1 built in");

/// Double arithmetic on a scalar or a vector of doubles.
class Math {
 public:
  Math(llvm::IRBuilder<>& b, llvm::Module& m, llvm::Type* type) : b_(b), m_(m), type_(type) {}

  llvm::Value* c(double v) const { return llvm::ConstantFP::get(type_, v); }
  llvm::Value* add(llvm::Value* x, llvm::Value* y) { return b_.CreateFAdd(x, y); }
  llvm::Value* sub(llvm::Value* x, llvm::Value* y) { return b_.CreateFSub(x, y); }
  llvm::Value* mul(llvm::Value* x, llvm::Value* y) { return b_.CreateFMul(x, y); }
  llvm::Value* div(llvm::Value* x, llvm::Value* y) { return b_.CreateFDiv(x, y); }
  llvm::Value* neg(llvm::Value* x) { return b_.CreateFNeg(x); }
  llvm::Value* sel(llvm::Value* cond, llvm::Value* x, llvm::Value* y) {
    return b_.CreateSelect(cond, x, y);
  }
  llvm::Value* gt(llvm::Value* x, llvm::Value* y) { return b_.CreateFCmpOGT(x, y); }
  llvm::Value* ge(llvm::Value* x, llvm::Value* y) { return b_.CreateFCmpOGE(x, y); }
  llvm::Value* lt(llvm::Value* x, llvm::Value* y) { return b_.CreateFCmpOLT(x, y); }
  llvm::Value* le(llvm::Value* x, llvm::Value* y) { return b_.CreateFCmpOLE(x, y); }
  llvm::Value* fabs(llvm::Value* x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }
  llvm::Value* sqrt(llvm::Value* x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x); }
  llvm::Value* exp(llvm::Value* x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x); }
  llvm::Value* log(llvm::Value* x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::log, x); }
  llvm::Value* copysign(llvm::Value* x, llvm::Value* y) {
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, x, y);
  }
  llvm::Value* is_inf(llvm::Value* x) { return b_.CreateFCmpOEQ(fabs(x), c(INFINITY)); }
  llvm::Value* is_nan(llvm::Value* x) { return b_.CreateFCmpUNO(x, x); }
  /// std::max(x, y) = (x < y) ? y : x;  std::min(x, y) = (y < x) ? y : x.
  llvm::Value* max(llvm::Value* x, llvm::Value* y) { return sel(lt(x, y), y, x); }
  llvm::Value* min(llvm::Value* x, llvm::Value* y) { return sel(lt(y, x), y, x); }

  /// A double(double) libm function, lane by lane for vectors.
  llvm::Value* libm(const char* name, llvm::Value* x) {
    llvm::Type* d = b_.getDoubleTy();
    llvm::FunctionCallee f = m_.getOrInsertFunction(name, llvm::FunctionType::get(d, {d}, false));
    if (auto* fn = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
      fn->setDoesNotThrow();
      fn->setDoesNotAccessMemory();  // as with -fno-math-errno
      fn->setWillReturn();
    }
    auto* vec = llvm::dyn_cast<llvm::FixedVectorType>(type_);
    if (vec == nullptr) return b_.CreateCall(f, {x});
    llvm::Value* out = llvm::UndefValue::get(type_);
    for (unsigned i = 0; i < vec->getNumElements(); ++i) {
      llvm::Value* lane = b_.CreateCall(f, {b_.CreateExtractElement(x, i)});
      out = b_.CreateInsertElement(out, lane, i);
    }
    return out;
  }

  llvm::Value* sigmoid(llvm::Value* x) {
    llvm::Value* e = exp(neg(fabs(x)));  // exp(-x) for x >= 0, exp(x) below
    llvm::Value* one_plus = add(c(1.0), e);
    return sel(ge(x, c(0.0)), div(c(1.0), one_plus), div(e, one_plus));
  }
  llvm::Value* softplus(llvm::Value* x) {
    return add(max(x, c(0.0)), libm("log1p", exp(neg(fabs(x)))));
  }
  llvm::Value* relu6(llvm::Value* x) { return min(max(x, c(0.0)), c(kRelu6Cap)); }
  llvm::Value* neg_inf(llvm::Value* x) { return b_.CreateAnd(is_inf(x), lt(x, c(0.0))); }

 private:
  llvm::IRBuilder<>& b_;
  llvm::Module& m_;
  llvm::Type* type_;
};

llvm::Value* activation_in_double(Math& m, Activation act, llvm::Value* x) {
  switch (act) {
    case Activation::kLinear: return x;
    case Activation::kRelu: return m.sel(m.gt(x, m.c(0.0)), x, m.c(0.0));
    case Activation::kRelu6: return m.relu6(x);
    case Activation::kLeakyRelu: return m.sel(m.ge(x, m.c(0.0)), x, m.mul(m.c(kLeakyReluSlope), x));
    case Activation::kElu: return m.sel(m.gt(x, m.c(0.0)), x, m.libm("expm1", x));
    case Activation::kSelu:
      return m.mul(m.c(kSeluScale),
                   m.sel(m.ge(x, m.c(0.0)), x, m.mul(m.c(kSeluAlpha), m.libm("expm1", x))));
    case Activation::kCelu: return m.sel(m.ge(x, m.c(0.0)), x, m.libm("expm1", x));
    case Activation::kGelu: {
      llvm::Value* erf = m.libm("erf", m.div(x, m.c(std::sqrt(2.0))));
      llvm::Value* g = m.mul(m.mul(m.c(0.5), x), m.add(m.c(1.0), erf));
      return m.sel(m.is_inf(x), m.sel(m.lt(x, m.c(0.0)), m.c(0.0), x), g);
    }
    case Activation::kSigmoid: return m.sigmoid(x);
    case Activation::kHardSigmoid:
      return m.div(m.relu6(m.add(x, m.c(kHardSigmoidOffset))), m.c(kHardSigmoidDivisor));
    case Activation::kHardSilu:
      return m.sel(
          m.neg_inf(x), m.c(0.0),
          m.div(m.mul(x, m.relu6(m.add(x, m.c(kHardSigmoidOffset)))), m.c(kHardSigmoidDivisor)));
    case Activation::kSilu: return m.sel(m.neg_inf(x), m.c(0.0), m.mul(x, m.sigmoid(x)));
    case Activation::kMish:
      return m.sel(m.neg_inf(x), m.c(0.0), m.mul(x, m.libm("tanh", m.softplus(x))));
    case Activation::kTanh: return m.libm("tanh", x);
    case Activation::kHardTanh: return m.min(m.max(x, m.c(-1.0)), m.c(1.0));
    case Activation::kTanhShrink: return m.sub(x, m.libm("tanh", x));
    case Activation::kSoftplus: return m.softplus(x);
    case Activation::kSoftsign:
      return m.sel(m.is_inf(x), m.copysign(m.c(1.0), x), m.div(x, m.add(m.c(1.0), m.fabs(x))));
    case Activation::kSquareplus: {
      llvm::Value* r = m.sqrt(m.add(m.mul(x, x), m.c(kSquareplusB)));
      llvm::Value* neg_side =
          m.sel(m.is_inf(x), m.c(0.0), m.div(m.c(0.5 * kSquareplusB), m.sub(r, x)));
      return m.sel(m.ge(x, m.c(0.0)), m.mul(m.c(0.5), m.add(x, r)), neg_side);
    }
    case Activation::kSparsePlus: {
      llvm::Value* x1 = m.add(x, m.c(1.0));
      llvm::Value* mid = m.mul(m.mul(m.c(0.25), x1), x1);
      return m.sel(m.le(x, m.c(-1.0)), m.c(0.0), m.sel(m.ge(x, m.c(1.0)), x, mid));
    }
    case Activation::kSparseSigmoid: {
      llvm::Value* mid = m.mul(m.c(0.5), m.add(x, m.c(1.0)));
      return m.sel(m.le(x, m.c(-1.0)), m.c(0.0), m.sel(m.ge(x, m.c(1.0)), m.c(1.0), mid));
    }
    case Activation::kExponential: return m.exp(x);
    case Activation::kLogSigmoid: return m.neg(m.softplus(m.neg(x)));
    case Activation::kHardShrink: return m.sel(m.gt(m.fabs(x), m.c(kShrinkThreshold)), x, m.c(0.0));
    case Activation::kSoftShrink:
      return m.sel(
          m.gt(x, m.c(kShrinkThreshold)), m.sub(x, m.c(kShrinkThreshold)),
          m.sel(m.lt(x, m.c(-kShrinkThreshold)), m.add(x, m.c(kShrinkThreshold)), m.c(0.0)));
    case Activation::kSoftmax:
    case Activation::kLogSoftmax:
    case Activation::kSparsemax:
    case Activation::kGlu: break;
  }
  std::abort();  // axis activations have no element-wise form: a caller bug
}

/// Pointer to element `i * stride` of a float row.
llvm::Value* element(llvm::IRBuilder<>& b, llvm::Value* base, llvm::Value* i, llvm::Value* stride) {
  return b.CreateInBoundsGEP(b.getFloatTy(), base, b.CreateNSWMul(i, stride));
}

llvm::Value* load_double(llvm::IRBuilder<>& b, llvm::Value* base, llvm::Value* i,
                         llvm::Value* stride) {
  return b.CreateFPExt(b.CreateLoad(b.getFloatTy(), element(b, base, i, stride)), b.getDoubleTy());
}

void store_float(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* base, llvm::Value* i,
                 llvm::Value* stride) {
  b.CreateStore(b.CreateFPTrunc(value, b.getFloatTy()), element(b, base, i, stride));
}

void define_softmax(llvm::IRBuilder<>& b, Math& m, llvm::Function* fn, bool log_softmax) {
  llvm::Value* src = fn->getArg(0);
  llvm::Value* ss = fn->getArg(1);
  llvm::Value* count = fn->getArg(2);
  llvm::Value* dst = fn->getArg(3);
  llvm::Value* ds = fn->getArg(4);
  llvm::Type* d = b.getDoubleTy();
  llvm::Value* max_slot = b.CreateAlloca(d, nullptr, "max");
  llvm::Value* sum_slot = b.CreateAlloca(d, nullptr, "sum");
  b.CreateStore(m.c(-INFINITY), max_slot);
  b.CreateStore(m.c(0.0), sum_slot);
  emit_loop(b, b.getInt64(0), count, "axis_max", [&](llvm::Value* i) {
    llvm::Value* v = load_double(b, src, i, ss);
    b.CreateStore(m.max(b.CreateLoad(d, max_slot), v), max_slot);
  });
  // x - max(x) as Keras computes it: a NaN or +Inf in the axis, or an axis of only -Inf,
  // makes the whole axis NaN (as the reference, compiler/activation_math.cpp).
  llvm::Value* max = b.CreateLoad(d, max_slot);
  emit_loop(b, b.getInt64(0), count, "axis_sum", [&](llvm::Value* i) {
    llvm::Value* e = m.exp(m.sub(load_double(b, src, i, ss), max));
    b.CreateStore(m.add(b.CreateLoad(d, sum_slot), e), sum_slot);
  });
  llvm::Value* sum = b.CreateLoad(d, sum_slot);
  llvm::Value* log_sum = log_softmax ? m.log(sum) : nullptr;
  emit_loop(b, b.getInt64(0), count, "axis_out", [&](llvm::Value* i) {
    llvm::Value* v = load_double(b, src, i, ss);
    llvm::Value* out =
        log_softmax ? m.sub(m.sub(v, max), log_sum) : m.div(m.exp(m.sub(v, max)), sum);
    store_float(b, out, dst, i, ds);
  });
}

/// Sparsemax without sorting: element i is in the support when 1 + k_i z_i > S_i, where
/// k_i and S_i count and sum the elements >= z_i; k is the largest such k_i (the sorted
/// algorithm's k: its test is constant within a run of equal values). A NaN or +Inf in the
/// axis, or an axis of only -Inf, makes tau and so the whole axis NaN (as the reference).
void define_sparsemax(llvm::IRBuilder<>& b, Math& m, llvm::Function* fn) {
  llvm::Value* src = fn->getArg(0);
  llvm::Value* ss = fn->getArg(1);
  llvm::Value* count = fn->getArg(2);
  llvm::Value* dst = fn->getArg(3);
  llvm::Value* ds = fn->getArg(4);
  llvm::Type* d = b.getDoubleTy();
  llvm::Type* i64 = b.getInt64Ty();
  llvm::Value* best_k = b.CreateAlloca(i64, nullptr, "best_k");
  llvm::Value* best_s = b.CreateAlloca(d, nullptr, "best_s");
  llvm::Value* k_slot = b.CreateAlloca(i64, nullptr, "k");
  llvm::Value* s_slot = b.CreateAlloca(d, nullptr, "s");
  llvm::Value* poison_slot = b.CreateAlloca(b.getInt1Ty(), nullptr, "nan_or_inf");
  llvm::Value* defined_slot = b.CreateAlloca(b.getInt1Ty(), nullptr, "above_neg_inf");
  b.CreateStore(b.getInt64(0), best_k);
  b.CreateStore(m.c(0.0), best_s);
  b.CreateStore(b.getFalse(), poison_slot);
  b.CreateStore(b.getFalse(), defined_slot);
  emit_loop(b, b.getInt64(0), count, "special", [&](llvm::Value* i) {
    llvm::Value* z = load_double(b, src, i, ss);
    llvm::Value* bad = b.CreateOr(m.is_nan(z), b.CreateFCmpOEQ(z, m.c(INFINITY)));
    b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt1Ty(), poison_slot), bad), poison_slot);
    b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt1Ty(), defined_slot), m.gt(z, m.c(-INFINITY))),
                  defined_slot);
  });
  emit_loop(b, b.getInt64(0), count, "support", [&](llvm::Value* i) {
    llvm::Value* zi = load_double(b, src, i, ss);
    b.CreateStore(b.getInt64(0), k_slot);
    b.CreateStore(m.c(0.0), s_slot);
    emit_loop(b, b.getInt64(0), count, "support_count", [&](llvm::Value* j) {
      llvm::Value* zj = load_double(b, src, j, ss);
      llvm::Value* in = m.ge(zj, zi);
      llvm::Value* k = b.CreateLoad(i64, k_slot);
      llvm::Value* s = b.CreateLoad(d, s_slot);
      b.CreateStore(b.CreateSelect(in, b.CreateAdd(k, b.getInt64(1)), k), k_slot);
      b.CreateStore(m.sel(in, m.add(s, zj), s), s_slot);
    });
    llvm::Value* k = b.CreateLoad(i64, k_slot);
    llvm::Value* s = b.CreateLoad(d, s_slot);
    llvm::Value* kd = b.CreateSIToFP(k, d);
    llvm::Value* support = m.gt(m.add(m.c(1.0), m.mul(kd, zi)), s);
    llvm::Value* better = b.CreateAnd(support, b.CreateICmpSGT(k, b.CreateLoad(i64, best_k)));
    b.CreateStore(b.CreateSelect(better, k, b.CreateLoad(i64, best_k)), best_k);
    b.CreateStore(m.sel(better, s, b.CreateLoad(d, best_s)), best_s);
  });
  llvm::Value* k = b.CreateLoad(i64, best_k);
  llvm::Value* k1 = b.CreateSelect(b.CreateICmpSGT(k, b.getInt64(1)), k, b.getInt64(1));
  llvm::Value* tau0 = m.div(m.sub(b.CreateLoad(d, best_s), m.c(1.0)), b.CreateSIToFP(k1, d));
  llvm::Value* undefined = b.CreateOr(b.CreateLoad(b.getInt1Ty(), poison_slot),
                                      b.CreateNot(b.CreateLoad(b.getInt1Ty(), defined_slot)));
  llvm::Value* tau = m.sel(undefined, m.c(NAN), tau0);  // max(x - NaN, 0) is NaN
  emit_loop(b, b.getInt64(0), count, "sparsemax_out", [&](llvm::Value* i) {
    llvm::Value* v = load_double(b, src, i, ss);
    store_float(b, m.max(m.sub(v, tau), m.c(0.0)), dst, i, ds);
  });
}

void define_glu(llvm::IRBuilder<>& b, Math& m, llvm::Function* fn) {
  llvm::Value* src = fn->getArg(0);
  llvm::Value* ss = fn->getArg(1);
  llvm::Value* count = fn->getArg(2);
  llvm::Value* dst = fn->getArg(3);
  llvm::Value* ds = fn->getArg(4);
  llvm::Value* half = b.CreateSDiv(count, b.getInt64(2));
  emit_loop(b, b.getInt64(0), half, "glu", [&](llvm::Value* i) {
    llvm::Value* a = load_double(b, src, i, ss);
    llvm::Value* g = load_double(b, src, b.CreateNSWAdd(i, half), ss);
    store_float(b, m.mul(a, m.sigmoid(g)), dst, i, ds);
  });
}

}  // namespace

llvm::Value* emit_activation(llvm::IRBuilder<>& b, llvm::Module& m, Activation act,
                             llvm::Value* x) {
  if (act == Activation::kLinear) return x;
  auto* vec = llvm::cast<llvm::FixedVectorType>(x->getType());
  llvm::Type* dvec = llvm::FixedVectorType::get(b.getDoubleTy(), vec->getNumElements());
  Math math(b, m, dvec);
  llvm::Value* xd = b.CreateFPExt(x, dvec);
  llvm::Value* r = activation_in_double(math, act, xd);
  return b.CreateFPTrunc(math.sel(math.is_nan(xd), xd, r), vec);
}

llvm::Function* axis_activation_function(llvm::Module& m, Activation act) {
  const std::string name = std::string("convjit_axis_") + activation_name(act);
  if (llvm::Function* existing = m.getFunction(name)) return existing;
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type* ptr = llvm::PointerType::getUnqual(ctx);
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
  auto* type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, i64, i64, ptr, i64}, false);
  llvm::Function* fn = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, m);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  Math math(b, m, b.getDoubleTy());
  switch (act) {
    case Activation::kSoftmax: define_softmax(b, math, fn, false); break;
    case Activation::kLogSoftmax: define_softmax(b, math, fn, true); break;
    case Activation::kSparsemax: define_sparsemax(b, math, fn); break;
    case Activation::kGlu: define_glu(b, math, fn); break;
    default: std::abort();  // element-wise activations use emit_activation: a caller bug
  }
  b.CreateRetVoid();
  return fn;
}

}  // namespace convjit::detail
