// Built with -O3 -march=native (set_source_files_properties in harness/CMakeLists.txt).
#include "harness/naive_stream_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "convjit/error.hpp"

namespace convjit::harness {

NaiveStreamLoop::NaiveStreamLoop(const SuiteShape& s, Activation activation, const float* kernel,
                                 const float* bias)
    : channels_(s.in_channels),
      filters_(s.filters),
      kernel_(s.kernel),
      dilation_(s.dilation),
      stride_(s.stride),
      groups_(s.groups),
      window_((s.kernel - 1) * s.dilation + 1),
      pad_left_(s.padding == Padding::kCausal ? (s.kernel - 1) * s.dilation : 0),
      activation_(activation),
      weights_(kernel, kernel + s.kernel_elems()),
      bias_(bias, bias + s.filters),
      ring_(static_cast<std::size_t>(window_ * s.in_channels), 0.0f) {
  if (s.padding != Padding::kCausal && s.padding != Padding::kValid) {
    throw Error(ErrorCode::kUnsupported, "padding",
                fmt::format("The plain streaming loop takes causal or valid padding. Received: {}",
                            padding_name(s.padding)));
  }
  if (activation != Activation::kLinear && activation != Activation::kRelu &&
      activation != Activation::kSilu) {
    throw Error(ErrorCode::kUnsupported, "activation",
                fmt::format("The plain streaming loop takes linear, relu or silu. Received: {}",
                            activation_name(activation)));
  }
}

int NaiveStreamLoop::step(const float* row, float* output) {
  const std::int64_t C = channels_, F = filters_;
  const std::int64_t n = consumed_++;
  std::copy(row, row + C, ring_.data() + (n % window_) * C);
  // Output j's window ends at input j * s - pad_left + (window - 1): is it this row?
  const std::int64_t last = n + pad_left_ - (window_ - 1);
  if (last < 0 || last % stride_ != 0) return 0;
  const std::int64_t cg = C / groups_, fg = F / groups_;
  // The ring starts zeroed: rows before the sequence are Keras's zero padding.
  const auto input_row = [&](std::int64_t k) {
    const std::int64_t r = n - (kernel_ - 1 - k) * dilation_;
    return ring_.data() + ((r % window_ + window_) % window_) * C;
  };
  if (cg == 1 && fg == 1) {  // depthwise: channel c's filter reads channel c
    std::copy(bias_.begin(), bias_.end(), output);
    for (std::int64_t k = 0; k < kernel_; ++k) {
      const float* x = input_row(k);
      const float* w = weights_.data() + k * F;
      for (std::int64_t c = 0; c < C; ++c) output[c] += x[c] * w[c];
    }
  } else {
    std::copy(bias_.begin(), bias_.end(), output);
    for (std::int64_t k = 0; k < kernel_; ++k) {
      const float* x = input_row(k);
      for (std::int64_t g = 0; g < groups_; ++g) {
        for (std::int64_t ci = 0; ci < cg; ++ci) {
          const float xv = x[g * cg + ci];
          const float* w = weights_.data() + (k * cg + ci) * F + g * fg;
          float* out = output + g * fg;
          for (std::int64_t fo = 0; fo < fg; ++fo) out[fo] += xv * w[fo];
        }
      }
    }
  }
  if (activation_ == Activation::kRelu) {
    for (std::int64_t f = 0; f < F; ++f) output[f] = std::max(output[f], 0.0f);
  } else if (activation_ == Activation::kSilu) {
    for (std::int64_t f = 0; f < F; ++f) output[f] = output[f] / (1.0f + std::exp(-output[f]));
  }
  return 1;
}

}  // namespace convjit::harness
