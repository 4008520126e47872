// Test harness of the Xbyak backend: hand-made Problems and Schedules, guarded buffers,
// a differential run against detail::reference_conv1d, and split-range runs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/backend/generated_kernel.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail::jit_test {

/// Everything that makes a Conv1D problem, with Keras defaults.
struct ConvCase {
  std::int64_t batch = 1, length = 8, channels = 3, filters = 5, kernel = 3;
  std::int64_t stride = 1, dilation = 1, groups = 1;
  Padding padding = Padding::kValid;
  DataFormat format = DataFormat::kChannelsLast;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  bool dynamic = false;
};

/// The Problem of `c` for its length (pads and output length as Keras computes them).
Problem make_case_problem(const ConvCase& c);
/// `base` with a concrete batch and length (for dynamic kernels and the reference).
Problem with_length(const Problem& base, std::int64_t batch, std::int64_t length);

/// A schedule made by hand (fields are plain data).
Schedule make_schedule(Isa isa, int tile_t, int tile_oc_vecs, Strategy strategy = Strategy::kDirect,
                       int unroll_ic = 1);

bool host_has_avx512();

/// Floats with 64 canary floats (a NaN pattern) on each side.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t floats, float fill = 0.0f);
  float* data() { return storage_.data() + kGuard; }
  std::size_t size() const { return size_; }
  /// True when every canary float still has its bit pattern.
  bool guards_intact() const;
  std::vector<float> contents() const;

  static constexpr std::size_t kGuard = 64;

 private:
  std::size_t size_;
  std::vector<float> storage_;
};

/// Inputs of one run, from a seeded RNG.
struct CaseData {
  std::vector<float> input, kernel, bias;
};
CaseData make_data(const Problem& p, std::uint32_t seed);

/// max over outputs of sum |x*w| + |b| (the scale of the accumulation error).
double accumulation_scale(const Problem& p, const CaseData& d);

/// The output ranges of one kernel call: n in [n0, n1), t in [t0, t1), oc in [oc0, oc1).
struct Ranges {
  std::int64_t n0, n1, t0, t1, oc0, oc1;
};

/// The KernelArgs of one call on the resolved problem `p` (its length, output length and
/// left pad) over `ranges`, the whole range when not given; `bias` is passed only when
/// p.use_bias.
KernelArgs kernel_args(const Problem& p, const float* input, const float* weights,
                       const float* bias, float* output, float* scratch,
                       const std::optional<Ranges>& ranges = std::nullopt);

/// Outcome of checking one kernel run against the reference.
struct CheckResult {
  bool ok = true;
  std::string message;  // first mismatch or broken guard, with a repro line
};

/// Runs `kernel` on the resolved problem `p` (whole range), checks the guards and the
/// reference; with `check_splits`, also runs split ranges and compares bit for bit.
CheckResult run_and_check(const GeneratedKernel& kernel, const Problem& p, const CaseData& d,
                          bool check_splits, std::vector<float>* output = nullptr);

}  // namespace convjit::detail::jit_test
