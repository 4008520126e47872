// Conv1DSpec — every argument of keras.layers.Conv1D, validated with Keras's rules.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "convjit/activation.hpp"
#include "convjit/error.hpp"

namespace convjit {

enum class Padding { kValid, kSame, kCausal };
enum class DataFormat { kChannelsLast, kChannelsFirst };

/// A Keras initializer with its arguments (Keras defaults unless set).
struct Initializer {
  enum class Kind {
    kZeros,
    kOnes,
    kConstant,
    kRandomNormal,
    kRandomUniform,
    kTruncatedNormal,
    kGlorotUniform,
    kGlorotNormal,
    kHeNormal,
    kHeUniform,
    kLecunNormal,
    kLecunUniform,
    kOrthogonal,
    kVarianceScaling,
  };
  Initializer() = default;
  explicit Initializer(Kind k) : kind(k) {}

  Kind kind = Kind::kGlorotUniform;
  double value = 0.0;                    ///< Constant
  double mean = 0.0, stddev = 0.05;      ///< RandomNormal, TruncatedNormal
  double minval = -0.05, maxval = 0.05;  ///< RandomUniform
  double gain = 1.0;                     ///< Orthogonal
  double scale = 1.0;                    ///< VarianceScaling
  std::string mode = "fan_in";           ///< VarianceScaling: fan_in, fan_out, fan_avg
  std::string distribution =
      "truncated_normal";  ///< VarianceScaling: truncated_normal, untruncated_normal, uniform
  std::optional<std::int64_t> seed;  ///< none: nondeterministic, as Keras

  bool operator==(const Initializer& o) const;
  bool operator!=(const Initializer& o) const { return !(*this == o); }
};

/// A Keras weight regularizer; kNone when the argument is None.
struct Regularizer {
  enum class Kind { kNone, kL1, kL2, kL1L2 };
  Kind kind = Kind::kNone;
  double l1 = 0.0, l2 = 0.0;

  bool operator==(const Regularizer& o) const { return kind == o.kind && l1 == o.l1 && l2 == o.l2; }
  bool operator!=(const Regularizer& o) const { return !(*this == o); }
};

/// A Keras weight constraint; kNone when the argument is None.
struct Constraint {
  enum class Kind { kNone, kMaxNorm, kMinMaxNorm, kNonNeg, kUnitNorm };
  Kind kind = Kind::kNone;
  double max_value = 2.0;  ///< MaxNorm (default 2), MinMaxNorm (default 1)
  double min_value = 0.0;  ///< MinMaxNorm
  double rate = 1.0;       ///< MinMaxNorm
  int axis = 0;            ///< MaxNorm, MinMaxNorm, UnitNorm: axes over which the norm is taken

  bool operator==(const Constraint& o) const;
  bool operator!=(const Constraint& o) const { return !(*this == o); }
};

/// Every argument of keras.layers.Conv1D. Defaults are Keras's.
/// A spec holds values as given; validate() applies Keras's constructor rules.
struct Conv1DSpec {
  std::int64_t filters = 1;
  std::int64_t kernel_size = 1;
  std::int64_t strides = 1;
  Padding padding = Padding::kValid;
  DataFormat data_format = DataFormat::kChannelsLast;
  std::int64_t dilation_rate = 1;
  std::int64_t groups = 1;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  Initializer kernel_initializer{};  // glorot_uniform
  Initializer bias_initializer = Initializer(Initializer::Kind::kZeros);
  Regularizer kernel_regularizer, bias_regularizer, activity_regularizer;
  Constraint kernel_constraint, bias_constraint;
  std::string name = "conv1d";
  bool trainable = true;

  bool operator==(const Conv1DSpec& o) const;
  bool operator!=(const Conv1DSpec& o) const { return !(*this == o); }
};

/// Marks an unknown (dynamic) dimension in a shape, Keras's None.
inline constexpr std::int64_t kDynamic = -1;

/// A Conv1D input or output shape in the layer's data_format order:
/// (N, L, C) for channels_last, (N, C, L) for channels_first. N or L may be kDynamic.
using Shape3 = std::array<std::int64_t, 3>;

/// Keras constructor checks: positive sizes, strides>1 with dilation_rate>1,
/// filters divisible by groups. Throws Error with Keras's wording. First of all, every enum
/// field (padding, data_format, activation, the initializer, regularizer and constraint
/// kinds) must hold one of its enumerators: a value cast from another int is
/// Error(kInvalidValue) naming the field.
void validate(const Conv1DSpec& spec);

/// Constructor checks plus build checks against an input shape: channels divisible by
/// groups, a known channel count, and a `valid` output length > 0 (Keras >= 3.14).
void validate(const Conv1DSpec& spec, const Shape3& input_shape);

/// Keras compute_output_shape: ignores the activation (glu does not halve here), keeps
/// kDynamic dimensions dynamic. Validates first.
Shape3 compute_output_shape(const Conv1DSpec& spec, const Shape3& input_shape);

/// The shape an eager call really returns: compute_output_shape, with the last axis
/// halved for glu (and an error when it is odd, as Keras raises).
Shape3 call_output_shape(const Conv1DSpec& spec, const Shape3& input_shape);

/// Output length for a concrete input length: valid floor((L-d(K-1)-1)/s)+1 (may be <= 0),
/// same/causal ceil(L/s). No validation.
std::int64_t output_length(const Conv1DSpec& spec, std::int64_t length);

/// Left and right zero padding Keras applies for a concrete input length.
std::array<std::int64_t, 2> padding_amounts(const Conv1DSpec& spec, std::int64_t length);

/// Parses Keras keyword syntax, e.g. "filters=64,kernel_size=3,padding=causal,activation=relu".
/// Unknown keywords, bad values and malformed text throw Error naming the keyword.
Conv1DSpec parse_spec_keywords(std::string_view text);

/// Parses the JSON of Keras layer.get_config() (or the plain dict of the golden cases:
/// ints where get_config writes 1-element lists).
Conv1DSpec parse_spec_json(std::string_view json_text);

/// Parses either form: JSON when the text starts with '{', keyword syntax otherwise.
Conv1DSpec parse_spec(std::string_view text);

/// Keyword syntax that parse_spec_keywords reads back to an equal spec. Omits defaults.
/// Throws Error(kInvalidValue) for an enum field outside its enum (as validate()).
std::string to_keywords(const Conv1DSpec& spec);

/// The JSON Keras 3 get_config() writes for this layer; parse_spec_json reads it back.
/// indent < 0 gives one line. Throws Error(kInvalidValue) for an enum field outside its enum.
std::string to_config_json(const Conv1DSpec& spec, int indent = -1);

const char* padding_name(Padding p);         // "valid", "same", "causal" ("invalid")
const char* data_format_name(DataFormat f);  // "channels_last", "channels_first" ("invalid")

}  // namespace convjit
