// Conv1DSpec validation and shape inference, with Keras 3's rules and messages.
#include <string>

#include "compiler/spec/keras_objects.hpp"
#include "compiler/spec/shape_rules.hpp"
#include "convjit/spec.hpp"

namespace convjit {
namespace {

/// filters, kernel_size, strides, dilation_rate and groups above this are refused: they
/// are far beyond any real layer, and keeping them below 2^31 keeps every length formula
/// (d*(K-1) + 1 etc.) inside int64.
constexpr std::int64_t kMaxArgument = 2147483647;
/// Input dimensions above 2^62 are refused for the same reason.
constexpr std::int64_t kMaxDimension = std::int64_t{1} << 62;

std::string dim_text(std::int64_t d) {
  return d == kDynamic ? "None" : std::to_string(d);
}

/// Python's repr of a shape tuple: "(1, 10, 4)", "(None, 5, 2)".
std::string shape_text(const Shape3& s) {
  return "(" + dim_text(s[0]) + ", " + dim_text(s[1]) + ", " + dim_text(s[2]) + ")";
}

/// Keras standardize_tuple's check of a 1-tuple.
void check_tuple(std::int64_t value, const char* name) {
  if (value <= 0) {
    const std::string v = std::to_string(value);
    throw Error(ErrorCode::kInvalidValue, name,
                std::string("The `") + name +
                    "` argument must be a tuple of 1 integers. Received " + name + "=" + v +
                    ", including values {" + v + "} that do not satisfy `value > 0`");
  }
}

void check_limit(std::int64_t value, const char* name) {
  if (value > kMaxArgument) {
    throw Error(ErrorCode::kResourceLimit, name,
                std::string("Invalid value for argument `") + name + "`: " + name + "=" +
                    std::to_string(value) + " exceeds the supported maximum of " +
                    std::to_string(kMaxArgument) + ".");
  }
}

/// Refuses a value of an enum field outside the enumerators: a C++ caller can cast any int
/// into a Conv1DSpec field, and every table indexed by one would read out of bounds.
void check_enum(int value, int count, const char* argument, const char* expected) {
  if (value < 0 || value >= count) {
    throw Error(ErrorCode::kInvalidValue, argument,
                std::string("Invalid value for argument `") + argument +
                    "`: " + std::to_string(value) + " is not one of the " + std::to_string(count) +
                    " values of its enum (" + expected + "). Received: " + argument + "=" +
                    std::to_string(value));
  }
}

std::int64_t channels_of(const Conv1DSpec& spec, const Shape3& s) {
  return spec.data_format == DataFormat::kChannelsLast ? s[2] : s[1];
}

std::int64_t length_of(const Conv1DSpec& spec, const Shape3& s) {
  return spec.data_format == DataFormat::kChannelsLast ? s[1] : s[2];
}

/// floor(a / b) for b > 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}

detail::ConvGeometry geometry_of(const Conv1DSpec& spec) {
  return {spec.padding, spec.kernel_size, spec.strides, spec.dilation_rate};
}

/// compute_output_shape of a validated spec and input shape.
Shape3 output_shape_unchecked(const Conv1DSpec& spec, const Shape3& input_shape) {
  const std::int64_t out_len =
      detail::output_length(geometry_of(spec), length_of(spec, input_shape));
  if (spec.data_format == DataFormat::kChannelsLast) {
    return {input_shape[0], out_len, spec.filters};
  }
  return {input_shape[0], spec.filters, out_len};
}

/// The shape an eager call returns from compute_output_shape's: glu splits the last axis in
/// two halves, channels (channels_last) or length, and Keras raises when it is odd.
Shape3 halve_for_glu(const Conv1DSpec& spec, Shape3 out) {
  if (spec.activation != Activation::kGlu) return out;
  std::int64_t& last = out[2];
  if (last == kDynamic) return out;
  if (last % 2 != 0) {
    throw Error(
        ErrorCode::kInvalidShape, "activation",
        "axis size must be divisible by 2. Received: x.shape=" + shape_text(out) + " with axis=-1");
  }
  last /= 2;
  return out;
}

}  // namespace

const char* padding_name(Padding p) {
  switch (p) {
    case Padding::kValid: return "valid";
    case Padding::kSame: return "same";
    case Padding::kCausal: return "causal";
  }
  return "invalid";
}

const char* data_format_name(DataFormat f) {
  switch (f) {
    case DataFormat::kChannelsLast: return "channels_last";
    case DataFormat::kChannelsFirst: return "channels_first";
  }
  return "invalid";
}

namespace detail {

void validate_enums(const Conv1DSpec& spec) {
  check_enum(static_cast<int>(spec.padding), 3, "padding", "valid, same, causal");
  check_enum(static_cast<int>(spec.data_format), 2, "data_format", "channels_last, channels_first");
  check_enum(static_cast<int>(spec.activation), kActivationCount, "activation",
             "a Keras activation");
  const std::pair<const Initializer*, const char*> initializers[] = {
      {&spec.kernel_initializer, "kernel_initializer"},
      {&spec.bias_initializer, "bias_initializer"}};
  for (const auto& [init, name] : initializers) {
    check_enum(static_cast<int>(init->kind), kInitializerKinds, name, "a Keras initializer");
  }
  const std::pair<const Regularizer*, const char*> regularizers[] = {
      {&spec.kernel_regularizer, "kernel_regularizer"},
      {&spec.bias_regularizer, "bias_regularizer"},
      {&spec.activity_regularizer, "activity_regularizer"}};
  for (const auto& [reg, name] : regularizers) {
    check_enum(static_cast<int>(reg->kind), kRegularizerKinds, name, "None, L1, L2, L1L2");
  }
  const std::pair<const Constraint*, const char*> constraints[] = {
      {&spec.kernel_constraint, "kernel_constraint"}, {&spec.bias_constraint, "bias_constraint"}};
  for (const auto& [c, name] : constraints) {
    check_enum(static_cast<int>(c->kind), kConstraintKinds, name,
               "None, MaxNorm, MinMaxNorm, NonNeg, UnitNorm");
  }
}

}  // namespace detail

bool Conv1DSpec::operator==(const Conv1DSpec& o) const {
  return filters == o.filters && kernel_size == o.kernel_size && strides == o.strides &&
         padding == o.padding && data_format == o.data_format && dilation_rate == o.dilation_rate &&
         groups == o.groups && activation == o.activation && use_bias == o.use_bias &&
         kernel_initializer == o.kernel_initializer && bias_initializer == o.bias_initializer &&
         kernel_regularizer == o.kernel_regularizer && bias_regularizer == o.bias_regularizer &&
         activity_regularizer == o.activity_regularizer &&
         kernel_constraint == o.kernel_constraint && bias_constraint == o.bias_constraint &&
         name == o.name && trainable == o.trainable;
}

void validate(const Conv1DSpec& spec) {
  // Enum fields first: every later check, message and table lookup may read them.
  detail::validate_enums(spec);
  // Then the order of Keras's BaseConv constructor.
  check_tuple(spec.kernel_size, "kernel_size");
  check_tuple(spec.strides, "strides");
  check_tuple(spec.dilation_rate, "dilation_rate");
  detail::validate_initializer(spec.kernel_initializer, "kernel_initializer");
  detail::validate_initializer(spec.bias_initializer, "bias_initializer");
  detail::validate_regularizer(spec.kernel_regularizer, "kernel_regularizer");
  detail::validate_regularizer(spec.bias_regularizer, "bias_regularizer");
  detail::validate_regularizer(spec.activity_regularizer, "activity_regularizer");
  detail::validate_constraint(spec.kernel_constraint, "kernel_constraint", 3);
  detail::validate_constraint(spec.bias_constraint, "bias_constraint", 1);
  if (spec.filters <= 0) {
    throw Error(ErrorCode::kInvalidValue, "filters",
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                "Received filters=" +
                    std::to_string(spec.filters) + ".");
  }
  if (spec.groups <= 0) {
    throw Error(ErrorCode::kInvalidValue, "groups",
                "The number of groups must be a positive integer. Received: groups=" +
                    std::to_string(spec.groups) + ".");
  }
  if (spec.filters % spec.groups != 0) {
    throw Error(ErrorCode::kIncompatibleArguments, "groups",
                "The number of filters must be evenly divisible by the number of groups. "
                "Received: groups=" +
                    std::to_string(spec.groups) + ", filters=" + std::to_string(spec.filters) +
                    ".");
  }
  if (spec.strides > 1 && spec.dilation_rate > 1) {
    throw Error(ErrorCode::kIncompatibleArguments, "strides",
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                "strides=(" +
                    std::to_string(spec.strides) + ",) and dilation_rate=(" +
                    std::to_string(spec.dilation_rate) + ",)");
  }
  check_limit(spec.filters, "filters");
  check_limit(spec.kernel_size, "kernel_size");
  check_limit(spec.strides, "strides");
  check_limit(spec.dilation_rate, "dilation_rate");
  check_limit(spec.groups, "groups");
}

void validate(const Conv1DSpec& spec, const Shape3& input_shape) {
  validate(spec);
  detail::validate_input_shape(spec, input_shape);
}

void detail::validate_input_shape(const Conv1DSpec& spec, const Shape3& input_shape) {
  std::int64_t elements = 1;
  for (std::int64_t d : input_shape) {
    if (d < 0 && d != kDynamic) {
      throw Error(ErrorCode::kInvalidShape, "input_shape",
                  "Invalid input shape " + shape_text(input_shape) +
                      ": dimensions must be non-negative, or None (kDynamic) when unknown.");
    }
    if (d > kMaxDimension || (d > 0 && __builtin_mul_overflow(elements, d, &elements))) {
      throw Error(ErrorCode::kResourceLimit, "input_shape",
                  "Input shape " + shape_text(input_shape) +
                      " is too large: its element count does not fit in a 64-bit integer.");
    }
  }
  const std::int64_t channels = channels_of(spec, input_shape);
  const int channel_axis = spec.data_format == DataFormat::kChannelsLast ? -1 : 1;
  if (channels == kDynamic) {
    throw Error(ErrorCode::kInvalidShape, "input_shape",
                "The channel dimension of the inputs should be defined. The input_shape received "
                "is " +
                    shape_text(input_shape) + ", where axis " + std::to_string(channel_axis) +
                    " (0-based) is the channel dimension, which found to be `None`.");
  }
  if (channels == 0) {
    throw Error(ErrorCode::kInvalidShape, "input_shape",
                "The number of input channels must be positive. Received an input with 0 "
                "channels (full input shape is " +
                    shape_text(input_shape) + ").");
  }
  if (channels % spec.groups != 0) {
    throw Error(ErrorCode::kInvalidShape, "groups",
                "The number of input channels must be evenly divisible by the number of groups. "
                "Received groups=" +
                    std::to_string(spec.groups) + ", but the input has " +
                    std::to_string(channels) + " channels (full input shape is " +
                    shape_text(input_shape) + ").");
  }
  const std::int64_t length = length_of(spec, input_shape);
  if (spec.padding == Padding::kValid && length != kDynamic &&
      detail::output_length(geometry_of(spec), length) <= 0) {
    throw Error(ErrorCode::kInvalidShape, "padding",
                "Computed output size would be zero or negative. Received `inputs shape=" +
                    shape_text(input_shape) + "`, `kernel shape=(" +
                    std::to_string(spec.kernel_size) + ", " + std::to_string(channels) + ", " +
                    std::to_string(spec.filters) + ")`, `dilation_rate=(" +
                    std::to_string(spec.dilation_rate) + ",)`, `strides=(" +
                    std::to_string(spec.strides) + ",)`, `padding=valid`.");
  }
}

std::int64_t detail::output_length(const ConvGeometry& g, std::int64_t length) {
  if (length == kDynamic) return kDynamic;
  if (g.padding == Padding::kValid) {
    const std::int64_t span = g.dilation_rate * (g.kernel_size - 1) + 1;
    return floor_div(length - span, g.strides) + 1;
  }
  // same, causal: floor((L - 1) / s) + 1 = ceil(L / s)
  return floor_div(length - 1, g.strides) + 1;
}

std::array<std::int64_t, 2> detail::padding_amounts(const ConvGeometry& g, std::int64_t length) {
  const std::int64_t span = g.dilation_rate * (g.kernel_size - 1);
  switch (g.padding) {
    case Padding::kValid: return {0, 0};
    case Padding::kCausal: return {span, 0};
    case Padding::kSame: {
      const std::int64_t out = output_length(g, length);
      std::int64_t total = (out - 1) * g.strides + span + 1 - length;
      if (total < 0) total = 0;
      return {total / 2, total - total / 2};
    }
  }
  return {0, 0};
}

std::int64_t output_length(const Conv1DSpec& spec, std::int64_t length) {
  return detail::output_length(geometry_of(spec), length);
}

std::array<std::int64_t, 2> padding_amounts(const Conv1DSpec& spec, std::int64_t length) {
  return detail::padding_amounts(geometry_of(spec), length);
}

Shape3 compute_output_shape(const Conv1DSpec& spec, const Shape3& input_shape) {
  validate(spec, input_shape);
  return output_shape_unchecked(spec, input_shape);
}

Shape3 call_output_shape(const Conv1DSpec& spec, const Shape3& input_shape) {
  return halve_for_glu(spec, compute_output_shape(spec, input_shape));
}

Shape3 detail::call_output_shape_of_valid_spec(const Conv1DSpec& spec, const Shape3& input_shape) {
  validate_input_shape(spec, input_shape);
  return halve_for_glu(spec, output_shape_unchecked(spec, input_shape));
}

}  // namespace convjit
