// Keyword syntax: what it reads, and the Keras errors for what it cannot.
#include <gtest/gtest.h>

#include <string>

#include "convjit/spec.hpp"
#include "expect_error.hpp"

namespace convjit {
namespace {

using test::expect_error;

TEST(SpecKeywords, ReadsTheBriefExample) {
  const Conv1DSpec s =
      parse_spec_keywords("filters=64,kernel_size=3,padding=causal,activation=relu");
  EXPECT_EQ(s.filters, 64);
  EXPECT_EQ(s.kernel_size, 3);
  EXPECT_EQ(s.padding, Padding::kCausal);
  EXPECT_EQ(s.activation, Activation::kRelu);
  // Everything else keeps Keras's defaults.
  Conv1DSpec want;
  want.filters = 64;
  want.kernel_size = 3;
  want.padding = Padding::kCausal;
  want.activation = Activation::kRelu;
  EXPECT_EQ(s, want);
  EXPECT_EQ(s.kernel_initializer.kind, Initializer::Kind::kGlorotUniform);
  EXPECT_EQ(s.bias_initializer.kind, Initializer::Kind::kZeros);
  EXPECT_EQ(s.name, "conv1d");
}

TEST(SpecKeywords, WhitespaceTuplesAndLists) {
  const Conv1DSpec s = parse_spec_keywords(
      "  filters = 8 ,\tkernel_size = ( 5 , ) ,\n strides=[2] , dilation_rate=(1) , groups = 2 ");
  EXPECT_EQ(s.filters, 8);
  EXPECT_EQ(s.kernel_size, 5);
  EXPECT_EQ(s.strides, 2);
  EXPECT_EQ(s.dilation_rate, 1);
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=[7]").kernel_size, 7);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=(7,)").kernel_size, 7);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=7,").kernel_size, 7);  // trailing comma
}

TEST(SpecKeywords, TupleArgumentTypeErrors) {
  expect_error(
      [] { parse_spec_keywords("filters=4,kernel_size=[3,3]"); }, ErrorCode::kInvalidType,
      "The `kernel_size` argument must be a tuple of 1 integers. Received kernel_size=[3, 3]",
      "kernel_size");
  expect_error([] { parse_spec_keywords("filters=4,kernel_size=(3, 3)"); }, ErrorCode::kInvalidType,
               "Received kernel_size=(3, 3)", "kernel_size");
  const std::string m = expect_error([] { parse_spec_keywords("filters=4,kernel_size=2.5"); },
                                     ErrorCode::kInvalidType, "", "kernel_size");
  EXPECT_EQ(m,
            "The `kernel_size` argument must be a tuple of 1 integers. Received kernel_size=2.5");
  expect_error(
      [] { parse_spec_keywords("filters=4,kernel_size=3,strides=[]"); }, ErrorCode::kInvalidType,
      "The `strides` argument must be a tuple of 1 integers. Received strides=[]", "strides");
  expect_error([] { parse_spec_keywords("filters=4,kernel_size=3,dilation_rate=two"); },
               ErrorCode::kInvalidType, "Received dilation_rate=two", "dilation_rate");
  expect_error([] { parse_spec_keywords("filters=4,kernel_size=None"); }, ErrorCode::kInvalidType,
               "Received kernel_size=None", "kernel_size");
  expect_error([] { parse_spec_keywords("filters=4,kernel_size=True"); }, ErrorCode::kInvalidType,
               "Received kernel_size=True", "kernel_size");
}

TEST(SpecKeywords, IntegerArgumentTypeErrors) {
  expect_error([] { parse_spec_keywords("filters=abc,kernel_size=3"); }, ErrorCode::kInvalidType,
               "Received filters=abc (of type <class 'str'>)", "filters");
  expect_error([] { parse_spec_keywords("filters=2.5,kernel_size=3"); }, ErrorCode::kInvalidType,
               "Received filters=2.5 (of type <class 'float'>)", "filters");
  expect_error([] { parse_spec_keywords("filters=4,kernel_size=3,groups=[2]"); },
               ErrorCode::kInvalidType, "Received groups=[2]", "groups");
  // Values are held as given; validate() applies the Keras value rules.
  const Conv1DSpec s = parse_spec_keywords("filters=-4,kernel_size=0");
  EXPECT_EQ(s.filters, -4);
  EXPECT_EQ(s.kernel_size, 0);
  EXPECT_THROW(validate(s), Error);
}

TEST(SpecKeywords, PaddingAndDataFormatAreCaseInsensitive) {
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,padding=SAME").padding, Padding::kSame);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,padding=Causal").padding,
            Padding::kCausal);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,padding='vAlId'").padding,
            Padding::kValid);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,data_format=CHANNELS_FIRST").data_format,
            DataFormat::kChannelsFirst);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,data_format=Channels_Last").data_format,
            DataFormat::kChannelsLast);
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,data_format=None").data_format,
            DataFormat::kChannelsLast);
}

TEST(SpecKeywords, UnknownPaddingAndDataFormat) {
  std::string m = expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,padding=full"); },
                               ErrorCode::kUnknownName, "", "padding");
  EXPECT_EQ(m,
            "The `padding` argument must be a list/tuple or one of {'valid', 'same', 'causal'}. "
            "Received: full");
  // Keras lower-cases before it complains.
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,padding=FULL"); },
               ErrorCode::kUnknownName, "Received: full", "padding");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,padding=[1,2]"); },
               ErrorCode::kInvalidValue,
               "`padding` must be either `'valid'` or `'same'`. Received [1, 2].", "padding");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,padding=3"); },
               ErrorCode::kInvalidType, "Received: 3", "padding");
  m = expect_error(
      [] { parse_spec_keywords("filters=1,kernel_size=1,data_format=channels_middle"); },
      ErrorCode::kUnknownName, "", "data_format");
  EXPECT_EQ(m,
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            "Received: data_format=channels_middle");
}

TEST(SpecKeywords, EveryActivationByItsNameAndAliases) {
  for (int i = 0; i < kActivationCount; ++i) {
    const auto a = static_cast<Activation>(i);
    const std::string text =
        std::string("filters=2,kernel_size=1,activation=") + activation_name(a);
    EXPECT_EQ(parse_spec_keywords(text).activation, a) << text;
  }
  EXPECT_EQ(parse_spec_keywords("filters=2,kernel_size=1,activation=swish").activation,
            Activation::kSilu);
  EXPECT_EQ(parse_spec_keywords("filters=2,kernel_size=1,activation=hard_swish").activation,
            Activation::kHardSilu);
  EXPECT_EQ(parse_spec_keywords("filters=2,kernel_size=1,activation=None").activation,
            Activation::kLinear);
  EXPECT_EQ(parse_spec_keywords("filters=2,kernel_size=1,activation=linear").activation,
            Activation::kLinear);
  EXPECT_EQ(parse_spec_keywords("filters=2,kernel_size=1,activation='gelu'").activation,
            Activation::kGelu);
}

TEST(SpecKeywords, ActivationNamesAreCaseSensitive) {
  const std::string m =
      expect_error([] { parse_spec_keywords("filters=2,kernel_size=1,activation=ReLU"); },
                   ErrorCode::kUnknownName, "", "activation");
  EXPECT_EQ(m, "Could not interpret activation function identifier: ReLU");
  expect_error([] { parse_spec_keywords("filters=2,kernel_size=1,activation=Swish"); },
               ErrorCode::kUnknownName, "identifier: Swish", "activation");
  expect_error([] { parse_spec_keywords("filters=2,kernel_size=1,activation=threshold"); },
               ErrorCode::kUnknownName, "identifier: threshold", "activation");
  // The string 'None' is not None.
  expect_error([] { parse_spec_keywords("filters=2,kernel_size=1,activation='None'"); },
               ErrorCode::kUnknownName, "identifier: None", "activation");
  expect_error([] { parse_spec_keywords("filters=2,kernel_size=1,activation=''"); },
               ErrorCode::kUnknownName, "identifier: ", "activation");
  expect_error([] { parse_spec_keywords("filters=2,kernel_size=1,activation=3"); },
               ErrorCode::kInvalidType, "identifier: 3", "activation");
}

TEST(SpecKeywords, Booleans) {
  EXPECT_FALSE(parse_spec_keywords("filters=1,kernel_size=1,use_bias=False").use_bias);
  EXPECT_FALSE(parse_spec_keywords("filters=1,kernel_size=1,use_bias=false").use_bias);
  EXPECT_TRUE(parse_spec_keywords("filters=1,kernel_size=1,use_bias=True").use_bias);
  EXPECT_TRUE(parse_spec_keywords("filters=1,kernel_size=1,use_bias=true").use_bias);
  EXPECT_FALSE(parse_spec_keywords("filters=1,kernel_size=1,trainable=False").trainable);
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,use_bias=yes"); },
               ErrorCode::kInvalidType, "Received use_bias=yes", "use_bias");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,use_bias=1"); },
               ErrorCode::kInvalidType, "Received use_bias=1", "use_bias");
}

TEST(SpecKeywords, Names) {
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,name=encoder_conv").name, "encoder_conv");
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,name='a, b = (c)'").name, "a, b = (c)");
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,name=\"it's\"").name, "it's");
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,name='tab\\there'").name, "tab\there");
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,name=None").name, "conv1d");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,name='a/b'"); },
               ErrorCode::kInvalidValue, "cannot contain character `/`", "name");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,name=3"); },
               ErrorCode::kInvalidType, "Received: name=3 (of type <class 'int'>)", "name");
}

TEST(SpecKeywords, InitializersByName) {
  struct Case {
    const char* name;
    Initializer::Kind kind;
  };
  const Case cases[] = {
      {"zeros", Initializer::Kind::kZeros},
      {"ones", Initializer::Kind::kOnes},
      {"constant", Initializer::Kind::kConstant},
      {"glorot_uniform", Initializer::Kind::kGlorotUniform},
      {"glorot_normal", Initializer::Kind::kGlorotNormal},
      {"he_normal", Initializer::Kind::kHeNormal},
      {"he_uniform", Initializer::Kind::kHeUniform},
      {"lecun_normal", Initializer::Kind::kLecunNormal},
      {"lecun_uniform", Initializer::Kind::kLecunUniform},
      {"random_normal", Initializer::Kind::kRandomNormal},
      {"random_uniform", Initializer::Kind::kRandomUniform},
      {"truncated_normal", Initializer::Kind::kTruncatedNormal},
      {"orthogonal", Initializer::Kind::kOrthogonal},
      {"variance_scaling", Initializer::Kind::kVarianceScaling},
      // Keras's class names and aliases.
      {"HeNormal", Initializer::Kind::kHeNormal},
      {"GlorotUniform", Initializer::Kind::kGlorotUniform},
      {"Orthogonal", Initializer::Kind::kOrthogonal},
      {"OrthogonalInitializer", Initializer::Kind::kOrthogonal},
      {"normal", Initializer::Kind::kRandomNormal},
      {"uniform", Initializer::Kind::kRandomUniform},
      {"one", Initializer::Kind::kOnes},
      {"zero", Initializer::Kind::kZeros},
  };
  for (const auto& c : cases) {
    const Conv1DSpec s =
        parse_spec_keywords(std::string("filters=1,kernel_size=1,kernel_initializer=") + c.name +
                            ",bias_initializer=" + c.name);
    EXPECT_EQ(s.kernel_initializer, Initializer{c.kind}) << c.name;
    EXPECT_EQ(s.bias_initializer, Initializer{c.kind}) << c.name;
    EXPECT_FALSE(s.kernel_initializer.seed.has_value());
  }
  // None: the layer's default.
  const Conv1DSpec d =
      parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=None,bias_initializer=None");
  EXPECT_EQ(d.kernel_initializer.kind, Initializer::Kind::kGlorotUniform);
  EXPECT_EQ(d.bias_initializer.kind, Initializer::Kind::kZeros);
}

TEST(SpecKeywords, InitializerArguments) {
  Conv1DSpec s = parse_spec_keywords(
      "filters=1,kernel_size=1,kernel_initializer=random_normal(mean=0,stddev=0.1,seed=7)");
  EXPECT_EQ(s.kernel_initializer.kind, Initializer::Kind::kRandomNormal);
  EXPECT_EQ(s.kernel_initializer.mean, 0.0);
  EXPECT_EQ(s.kernel_initializer.stddev, 0.1);
  EXPECT_EQ(s.kernel_initializer.seed, std::optional<std::int64_t>(7));
  // Positional arguments bind in the Keras constructor's order.
  s = parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=random_uniform(-1, 2.5, 11)");
  EXPECT_EQ(s.kernel_initializer.minval, -1.0);
  EXPECT_EQ(s.kernel_initializer.maxval, 2.5);
  EXPECT_EQ(s.kernel_initializer.seed, std::optional<std::int64_t>(11));
  s = parse_spec_keywords(
      "filters=1,kernel_size=1,kernel_initializer=variance_scaling(scale=2, mode='fan_avg', "
      "distribution=NORMAL, seed=None)");
  EXPECT_EQ(s.kernel_initializer.scale, 2.0);
  EXPECT_EQ(s.kernel_initializer.mode, "fan_avg");
  EXPECT_EQ(s.kernel_initializer.distribution,
            "truncated_normal");  // Keras: lower(), normal->truncated
  EXPECT_FALSE(s.kernel_initializer.seed.has_value());
  s = parse_spec_keywords("filters=1,kernel_size=1,bias_initializer=constant(0.25)");
  EXPECT_EQ(s.bias_initializer.kind, Initializer::Kind::kConstant);
  EXPECT_EQ(s.bias_initializer.value, 0.25);
  s = parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=orthogonal(gain=2,seed=-3)");
  EXPECT_EQ(s.kernel_initializer.gain, 2.0);
  EXPECT_EQ(s.kernel_initializer.seed, std::optional<std::int64_t>(-3));
}

TEST(SpecKeywords, InitializerErrors) {
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=foo"); },
               ErrorCode::kUnknownName, "Could not interpret initializer identifier: foo",
               "kernel_initializer");
  expect_error(
      [] { parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=he_normal(gain=2)"); },
      ErrorCode::kUnknownName, "HeNormal.__init__() got an unexpected keyword argument 'gain'",
      "kernel_initializer");
  expect_error(
      [] { parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=he_normal(1, 2)"); },
      ErrorCode::kInvalidValue, "takes at most 1 arguments but 2 were given", "kernel_initializer");
  expect_error(
      [] { parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=he_normal(seed=2.5)"); },
      ErrorCode::kInvalidType,
      "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. "
      "Received: seed=2.5",
      "kernel_initializer");
  expect_error(
      [] {
        parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=random_normal(stddev='x')");
      },
      ErrorCode::kInvalidType, "Received: stddev=x", "kernel_initializer");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,kernel_initializer=identity"); },
               ErrorCode::kUnsupported, "Identity", "kernel_initializer");
  expect_error(
      [] { parse_spec_keywords("filters=1,kernel_size=1,bias_initializer=zeros(seed=1)"); },
      ErrorCode::kUnknownName, "unexpected keyword argument 'seed'", "bias_initializer");
  expect_error(
      [] {
        parse_spec_keywords(
            "filters=1,kernel_size=1,kernel_initializer=he_normal(seed=99999999999999999999)");
      },
      ErrorCode::kResourceLimit, "seed", "kernel_initializer");
  // Values are checked by validate(), with Keras's message.
  const Conv1DSpec s = parse_spec_keywords(
      "filters=1,kernel_size=1,kernel_initializer=variance_scaling(mode=fan_x)");
  expect_error([&] { validate(s); }, ErrorCode::kInvalidValue,
               "Invalid `mode` argument: fan_x. Please use one of", "kernel_initializer");
}

TEST(SpecKeywords, Regularizers) {
  auto reg = [](const std::string& v) {
    return parse_spec_keywords("filters=1,kernel_size=1,kernel_regularizer=" + v)
        .kernel_regularizer;
  };
  using K = Regularizer::Kind;
  EXPECT_EQ(reg("l2"), (Regularizer{K::kL2, 0.0, 0.01}));
  EXPECT_EQ(reg("l1"), (Regularizer{K::kL1, 0.01, 0.0}));
  EXPECT_EQ(reg("l1_l2"), (Regularizer{K::kL1L2, 0.01, 0.01}));
  EXPECT_EQ(reg("L2"), (Regularizer{K::kL2, 0.0, 0.01}));
  // The L1L2 class defaults to 0, the l1_l2 function (and string) to 0.01 each.
  EXPECT_EQ(reg("L1L2"), (Regularizer{K::kL1L2, 0.0, 0.0}));
  EXPECT_EQ(reg("L1L2(l2=0.5)"), (Regularizer{K::kL1L2, 0.0, 0.5}));
  EXPECT_EQ(reg("l1_l2(l1=0.02)"), (Regularizer{K::kL1L2, 0.02, 0.01}));
  EXPECT_EQ(reg("l2(0.001)"), (Regularizer{K::kL2, 0.0, 0.001}));
  EXPECT_EQ(reg("l2(l2=0.001)"), (Regularizer{K::kL2, 0.0, 0.001}));
  EXPECT_EQ(reg("l1_l2(l1=0.01,l2=0.02)"), (Regularizer{K::kL1L2, 0.01, 0.02}));
  EXPECT_EQ(reg("l1_l2(0.03, 0.04)"), (Regularizer{K::kL1L2, 0.03, 0.04}));
  EXPECT_EQ(reg("None"), Regularizer{});
  const Conv1DSpec s = parse_spec_keywords(
      "filters=1,kernel_size=1,bias_regularizer=l1(1e-05),activity_regularizer=l2(2)");
  EXPECT_EQ(s.bias_regularizer, (Regularizer{K::kL1, 1e-05, 0.0}));
  EXPECT_EQ(s.activity_regularizer, (Regularizer{K::kL2, 0.0, 2.0}));
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,kernel_regularizer=l3"); },
               ErrorCode::kUnknownName, "Could not interpret regularizer identifier: l3",
               "kernel_regularizer");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,kernel_regularizer=l2(l1=0.1)"); },
               ErrorCode::kUnknownName, "unexpected keyword argument 'l1'", "kernel_regularizer");
  expect_error(
      [] {
        parse_spec_keywords("filters=1,kernel_size=1,kernel_regularizer=orthogonal_regularizer");
      },
      ErrorCode::kUnsupported, "OrthogonalRegularizer", "kernel_regularizer");
  const Conv1DSpec neg = parse_spec_keywords("filters=1,kernel_size=1,bias_regularizer=l2(-1)");
  expect_error([&] { validate(neg); }, ErrorCode::kInvalidValue,
               "Invalid value for argument l2: expected a non-negative float.Received: l2=-1.0",
               "bias_regularizer");
}

TEST(SpecKeywords, Constraints) {
  auto con = [](const std::string& v) {
    return parse_spec_keywords("filters=1,kernel_size=1,kernel_constraint=" + v).kernel_constraint;
  };
  using K = Constraint::Kind;
  Constraint c = con("max_norm");
  EXPECT_EQ(c.kind, K::kMaxNorm);
  EXPECT_EQ(c.max_value, 2.0);
  EXPECT_EQ(c.axis, 0);
  c = con("max_norm(3)");
  EXPECT_EQ(c.max_value, 3.0);
  c = con("max_norm(max_value=3,axis=1)");
  EXPECT_EQ(c.max_value, 3.0);
  EXPECT_EQ(c.axis, 1);
  c = con("MaxNorm(1.5, [2])");
  EXPECT_EQ(c.max_value, 1.5);
  EXPECT_EQ(c.axis, 2);
  c = con("min_max_norm");
  EXPECT_EQ(c.kind, K::kMinMaxNorm);
  EXPECT_EQ(c.min_value, 0.0);
  EXPECT_EQ(c.max_value, 1.0);  // MinMaxNorm's own default, not MaxNorm's
  EXPECT_EQ(c.rate, 1.0);
  c = con("min_max_norm(min_value=0.5,max_value=4,rate=0.25,axis=-1)");
  EXPECT_EQ(c.min_value, 0.5);
  EXPECT_EQ(c.max_value, 4.0);
  EXPECT_EQ(c.rate, 0.25);
  EXPECT_EQ(c.axis, -1);
  EXPECT_EQ(con("non_neg").kind, K::kNonNeg);
  EXPECT_EQ(con("NonNeg").kind, K::kNonNeg);
  c = con("unit_norm(axis=1)");
  EXPECT_EQ(c.kind, K::kUnitNorm);
  EXPECT_EQ(c.axis, 1);
  EXPECT_EQ(con("None").kind, K::kNone);
  EXPECT_EQ(
      parse_spec_keywords("filters=1,kernel_size=1,bias_constraint=non_neg").bias_constraint.kind,
      K::kNonNeg);
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,kernel_constraint=radial"); },
               ErrorCode::kUnknownName, "Could not interpret constraint identifier: radial",
               "kernel_constraint");
  expect_error(
      [] { parse_spec_keywords("filters=1,kernel_size=1,kernel_constraint=max_norm(axis=[0,1])"); },
      ErrorCode::kUnsupported, "axis=[0, 1]", "kernel_constraint");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,kernel_constraint=non_neg(1)"); },
               ErrorCode::kInvalidValue, "NonNeg.__init__() takes at most 0 arguments",
               "kernel_constraint");
}

TEST(SpecKeywords, KerasCallSyntaxAndPositionalArguments) {
  Conv1DSpec s = parse_spec_keywords("Conv1D(32, 3, activation='relu')");
  EXPECT_EQ(s.filters, 32);
  EXPECT_EQ(s.kernel_size, 3);
  EXPECT_EQ(s.activation, Activation::kRelu);
  s = parse_spec_keywords(" keras.layers.Conv1D( filters=8, kernel_size=(5,), padding=\"same\" ) ");
  EXPECT_EQ(s.filters, 8);
  EXPECT_EQ(s.kernel_size, 5);
  EXPECT_EQ(s.padding, Padding::kSame);
  s = parse_spec_keywords("16, 4, 2, 'causal'");
  EXPECT_EQ(s.strides, 2);
  EXPECT_EQ(s.padding, Padding::kCausal);
  expect_error([] { parse_spec_keywords("filters=16, 4"); }, ErrorCode::kParseError,
               "positional argument follows keyword argument");
  expect_error([] { parse_spec_keywords("16, filters=4, kernel_size=3"); }, ErrorCode::kParseError,
               "got multiple values for argument 'filters'", "filters");
  expect_error([] { parse_spec_keywords("Conv1D(16, 3"); }, ErrorCode::kParseError, "or ')'");
}

TEST(SpecKeywords, StructuralErrors) {
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=1,foo=1"); },
               ErrorCode::kUnknownName,
               "Unrecognized keyword arguments passed to Conv1D: {'foo': 1}", "foo");
  expect_error([] { parse_spec_keywords("kernel_size=3"); }, ErrorCode::kInvalidValue,
               "missing 1 required positional argument: 'filters'", "filters");
  expect_error([] { parse_spec_keywords("filters=3"); }, ErrorCode::kInvalidValue,
               "missing 1 required positional argument: 'kernel_size'", "kernel_size");
  expect_error([] { parse_spec_keywords(""); }, ErrorCode::kInvalidValue,
               "missing 2 required positional arguments: 'filters' and 'kernel_size'", "filters");
  expect_error([] { parse_spec_keywords("filters=1,filters=2,kernel_size=3"); },
               ErrorCode::kParseError, "multiple values for argument 'filters'", "filters");
  expect_error([] { parse_spec_keywords("filters=,kernel_size=3"); }, ErrorCode::kParseError,
               "Missing value for keyword `filters`", "filters");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=  "); }, ErrorCode::kParseError,
               "Missing value for keyword `kernel_size`", "kernel_size");
  expect_error([] { parse_spec_keywords("filters=1,,kernel_size=3"); }, ErrorCode::kParseError,
               "position 10");
  expect_error([] { parse_spec_keywords("filters=1 kernel_size=3"); }, ErrorCode::kParseError,
               "expected ','", "spec");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=3,name='abc"); },
               ErrorCode::kParseError, "unterminated string", "name");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=[3"); }, ErrorCode::kParseError,
               "expected ',' or ']'", "kernel_size");
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=3)"); }, ErrorCode::kParseError,
               "expected ','");
  // Layer keywords that do not change the computation are accepted.
  EXPECT_EQ(
      parse_spec_keywords("filters=1,kernel_size=3,input_shape=(None, 4),dtype=float32").filters,
      1);
  expect_error([] { parse_spec_keywords("filters=1,kernel_size=3,dtype=float16"); },
               ErrorCode::kUnsupported, "float32 only", "dtype");
}

}  // namespace
}  // namespace convjit
