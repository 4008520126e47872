#include "jit_harness.hpp"

#include <fmt/format.h>
#include <xbyak/xbyak_util.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "compiler/reference/reference.hpp"

namespace convjit::detail::jit_test {
namespace {

constexpr std::uint32_t kCanaryBits = 0x7fc0dead;  // a quiet NaN with a payload

float canary() {
  float f;
  std::memcpy(&f, &kCanaryBits, sizeof f);
  return f;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

Problem with_length(const Problem& base, std::int64_t batch, std::int64_t length) {
  Problem p = base;
  p.batch = batch;
  p.length = length;
  const std::int64_t span = p.dilation * (p.kernel - 1) + 1;
  switch (p.padding) {
    case Padding::kValid:
      p.out_length = length >= span ? (length - span) / p.stride + 1 : 0;
      p.pad_left = p.pad_right = 0;
      break;
    case Padding::kSame: {
      p.out_length = ceil_div(length, p.stride);
      const std::int64_t total =
          std::max<std::int64_t>((p.out_length - 1) * p.stride + span - length, 0);
      p.pad_left = total / 2;
      p.pad_right = total - p.pad_left;
      break;
    }
    case Padding::kCausal:
      p.out_length = ceil_div(length, p.stride);
      p.pad_left = span - 1;
      p.pad_right = 0;
      break;
  }
  return p;
}

Problem make_case_problem(const ConvCase& c) {
  Problem p;
  p.in_channels = c.channels;
  p.filters = c.filters;
  p.kernel = c.kernel;
  p.stride = c.stride;
  p.dilation = c.dilation;
  p.groups = c.groups;
  p.ic_per_group = c.channels / c.groups;
  p.oc_per_group = c.filters / c.groups;
  p.padding = c.padding;
  p.data_format = c.format;
  p.activation = c.activation;
  p.use_bias = c.use_bias;
  p.length_is_dynamic = c.dynamic;
  if (c.dynamic) {
    p.batch = c.batch;
    return p;  // length 0, out 0, pads 0: given at run time
  }
  return with_length(p, c.batch, c.length);
}

Schedule make_schedule(Isa isa, int tile_t, int tile_oc_vecs, Strategy strategy, int unroll_ic) {
  Schedule s;
  s.isa = isa;
  s.vector_lanes = isa == Isa::kAvx512 ? 16 : 8;
  s.tile_t = tile_t;
  s.tile_oc_vecs = tile_oc_vecs;
  s.strategy = strategy;
  s.unroll_ic = strategy == Strategy::kDepthwise ? 1 : unroll_ic;  // no ic reduction
  return s;
}

bool host_has_avx512() {
  static const bool has = [] {
    Xbyak::util::Cpu cpu;
    return cpu.has(Xbyak::util::Cpu::tAVX512F) && cpu.has(Xbyak::util::Cpu::tAVX512BW) &&
           cpu.has(Xbyak::util::Cpu::tAVX512DQ) && cpu.has(Xbyak::util::Cpu::tAVX512VL);
  }();
  return has;
}

GuardedBuffer::GuardedBuffer(std::size_t floats, float fill)
    : size_(floats), storage_(floats + 2 * kGuard, canary()) {
  std::fill(storage_.begin() + kGuard, storage_.begin() + kGuard + floats, fill);
}

bool GuardedBuffer::guards_intact() const {
  for (std::size_t i = 0; i < kGuard; ++i) {
    std::uint32_t a, b;
    std::memcpy(&a, &storage_[i], 4);
    std::memcpy(&b, &storage_[kGuard + size_ + i], 4);
    if (a != kCanaryBits || b != kCanaryBits) return false;
  }
  return true;
}

std::vector<float> GuardedBuffer::contents() const {
  return std::vector<float>(storage_.begin() + kGuard, storage_.begin() + kGuard + size_);
}

CaseData make_data(const Problem& p, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  CaseData d;
  d.input.resize(static_cast<std::size_t>(p.input_size()));
  d.kernel.resize(static_cast<std::size_t>(p.kernel_size_elems()));
  d.bias.resize(static_cast<std::size_t>(p.filters));
  for (float& v : d.input) v = dist(rng);
  for (float& v : d.kernel) v = dist(rng);
  for (float& v : d.bias) v = dist(rng);
  return d;
}

double accumulation_scale(const Problem& p, const CaseData& d) {
  CaseData a = d;
  for (float& v : a.input) v = std::fabs(v);
  for (float& v : a.kernel) v = std::fabs(v);
  for (float& v : a.bias) v = std::fabs(v);
  Problem q = p;
  q.activation = Activation::kLinear;
  std::vector<double> pre(static_cast<std::size_t>(q.batch * q.out_length * q.filters) + 1);
  reference_preactivation(q, a.input.data(), a.kernel.data(), a.bias.data(), pre.data());
  double scale = 0.0;
  for (double v : pre) scale = std::max(scale, v);
  return scale;
}

KernelArgs kernel_args(const Problem& p, const float* input, const float* weights,
                       const float* bias, float* output, float* scratch,
                       const std::optional<Ranges>& ranges) {
  const Ranges r = ranges.value_or(Ranges{0, p.batch, 0, p.out_length, 0, p.filters});
  KernelArgs a;
  a.input = input;
  a.weights = weights;
  a.bias = p.use_bias ? bias : nullptr;
  a.output = output;
  a.scratch = scratch;
  a.length = p.length;
  a.out_length = p.out_length;
  a.pad_left = p.pad_left;
  a.n_begin = r.n0;
  a.n_end = r.n1;
  a.t_begin = r.t0;
  a.t_end = r.t1;
  a.oc_begin = r.oc0;
  a.oc_end = r.oc1;
  return a;
}

namespace {

// Runs the kernel once per range; the output buffer accumulates the calls.
bool run_ranges(const GeneratedKernel& kernel, const Problem& p, const CaseData& d,
                const std::vector<float>& packed, const std::vector<Ranges>& ranges,
                GuardedBuffer& out, std::string* why) {
  GuardedBuffer scratch(std::max<std::size_t>(kernel.scratch_floats(p.length), 1));
  for (const Ranges& r : ranges) {
    const KernelArgs a =
        kernel_args(p, d.input.data(), packed.data(), d.bias.data(), out.data(), scratch.data(), r);
    kernel.entry()(&a);
    if (!scratch.guards_intact()) {
      *why = "scratch canaries overwritten";
      return false;
    }
    if (!out.guards_intact()) {
      *why = "output canaries overwritten";
      return false;
    }
  }
  return true;
}

}  // namespace

CheckResult run_and_check(const GeneratedKernel& kernel, const Problem& p, const CaseData& d,
                          bool check_splits, std::vector<float>* output) {
  CheckResult res;
  const std::string repro =
      fmt::format("[{} | {} | {}]", kernel.name(), p.to_string(), to_string(kernel.schedule()));
  std::vector<float> packed(kernel.packed_weights_floats() + 1);
  kernel.pack_weights(d.kernel.data(), packed.data());

  const std::size_t out_size = static_cast<std::size_t>(p.output_size());
  const std::vector<Ranges> whole{{0, p.batch, 0, p.out_length, 0, p.filters}};
  GuardedBuffer got(out_size, -777.0f);
  std::string why;
  if (!run_ranges(kernel, p, d, packed, whole, got, &why)) {
    res.ok = false;
    res.message = why + " " + repro;
    return res;
  }
  std::vector<float> want(out_size + 1);
  reference_conv1d(p, d.input.data(), d.kernel.data(), p.use_bias ? d.bias.data() : nullptr,
                   want.data());
  const double scale = std::max(1.0, accumulation_scale(p, d));
  const std::vector<float> g = got.contents();
  for (std::size_t i = 0; i < out_size; ++i) {
    const double diff = std::fabs(static_cast<double>(g[i]) - want[i]);
    const double tol = 1e-5 * scale + 1e-4 * std::fabs(want[i]);
    if (!(diff <= tol)) {
      res.ok = false;
      res.message =
          fmt::format("output[{}] = {} want {} (tol {}) {}", i, g[i], want[i], tol, repro);
      return res;
    }
  }
  if (output != nullptr) *output = g;
  if (!check_splits) return res;

  // Split ranges: halves of n, t (when allowed) and oc (on the granularity).
  const std::int64_t nm = p.batch / 2;
  const std::int64_t tm = kernel.can_split_time() ? p.out_length / 3 : 0;
  const std::int64_t gran = kernel.oc_split_granularity();
  const std::int64_t ocm = gran > 0 ? (p.filters / 2) / gran * gran : 0;
  std::vector<Ranges> parts;
  for (auto [n0, n1] : {std::pair{std::int64_t{0}, nm}, std::pair{nm, p.batch}}) {
    for (auto [t0, t1] : {std::pair{std::int64_t{0}, tm}, std::pair{tm, p.out_length}}) {
      for (auto [o0, o1] : {std::pair{std::int64_t{0}, ocm}, std::pair{ocm, p.filters}}) {
        if (n0 < n1 && t0 < t1 && o0 < o1) parts.push_back({n0, n1, t0, t1, o0, o1});
      }
    }
  }
  std::reverse(parts.begin(), parts.end());  // a different order than the whole run
  GuardedBuffer split(out_size, -777.0f);
  if (!run_ranges(kernel, p, d, packed, parts, split, &why)) {
    res.ok = false;
    res.message = "split run: " + why + " " + repro;
    return res;
  }
  const std::vector<float> s = split.contents();
  if (out_size > 0 && std::memcmp(s.data(), g.data(), out_size * sizeof(float)) != 0) {
    for (std::size_t i = 0; i < out_size; ++i) {
      if (std::memcmp(&s[i], &g[i], sizeof(float)) != 0) {
        res.ok = false;
        res.message = fmt::format(
            "split ranges differ at {}: {} vs whole {} (n/2={}, t={}, "
            "oc={}) {}",
            i, s[i], g[i], nm, tm, ocm, repro);
        return res;
      }
    }
  }
  return res;
}

}  // namespace convjit::detail::jit_test
