#include "compiler/problem.hpp"

#include <fmt/format.h>

#include "compiler/spec/shape_rules.hpp"

namespace convjit::detail {

std::int64_t Problem::out_channels() const {
  const bool halve = activation == Activation::kGlu && data_format == DataFormat::kChannelsLast;
  return halve ? filters / 2 : filters;
}

std::int64_t Problem::final_out_length() const {
  const bool halve = activation == Activation::kGlu && data_format == DataFormat::kChannelsFirst;
  return halve ? out_length / 2 : out_length;
}

double Problem::flops() const {
  return 2.0 * static_cast<double>(batch) * static_cast<double>(out_length) *
         static_cast<double>(filters) * static_cast<double>(ic_per_group) *
         static_cast<double>(kernel);
}

std::string Problem::to_string() const {
  return fmt::format(
      "N={} L={}{} C={} F={} K={} s={} d={} g={} pad={}+{} Lout={} {} {} act={} bias={}", batch,
      length, length_is_dynamic ? "(dynamic)" : "", in_channels, filters, kernel, stride, dilation,
      groups, pad_left, pad_right, out_length, padding_name(padding), data_format_name(data_format),
      activation_name(activation), use_bias ? "yes" : "no");
}

Problem make_problem(const Conv1DSpec& spec, const Shape3& input_shape) {
  validate(spec, input_shape);
  const bool cf = spec.data_format == DataFormat::kChannelsFirst;
  Problem p;
  p.in_channels = cf ? input_shape[1] : input_shape[2];
  const std::int64_t length = cf ? input_shape[2] : input_shape[1];
  p.batch = input_shape[0] == kDynamic ? 0 : input_shape[0];
  p.filters = spec.filters;
  p.kernel = spec.kernel_size;
  p.stride = spec.strides;
  p.dilation = spec.dilation_rate;
  p.groups = spec.groups;
  p.ic_per_group = p.in_channels / p.groups;
  p.oc_per_group = p.filters / p.groups;
  p.padding = spec.padding;
  p.data_format = spec.data_format;
  p.activation = spec.activation;
  p.use_bias = spec.use_bias;
  p.length_is_dynamic = length == kDynamic;
  if (p.length_is_dynamic) return p;  // length 0, out_length 0, pads 0: resolved per call
  return resolve_length(p, p.batch, length);
}

Problem resolve_length(const Problem& base, std::int64_t batch, std::int64_t length) {
  if (batch < 0) {
    throw Error(ErrorCode::kInvalidShape, "batch",
                fmt::format("The batch size must be >= 0. Received batch={}", batch));
  }
  if (length < 0) {
    throw Error(ErrorCode::kInvalidShape, "length",
                fmt::format("The input length must be >= 0. Received length={}", length));
  }
  // Called by every run of a dynamic-length kernel: numbers only, nothing allocated.
  const ConvGeometry geometry{base.padding, base.kernel, base.stride, base.dilation};
  const std::int64_t out = output_length(geometry, length);
  // As validate() for a static length (Keras >= 3.14): a `valid` conv needs an output of at
  // least one step, also for a length given at run time to a dynamic-length kernel.
  if (out < 0 || (out == 0 && base.padding == Padding::kValid)) {
    throw Error(ErrorCode::kInvalidShape, "padding",
                fmt::format("Computed output size would be zero or negative. Received length={}, "
                            "kernel_size={}, dilation_rate={}, strides={}, padding=valid.",
                            length, base.kernel, base.dilation, base.stride));
  }
  Problem p = base;
  p.batch = batch;
  p.length = length;
  p.out_length = out;
  const auto pads = padding_amounts(geometry, length);
  p.pad_left = pads[0];
  p.pad_right = pads[1];
  if (p.activation == Activation::kGlu) {
    const std::int64_t axis = p.data_format == DataFormat::kChannelsLast ? p.filters : out;
    if (axis % 2 != 0) {
      throw Error(ErrorCode::kInvalidShape, "activation",
                  fmt::format("glu: axis size must be divisible by 2. Received: axis size={} "
                              "(the last axis of the conv output, {})",
                              axis, data_format_name(p.data_format)));
    }
  }
  return p;
}

}  // namespace convjit::detail
