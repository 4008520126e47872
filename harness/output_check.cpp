#include "harness/output_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace convjit::harness {

double acc_scale(const SuiteShape& s, const float* input, const float* kernel, const float* bias) {
  const std::int64_t cg = s.in_channels / s.groups;
  const std::int64_t fg = s.filters / s.groups;
  const std::int64_t cin = s.in_channels, f_all = s.filters;
  std::vector<float> abs_w(static_cast<std::size_t>(s.kernel_elems()));
  for (std::size_t i = 0; i < abs_w.size(); ++i) abs_w[i] = std::fabs(kernel[i]);
  std::vector<float> acc(static_cast<std::size_t>(f_all));
  double scale = 0.0;
  for (std::int64_t n = 0; n < s.batch; ++n) {
    for (std::int64_t t = 0; t < s.out_length; ++t) {
      for (std::int64_t f = 0; f < f_all; ++f) acc[f] = std::fabs(bias[f]);
      for (std::int64_t k = 0; k < s.kernel; ++k) {
        const std::int64_t pos = t * s.stride + k * s.dilation - s.pad_left;
        if (pos < 0 || pos >= s.length) continue;
        const float* x = input + (n * s.length + pos) * cin;
        const float* w = abs_w.data() + k * cg * f_all;
        if (cg == 1 && fg == 1) {  // depthwise: contiguous over channels
          for (std::int64_t c = 0; c < f_all; ++c) acc[c] += std::fabs(x[c]) * w[c];
          continue;
        }
        for (std::int64_t g = 0; g < s.groups; ++g) {
          for (std::int64_t ci = 0; ci < cg; ++ci) {
            const float xv = std::fabs(x[g * cg + ci]);
            const float* wr = w + ci * f_all + g * fg;
            float* a = acc.data() + g * fg;
            for (std::int64_t fo = 0; fo < fg; ++fo) a[fo] += xv * wr[fo];
          }
        }
      }
      for (std::int64_t f = 0; f < f_all; ++f) scale = std::max(scale, double{acc[f]});
    }
  }
  return scale;
}

CheckResult compare_outputs(const std::vector<float>& got, const std::vector<float>& want,
                            double acc_scale) {
  CheckResult r;
  if (got.size() != want.size()) {
    r.mismatches = static_cast<std::int64_t>(std::max(got.size(), want.size()));
    r.max_error_ratio = INFINITY;
    return r;
  }
  const double atol = 1e-5 * std::max(1.0, acc_scale);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    const double tol = atol + 1e-4 * std::fabs(w);
    double ratio = std::fabs(g - w) / tol;
    if (!std::isfinite(g) || !std::isfinite(w) || std::isnan(ratio)) ratio = INFINITY;
    if (ratio > 1.0) ++r.mismatches;
    if (r.worst_index < 0 || ratio > r.max_error_ratio) {
      r.max_error_ratio = ratio;
      r.worst_index = static_cast<std::int64_t>(i);
    }
  }
  return r;
}

std::string CheckResult::describe(const std::vector<float>& got,
                                  const std::vector<float>& want) const {
  if (ok()) return fmt::format("ok (max err/tol {:.3g})", max_error_ratio);
  if (got.size() != want.size()) {
    return fmt::format("MISMATCH: {} elements vs {}", got.size(), want.size());
  }
  const auto i = static_cast<std::size_t>(worst_index);
  return fmt::format("MISMATCH: {} of {} elements, worst [{}] got {} want {} (err/tol {:.3g})",
                     mismatches, got.size(), worst_index, got[i], want[i], max_error_ratio);
}

}  // namespace convjit::harness
