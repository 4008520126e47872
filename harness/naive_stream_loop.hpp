// NaiveStreamLoop — what a C++ host writes today to stream a Conv1D without a library: a ring
// buffer of the last (K-1)*d+1 input rows and nested loops for each new output. Compiled
// -O3 -march=native (harness/CMakeLists.txt) so the compiler vectorizes what it can: the
// bench's "plain per-sample loop" baseline, not a reference (its sums run in its own order).
#pragma once

#include <cstdint>
#include <vector>

#include "harness/suite.hpp"

namespace convjit::harness {

class NaiveStreamLoop {
 public:
  /// `shape`'s layer (causal or valid padding, any strides, dilation and groups; linear,
  /// relu or silu) with `kernel` in Keras layout (K, Cin/g, F) and `bias` (F floats), both
  /// copied. Throws Error(kUnsupported) for another padding or activation.
  NaiveStreamLoop(const SuiteShape& shape, Activation activation, const float* kernel,
                  const float* bias);

  /// Consumes one input row (Cin floats); when it completes an output, writes its F floats
  /// to `output` and returns 1, else returns 0.
  int step(const float* row, float* output);

 private:
  std::int64_t channels_, filters_, kernel_, dilation_, stride_, groups_;
  std::int64_t window_;    ///< (K - 1) * d + 1 rows
  std::int64_t pad_left_;  ///< causal: (K - 1) * d; valid: 0
  Activation activation_;
  std::vector<float> weights_, bias_;
  std::vector<float> ring_;  ///< window_ rows; row r of the sequence at r % window_
  std::int64_t consumed_ = 0;
};

}  // namespace convjit::harness
