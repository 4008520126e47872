// Problem — a validated Conv1D spec and input shape, normalized for the compiler.
#pragma once

#include <cstdint>
#include <string>

#include "convjit/spec.hpp"

namespace convjit::detail {

/// Everything lowering, scheduling and code generation need, in plain numbers.
/// When length_is_dynamic, `length`, `out_length` and the pads are those of the
/// concrete length the Problem was made for (or 0), and code must take the length at
/// run time: use resolve_length() for the numbers of another length.
struct Problem {
  std::int64_t batch = 1;         ///< N (0 allowed: empty batch)
  std::int64_t length = 0;        ///< L, the input length
  std::int64_t in_channels = 1;   ///< C
  std::int64_t filters = 1;       ///< F
  std::int64_t kernel = 1;        ///< K
  std::int64_t stride = 1;        ///< s
  std::int64_t dilation = 1;      ///< d
  std::int64_t groups = 1;        ///< g
  std::int64_t ic_per_group = 1;  ///< C / g
  std::int64_t oc_per_group = 1;  ///< F / g
  std::int64_t pad_left = 0;
  std::int64_t pad_right = 0;
  std::int64_t out_length = 0;  ///< Lout (>= 0)
  Padding padding = Padding::kValid;
  DataFormat data_format = DataFormat::kChannelsLast;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  bool length_is_dynamic = false;

  bool is_depthwise() const { return groups > 1 && ic_per_group == 1; }
  bool is_pointwise() const { return kernel == 1 && stride == 1 && pad_left == 0; }
  /// Channels of the final output (filters, or filters/2 for glu on channels_last).
  std::int64_t out_channels() const;
  /// Length of the final output (out_length, or out_length/2 for glu on channels_first).
  std::int64_t final_out_length() const;
  /// Output element count after the activation, N * final channels * final length.
  std::int64_t output_size() const { return batch * out_channels() * final_out_length(); }
  std::int64_t input_size() const { return batch * length * in_channels; }
  /// Keras kernel (K, C/g, F) element count.
  std::int64_t kernel_size_elems() const { return kernel * ic_per_group * filters; }
  /// 2 * N * Lout * F * (C/g) * K
  double flops() const;
  std::string to_string() const;
};

/// Validates spec and input shape (Keras rules) and normalizes them. The shape is in
/// the spec's data_format order; its length may be kDynamic (then the Problem is made
/// for length 0 and marked dynamic; valid padding then accepts any length at run time
/// whose output length is >= 1, as Keras and a static compile).
Problem make_problem(const Conv1DSpec& spec, const Shape3& input_shape);

/// The same problem for a concrete batch and length (run-time values of a dynamic kernel).
/// Throws Error(kInvalidShape, "padding") when a `valid` output length would be <= 0.
Problem resolve_length(const Problem& p, std::int64_t batch, std::int64_t length);

}  // namespace convjit::detail
