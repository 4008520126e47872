// SuiteShape — one row of the benchmark shape suite (shared/anchors/suite.csv).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convjit/spec.hpp"

namespace convjit::harness {

/// A Conv1D layer of the suite: channels_last, with a bias. Sizes as in suite.csv.
struct SuiteShape {
  std::string name;
  std::int64_t batch = 1;        ///< N
  std::int64_t length = 1;       ///< L
  std::int64_t in_channels = 1;  ///< Cin
  std::int64_t filters = 1;      ///< F
  std::int64_t kernel = 1;       ///< K
  std::int64_t stride = 1;       ///< s
  std::int64_t dilation = 1;     ///< d (Keras's dilation_rate)
  std::int64_t groups = 1;       ///< g
  Padding padding = Padding::kValid;
  std::int64_t pad_left = 0;  ///< Keras's left zero padding for this length
  std::int64_t pad_right = 0;
  std::int64_t out_length = 0;  ///< Lout
  double flops = 0.0;           ///< 2*N*Lout*F*(Cin/g)*K
  double min_bytes = 0.0;       ///< input + weights + bias read once, output written once
  std::string origin;

  /// The Keras spec of the layer with `activation` fused (linear by default).
  Conv1DSpec spec(Activation activation = Activation::kLinear) const;
  /// (N, L, Cin)
  Shape3 input_shape() const { return {batch, length, in_channels}; }
  std::int64_t input_elems() const { return batch * length * in_channels; }
  std::int64_t kernel_elems() const { return kernel * (in_channels / groups) * filters; }
  std::int64_t output_elems() const { return batch * out_length * filters; }
};

/// 2*N*Lout*F*(Cin/g)*K, the suite's formula.
double conv_flops(const SuiteShape& s);

/// Reads a suite CSV (header line with at least the columns name, N, L, Cin, F, K, s, d, g,
/// pad; padL, padR, Lout, flops, min_bytes and origin are optional and recomputed or
/// cross-checked when present). Throws Error(kIoError) for an unreadable file and
/// Error(kParseError) naming the line for a malformed one, including a Keras-invalid layer
/// and a padL/padR/Lout/flops column that disagrees with Keras's rules.
std::vector<SuiteShape> read_suite(const std::string& path);

/// Parses CSV text (as read_suite); `source` names it in errors.
std::vector<SuiteShape> parse_suite(const std::string& text, const std::string& source);

/// The same layer at another batch and length: pads, Lout and flops recomputed.
SuiteShape resize(const SuiteShape& s, std::int64_t batch, std::int64_t length);

/// For --quick: N reduced to 1, then L reduced (keeping a valid output of at least a few
/// steps), until flops <= max_flops. Returns s unchanged when it already fits.
SuiteShape shrink_to_flops(const SuiteShape& s, double max_flops);

/// The index of the shape called `name`, or -1.
int find_shape(const std::vector<SuiteShape>& suite, const std::string& name);

}  // namespace convjit::harness
