#include "compiler/reference/reference.hpp"

#include <vector>

#include "compiler/activation_math.hpp"

namespace convjit::detail {
namespace {

// Offsets of element (n, t, c) in a tensor with `channels` channels and `length` steps.
struct Layout {
  bool channels_first;
  std::int64_t length, channels;
  std::int64_t at(std::int64_t n, std::int64_t t, std::int64_t c) const {
    return channels_first ? (n * channels + c) * length + t : (n * length + t) * channels + c;
  }
};

}  // namespace

void reference_preactivation(const Problem& p, const float* input, const float* kernel,
                             const float* bias, double* preact) {
  const bool cf = p.data_format == DataFormat::kChannelsFirst;
  const Layout in{cf, p.length, p.in_channels};
  const Layout out{cf, p.out_length, p.filters};
  for (std::int64_t n = 0; n < p.batch; ++n) {
    for (std::int64_t t = 0; t < p.out_length; ++t) {
      for (std::int64_t f = 0; f < p.filters; ++f) {
        const std::int64_t g = f / p.oc_per_group;
        double acc = (p.use_bias && bias != nullptr) ? static_cast<double>(bias[f]) : 0.0;
        for (std::int64_t k = 0; k < p.kernel; ++k) {
          const std::int64_t pos = t * p.stride + k * p.dilation - p.pad_left;
          if (pos < 0 || pos >= p.length) continue;  // zero padding
          for (std::int64_t ci = 0; ci < p.ic_per_group; ++ci) {
            const double x = input[in.at(n, pos, g * p.ic_per_group + ci)];
            const double w = kernel[(k * p.ic_per_group + ci) * p.filters + f];
            acc += x * w;
          }
        }
        preact[out.at(n, t, f)] = acc;
      }
    }
  }
}

void reference_conv1d(const Problem& p, const float* input, const float* kernel, const float* bias,
                      float* output) {
  const bool cf = p.data_format == DataFormat::kChannelsFirst;
  const std::int64_t pre_size = p.batch * p.out_length * p.filters;
  std::vector<double> pre(static_cast<std::size_t>(pre_size));
  reference_preactivation(p, input, kernel, bias, pre.data());

  // The activation acts on the output in its own layout; axis ones on the last axis.
  const std::int64_t axis_len = cf ? p.out_length : p.filters;
  const std::int64_t rows = axis_len == 0 ? 0 : pre_size / axis_len;
  if (p.activation == Activation::kGlu) {
    const std::int64_t half = axis_len / 2;
    for (std::int64_t r = 0; r < rows; ++r) {
      std::vector<double> row(static_cast<std::size_t>(half));
      apply_glu(pre.data() + r * axis_len, axis_len, 1, row.data(), 1);
      for (std::int64_t i = 0; i < half; ++i) output[r * half + i] = static_cast<float>(row[i]);
    }
    return;
  }
  if (is_axis_activation(p.activation)) {
    for (std::int64_t r = 0; r < rows; ++r) {
      activate_axis(p.activation, pre.data() + r * axis_len, axis_len, 1);
    }
  } else {
    for (double& v : pre) v = activate(p.activation, v);
  }
  for (std::int64_t i = 0; i < pre_size; ++i) output[i] = static_cast<float>(pre[i]);
}

}  // namespace convjit::detail
