// validate / compute_output_shape / call_output_shape / output_length / padding_amounts.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "convjit/spec.hpp"
#include "expect_error.hpp"

namespace convjit {
namespace {

using test::expect_error;

Conv1DSpec make(std::int64_t filters, std::int64_t k, std::int64_t s = 1, std::int64_t d = 1,
                Padding p = Padding::kValid, DataFormat f = DataFormat::kChannelsLast) {
  Conv1DSpec spec;
  spec.filters = filters;
  spec.kernel_size = k;
  spec.strides = s;
  spec.dilation_rate = d;
  spec.padding = p;
  spec.data_format = f;
  return spec;
}

/// Output length by counting the positions a window fits at (valid) or the strided
/// positions of the input (same, causal): an independent restatement of the rules.
std::int64_t brute_output_length(const Conv1DSpec& s, std::int64_t length) {
  std::int64_t n = 0;
  if (s.padding == Padding::kValid) {
    for (std::int64_t t = 0; t * s.strides + (s.kernel_size - 1) * s.dilation_rate < length; ++t)
      ++n;
  } else {
    for (std::int64_t t = 0; t < length; t += s.strides) ++n;
  }
  return n;
}

TEST(SpecShape, OutputLengthMatchesBruteForceOverAGrid) {
  for (Padding p : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
    for (std::int64_t k = 1; k <= 6; ++k) {
      for (std::int64_t s = 1; s <= 4; ++s) {
        for (std::int64_t d = 1; d <= (s == 1 ? 3 : 1); ++d) {
          for (std::int64_t len = 0; len <= 20; ++len) {
            const Conv1DSpec spec = make(2, k, s, d, p);
            const std::int64_t want = brute_output_length(spec, len);
            const std::int64_t got = output_length(spec, len);
            if (p == Padding::kValid && want == 0) {
              EXPECT_LE(got, 0) << k << " " << s << " " << d << " " << len;
            } else {
              EXPECT_EQ(got, want) << k << " " << s << " " << d << " " << len;
            }
          }
        }
      }
    }
  }
}

TEST(SpecShape, PaddingAmounts) {
  // same, odd total: the extra zero goes right.
  EXPECT_EQ(padding_amounts(make(1, 4, 1, 1, Padding::kSame), 10),
            (std::array<std::int64_t, 2>{1, 2}));
  EXPECT_EQ(padding_amounts(make(1, 3, 1, 1, Padding::kSame), 10),
            (std::array<std::int64_t, 2>{1, 1}));
  // same with stride: total = (ceil(10/3)-1)*3 + 5 - 10 = 4.
  EXPECT_EQ(padding_amounts(make(1, 5, 3, 1, Padding::kSame), 10),
            (std::array<std::int64_t, 2>{2, 2}));
  // same never pads negatively.
  EXPECT_EQ(padding_amounts(make(1, 1, 4, 1, Padding::kSame), 9),
            (std::array<std::int64_t, 2>{0, 0}));
  EXPECT_EQ(padding_amounts(make(1, 3, 1, 4, Padding::kCausal), 10),
            (std::array<std::int64_t, 2>{8, 0}));
  EXPECT_EQ(padding_amounts(make(1, 7, 2, 1, Padding::kValid), 10),
            (std::array<std::int64_t, 2>{0, 0}));
  // With the pads applied, a valid conv gives the same-padding length.
  for (std::int64_t len = 1; len < 30; ++len) {
    const Conv1DSpec same = make(1, 5, 3, 1, Padding::kSame);
    const auto pads = padding_amounts(same, len);
    Conv1DSpec valid = same;
    valid.padding = Padding::kValid;
    EXPECT_EQ(output_length(valid, len + pads[0] + pads[1]), output_length(same, len)) << len;
  }
}

TEST(SpecShape, ChannelsLastAndFirst) {
  EXPECT_EQ(compute_output_shape(make(8, 3), {2, 10, 4}), (Shape3{2, 8, 8}));
  EXPECT_EQ(compute_output_shape(make(8, 3, 1, 1, Padding::kValid, DataFormat::kChannelsFirst),
                                 {2, 4, 10}),
            (Shape3{2, 8, 8}));
  EXPECT_EQ(compute_output_shape(make(8, 3, 2, 1, Padding::kSame), {2, 11, 4}), (Shape3{2, 6, 8}));
}

TEST(SpecShape, DynamicLengthAndBatchStayDynamic) {
  for (Padding p : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
    const Conv1DSpec spec = make(6, 50, 1, 1, p);  // a kernel longer than any short input
    EXPECT_EQ(compute_output_shape(spec, {kDynamic, kDynamic, 3}), (Shape3{kDynamic, kDynamic, 6}));
    EXPECT_EQ(compute_output_shape(spec, {4, kDynamic, 3}), (Shape3{4, kDynamic, 6}));
    Conv1DSpec cf = spec;
    cf.data_format = DataFormat::kChannelsFirst;
    EXPECT_EQ(compute_output_shape(cf, {kDynamic, 3, kDynamic}), (Shape3{kDynamic, 6, kDynamic}));
  }
  EXPECT_EQ(compute_output_shape(make(6, 3, 2, 1, Padding::kSame), {kDynamic, 9, 3}),
            (Shape3{kDynamic, 5, 6}));
  EXPECT_EQ(output_length(make(6, 3), kDynamic), kDynamic);
}

TEST(SpecShape, EmptyBatchIsAllowed) {
  EXPECT_EQ(compute_output_shape(make(6, 3), {0, 9, 3}), (Shape3{0, 7, 6}));
}

TEST(SpecShape, ZeroLengthSameAndCausal) {
  for (Padding p : {Padding::kSame, Padding::kCausal}) {
    EXPECT_EQ(compute_output_shape(make(5, 3, 1, 1, p), {2, 0, 3}), (Shape3{2, 0, 5}));
    EXPECT_EQ(compute_output_shape(make(5, 3, 2, 1, p, DataFormat::kChannelsFirst), {2, 3, 0}),
              (Shape3{2, 5, 0}));
  }
  expect_error(
      [] {
        compute_output_shape(make(5, 1), {2, 0, 3});
      },
      ErrorCode::kInvalidShape, "Computed output size would be zero or negative", "padding");
}

TEST(SpecShape, ValidOutputLengthZeroOrNegativeIsAnError) {
  // L = receptive field - 1 gives exactly 0 (Keras >= 3.14 raises), shorter gives < 0.
  expect_error(
      [] {
        compute_output_shape(make(4, 3, 1, 3), {1, 6, 2});
      },
      ErrorCode::kInvalidShape,
      "`inputs shape=(1, 6, 2)`, `kernel shape=(3, 2, 4)`, `dilation_rate=(3,)`", "padding");
  expect_error(
      [] {
        validate(make(4, 5, 2), {1, 2, 2});
      },
      ErrorCode::kInvalidShape, "`strides=(2,)`, `padding=valid`.", "padding");
  EXPECT_EQ(compute_output_shape(make(4, 3, 1, 3), {1, 7, 2}), (Shape3{1, 1, 4}));
}

TEST(SpecShape, ChannelsMustBeKnownPositiveAndDivisible) {
  expect_error(
      [] {
        validate(make(4, 3), {1, 10, kDynamic});
      },
      ErrorCode::kInvalidShape, "The channel dimension of the inputs should be defined",
      "input_shape");
  expect_error(
      [] {
        validate(make(4, 3, 1, 1, Padding::kValid, DataFormat::kChannelsFirst), {1, kDynamic, 10});
      },
      ErrorCode::kInvalidShape, "where axis 1 (0-based) is the channel dimension", "input_shape");
  expect_error(
      [] {
        validate(make(4, 3), {1, 10, 0});
      },
      ErrorCode::kInvalidShape, "0 channels", "input_shape");
  Conv1DSpec grouped = make(6, 3);
  grouped.groups = 3;
  expect_error(
      [&] {
        validate(grouped, {1, 10, 4});
      },
      ErrorCode::kInvalidShape,
      "Received groups=3, but the input has 4 channels (full input shape is (1, 10, 4)).",
      "groups");
  EXPECT_NO_THROW(validate(grouped, {1, 10, 9}));
  Conv1DSpec depthwise = make(6, 3);
  depthwise.groups = 6;
  EXPECT_EQ(compute_output_shape(depthwise, {1, 10, 6}), (Shape3{1, 8, 6}));
}

TEST(SpecShape, NegativeDimensionsOtherThanDynamic) {
  for (const Shape3& s : {Shape3{-2, 10, 4}, Shape3{1, -5, 4}, Shape3{1, 10, -3}}) {
    expect_error([&] { validate(make(4, 3), s); }, ErrorCode::kInvalidShape, "Invalid input shape",
                 "input_shape");
  }
}

TEST(SpecShape, GluHalvesTheLastAxisOnlyOnCall) {
  Conv1DSpec cl = make(8, 3);
  cl.activation = Activation::kGlu;
  EXPECT_EQ(compute_output_shape(cl, {2, 10, 4}), (Shape3{2, 8, 8}));
  EXPECT_EQ(call_output_shape(cl, {2, 10, 4}), (Shape3{2, 8, 4}));
  EXPECT_EQ(call_output_shape(cl, {2, kDynamic, 4}), (Shape3{2, kDynamic, 4}));
  cl.filters = 5;
  EXPECT_EQ(compute_output_shape(cl, {2, 10, 4}), (Shape3{2, 8, 5}));
  expect_error(
      [&] {
        call_output_shape(cl, {2, 10, 4});
      },
      ErrorCode::kInvalidShape,
      "axis size must be divisible by 2. Received: x.shape=(2, 8, 5) with axis=-1", "activation");

  Conv1DSpec cf = make(5, 3, 1, 1, Padding::kValid, DataFormat::kChannelsFirst);
  cf.activation = Activation::kGlu;
  EXPECT_EQ(call_output_shape(cf, {2, 4, 10}), (Shape3{2, 5, 4}));  // L_out 8 -> 4
  expect_error(
      [&] {
        call_output_shape(cf, {2, 4, 11});
      },
      ErrorCode::kInvalidShape, "axis size must be divisible by 2", "activation");  // L_out 9
  EXPECT_EQ(call_output_shape(cf, {2, 4, kDynamic}), (Shape3{2, 5, kDynamic}));
  cf.padding = Padding::kSame;
  EXPECT_EQ(call_output_shape(cf, {2, 4, 0}), (Shape3{2, 5, 0}));
}

TEST(SpecShape, ConstructorChecksInKerasOrder) {
  Conv1DSpec s = make(0, 0);
  // kernel_size is standardized before filters is checked.
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "Received kernel_size=0",
               "kernel_size");
  s.kernel_size = 3;
  s.strides = -1;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue,
               "Received strides=-1, including values {-1} that do not satisfy `value > 0`",
               "strides");
  s.strides = 1;
  s.dilation_rate = 0;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "Received dilation_rate=0",
               "dilation_rate");
  s.dilation_rate = 1;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "Received filters=0.", "filters");
  s.filters = -4;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "Received filters=-4.", "filters");
  s.filters = 4;
  s.groups = -2;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "Received: groups=-2.", "groups");
  s.groups = 3;
  expect_error([&] { validate(s); }, ErrorCode::kIncompatibleArguments, "groups=3, filters=4.",
               "groups");
  s.groups = 2;
  s.strides = 3;
  s.dilation_rate = 2;
  expect_error([&] { validate(s); }, ErrorCode::kIncompatibleArguments,
               "strides=(3,) and dilation_rate=(2,)", "strides");
  s.dilation_rate = 1;
  EXPECT_NO_THROW(validate(s));
}

TEST(SpecShape, WeightObjectValuesAreValidated) {
  Conv1DSpec s = make(4, 3);
  s.kernel_regularizer = Regularizer{Regularizer::Kind::kL2, 0.0, -1.0};
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue,
               "Invalid value for argument l2: expected a non-negative float.Received: l2=-1.0",
               "kernel_regularizer");
  s.kernel_regularizer = {};
  s.activity_regularizer =
      Regularizer{Regularizer::Kind::kL1L2, std::numeric_limits<double>::infinity(), 0.0};
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "l1=inf", "activity_regularizer");
  s.activity_regularizer = {};
  s.kernel_initializer.kind = Initializer::Kind::kVarianceScaling;
  s.kernel_initializer.scale = 0;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue,
               "Argument `scale` must be positive float. Received: scale=0.0",
               "kernel_initializer");
  s.kernel_initializer.scale = 2;
  s.kernel_initializer.mode = "fan_x";
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "Invalid `mode` argument: fan_x.",
               "kernel_initializer");
  s.kernel_initializer.mode = "fan_out";
  s.kernel_initializer.distribution = "gamma";
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue,
               "Invalid `distribution` argument: gamma.", "kernel_initializer");
  s.kernel_initializer.distribution = "uniform";
  EXPECT_NO_THROW(validate(s));
  s.bias_initializer.kind = Initializer::Kind::kRandomNormal;
  s.bias_initializer.stddev = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "stddev=nan", "bias_initializer");
  s.bias_initializer = Initializer{Initializer::Kind::kZeros};
  s.kernel_constraint.kind = Constraint::Kind::kMaxNorm;
  s.kernel_constraint.axis = 3;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "axis must be in [-3, 2]",
               "kernel_constraint");
  s.kernel_constraint.axis = -3;
  EXPECT_NO_THROW(validate(s));
  s.bias_constraint.kind = Constraint::Kind::kUnitNorm;
  s.bias_constraint.axis = 1;
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue, "axis must be in [-1, 0]",
               "bias_constraint");
}

TEST(SpecShape, AbsurdSizesAreResourceLimits) {
  const std::int64_t big = std::int64_t{1} << 31;
  Conv1DSpec s = make(big, 3);
  expect_error([&] { validate(s); }, ErrorCode::kResourceLimit, "filters=2147483648", "filters");
  s = make(4, std::numeric_limits<std::int64_t>::max());
  expect_error([&] { validate(s); }, ErrorCode::kResourceLimit, "kernel_size", "kernel_size");
  s = make(4, 3, big);
  expect_error([&] { validate(s); }, ErrorCode::kResourceLimit, "strides", "strides");
  s = make(4, 3, 1, std::numeric_limits<std::int64_t>::max());
  expect_error([&] { validate(s); }, ErrorCode::kResourceLimit, "dilation_rate", "dilation_rate");
  // The largest accepted sizes still compute without overflow.
  s = make(4, (std::int64_t{1} << 31) - 1, 1, (std::int64_t{1} << 31) - 1, Padding::kCausal);
  EXPECT_NO_THROW(validate(s));
  EXPECT_EQ(padding_amounts(s, 10)[0],
            ((std::int64_t{1} << 31) - 2) * ((std::int64_t{1} << 31) - 1));
  s.padding = Padding::kValid;
  expect_error([&] { validate(s, {1, 10, 2}); }, ErrorCode::kInvalidShape, "zero or negative");
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  expect_error(
      [&] {
        validate(make(4, 3), {max, max, 4});
      },
      ErrorCode::kResourceLimit, "too large", "input_shape");
  expect_error(
      [] {
        validate(make(4, 3), {1 << 20, 1 << 30, 1 << 20});
      },
      ErrorCode::kResourceLimit, "too large", "input_shape");
  EXPECT_EQ(compute_output_shape(make(4, 3), {1, std::int64_t{1} << 40, 4}),
            (Shape3{1, (std::int64_t{1} << 40) - 2, 4}));
}

TEST(SpecShape, Names) {
  EXPECT_STREQ(padding_name(Padding::kValid), "valid");
  EXPECT_STREQ(padding_name(Padding::kSame), "same");
  EXPECT_STREQ(padding_name(Padding::kCausal), "causal");
  EXPECT_STREQ(data_format_name(DataFormat::kChannelsLast), "channels_last");
  EXPECT_STREQ(data_format_name(DataFormat::kChannelsFirst), "channels_first");
}

TEST(SpecShape, EqualityComparesWhatEachKindUses) {
  Initializer a{Initializer::Kind::kZeros}, b{Initializer::Kind::kZeros};
  b.value = 3;
  b.seed = 4;
  EXPECT_EQ(a, b);  // zeros has no value and no seed
  a.kind = b.kind = Initializer::Kind::kConstant;
  EXPECT_NE(a, b);
  a.kind = b.kind = Initializer::Kind::kHeNormal;
  b.value = 0;
  EXPECT_NE(a, b);  // seed differs
  b.seed.reset();
  b.stddev = 7;
  EXPECT_EQ(a, b);
  Constraint c{Constraint::Kind::kNonNeg}, d{Constraint::Kind::kNonNeg};
  d.axis = 1;
  EXPECT_EQ(c, d);
  c.kind = d.kind = Constraint::Kind::kUnitNorm;
  EXPECT_NE(c, d);
  Conv1DSpec x, y;
  EXPECT_EQ(x, y);
  y.name = "other";
  EXPECT_NE(x, y);
  y = x;
  y.trainable = false;
  EXPECT_NE(x, y);
  y = x;
  y.bias_constraint.kind = Constraint::Kind::kMaxNorm;
  EXPECT_NE(x, y);
}

}  // namespace
}  // namespace convjit
