// ActivationEmitter: every element-wise activation JIT-compiled for AVX2 and AVX-512 and
// compared with the scalar reference convjit::detail::activate(), plus register-usage and
// encoding checks (no EVEX in AVX2 code, nothing touched outside value/temps/k5).
#include "compiler/backend/xbyak/activation_emitter.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <xbyak/xbyak.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "compiler/activation_description.hpp"
#include "compiler/activation_float_model.hpp"
#include "compiler/activation_math.hpp"
#include "compiler/backend/disasm/disassemble.hpp"
#include "convjit/activation.hpp"
#include "convjit/isa.hpp"

namespace convjit::detail {

/// Reads the emitter's private trace (declared a friend in activation_emitter.hpp).
struct ActivationEmitterProbe {
  static const std::vector<std::size_t>& starts(const ActivationEmitter& e) {
    return e.instruction_starts_;
  }
  static std::uint32_t vector_regs(const ActivationEmitter& e) { return e.vector_regs_used_; }
  static std::uint32_t mask_regs(const ActivationEmitter& e) { return e.mask_regs_used_; }
};

namespace {

// Accuracy asked of the emitted code: relative 2e-6 plus an absolute floor that only
// matters where the result is tiny (near a zero of the function, or an underflow).
constexpr double kRelTol = 2e-6;
constexpr double kAbsTol = 1e-9;

std::vector<Activation> elementwise_activations() {
  std::vector<Activation> out;
  for (int i = 0; i < kActivationCount; ++i) {
    const auto a = static_cast<Activation>(i);
    if (!is_axis_activation(a)) out.push_back(a);
  }
  return out;
}

std::string isa_label(Isa isa) {
  return isa == Isa::kAvx512 ? "avx512" : "avx2";
}

Xbyak::Xmm vreg(Isa isa, int index) {
  return Xbyak::Xmm(isa == Isa::kAvx512 ? Xbyak::Operand::ZMM : Xbyak::Operand::YMM, index);
}

struct Registers {
  int a = 0;               // value register of the first vector
  int b = 0;               // value register of the second vector
  std::vector<int> temps;  // at least kMaxTemps, distinct from a and b
};

// Scattered choices so no sequence can get away with fixed register numbers.
Registers registers_for(Isa isa) {
  if (isa == Isa::kAvx512) return {31, 16, {17, 2, 25, 0, 30, 9}};
  return {5, 13, {15, 4, 9, 0, 7, 11}};
}

/// void fn(const float* in, float* out): two vectors in, activation on each (two emit()
/// calls sharing one constant table), two vectors out. Mapped W^X.
class ActivationKernel : public Xbyak::CodeGenerator {
 public:
  ActivationKernel(Isa isa, Activation act, const Registers& r)
      : Xbyak::CodeGenerator(16384, Xbyak::DontSetProtectRWE), emitter_(*this, isa, act) {
    const int bytes = vector_lanes(isa) * 4;
    vmovups(vreg(isa, r.a), ptr[rdi]);
    vmovups(vreg(isa, r.b), ptr[rdi + bytes]);
    emit_begin_ = getSize();
    emitter_.emit(r.a, r.temps);
    emitter_.emit(r.b, r.temps);
    emit_end_ = getSize();
    vmovups(ptr[rsi], vreg(isa, r.a));
    vmovups(ptr[rsi + bytes], vreg(isa, r.b));
    vzeroupper();
    ret();
    emitter_.emit_constants();
    setProtectModeRE();
  }
  ~ActivationKernel() override { setProtectModeRW(); }

  void run(const float* in, float* out) const {
    getCode<void (*)(const float*, float*)>()(in, out);
  }
  const ActivationEmitter& emitter() const { return emitter_; }
  std::size_t emit_begin() const { return emit_begin_; }
  std::size_t emit_end() const { return emit_end_; }

 private:
  ActivationEmitter emitter_;
  std::size_t emit_begin_ = 0, emit_end_ = 0;
};

float next_up(float x) {
  return std::nextafter(x, std::numeric_limits<float>::infinity());
}
float next_down(float x) {
  return std::nextafter(x, -std::numeric_limits<float>::infinity());
}

/// The inputs every activation is checked on.
std::vector<float> test_inputs() {
  std::vector<float> xs;
  for (int i = -20000; i <= 20000; ++i) xs.push_back(static_cast<float>(i) * 1e-3f);
  for (int i = -1500; i <= 1500; ++i) {  // exp / sigmoid saturation region, finely
    const float m = 80.0f + static_cast<float>(std::abs(i)) * 0.01f;
    xs.push_back(i < 0 ? -m : m);
  }
  for (double m = 1e-8; m < 1e5; m *= 1.03) {  // every scale, both signs
    xs.push_back(static_cast<float>(m));
    xs.push_back(static_cast<float>(-m));
  }
  const float inf = std::numeric_limits<float>::infinity();
  const float tricky[] = {0.0f,
                          -0.0f,
                          0.5f,
                          1.0f,
                          3.0f,
                          6.0f,
                          0.625f,
                          2.0f,
                          88.0f,
                          89.0f,
                          88.72f,
                          87.3f,
                          100.0f,
                          1e30f,
                          FLT_MAX,
                          inf,
                          1e-40f,
                          FLT_MIN,
                          std::numeric_limits<float>::denorm_min(),
                          1e-30f};
  for (const float t : tricky) {
    for (const float s : {t, -t}) {
      xs.push_back(s);
      xs.push_back(next_up(s));
      xs.push_back(next_down(s));
    }
  }
  xs.push_back(std::numeric_limits<float>::quiet_NaN());
  xs.push_back(-std::numeric_limits<float>::quiet_NaN());
  return xs;
}

struct Comparison {
  int failures = 0;
  double worst_excess = 0;  // max err / tolerance
  float worst_x = 0;
  double worst_want = 0;
  float worst_got = 0;
  double max_rel = 0;  // over |want| >= 1e-6
  double max_abs = 0;  // over |want| < 1e-6
  std::string first_special_failure;
};

void compare(const std::vector<float>& xs, const std::vector<float>& got, Activation act,
             Comparison& c) {
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const float x = xs[i];
    const double want = activate(act, static_cast<double>(x));
    const float wantf = static_cast<float>(want);
    const float g = got[i];
    bool ok = true;
    double excess = 0;
    if (std::isnan(want) || std::isinf(wantf)) {
      ok = std::isnan(want) ? std::isnan(g) : g == wantf;
    } else if (!std::isfinite(g)) {
      ok = false;
    } else {
      const double err = std::fabs(static_cast<double>(g) - want);
      const double tol = kRelTol * std::fabs(want) + kAbsTol * std::max(1.0, std::fabs(double{x}));
      excess = err / tol;
      ok = err <= tol;
      if (std::fabs(want) >= 1e-6) {
        c.max_rel = std::max(c.max_rel, err / std::fabs(want));
      } else {
        c.max_abs = std::max(c.max_abs, err);
      }
    }
    if (!ok) {
      ++c.failures;
      if (excess == 0 && c.first_special_failure.empty()) {
        c.first_special_failure = fmt::format("x={} want={} got={}", x, want, g);
      }
    }
    if (excess > c.worst_excess) {
      c.worst_excess = excess;
      c.worst_x = x;
      c.worst_want = want;
      c.worst_got = g;
    }
  }
}

std::vector<float> run_kernel(const ActivationKernel& k, Isa isa, const std::vector<float>& xs) {
  const std::size_t block = static_cast<std::size_t>(vector_lanes(isa)) * 2;
  std::vector<float> in(xs), out(xs.size() + block, std::nanf("1"));
  in.resize((xs.size() + block - 1) / block * block, 0.0f);
  out.resize(in.size());
  for (std::size_t i = 0; i < in.size(); i += block) k.run(in.data() + i, out.data() + i);
  out.resize(xs.size());
  return out;
}

bool host_has(Isa isa) {
  return host_supports(isa);
}

int temps_of(Isa isa, Activation act) {
  Xbyak::CodeGenerator gen(64, Xbyak::DontSetProtectRWE);
  return ActivationEmitter(gen, isa, act).temps_needed();
}

std::string isa_test_name(const ::testing::TestParamInfo<Isa>& p) {
  return isa_label(p.param);
}

class ActivationAccuracy : public ::testing::TestWithParam<Isa> {};

TEST_P(ActivationAccuracy, MatchesReferenceOnSweepAndSpecialValues) {
  const Isa isa = GetParam();
  if (!host_has(isa)) {
    GTEST_SKIP() << "this CPU has no " << isa_label(isa)
                 << " (CPUID/XGETBV): the emitted code cannot run here; only the encoding "
                    "tests (EmittedCode.*) cover it on this machine";
  }
  const std::vector<float> xs = test_inputs();
  std::string report;
  for (const Activation act : elementwise_activations()) {
    const ActivationKernel kernel(isa, act, registers_for(isa));
    const std::vector<float> got = run_kernel(kernel, isa, xs);
    Comparison c;
    compare(xs, got, act, c);
    report += fmt::format("  {:<15} max rel {:.2e}  max abs (|y|<1e-6) {:.2e}  worst x={}\n",
                          activation_name(act), c.max_rel, c.max_abs, c.worst_x);
    EXPECT_EQ(c.failures, 0) << isa_label(isa) << " " << activation_name(act) << ": " << c.failures
                             << " of " << xs.size()
                             << " inputs out of tolerance; worst x=" << c.worst_x
                             << " want=" << c.worst_want << " got=" << c.worst_got << " ("
                             << c.worst_excess << "x the tolerance), max rel error " << c.max_rel
                             << ", max abs error " << c.max_abs
                             << (c.first_special_failure.empty()
                                     ? std::string()
                                     : "; special value: " + c.first_special_failure);
  }
  std::printf("%s errors against activate():\n%s", isa_label(isa).c_str(), report.c_str());
}

// The scalar model of the exp block (compiler/activation_float_model.hpp) evaluates the same
// constants with the same operations in the same order: it must give the emitted code's bits.
TEST_P(ActivationAccuracy, ExponentialIsBitExactWithItsScalarModel) {
  const Isa isa = GetParam();
  if (!host_has(isa)) GTEST_SKIP() << "this CPU has no " << isa_label(isa);
  const std::vector<float> xs = test_inputs();
  const ActivationKernel kernel(isa, Activation::kExponential, registers_for(isa));
  const std::vector<float> got = run_kernel(kernel, isa, xs);
  int differ = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const float want = approx_exp_float(xs[i]);
    const bool same =
        std::isnan(want) ? std::isnan(got[i]) : std::memcmp(&want, &got[i], sizeof want) == 0;
    if (!same && differ++ == 0) {
      ADD_FAILURE() << isa_label(isa) << ": exp(" << xs[i] << ") emitted " << got[i] << ", model "
                    << want;
    }
  }
  EXPECT_EQ(differ, 0) << "of " << xs.size() << " inputs";
}

TEST(ActivationEmitterApi, TempsAreTheDescriptions) {
  static_assert(ActivationEmitter::kMaxTemps == kMaxActivationVectorTemps);
  for (const Activation act : elementwise_activations()) {
    for (const Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      EXPECT_EQ(temps_of(isa, act), activation_vector_temps(act)) << activation_name(act);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, ActivationAccuracy, ::testing::Values(Isa::kAvx2, Isa::kAvx512),
                         isa_test_name);

TEST(ActivationEmitterApi, TempsAndIdentity) {
  for (const Activation act : elementwise_activations()) {
    for (const Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      Xbyak::CodeGenerator gen(4096, Xbyak::DontSetProtectRWE);
      ActivationEmitter e(gen, isa, act);
      EXPECT_GE(e.temps_needed(), 0) << activation_name(act);
      EXPECT_LE(e.temps_needed(), ActivationEmitter::kMaxTemps) << activation_name(act);
      EXPECT_EQ(e.is_identity(), act == Activation::kLinear) << activation_name(act);
      const std::size_t before = gen.getSize();
      std::vector<int> temps;
      for (int i = 0; i < e.temps_needed(); ++i) temps.push_back(i + 1);
      e.emit(0, temps);  // exactly temps_needed() temporaries must be enough
      if (act == Activation::kLinear) {
        EXPECT_EQ(gen.getSize(), before) << "linear must emit nothing";
      } else {
        EXPECT_GT(gen.getSize(), before) << activation_name(act);
      }
      e.emit_constants();
    }
  }
}

// --- the encoding: VEX only on AVX2, EVEX with zmm / k5 only on AVX-512 ---------------

std::uint32_t allowed_mask(const Registers& r, int temps) {
  std::uint32_t m = (1u << r.a) | (1u << r.b);
  for (int i = 0; i < temps; ++i) m |= 1u << r.temps[static_cast<std::size_t>(i)];
  return m;
}

TEST(EmittedCode, Avx2IsVexOnlyAndUsesOnlyItsRegisters) {
  const Registers regs = registers_for(Isa::kAvx2);
  for (const Activation act : elementwise_activations()) {
    const ActivationKernel k(Isa::kAvx2, act, regs);
    const auto* code = k.getCode();
    const auto& starts = ActivationEmitterProbe::starts(k.emitter());
    for (const std::size_t s : starts) {
      ASSERT_LT(s, k.emit_end()) << activation_name(act);
      // 0xC4 / 0xC5: VEX; 0x62 would be EVEX (AVX-512), anything else legacy SSE.
      EXPECT_TRUE(code[s] == 0xC4 || code[s] == 0xC5)
          << activation_name(act) << ": instruction at +" << s << " starts with 0x" << std::hex
          << int{code[s]};
    }
    EXPECT_EQ(ActivationEmitterProbe::vector_regs(k.emitter()) &
                  ~allowed_mask(regs, k.emitter().temps_needed()),
              0u)
        << activation_name(act);
    EXPECT_EQ(ActivationEmitterProbe::mask_regs(k.emitter()), 0u) << activation_name(act);
    if (act != Activation::kLinear) {
      EXPECT_FALSE(starts.empty()) << activation_name(act);
    }
    // The decoder agrees: no zmm, no mask register, no EVEX-only register in the text.
    const std::string text =
        disassemble_x86(code + k.emit_begin(), k.emit_end() - k.emit_begin(), 0, {});
    EXPECT_EQ(text.find("zmm"), std::string::npos) << activation_name(act) << "\n" << text;
    EXPECT_FALSE(std::regex_search(text, std::regex(R"(\{k\d\}|\bk\d\b|mm(1[6-9]|2\d|3[01])\b)")))
        << activation_name(act) << "\n"
        << text;
    EXPECT_EQ(text.find(".byte"), std::string::npos) << activation_name(act) << "\n" << text;
  }
}

TEST(EmittedCode, Avx512IsEvexAndUsesOnlyItsRegisters) {
  const Registers regs = registers_for(Isa::kAvx512);
  for (const Activation act : elementwise_activations()) {
    const ActivationKernel k(Isa::kAvx512, act, regs);
    const auto* code = k.getCode();
    const auto& starts = ActivationEmitterProbe::starts(k.emitter());
    for (const std::size_t s : starts) {
      EXPECT_EQ(code[s], 0x62) << activation_name(act) << ": instruction at +" << s;
    }
    const std::uint32_t allowed = allowed_mask(regs, k.emitter().temps_needed());
    EXPECT_EQ(ActivationEmitterProbe::vector_regs(k.emitter()) & ~allowed, 0u)
        << activation_name(act);
    EXPECT_EQ(ActivationEmitterProbe::mask_regs(k.emitter()) & ~(7u << 5), 0u)
        << activation_name(act);
    // Check the bytes themselves: every register the decoder sees is an allowed zmm or
    // k5..k7, every memory operand is RIP-relative.
    const std::string text =
        disassemble_x86(code + k.emit_begin(), k.emit_end() - k.emit_begin(), 0, {});
    EXPECT_EQ(text.find(".byte"), std::string::npos) << activation_name(act) << "\n" << text;
    const std::regex reg(R"(\b(xmm|ymm|zmm|k)(\d+)\b)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), reg);
         it != std::sregex_iterator(); ++it) {
      const std::string kind = (*it)[1];
      const int idx = std::stoi((*it)[2]);
      if (kind == "k") {
        EXPECT_TRUE(idx >= 5 && idx <= 7) << activation_name(act) << ": k" << idx;
      } else {
        EXPECT_EQ(kind, "zmm") << activation_name(act) << "\n" << text;
        EXPECT_TRUE(allowed & (1u << idx)) << activation_name(act) << ": zmm" << idx;
      }
    }
    if (act != Activation::kLinear) {
      EXPECT_NE(text.find("zmm"), std::string::npos) << activation_name(act) << "\n" << text;
    }
    const std::regex mem(R"(\[([^\]]*)\])");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), mem);
         it != std::sregex_iterator(); ++it) {
      EXPECT_NE((*it)[1].str().find("rip"), std::string::npos)
          << activation_name(act) << ": " << it->str();
    }
  }
}

// --- nothing outside value + temps is touched (on the hardware) ---------------------------

constexpr int kGprChecked = 8;  // rax rcx rdx rsi rdi r8 r9 r10 r11 (minus the out pointer)

/// fn(x, out, sentinels_in, sentinels_out, gpr_out): loads every vector register except the
/// value and temps with sentinels (and k1..k4 on AVX-512), runs the activation, stores them
/// all back, and the GPRs the emitter could clobber.
class SentinelKernel : public Xbyak::CodeGenerator {
 public:
  SentinelKernel(Isa isa, Activation act, int value, const std::vector<int>& temps)
      : Xbyak::CodeGenerator(16384, Xbyak::DontSetProtectRWE), emitter_(*this, isa, act) {
    const int bytes = vector_lanes(isa) * 4;
    const int nregs = isa == Isa::kAvx512 ? 32 : 16;
    std::uint32_t used = 1u << value;
    for (int i = 0; i < emitter_.temps_needed(); ++i) used |= 1u << temps[static_cast<size_t>(i)];
    for (int r = 0; r < nregs; ++r) {
      if (!(used & (1u << r))) vmovups(vreg(isa, r), ptr[rdx + r * bytes]);
    }
    if (isa == Isa::kAvx512) {
      for (int k = 1; k <= 4; ++k) {
        mov(eax, 0x1111 * k);
        kmovw(Xbyak::Opmask(k), eax);
      }
    }
    mov(rax, 0x0123456789abcdefULL);
    mov(r9, 0x1111111111111111ULL);
    mov(r10, 0x2222222222222222ULL);
    mov(r11, 0x3333333333333333ULL);
    vmovups(vreg(isa, value), ptr[rdi]);
    emitter_.emit(value, temps);
    vmovups(ptr[rsi], vreg(isa, value));
    mov(ptr[r8], rax);
    mov(ptr[r8 + 8], r9);
    mov(ptr[r8 + 16], r10);
    mov(ptr[r8 + 24], r11);
    mov(ptr[r8 + 32], rdi);
    mov(ptr[r8 + 40], rsi);
    mov(ptr[r8 + 48], rdx);
    mov(ptr[r8 + 56], rcx);
    for (int r = 0; r < nregs; ++r) {
      if (!(used & (1u << r))) vmovups(ptr[rcx + r * bytes], vreg(isa, r));
    }
    if (isa == Isa::kAvx512) {
      for (int k = 1; k <= 4; ++k) {
        kmovw(eax, Xbyak::Opmask(k));
        mov(ptr[rcx + (nregs + k) * bytes], eax);
      }
    }
    vzeroupper();
    ret();
    emitter_.emit_constants();
    setProtectModeRE();
  }
  ~SentinelKernel() override { setProtectModeRW(); }
  void run(const float* x, float* out, const float* sin, float* sout, std::uint64_t* gpr) const {
    getCode<void (*)(const float*, float*, const float*, float*, std::uint64_t*)>()(x, out, sin,
                                                                                    sout, gpr);
  }

 private:
  ActivationEmitter emitter_;
};

class UntouchedRegisters : public ::testing::TestWithParam<Isa> {};

TEST_P(UntouchedRegisters, OnlyValueAndTempsChange) {
  const Isa isa = GetParam();
  if (!host_has(isa)) {
    GTEST_SKIP() << "this CPU has no " << isa_label(isa) << ": the code cannot run here";
  }
  const int lanes = vector_lanes(isa);
  const int nregs = isa == Isa::kAvx512 ? 32 : 16;
  const int value = isa == Isa::kAvx512 ? 20 : 6;
  const std::vector<int> temps = isa == Isa::kAvx512 ? std::vector<int>{3, 28, 0, 17, 9, 31}
                                                     : std::vector<int>{1, 14, 8, 2, 15, 10};
  std::vector<float> x(static_cast<std::size_t>(lanes));
  for (int i = 0; i < lanes; ++i) x[static_cast<std::size_t>(i)] = -3.5f + 0.9f * i;
  std::vector<float> sin(static_cast<std::size_t>((nregs + 5) * lanes));
  for (std::size_t i = 0; i < sin.size(); ++i) sin[i] = 1000.0f + static_cast<float>(i);
  for (const Activation act : elementwise_activations()) {
    const SentinelKernel k(isa, act, value, temps);
    std::vector<float> out(static_cast<std::size_t>(lanes));
    std::vector<float> sout(sin.size(), -1.0f);
    std::uint64_t gpr[kGprChecked] = {};
    k.run(x.data(), out.data(), sin.data(), sout.data(), gpr);
    std::uint32_t used = 1u << value;
    for (int i = 0; i < temps_of(isa, act); ++i) used |= 1u << temps[static_cast<size_t>(i)];
    for (int r = 0; r < nregs; ++r) {
      if (used & (1u << r)) continue;
      for (int l = 0; l < lanes; ++l) {
        const auto at = static_cast<std::size_t>(r * lanes + l);
        ASSERT_EQ(sout[at], sin[at]) << activation_name(act) << ": vector register " << r
                                     << " lane " << l << " was clobbered";
      }
    }
    const std::uint64_t want_gpr[] = {0x0123456789abcdefULL,
                                      0x1111111111111111ULL,
                                      0x2222222222222222ULL,
                                      0x3333333333333333ULL,
                                      reinterpret_cast<std::uint64_t>(x.data()),
                                      reinterpret_cast<std::uint64_t>(out.data()),
                                      reinterpret_cast<std::uint64_t>(sin.data()),
                                      reinterpret_cast<std::uint64_t>(sout.data())};
    for (int i = 0; i < kGprChecked; ++i) {
      EXPECT_EQ(gpr[i], want_gpr[i]) << activation_name(act) << ": GPR #" << i;
    }
    if (isa == Isa::kAvx512) {
      for (int kk = 1; kk <= 4; ++kk) {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &sout[static_cast<std::size_t>((nregs + kk) * lanes)], 4);
        EXPECT_EQ(bits, 0x1111u * static_cast<unsigned>(kk)) << activation_name(act) << ": k" << kk;
      }
    }
    // The value register itself was computed right.
    for (int l = 0; l < lanes; ++l) {
      const double want = activate(act, double{x[static_cast<std::size_t>(l)]});
      EXPECT_NEAR(out[static_cast<std::size_t>(l)], want, 1e-5 * std::max(1.0, std::fabs(want)))
          << activation_name(act) << " lane " << l;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, UntouchedRegisters, ::testing::Values(Isa::kAvx2, Isa::kAvx512),
                         isa_test_name);

}  // namespace
}  // namespace convjit::detail
