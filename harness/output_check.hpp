// Checks one engine's output against another's with the golden-case tolerance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/suite.hpp"

namespace convjit::harness {

/// acc_scale of conformance/FORMAT.md: max over output elements of sum |x*w| + |b| over the
/// element's receptive field (channels_last data, Keras kernel layout, bias of F floats).
/// Plain loops in float; independent of every engine.
double acc_scale(const SuiteShape& s, const float* input, const float* kernel, const float* bias);

/// The result of comparing `got` with `want`.
struct CheckResult {
  std::int64_t mismatches = 0;    ///< elements outside the tolerance (or NaN/Inf)
  double max_error_ratio = 0.0;   ///< max |got-want| / tolerance(want)
  std::int64_t worst_index = -1;  ///< element of max_error_ratio
  bool ok() const { return mismatches == 0; }
  /// "ok (max err/tol 0.013)" or "MISMATCH: 12 of 4096 elements, worst [17] got 1 want 2"
  std::string describe(const std::vector<float>& got, const std::vector<float>& want) const;
};

/// Compares element-wise with |got - want| <= 1e-5*max(1, acc_scale) + 1e-4*|want|, the
/// tolerance of conformance/FORMAT.md. Sizes that differ count every element as a mismatch.
CheckResult compare_outputs(const std::vector<float>& got, const std::vector<float>& want,
                            double acc_scale);

}  // namespace convjit::harness
