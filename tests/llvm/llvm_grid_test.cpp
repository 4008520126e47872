// Differential grid of the LLVM backend: paddings x (stride, dilation) x groups (dense,
// grouped, depthwise x1 and x2) x data formats, each compiled once with a dynamic length and
// run at lengths around the vector width (1, 3, V-1, V, V+1, 2V+1), activations rotating
// through every Keras activation. Each run is compared with the reference (FORMAT.md
// tolerance) and with the Xbyak backend's output, and checks canaries around the output.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "convjit/jit.hpp"

namespace convjit {
namespace {

constexpr std::size_t kGuard = 32;
constexpr std::uint32_t kCanary = 0x7fc0dead;  // a NaN pattern no kernel writes

struct GridConfig {
  Padding padding;
  std::int64_t stride, dilation;
  const char* kind;  // dense, grouped, depthwise, depthwise_x2
  DataFormat format;
  Activation activation;
};

struct Groups {
  const char* kind;
  std::int64_t channels, filters, groups;
};

std::vector<GridConfig> grid() {
  const Padding paddings[] = {Padding::kValid, Padding::kSame, Padding::kCausal};
  const std::pair<std::int64_t, std::int64_t> sds[] = {{1, 1}, {2, 1}, {1, 2}};
  const char* kinds[] = {"dense", "grouped", "depthwise", "depthwise_x2"};
  const DataFormat formats[] = {DataFormat::kChannelsLast, DataFormat::kChannelsFirst};
  std::vector<GridConfig> out;
  int act = 0;
  for (Padding pad : paddings)
    for (auto sd : sds)
      for (const char* kind : kinds)
        for (DataFormat f : formats) {
          out.push_back(
              {pad, sd.first, sd.second, kind, f, static_cast<Activation>(act % kActivationCount)});
          ++act;
        }
  return out;
}

Groups groups_of(const char* kind) {
  const std::string k = kind;
  if (k == "dense") return {kind, 5, 11, 1};  // F not a multiple of 8
  if (k == "grouped") return {kind, 6, 18, 2};
  if (k == "depthwise") return {kind, 11, 11, 11};
  return {kind, 5, 10, 5};  // depthwise with multiplier 2
}

Conv1DSpec spec_of(const GridConfig& c, const Groups& g) {
  Conv1DSpec s;
  s.filters = g.filters;
  s.kernel_size = 3;
  s.strides = c.stride;
  s.dilation_rate = c.dilation;
  s.groups = g.groups;
  s.padding = c.padding;
  s.data_format = c.format;
  s.activation = c.activation;
  s.use_bias = true;
  return s;
}

std::string describe(const GridConfig& c, const Groups& g, std::int64_t length) {
  return fmt::format(
      "padding={} strides={} dilation_rate={} {} groups={} filters={} C={} {} "
      "activation={} length={}",
      padding_name(c.padding), c.stride, c.dilation, g.kind, g.groups, g.filters, g.channels,
      data_format_name(c.format), activation_name(c.activation), length);
}

/// Output floats with canaries on both sides.
struct Guarded {
  explicit Guarded(std::size_t n) : n_(n), data_(n + 2 * kGuard) {
    for (float& f : data_) std::memcpy(&f, &kCanary, 4);
  }
  float* out() { return data_.data() + kGuard; }
  bool intact() const {
    for (std::size_t i = 0; i < kGuard; ++i) {
      std::uint32_t a = 0, b = 0;
      std::memcpy(&a, &data_[i], 4);
      std::memcpy(&b, &data_[kGuard + n_ + i], 4);
      if (a != kCanary || b != kCanary) return false;
    }
    return true;
  }
  std::size_t n_;
  std::vector<float> data_;
};

/// Runs the grid against `target_cpu` ("" = avx2 default CPU); returns failure messages.
std::vector<std::string> run_grid(const std::string& cpu, int every) {
  Jit jit;
  std::vector<std::string> failures;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int v = 8;
  const std::int64_t lengths[] = {1, 3, v - 1, v, v + 1, 2 * v + 1};
  const std::vector<GridConfig> configs = grid();
  int ran = 0;
  for (std::size_t i = 0; i < configs.size(); i += static_cast<std::size_t>(every)) {
    const GridConfig& c = configs[i];
    const Groups g = groups_of(c.kind);
    const Conv1DSpec spec = spec_of(c, g);
    const bool cf = c.format == DataFormat::kChannelsFirst;
    const Shape3 dyn =
        cf ? Shape3{kDynamic, g.channels, kDynamic} : Shape3{kDynamic, kDynamic, g.channels};
    if (c.activation == Activation::kGlu && (g.filters % 2 != 0)) continue;  // Keras refuses
    CompileOptions llvm_options;
    llvm_options.backend = Backend::kLlvm;
    llvm_options.isa = cpu.empty() ? Isa::kAvx2 : Isa::kAuto;
    llvm_options.cpu = cpu;
    llvm_options.threads = 1;
    CompileOptions xbyak_options;
    xbyak_options.backend = Backend::kXbyak;
    xbyak_options.isa = Isa::kAvx2;
    xbyak_options.threads = 1;
    const Kernel llvm_kernel = jit.compile(spec, dyn, llvm_options);
    const Kernel xbyak_kernel = jit.compile(spec, dyn, xbyak_options);
    EXPECT_EQ(llvm_kernel.backend(), cpu.empty() ? "llvm" : "llvm-" + cpu);
    EXPECT_EQ(xbyak_kernel.backend(), "xbyak");
    std::vector<float> w(static_cast<std::size_t>(3 * (g.channels / g.groups) * g.filters));
    std::vector<float> b(static_cast<std::size_t>(g.filters));
    for (float& x : w) x = dist(rng);
    for (float& x : b) x = dist(rng);
    const PackedWeights lw = llvm_kernel.pack_weights(w.data(), b.data());
    const PackedWeights xw = xbyak_kernel.pack_weights(w.data(), b.data());
    for (std::int64_t length : lengths) {
      const std::int64_t batch = 2;
      const Shape3 shape =
          cf ? Shape3{batch, g.channels, length} : Shape3{batch, length, g.channels};
      detail::Problem p;
      try {
        p = detail::make_problem(spec, shape);
      } catch (const Error&) {
        continue;  // e.g. valid padding with an input shorter than the receptive field
      }
      std::vector<float> in(static_cast<std::size_t>(p.input_size()));
      double max_in = 0.0;
      for (float& x : in) {
        x = dist(rng);
        max_in = std::max(max_in, static_cast<double>(std::fabs(x)));
      }
      const std::size_t n = static_cast<std::size_t>(llvm_kernel.output_size(batch, length));
      Guarded lo(n), xo(n);
      llvm_kernel.run(in.data(), lw, lo.out(), batch, length);
      xbyak_kernel.run(in.data(), xw, xo.out(), batch, length);
      std::vector<float> want(static_cast<std::size_t>(p.output_size()));
      detail::reference_conv1d(p, in.data(), w.data(), b.data(), want.data());
      ++ran;
      const std::string what = describe(c, g, length);
      if (!lo.intact()) failures.push_back("canary overwritten (llvm): " + what);
      if (!xo.intact()) failures.push_back("canary overwritten (xbyak): " + what);
      if (want.size() != n) {
        failures.push_back(fmt::format("output size {} != {}: {}", n, want.size(), what));
        continue;
      }
      // acc_scale bound: K * C/g * max|x| * max|w| + max|b| (weights and bias are in [-1, 1]).
      const double acc_scale = 3.0 * static_cast<double>(g.channels / g.groups) * max_in + 1.0;
      for (std::size_t j = 0; j < n; ++j) {
        const double tol = 1e-5 * std::max(1.0, acc_scale) + 1e-4 * std::fabs(want[j]);
        const float l = lo.out()[j], x = xo.out()[j];
        const bool ref_ok = (std::isnan(want[j]) && std::isnan(l)) || std::fabs(l - want[j]) <= tol;
        const bool xb_ok = (std::isnan(x) && std::isnan(l)) || std::fabs(l - x) <= tol;
        if (!ref_ok || !xb_ok) {
          failures.push_back(
              fmt::format("output {}: llvm {} xbyak {} reference {}: {}", j, l, x, want[j], what));
          break;
        }
      }
    }
  }
  EXPECT_GT(ran, 20) << "the grid ran too few cases";
  return failures;
}

void report(const std::vector<std::string>& failures) {
  for (std::size_t i = 0; i < failures.size() && i < 10; ++i) ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures";
}

TEST(LlvmGrid, Avx2AgainstReferenceAndXbyak) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA: Xbyak cannot run";
  report(run_grid("", 1));
}

TEST(LlvmGrid, X86_64BaselineAgainstReferenceAndXbyak) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA: Xbyak cannot run";
  report(run_grid("x86-64", 3));  // every third configuration: SSE2 code, same schedules
}

// Both backends compile one IR: every output element sums its taps (and input channels) in
// the IR's order, edges and interior alike, from zero, then adds the bias, so without a
// transcendental activation their outputs are the same bits. That includes the tap forms
// (docs/ir.md): first layers sum class by class, depthwise tap groups in ascending order.
// Lengths exercise both edges, the interior tiles and the interior tail. (Activations such
// as tanh differ in the last bits: LLVM calls libm, Xbyak runs its polynomials; both are
// checked against the reference elsewhere.)
TEST(LlvmGrid, BothBackendsGiveTheSameBitsWithoutTranscendentals) {
  struct Case {
    const char* spec;
    std::int64_t channels;
    Isa isa;
  };
  const Case cases[] = {
      {"filters=512,kernel_size=10,strides=5,use_bias=false", 1, Isa::kAvx512},
      {"filters=40,kernel_size=7,strides=3,padding=same,activation=relu", 1, Isa::kAvx2},
      {"filters=24,kernel_size=5,strides=2,padding=causal", 1, Isa::kAvx512},
      {"filters=200,kernel_size=4,groups=200,padding=causal", 200, Isa::kAvx512},
      {"filters=96,kernel_size=7,groups=96,dilation_rate=2,padding=same", 96, Isa::kAvx512},
      {"filters=40,kernel_size=3,groups=40,padding=same,activation=relu", 40, Isa::kAvx2},
      {"filters=64,kernel_size=3,padding=same", 32, Isa::kAvx512},
      {"filters=72,kernel_size=5,padding=causal,dilation_rate=2", 48, Isa::kAvx2},
      {"filters=64,kernel_size=31,groups=64,padding=same", 64, Isa::kAvx512},
      {"filters=32,kernel_size=3,groups=32,padding=same", 32, Isa::kAvx512},
      {"filters=20,kernel_size=5,groups=20,padding=causal,dilation_rate=3", 20, Isa::kAvx512},
      {"filters=8,kernel_size=3,groups=8,padding=same", 8, Isa::kAvx2},
      {"filters=48,kernel_size=3,groups=4,strides=2", 32, Isa::kAvx512},
      {"filters=256,kernel_size=1", 512, Isa::kAvx512},
  };
  Jit jit;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  int ran = 0;
  for (const Case& c : cases) {
    if (!host_supports(c.isa)) continue;  // the code of both is generated in same_ir_test
    const Conv1DSpec spec = parse_spec(c.spec);
    const Shape3 dyn{kDynamic, kDynamic, c.channels};
    CompileOptions options;
    options.isa = c.isa;
    options.threads = 1;
    options.backend = Backend::kLlvm;
    const Kernel llvm_kernel = jit.compile(spec, dyn, options);
    options.backend = Backend::kXbyak;
    const Kernel xbyak_kernel = jit.compile(spec, dyn, options);
    std::vector<float> w(
        static_cast<std::size_t>(spec.kernel_size * (c.channels / spec.groups) * spec.filters));
    std::vector<float> b(static_cast<std::size_t>(spec.filters));
    for (float& x : w) x = dist(rng);
    for (float& x : b) x = dist(rng);
    const float* bias = spec.use_bias ? b.data() : nullptr;
    const PackedWeights lw = llvm_kernel.pack_weights(w.data(), bias);
    const PackedWeights xw = xbyak_kernel.pack_weights(w.data(), bias);
    for (const std::int64_t length : {std::int64_t{13}, std::int64_t{161}, std::int64_t{1000}}) {
      std::vector<float> in(static_cast<std::size_t>(2 * length * c.channels));
      for (float& x : in) x = dist(rng);
      const std::size_t n = static_cast<std::size_t>(llvm_kernel.output_size(2, length));
      Guarded lo(n), xo(n);
      llvm_kernel.run(in.data(), lw, lo.out(), 2, length);
      xbyak_kernel.run(in.data(), xw, xo.out(), 2, length);
      ASSERT_TRUE(lo.intact() && xo.intact()) << c.spec << " L=" << length;
      for (std::size_t j = 0; j < n; ++j) {
        ASSERT_EQ(std::memcmp(&lo.out()[j], &xo.out()[j], 4), 0)
            << c.spec << " L=" << length << " output " << j << ": llvm " << lo.out()[j] << " xbyak "
            << xo.out()[j];
      }
      ++ran;
    }
  }
  if (ran == 0) GTEST_SKIP() << "the host runs none of the cases' ISAs";
}

}  // namespace
}  // namespace convjit
