// ActivationEmitter — Keras activations as AVX2 / AVX-512 code (see docs/jit-activations.md).
//
// Every activation is written once, as a sequence of calls on Codegen<Vmm>, whose
// primitives pick the instruction form for ymm (VEX only: AVX2 + FMA) or zmm (EVEX,
// AVX-512F, k5 as the only mask register). Constants are read RIP-relative from the table
// emit_constants() places after the code: 32-byte vectors on AVX2, 4-byte scalars used with
// embedded broadcast ({1to16}) on AVX-512.
//
// NaN: every sequence returns NaN for a NaN input, as convjit::detail::activate() does. The
// x86 min/max return their *second* source when either is NaN, so a clamp that must keep a
// NaN puts the constant in a register as the first source and x second; a clamp whose NaN
// is carried to the result by another path uses the shorter memory form.
#include "compiler/backend/xbyak/activation_emitter.hpp"

#include <cstring>
#include <type_traits>

#include "compiler/activation_description.hpp"
#include "compiler/backend/xbyak/jit_check.hpp"
#include "compiler/target/target.hpp"

namespace convjit::detail {
namespace {

// vcmpps predicates (the _CMP_* values of immintrin.h).
constexpr std::uint8_t kCmpLtOq = 0x11;   // a < b, false on NaN
constexpr std::uint8_t kCmpNltUq = 0x15;  // !(a < b), true on NaN
constexpr std::uint8_t kCmpNleUq = 0x16;  // !(a <= b), true on NaN

constexpr int kMaskReg = 5;  // k5: the only mask register the AVX-512 sequences use

constexpr std::uint32_t kAbsMask = 0x7fffffffu;
constexpr std::uint32_t kSignMask = 0x80000000u;

// Keras parameters in float, as the vector code uses them (activation_description.hpp).
constexpr float kLeakyReluSlopeF = static_cast<float>(kLeakyReluSlope);
constexpr float kRelu6CapF = static_cast<float>(kRelu6Cap);
constexpr float kHardSigmoidOffsetF = static_cast<float>(kHardSigmoidOffset);
constexpr float kHardSigmoidScaleF = 1.0f / static_cast<float>(kHardSigmoidDivisor);
constexpr float kSeluScaleF = static_cast<float>(kSeluScale);
constexpr float kSeluScaleAlphaF = static_cast<float>(kSeluScale * kSeluAlpha);
constexpr float kShrinkThresholdF = static_cast<float>(kShrinkThreshold);
constexpr float kSquareplusBF = static_cast<float>(kSquareplusB);
static_assert(kEluAlpha == 1.0 && kCeluAlpha == 1.0, "elu() has alpha 1 built in");

std::uint32_t float_bits(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Codegen<Vmm>: instruction primitives for one ISA, the math building blocks, and the
// activations. Every instruction goes through rec(), which checks its operands (ymm0-15 and
// plain memory only on AVX2; zmm, k and broadcast memory on AVX-512) and traces it.
// ---------------------------------------------------------------------------------------
template <class Vmm>
class ActivationEmitter::Codegen {
 public:
  static constexpr bool kZmm = std::is_same_v<Vmm, Xbyak::Zmm>;
  static_assert(kZmm || std::is_same_v<Vmm, Xbyak::Ymm>, "Vmm is Ymm (AVX2) or Zmm (AVX-512)");

  Codegen(ActivationEmitter& e, int value, const std::vector<int>& temps)
      : e_(e),
        g_(e.gen_),
        v_(value),
        temps_(temps),
        temps_allowed_(activation_vector_temps(e.act_)) {}

  void run();

 private:
  using Op = Xbyak::Operand;
  using Addr = Xbyak::Address;

  Vmm tmp(int i) const {
    CONVJIT_JIT_CHECK(i < temps_allowed_);
    return Vmm(temps_[static_cast<std::size_t>(i)]);
  }

  // --- constants ---
  std::size_t constant_offset(std::uint32_t bits) {
    std::size_t index = 0;
    while (index < e_.constants_.size() && e_.constants_[index] != bits) ++index;
    if (index == e_.constants_.size()) e_.constants_.push_back(bits);
    return index * (kZmm ? 4 : 32);
  }
  /// A constant as the memory operand of a vector instruction ({1to16} on AVX-512).
  Addr cb(std::uint32_t bits) {
    const auto off = static_cast<int>(constant_offset(bits));
    return kZmm ? g_.ptr_b[g_.rip + e_.table_ + off] : g_.ptr[g_.rip + e_.table_ + off];
  }
  Addr c(float f) { return cb(float_bits(f)); }

  // --- trace ---
  void note(const Op& op) {
    if (op.isMEM()) {
      CONVJIT_JIT_CHECK(kZmm || !static_cast<const Addr&>(op).isBroadcast());
      return;
    }
    if (op.isOPMASK()) {
      CONVJIT_JIT_CHECK(kZmm && op.getIdx() == kMaskReg);
      e_.mask_regs_used_ |= 1u << op.getIdx();
      return;
    }
    CONVJIT_JIT_CHECK(kZmm ? op.isZMM() : (op.isYMM() && op.getIdx() < 16));
    e_.vector_regs_used_ |= 1u << op.getIdx();
    if (op.getOpmaskIdx() != 0) {
      CONVJIT_JIT_CHECK(kZmm && op.getOpmaskIdx() == kMaskReg);
      e_.mask_regs_used_ |= 1u << op.getOpmaskIdx();
    }
  }
  template <class... Ops>
  void rec(const Ops&... ops) {
    e_.instruction_starts_.push_back(g_.getSize());
    (note(ops), ...);
  }

  // --- instruction primitives (d = destination) ---
  void load(const Vmm& d, float f) {
    const auto off = static_cast<int>(constant_offset(float_bits(f)));
    const Addr a = g_.ptr[g_.rip + e_.table_ + off];  // vbroadcastss takes a plain m32
    rec(d, a);
    if constexpr (kZmm) {
      g_.vbroadcastss(d, a);
    } else {
      g_.vmovaps(d, a);
    }
  }
  void zero(const Vmm& d) {
    rec(d);
    if constexpr (kZmm) {
      g_.vpxord(d, d, d);
    } else {
      g_.vxorps(d, d, d);
    }
  }
  void add(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vaddps(d, a, b);
  }
  void sub(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vsubps(d, a, b);
  }
  void mul(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vmulps(d, a, b);
  }
  void div(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vdivps(d, a, b);
  }
  /// a < b ? a : b — b is returned when either is NaN.
  void min(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vminps(d, a, b);
  }
  /// a > b ? a : b — b is returned when either is NaN.
  void max(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vmaxps(d, a, b);
  }
  void sqrt(const Vmm& d, const Vmm& a) {
    rec(d, a);
    g_.vsqrtps(d, a);
  }
  /// d = d·a + b
  void fmadd213(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vfmadd213ps(d, a, b);
  }
  /// d = a·b + d
  void fmadd231(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vfmadd231ps(d, a, b);
  }
  /// d = d - a·b
  void fnmadd231(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vfnmadd231ps(d, a, b);
  }
  void band(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    if constexpr (kZmm) {
      g_.vpandd(d, a, b);
    } else {
      g_.vandps(d, a, b);
    }
  }
  void bor(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    if constexpr (kZmm) {
      g_.vpord(d, a, b);
    } else {
      g_.vorps(d, a, b);
    }
  }
  void bxor(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    if constexpr (kZmm) {
      g_.vpxord(d, a, b);
    } else {
      g_.vxorps(d, a, b);
    }
  }
  void round_nearest(const Vmm& d, const Vmm& a) {
    rec(d, a);
    if constexpr (kZmm) {
      g_.vrndscaleps(d, a, 0);  // scale 2^0, round to nearest even
    } else {
      g_.vroundps(d, a, 0);  // round to nearest even (not MXCSR)
    }
  }
  void cvt_to_int(const Vmm& d, const Vmm& a) {
    rec(d, a);
    g_.vcvtps2dq(d, a);
  }
  void add_int(const Vmm& d, const Vmm& a, const Op& b) {
    rec(d, a, b);
    g_.vpaddd(d, a, b);
  }
  void shift_left_int(const Vmm& d, const Vmm& a, int bits) {
    rec(d, a);
    g_.vpslld(d, a, static_cast<std::uint8_t>(bits));
  }
  /// d = (a PRED b) ? if_true : if_false. AVX2 writes the mask to `scratch` (may alias a).
  void select(const Vmm& d, const Vmm& a, const Op& b, std::uint8_t pred, const Vmm& if_false,
              const Vmm& if_true, const Vmm& scratch) {
    if constexpr (kZmm) {
      const Xbyak::Opmask k(kMaskReg);
      rec(k, a, b);
      g_.vcmpps(k, a, b, pred);
      rec(d | k, if_false, if_true);
      g_.vblendmps(d | k, if_false, if_true);
    } else {
      rec(scratch, a, b);
      g_.vcmpps(scratch, a, b, pred);
      rec(d, if_false, if_true, scratch);
      g_.vblendvps(d, if_false, if_true, scratch);
    }
  }
  /// d = (a PRED b) ? d : 0. AVX2 writes the mask to `scratch` (may alias a).
  void keep_if(const Vmm& d, const Vmm& a, const Op& b, std::uint8_t pred, const Vmm& scratch) {
    if constexpr (kZmm) {
      const Xbyak::Opmask k(kMaskReg);
      rec(k, a, b);
      g_.vcmpps(k, a, b, pred);
      rec(d | k, d);
      g_.vmovaps(d | k | g_.T_z, d);
    } else {
      rec(scratch, a, b);
      g_.vcmpps(scratch, a, b, pred);
      rec(d, d, scratch);
      g_.vandps(d, d, scratch);
    }
  }
  /// d = clamp of x to >= lo keeping NaN (lo goes through register `t`; x may alias d).
  void max_keep_nan(const Vmm& d, const Vmm& x, float lo, const Vmm& t) {
    load(t, lo);
    max(d, t, x);
  }
  void min_keep_nan(const Vmm& d, const Vmm& x, float hi, const Vmm& t) {
    load(t, hi);
    min(d, t, x);
  }
  /// d = P(x) by Horner, coefficients from the highest power down (d must not alias x).
  template <std::size_t N>
  void horner(const Vmm& d, const Vmm& x, const float (&coef)[N]) {
    load(d, coef[0]);
    for (std::size_t i = 1; i < N; ++i) fmadd213(d, x, c(coef[i]));
  }

  // --- building blocks (registers distinct unless said otherwise) ---

  /// d = exp(s); s may alias d (else s is kept). Clobbers ta, tb.
  void exp(const Vmm& d, const Vmm& s, const Vmm& ta, const Vmm& tb) {
    min_keep_nan(d, s, kExpHi, ta);
    max_keep_nan(d, d, kExpLo, ta);
    mul(ta, d, c(kLog2e));
    round_nearest(ta, ta);  // n
    fnmadd231(d, ta, c(kLn2Hi));
    fnmadd231(d, ta, c(kLn2Lo));  // r = x - n·ln2, |r| <= ln2/2
    horner(tb, d, kExpP);
    fmadd213(tb, d, c(1.0f));
    fmadd213(tb, d, c(1.0f));  // tb = exp(r)
    cvt_to_int(ta, ta);
    add_int(ta, ta, cb(126));
    shift_left_int(ta, ta, 23);  // 2^(n-1)
    mul(d, tb, ta);
    add(d, d, d);
  }

  /// d = expm1(s) for s <= 0 (or NaN); s may alias d. Clobbers ta, tb. Accurate near 0:
  /// expm1(x) = (2^n - 1) + 2^n·q with q = exp(r) - 1 computed without the 1.
  void expm1_nonpositive(const Vmm& d, const Vmm& s, const Vmm& ta, const Vmm& tb) {
    max_keep_nan(d, s, kExpLo, ta);
    mul(ta, d, c(kLog2e));
    round_nearest(ta, ta);
    fnmadd231(d, ta, c(kLn2Hi));
    fnmadd231(d, ta, c(kLn2Lo));  // r
    horner(tb, d, kExpP);
    fmadd213(tb, d, c(1.0f));
    mul(tb, tb, d);  // q = r + r²·P(r)
    cvt_to_int(ta, ta);
    add_int(ta, ta, cb(127));
    shift_left_int(ta, ta, 23);  // 2^n, n in [-126, 0]
    sub(d, ta, c(1.0f));
    fmadd231(d, ta, tb);
  }

  /// d = log1p(d) for d in [0, 1] (or NaN). Clobbers ta, tb.
  void log1p_unit(const Vmm& d, const Vmm& ta, const Vmm& tb) {
    add(ta, d, c(2.0f));
    div(d, d, ta);  // s = y/(2 + y)
    mul(ta, d, d);  // w = s²
    horner(tb, ta, kAtanhP);
    mul(tb, tb, ta);  // w·P(w)
    add(d, d, d);     // 2s
    fmadd231(d, d, tb);
  }

  /// tanh(x) (or x - tanh(x) when `shrink`) of x = vreg, in place. Clobbers t0..t3.
  void tanh(bool shrink) {
    const Vmm x(v_), t0 = tmp(0), t1 = tmp(1), t2 = tmp(2), t3 = tmp(3);
    band(t0, x, cb(kAbsMask));  // |x|
    // |x| >= 0.625: 1 - 2/(exp(2|x|) + 1) with the sign of x; tanh_shrink:
    // (|x| - 1) + 2/(exp(2|x|) + 1) with the sign of x (|x| - 1 is exact there).
    add(t1, t0, t0);
    exp(t1, t1, t2, t3);
    add(t1, t1, c(1.0f));
    load(t2, shrink ? 2.0f : -2.0f);
    div(t1, t2, t1);
    if (shrink) {
      sub(t2, t0, c(1.0f));
      add(t1, t1, t2);
    } else {
      add(t1, t1, c(1.0f));
    }
    bxor(t2, x, t0);  // sign bit of x
    bor(t1, t1, t2);
    // |x| < 0.625: x + x·x²·P(x²) (tanh_shrink: -x·x²·P(x²), without the cancellation).
    mul(t2, x, x);
    horner(t3, t2, kTanhP);
    mul(t3, t3, t2);
    if (shrink) {
      mul(t3, t3, x);
      bxor(t3, t3, cb(kSignMask));
    } else {
      fmadd213(t3, x, x);
    }
    select(x, t0, c(kTanhSmall), kCmpLtOq, t1, t3, t0);
  }

  /// elu / celu (scale 1) and selu: scale·max(x,0) + scale·alpha·expm1(min(x,0)).
  void elu(bool selu) {
    const Vmm x(v_), t0 = tmp(0), t1 = tmp(1), t2 = tmp(2);
    zero(t0);
    min(t1, t0, x);
    max(x, t0, x);
    expm1_nonpositive(t1, t1, t0, t2);
    if (selu) {
      mul(x, x, c(kSeluScaleF));
      fmadd231(x, t1, c(kSeluScaleAlphaF));
    } else {
      add(x, x, t1);
    }
  }

  /// gelu(x) = max(x,0) - |x|/2·erfc(|x|/√2).
  void gelu() {
    const Vmm x(v_), t0 = tmp(0), t1 = tmp(1), t2 = tmp(2), t3 = tmp(3), t4 = tmp(4);
    band(t0, x, cb(kAbsMask));
    min(t0, t0, c(kGeluClamp));  // a NaN x reaches the result through max(x, 0)
    mul(t1, t0, c(kHalfRsqrt2));
    add(t1, t1, c(1.0f));
    load(t2, 1.0f);
    div(t1, t2, t1);  // t = 1/(1 + z/2)
    horner(t2, t1, kErfcQ);
    mul(t3, t0, t0);
    fnmadd231(t2, t3, c(0.5f));  // Q(t) - z², z² = x²/2
    exp(t2, t2, t3, t4);
    mul(t1, t1, t2);  // erfc(z)
    mul(t1, t1, t0);
    zero(t3);
    max(x, t3, x);
    fnmadd231(x, t1, c(0.5f));
  }

  /// max(x,0) + log1p(exp(-|x|)), or for log_sigmoid min(x,0) - log1p(exp(-|x|)).
  void softplus(bool log_sigmoid) {
    const Vmm x(v_), t0 = tmp(0), t1 = tmp(1), t2 = tmp(2);
    bor(t0, x, cb(kSignMask));  // -|x|
    exp(t0, t0, t1, t2);
    log1p_unit(t0, t1, t2);  // NaN flows through here, so the max/min may drop it
    if (log_sigmoid) {
      min(x, x, c(0.0f));
      sub(x, x, t0);
    } else {
      max(x, x, c(0.0f));
      add(x, x, t0);
    }
  }

  ActivationEmitter& e_;
  Xbyak::CodeGenerator& g_;
  int v_;
  const std::vector<int>& temps_;
  int temps_allowed_;
};

template <class Vmm>
void ActivationEmitter::Codegen<Vmm>::run() {
  const Vmm x(v_);
  switch (e_.act_) {
    case Activation::kLinear: return;
    case Activation::kRelu: {
      const Vmm t0 = tmp(0);
      zero(t0);
      max(x, t0, x);
      return;
    }
    case Activation::kRelu6: {
      const Vmm t0 = tmp(0);
      zero(t0);
      max(x, t0, x);
      min_keep_nan(x, x, kRelu6CapF, t0);
      return;
    }
    case Activation::kLeakyRelu: {  // max(slope·x, x)
      const Vmm t0 = tmp(0);
      mul(t0, x, c(kLeakyReluSlopeF));
      max(x, t0, x);
      return;
    }
    case Activation::kElu:
    case Activation::kCelu: elu(false); return;
    case Activation::kSelu: elu(true); return;
    case Activation::kGelu: gelu(); return;
    case Activation::kSigmoid: {  // 1/(1 + exp(-x))
      const Vmm t0 = tmp(0), t1 = tmp(1);
      bxor(x, x, cb(kSignMask));
      exp(x, x, t0, t1);
      add(x, x, c(1.0f));
      load(t0, 1.0f);
      div(x, t0, x);
      return;
    }
    case Activation::kHardSigmoid: {  // clip((x + 3)/6, 0, 1)
      const Vmm t0 = tmp(0);
      add(x, x, c(kHardSigmoidOffsetF));
      mul(x, x, c(kHardSigmoidScaleF));
      zero(t0);
      max(x, t0, x);
      min_keep_nan(x, x, 1.0f, t0);
      return;
    }
    case Activation::kHardSilu: {  // x·clip((x + 3)/6, 0, 1), x clamped to >= -3
      const Vmm t0 = tmp(0);
      max_keep_nan(x, x, -kHardSigmoidOffsetF, t0);
      add(t0, x, c(kHardSigmoidOffsetF));
      mul(t0, t0, c(kHardSigmoidScaleF));
      max(t0, t0, c(0.0f));
      min(t0, t0, c(1.0f));
      mul(x, x, t0);
      return;
    }
    case Activation::kSilu: {  // x/(1 + exp(-x))
      const Vmm t0 = tmp(0), t1 = tmp(1), t2 = tmp(2);
      max_keep_nan(x, x, kGateClamp, t0);
      bxor(t0, x, cb(kSignMask));
      exp(t0, t0, t1, t2);
      add(t0, t0, c(1.0f));
      div(x, x, t0);
      return;
    }
    case Activation::kMish: {  // x·N/(N + 2), N = u(u + 2), u = exp(x) = (1+u)² - 1
      const Vmm t0 = tmp(0), t1 = tmp(1), t2 = tmp(2);
      max_keep_nan(x, x, kGateClamp, t0);
      min(t0, x, c(kMishExpClamp));
      exp(t0, t0, t1, t2);
      add(t1, t0, c(2.0f));
      mul(t0, t0, t1);
      add(t1, t0, c(2.0f));
      div(t0, t0, t1);
      mul(x, x, t0);
      return;
    }
    case Activation::kTanh: tanh(false); return;
    case Activation::kTanhShrink: tanh(true); return;
    case Activation::kHardTanh: {
      const Vmm t0 = tmp(0);
      max_keep_nan(x, x, -1.0f, t0);
      min_keep_nan(x, x, 1.0f, t0);
      return;
    }
    case Activation::kSoftplus: softplus(false); return;
    case Activation::kLogSigmoid: softplus(true); return;
    case Activation::kSoftsign: {  // x/(1 + |x|), x clamped to ±1e30 so ±Inf gives ±1
      const Vmm t0 = tmp(0);
      min_keep_nan(x, x, kSoftsignClamp, t0);
      max_keep_nan(x, x, -kSoftsignClamp, t0);
      band(t0, x, cb(kAbsMask));
      add(t0, t0, c(1.0f));
      div(x, x, t0);
      return;
    }
    case Activation::kSquareplus: {
      // h = (sqrt(x² + 4) + |x|)/2 has no cancellation; squareplus = h for x >= 0, 1/h else.
      const Vmm t0 = tmp(0), t1 = tmp(1);
      band(t0, x, cb(kAbsMask));
      min(t1, t0, c(kSquareplusClamp));
      fmadd213(t1, t1, c(kSquareplusBF));
      sqrt(t1, t1);
      max(t1, t1, t0);  // sqrt(x² + 4) for huge |x|; keeps a NaN (second source)
      mul(t1, t1, c(0.5f));
      fmadd231(t1, t0, c(0.5f));
      load(t0, 1.0f);
      div(t0, t0, t1);
      select(x, x, c(0.0f), kCmpNltUq, t0, t1, x);
      return;
    }
    case Activation::kSparsePlus: {  // max(((clip(x,-1,1) + 1)/2)², x)
      const Vmm t0 = tmp(0);
      min(t0, x, c(1.0f));
      max(t0, t0, c(-1.0f));
      add(t0, t0, c(1.0f));
      mul(t0, t0, c(0.5f));
      mul(t0, t0, t0);
      max(x, t0, x);
      return;
    }
    case Activation::kSparseSigmoid: {  // clip((x + 1)/2, 0, 1)
      const Vmm t0 = tmp(0);
      add(x, x, c(1.0f));
      mul(x, x, c(0.5f));
      zero(t0);
      max(x, t0, x);
      min_keep_nan(x, x, 1.0f, t0);
      return;
    }
    case Activation::kExponential: exp(x, x, tmp(0), tmp(1)); return;
    case Activation::kHardShrink: {  // |x| > 0.5 ? x : 0 (NaN kept: the predicate is !<=)
      const Vmm t0 = tmp(0);
      band(t0, x, cb(kAbsMask));
      keep_if(x, t0, c(kShrinkThresholdF), kCmpNleUq, t0);
      return;
    }
    case Activation::kSoftShrink: {  // x - clip(x, -0.5, 0.5)
      const Vmm t0 = tmp(0);
      min(t0, x, c(kShrinkThresholdF));
      max(t0, t0, c(-kShrinkThresholdF));
      sub(x, x, t0);
      return;
    }
    case Activation::kSoftmax:
    case Activation::kLogSoftmax:
    case Activation::kSparsemax:
    case Activation::kGlu: break;
  }
  CONVJIT_JIT_CHECK(!"axis activation in ActivationEmitter");
}

// ---------------------------------------------------------------------------------------

ActivationEmitter::ActivationEmitter(Xbyak::CodeGenerator& gen, Isa isa, Activation act)
    : gen_(gen), isa_(isa), act_(act) {
  CONVJIT_JIT_CHECK(isa == Isa::kAvx2 || isa == Isa::kAvx512);
  CONVJIT_JIT_CHECK(!is_axis_activation(act));
}

int ActivationEmitter::temps_needed() const {
  return activation_vector_temps(act_);
}

bool ActivationEmitter::is_identity() const {
  return act_ == Activation::kLinear;
}

void ActivationEmitter::emit(int value, const std::vector<int>& temps) {
  CONVJIT_JIT_CHECK(!constants_emitted_);
  const int needed = temps_needed();
  CONVJIT_JIT_CHECK(static_cast<int>(temps.size()) >= needed);
  const int registers = isa_target(isa_).vector_registers;
  std::uint32_t seen = 0;
  for (int i = -1; i < needed; ++i) {
    const int r = i < 0 ? value : temps[static_cast<std::size_t>(i)];
    CONVJIT_JIT_CHECK(r >= 0 && r < registers);
    CONVJIT_JIT_CHECK((seen & (1u << r)) == 0);  // value and temps are distinct
    seen |= 1u << r;
  }
  if (isa_ == Isa::kAvx512) {
    Codegen<Xbyak::Zmm>(*this, value, temps).run();
  } else {
    Codegen<Xbyak::Ymm>(*this, value, temps).run();
  }
}

void ActivationEmitter::emit_constants() {
  CONVJIT_JIT_CHECK(!constants_emitted_);
  constants_emitted_ = true;
  gen_.align(64);
  gen_.L(table_);
  const int copies = isa_ == Isa::kAvx512 ? 1 : 8;  // AVX2: whole 32-byte vectors
  for (const std::uint32_t bits : constants_) {
    for (int i = 0; i < copies; ++i) gen_.dd(bits);
  }
}

}  // namespace convjit::detail
