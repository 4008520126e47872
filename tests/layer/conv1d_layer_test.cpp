// convjit::Conv1D: the Keras layer API end to end.
#include "convjit/layer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "convjit/error.hpp"
#include "runtime/engine.hpp"

namespace convjit {
namespace {

template <typename F>
Error capture_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected convjit::Error";
  return Error(ErrorCode::kIoError, "<none>", "<no error thrown>");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Conv1DSpec base_spec(std::int64_t filters, std::int64_t kernel_size) {
  Conv1DSpec s;
  s.filters = filters;
  s.kernel_size = kernel_size;
  return s;
}

Initializer seeded(Initializer::Kind kind, std::int64_t seed) {
  Initializer i;
  i.kind = kind;
  i.seed = seed;
  return i;
}

// Small integers: every engine's float sums are exact.
Tensor small_int_tensor(const Shape& shape, int seed) {
  Tensor t(shape);
  for (std::int64_t i = 0; i < t.size(); ++i) {
    t.data()[i] = static_cast<float>(((i * 7 + seed * 13) % 9) - 4);
  }
  return t;
}

// The reference engine run directly on the layer's weights.
std::vector<float> reference_of(const Conv1D& layer, const Tensor& input) {
  const Shape3 shape{input.shape()[0], input.shape()[1], input.shape()[2]};
  return detail::run_engine("reference", layer.spec(), shape, input.data(), layer.kernel().data(),
                            layer.spec().use_bias ? layer.bias().data() : nullptr);
}

TEST(Conv1DLayer, ConstructorValidatesLikeKeras) {
  Conv1DSpec bad = base_spec(0, 3);
  Error e = capture_error([&] { Conv1D layer(bad); });
  EXPECT_EQ(e.argument(), "filters") << e.what();
  bad = base_spec(6, 3);
  bad.groups = 4;  // 6 filters are not divisible by 4 groups
  e = capture_error([&] { Conv1D layer(bad); });
  EXPECT_TRUE(contains(e.what(), "groups")) << e.what();
  bad = base_spec(4, 3);
  bad.strides = 2;
  bad.dilation_rate = 2;
  e = capture_error([&] { Conv1D layer(bad); });
  EXPECT_TRUE(contains(e.what(), "dilation_rate")) << e.what();
}

TEST(Conv1DLayer, BuildCreatesKerasShapedWeights) {
  Conv1DSpec s = base_spec(6, 3);
  s.groups = 2;
  s.kernel_initializer = seeded(Initializer::Kind::kOnes, 0);
  s.bias_initializer = seeded(Initializer::Kind::kConstant, 0);
  s.bias_initializer.value = 0.25;
  Conv1D layer(s);
  EXPECT_FALSE(layer.built());
  EXPECT_FALSE(layer.build_input_shape().has_value());
  EXPECT_TRUE(layer.get_weights().empty());
  layer.build({kDynamic, 10, 4});
  EXPECT_TRUE(layer.built());
  EXPECT_EQ(*layer.build_input_shape(), (Shape3{kDynamic, 10, 4}));
  EXPECT_EQ(layer.kernel().shape(), (Shape{3, 2, 6}));
  EXPECT_EQ(layer.bias().shape(), (Shape{6}));
  for (float v : layer.kernel().to_vector()) EXPECT_EQ(v, 1.0f);
  for (float v : layer.bias().to_vector()) EXPECT_EQ(v, 0.25f);
  EXPECT_EQ(layer.name(), "conv1d");
}

TEST(Conv1DLayer, BuildChannelsFirstUsesAxisOne) {
  Conv1DSpec s = base_spec(4, 2);
  s.data_format = DataFormat::kChannelsFirst;
  Conv1D layer(s);
  layer.build({2, 5, kDynamic});
  EXPECT_EQ(layer.kernel().shape(), (Shape{2, 5, 4}));
}

TEST(Conv1DLayer, BuildRejectsBadShapesAndKeepsTheLayerUnbuilt) {
  Conv1DSpec s = base_spec(4, 3);
  s.groups = 2;
  Conv1D layer(s);
  Error e = capture_error([&] { layer.build({1, 10, 3}); });  // 3 channels, 2 groups
  EXPECT_EQ(e.code(), ErrorCode::kInvalidShape) << e.what();
  EXPECT_FALSE(layer.built());
  EXPECT_THROW(layer.build({1, 10, kDynamic}), Error);  // the channels must be known
  EXPECT_FALSE(layer.built());
  // An orthogonal bias is rank 1: Keras raises at build.
  Conv1DSpec o = base_spec(4, 3);
  o.bias_initializer = seeded(Initializer::Kind::kOrthogonal, 1);
  Conv1D ortho(o);
  e = capture_error([&] { ortho.build({1, 10, 4}); });
  EXPECT_EQ(e.argument(), "bias_initializer");
  EXPECT_FALSE(ortho.built());
}

TEST(Conv1DLayer, BuildTwiceThrowsLikeKeras3) {
  Conv1D layer(base_spec(2, 1));
  layer.build({1, 4, 3});
  Error e = capture_error([&] { layer.build({1, 4, 3}); });
  EXPECT_EQ(e.argument(), "build");
  EXPECT_TRUE(contains(e.what(), "already built")) << e.what();
}

TEST(Conv1DLayer, HandComputedCall) {
  // filters=1, kernel_size=2, ones kernel, bias 0.5: y[t] = x[t] + x[t+1] + 0.5.
  Conv1DSpec s = base_spec(1, 2);
  s.kernel_initializer = seeded(Initializer::Kind::kOnes, 0);
  s.bias_initializer = seeded(Initializer::Kind::kConstant, 0);
  s.bias_initializer.value = 0.5;
  Conv1D layer(s);
  layer.set_engine("reference");
  std::vector<float> x{1, 2, 3};
  const Tensor y = layer(Tensor::view(x.data(), {1, 3, 1}));
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{3.5f, 5.5f}));
  EXPECT_FALSE(y.is_view());
}

TEST(Conv1DLayer, CallBuildsOnFirstCallAndMatchesReference) {
  Conv1DSpec s = base_spec(6, 3);
  s.groups = 2;
  s.padding = Padding::kSame;
  s.activation = Activation::kRelu;
  s.kernel_initializer = seeded(Initializer::Kind::kGlorotUniform, 7);
  s.bias_initializer = seeded(Initializer::Kind::kRandomUniform, 8);
  Conv1D layer(s);
  layer.set_engine("reference");
  EXPECT_EQ(layer.engine(), "reference");
  const Tensor x = small_int_tensor({2, 9, 4}, 1);
  const Tensor y = layer(x);
  EXPECT_TRUE(layer.built());
  EXPECT_EQ(*layer.build_input_shape(), (Shape3{2, 9, 4}));
  EXPECT_EQ(y.shape(), (Shape{2, 9, 6}));
  EXPECT_EQ(y.to_vector(), reference_of(layer, x));
  // call() is the same as operator().
  EXPECT_EQ(layer.call(x).to_vector(), y.to_vector());
  // The output really depends on the weights: relu output not all zero.
  double sum = 0;
  for (float v : y.to_vector()) sum += std::fabs(v);
  EXPECT_GT(sum, 0.0);
}

TEST(Conv1DLayer, DefaultEngineAgreesWithReference) {
  struct Case {
    const char* label;
    std::int64_t filters, kernel, channels, groups, strides, dilation;
    Padding padding;
    DataFormat format;
    Activation activation;
  };
  const Case cases[] = {
      {"causal_dilated", 16, 5, 5, 1, 1, 2, Padding::kCausal, DataFormat::kChannelsLast,
       Activation::kLinear},
      {"pointwise", 4, 1, 1, 1, 1, 1, Padding::kValid, DataFormat::kChannelsLast,
       Activation::kLinear},
      {"same_strided_grouped", 12, 3, 6, 3, 2, 1, Padding::kSame, DataFormat::kChannelsLast,
       Activation::kTanh},
      {"channels_first", 8, 3, 4, 1, 1, 1, Padding::kValid, DataFormat::kChannelsFirst,
       Activation::kRelu},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    Conv1DSpec s = base_spec(c.filters, c.kernel);
    s.groups = c.groups;
    s.strides = c.strides;
    s.dilation_rate = c.dilation;
    s.padding = c.padding;
    s.data_format = c.format;
    s.activation = c.activation;
    s.kernel_initializer = seeded(Initializer::Kind::kHeNormal, 3);
    s.bias_initializer = seeded(Initializer::Kind::kRandomNormal, 4);
    Conv1D layer(s);
    EXPECT_EQ(layer.engine(), detail::default_engine_name());
    const Shape shape =
        c.format == DataFormat::kChannelsLast ? Shape{3, 21, c.channels} : Shape{3, c.channels, 21};
    const Tensor x = small_int_tensor(shape, 2);
    const Tensor y = layer(x);
    const std::vector<float> ref = reference_of(layer, x);
    ASSERT_EQ(y.size(), static_cast<std::int64_t>(ref.size()));
    std::int64_t bad = 0, first = -1;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      if (!(std::fabs(y.data()[i] - ref[i]) <= 1e-4f * (1 + std::fabs(ref[i])))) {
        if (bad++ == 0) first = static_cast<std::int64_t>(i);
      }
    }
    EXPECT_EQ(bad, 0) << "engine " << layer.engine() << ": first mismatch at " << first << ": "
                      << (first >= 0 ? y.data()[first] : 0.0f) << " vs reference "
                      << (first >= 0 ? ref[static_cast<std::size_t>(first)] : 0.0f);
  }
}

TEST(Conv1DLayer, ChannelsFirstAndGluShapes) {
  Conv1DSpec s = base_spec(4, 3);
  s.data_format = DataFormat::kChannelsFirst;
  s.activation = Activation::kGlu;
  s.padding = Padding::kSame;
  Conv1D layer(s);
  layer.set_engine("reference");
  const Tensor x = small_int_tensor({2, 3, 8}, 3);
  const Tensor y = layer(x);
  // channels_first glu halves the last axis: the length.
  EXPECT_EQ(y.shape(), (Shape{2, 4, 4}));
  EXPECT_EQ(y.to_vector(), reference_of(layer, x));
}

TEST(Conv1DLayer, CallWithAnotherLengthDoesNotRebuild) {
  Conv1DSpec s = base_spec(3, 3);
  s.kernel_initializer = seeded(Initializer::Kind::kRandomNormal, 11);
  s.bias_initializer = seeded(Initializer::Kind::kRandomNormal, 12);
  Conv1D layer(s);
  layer.set_engine("reference");
  layer.build({kDynamic, 10, 2});
  const std::vector<float> kernel_before = layer.kernel().to_vector();
  for (std::int64_t length : {10, 3, 17}) {
    for (std::int64_t batch : {1, 4}) {
      const Tensor x = small_int_tensor({batch, length, 2}, static_cast<int>(length));
      const Tensor y = layer(x);
      EXPECT_EQ(y.shape(), (Shape{batch, length - 2, 3}));
      EXPECT_EQ(y.to_vector(), reference_of(layer, x));
    }
  }
  EXPECT_EQ(layer.kernel().to_vector(), kernel_before);
  EXPECT_EQ(*layer.build_input_shape(), (Shape3{kDynamic, 10, 2}));
}

TEST(Conv1DLayer, TooShortValidInputIsRejectedAfterBuild) {
  // K=3 valid: a length-2 input would give an output length of 0 (Keras >= 3.14 raises).
  Conv1D layer(base_spec(3, 3));
  layer.set_engine("reference");
  layer.build({kDynamic, 10, 2});
  Error e = capture_error([&] { layer(Tensor({1, 2, 2})); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidShape) << e.what();
  // The layer still works afterwards.
  EXPECT_EQ(layer(Tensor({1, 3, 2})).shape(), (Shape{1, 1, 3}));
}

TEST(Conv1DLayer, EmptyBatchGivesEmptyOutput) {
  Conv1D layer(base_spec(3, 2));
  layer.set_engine("reference");
  const Tensor y = layer(Tensor({0, 5, 2}));
  EXPECT_EQ(y.shape(), (Shape{0, 4, 3}));
  EXPECT_EQ(y.size(), 0);
}

TEST(Conv1DLayer, WrongChannelsOrRankIsRejected) {
  Conv1D layer(base_spec(3, 3));
  layer.build({kDynamic, kDynamic, 4});
  Error e = capture_error([&] { layer(Tensor({2, 10, 5})); });
  EXPECT_EQ(e.code(), ErrorCode::kShapeMismatch);
  EXPECT_EQ(e.argument(), "inputs");
  EXPECT_EQ(std::string(e.what()),
            "Input 0 of layer \"conv1d\" is incompatible with the layer: expected axis -1 of "
            "input shape to have value 4, but received input with shape (2, 10, 5)");
  e = capture_error([&] { layer(Tensor({10, 4})); });
  EXPECT_EQ(e.argument(), "inputs");
  EXPECT_TRUE(contains(e.what(), "expected ndim=3, found ndim=2")) << e.what();

  Conv1DSpec cf = base_spec(3, 3);
  cf.data_format = DataFormat::kChannelsFirst;
  Conv1D first(cf);
  first.build({1, 4, 10});
  e = capture_error([&] { first(Tensor({1, 10, 4})); });
  EXPECT_TRUE(contains(e.what(), "expected axis 1 of input shape to have value 4")) << e.what();
}

TEST(Conv1DLayer, UnknownEngineIsAClearError) {
  Conv1D layer(base_spec(3, 3));
  Error e = capture_error([&] { layer.set_engine("warp-drive"); });
  EXPECT_EQ(e.code(), ErrorCode::kUnknownName);
  EXPECT_EQ(e.argument(), "engine");
  EXPECT_TRUE(contains(e.what(), "warp-drive")) << e.what();
  EXPECT_TRUE(contains(e.what(), "reference")) << e.what();
  EXPECT_EQ(layer.engine(), detail::default_engine_name());
  for (const std::string& name : detail::engine_names()) {
    layer.set_engine(name);
    EXPECT_EQ(layer.engine(), name);
  }
  e = capture_error([&] { layer.set_threads(0); });
  EXPECT_EQ(e.argument(), "threads");
  layer.set_threads(2);
  EXPECT_EQ(layer.threads(), 2);
}

TEST(Conv1DLayer, GetSetWeightsRoundTrip) {
  Conv1DSpec s = base_spec(4, 3);
  Conv1D layer(s);
  layer.set_engine("reference");
  layer.build({kDynamic, 8, 2});
  std::vector<float> k(3 * 2 * 4), b(4);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<float>(i) - 10.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.5f * static_cast<float>(i);
  layer.set_weights({Tensor::view(k.data(), {3, 2, 4}), Tensor::view(b.data(), {4})});
  k[0] = 1000.0f;  // the layer copied the values
  std::vector<Tensor> w = layer.get_weights();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(w[0].at(0, 0, 0), -10.0f);
  EXPECT_EQ(w[0].at(2, 1, 3), 13.0f);
  EXPECT_EQ(w[1].to_vector(), (std::vector<float>{0, 0.5f, 1, 1.5f}));
  // get_weights returns copies.
  w[0].at(0, 0, 0) = 99.0f;
  EXPECT_EQ(layer.kernel().at(0, 0, 0), -10.0f);
  // Weights round-trip into a second layer, which then computes the same outputs.
  Conv1D other(s);
  other.set_engine("reference");
  other.build({kDynamic, 8, 2});
  other.set_weights(layer.get_weights());
  const Tensor x = small_int_tensor({2, 8, 2}, 5);
  EXPECT_EQ(other(x).to_vector(), layer(x).to_vector());
  // Setting from the layer's own weights is harmless.
  layer.set_weights(layer.get_weights());
  EXPECT_EQ(layer.kernel().at(2, 1, 3), 13.0f);
}

TEST(Conv1DLayer, SetWeightsErrorsUseKerasWording) {
  Conv1DSpec s = base_spec(4, 3);
  Conv1D layer(s);
  Error e = capture_error([&] { layer.set_weights({Tensor({3, 2, 4}), Tensor({4})}); });
  EXPECT_EQ(e.argument(), "weights");
  EXPECT_TRUE(contains(e.what(),
                       "with a weight list of length 2, but the layer was expecting 0 "
                       "weights."))
      << e.what();
  layer.build({1, 8, 2});
  e = capture_error([&] { layer.set_weights({Tensor({3, 2, 4})}); });
  EXPECT_EQ(e.code(), ErrorCode::kShapeMismatch);
  EXPECT_EQ(std::string(e.what()),
            "You called `set_weights(weights)` on layer 'conv1d' with a weight list of length 1, "
            "but the layer was expecting 2 weights.");
  e = capture_error([&] { layer.set_weights({Tensor({3, 2, 5}), Tensor({4})}); });
  EXPECT_EQ(e.argument(), "weights");
  EXPECT_EQ(std::string(e.what()),
            "Layer conv1d weight shape (3, 2, 4) is not compatible with provided weight shape "
            "(3, 2, 5).");
  e = capture_error([&] { layer.set_weights({Tensor({3, 2, 4}), Tensor({5})}); });
  EXPECT_EQ(std::string(e.what()),
            "Layer conv1d weight shape (4,) is not compatible with provided weight shape (5,).");
  // A failed set_weights changes nothing.
  const std::vector<float> before = layer.kernel().to_vector();
  e = capture_error([&] { layer.set_weights({Tensor({3, 2, 4}, 9.0f), Tensor({3})}); });
  EXPECT_EQ(layer.kernel().to_vector(), before);

  Conv1DSpec nb = base_spec(4, 3);
  nb.use_bias = false;
  Conv1D no_bias(nb);
  no_bias.build({1, 8, 2});
  EXPECT_EQ(no_bias.get_weights().size(), 1u);
  e = capture_error([&] { no_bias.set_weights({Tensor({3, 2, 4}), Tensor({4})}); });
  EXPECT_TRUE(contains(e.what(), "was expecting 1 weights")) << e.what();
  e = capture_error([&] { no_bias.bias(); });
  EXPECT_EQ(e.argument(), "use_bias");
}

TEST(Conv1DLayer, ConfigRoundTrip) {
  Conv1DSpec s = base_spec(8, 5);
  s.strides = 1;
  s.padding = Padding::kCausal;
  s.dilation_rate = 2;
  s.groups = 2;
  s.activation = Activation::kSilu;
  s.use_bias = false;
  s.kernel_initializer = seeded(Initializer::Kind::kHeUniform, 42);
  s.kernel_regularizer.kind = Regularizer::Kind::kL1L2;
  s.kernel_regularizer.l1 = 0.01;
  s.kernel_regularizer.l2 = 0.02;
  s.activity_regularizer.kind = Regularizer::Kind::kL2;
  s.activity_regularizer.l2 = 0.5;
  s.kernel_constraint.kind = Constraint::Kind::kMaxNorm;
  s.kernel_constraint.max_value = 3.0;
  s.kernel_constraint.axis = 1;
  s.name = "my_conv";
  Conv1D layer(s);
  const std::string config = layer.get_config();
  EXPECT_EQ(config, to_config_json(s));
  EXPECT_TRUE(contains(config, "\"my_conv\"")) << config;
  const Conv1D back = Conv1D::from_config(config);
  EXPECT_EQ(back.spec(), s);
  EXPECT_EQ(back.name(), "my_conv");
  // Indented output parses back too.
  EXPECT_EQ(Conv1D::from_config(layer.get_config(2)).spec(), s);
}

TEST(Conv1DLayer, FromConfigOfAPlainDict) {
  const Conv1D layer = Conv1D::from_config(
      R"({"filters": 5, "kernel_size": 3, "padding": "same", "activation": "relu"})");
  EXPECT_EQ(layer.spec().filters, 5);
  EXPECT_EQ(layer.spec().kernel_size, 3);
  EXPECT_EQ(layer.spec().padding, Padding::kSame);
  EXPECT_EQ(layer.spec().activation, Activation::kRelu);
  EXPECT_FALSE(layer.built());
  EXPECT_THROW(Conv1D::from_config(R"({"filters": 0, "kernel_size": 3})"), Error);
}

TEST(Conv1DLayer, CountParams) {
  struct Case {
    std::int64_t filters, kernel, channels, groups;
    bool bias;
  };
  for (const Case& c : {Case{4, 3, 2, 1, true}, Case{4, 3, 2, 1, false}, Case{6, 3, 4, 2, true},
                        Case{8, 5, 8, 8, false}, Case{8, 1, 4, 4, true}}) {
    Conv1DSpec s = base_spec(c.filters, c.kernel);
    s.groups = c.groups;
    s.use_bias = c.bias;
    Conv1D layer(s);
    layer.build({kDynamic, 16, c.channels});
    const std::int64_t expected =
        c.kernel * (c.channels / c.groups) * c.filters + (c.bias ? c.filters : 0);
    EXPECT_EQ(layer.count_params(), expected);
  }
  Conv1D unbuilt(base_spec(4, 3));
  Error e = capture_error([&] { unbuilt.count_params(); });
  EXPECT_EQ(e.argument(), "count_params");
  EXPECT_TRUE(contains(e.what(),
                       "You tried to call `count_params` on layer 'conv1d', but the layer isn't "
                       "built."))
      << e.what();
  e = capture_error([&] { unbuilt.kernel(); });
  EXPECT_EQ(e.argument(), "kernel");
  EXPECT_TRUE(contains(e.what(), "You tried to access `kernel` on layer 'conv1d'")) << e.what();
  e = capture_error([&] { unbuilt.bias(); });
  EXPECT_EQ(e.argument(), "bias");
}

TEST(Conv1DLayer, ComputeOutputShape) {
  Conv1DSpec s = base_spec(5, 3);
  Conv1D valid(s);
  EXPECT_EQ(valid.compute_output_shape({2, 10, 4}), (Shape3{2, 8, 5}));
  EXPECT_EQ(valid.compute_output_shape({kDynamic, kDynamic, 4}), (Shape3{kDynamic, kDynamic, 5}));
  EXPECT_FALSE(valid.built());
  s.padding = Padding::kSame;
  s.strides = 2;
  EXPECT_EQ(Conv1D(s).compute_output_shape({3, 11, 4}), (Shape3{3, 6, 5}));
  s.data_format = DataFormat::kChannelsFirst;
  EXPECT_EQ(Conv1D(s).compute_output_shape({3, 4, 11}), (Shape3{3, 5, 6}));
  EXPECT_EQ(Conv1D(s).compute_output_shape({kDynamic, 4, kDynamic}),
            (Shape3{kDynamic, 5, kDynamic}));
}

TEST(Conv1DLayer, LossesFollowKeras3) {
  Conv1DSpec s = base_spec(3, 2);
  s.kernel_initializer = seeded(Initializer::Kind::kConstant, 0);
  s.kernel_initializer.value = -0.5;
  s.bias_initializer = seeded(Initializer::Kind::kConstant, 0);
  s.bias_initializer.value = 2.0;
  s.kernel_regularizer.kind = Regularizer::Kind::kL2;
  s.kernel_regularizer.l2 = 0.1;
  s.bias_regularizer.kind = Regularizer::Kind::kL1;
  s.bias_regularizer.l1 = 0.01;
  s.activity_regularizer.kind = Regularizer::Kind::kL1;
  s.activity_regularizer.l1 = 0.2;
  Conv1D layer(s);
  layer.set_engine("reference");
  EXPECT_TRUE(layer.losses().empty());  // nothing before build
  layer.build({kDynamic, kDynamic, 4});
  // kernel (2, 4, 3) of -0.5: 0.1 * 24 * 0.25 = 0.6; bias (3,) of 2: 0.01 * 6 = 0.06.
  std::vector<double> losses = layer.losses();
  ASSERT_EQ(losses.size(), 2u);
  EXPECT_NEAR(losses[0], 0.6, 1e-12);
  EXPECT_NEAR(losses[1], 0.06, 1e-12);
  // After a call: the activity loss comes first, sum|y| * l1 / batch.
  const Tensor x = small_int_tensor({4, 6, 4}, 9);
  const Tensor y = layer(x);
  double sum_abs = 0;
  for (float v : y.to_vector()) sum_abs += std::fabs(v);
  losses = layer.losses();
  ASSERT_EQ(losses.size(), 3u);
  EXPECT_NEAR(losses[0], 0.2 * sum_abs / 4.0, 1e-9 * (1 + sum_abs));
  EXPECT_NEAR(losses[1], 0.6, 1e-12);
  EXPECT_NEAR(losses[2], 0.06, 1e-12);
  // Each call replaces the activity loss; an empty batch gives 0 (divide_no_nan).
  layer(Tensor({0, 6, 4}));
  losses = layer.losses();
  ASSERT_EQ(losses.size(), 3u);
  EXPECT_EQ(losses[0], 0.0);
}

TEST(Conv1DLayer, NonTrainableLayerHasNoWeightLosses) {
  Conv1DSpec s = base_spec(2, 1);
  s.kernel_regularizer.kind = Regularizer::Kind::kL2;
  s.kernel_regularizer.l2 = 1.0;
  s.activity_regularizer.kind = Regularizer::Kind::kL2;
  s.activity_regularizer.l2 = 1.0;
  s.trainable = false;
  s.kernel_initializer = seeded(Initializer::Kind::kOnes, 0);
  Conv1D layer(s);
  layer.set_engine("reference");
  layer.build({kDynamic, kDynamic, 1});
  EXPECT_TRUE(layer.losses().empty());
  std::vector<float> x{1, 2};
  layer(Tensor::view(x.data(), {1, 2, 1}));  // y = x in both filters: sum y^2 = 2 * 5
  const std::vector<double> losses = layer.losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_NEAR(losses[0], 10.0, 1e-9);
}

TEST(Conv1DLayer, ApplyConstraints) {
  Conv1DSpec s = base_spec(2, 2);
  s.kernel_constraint.kind = Constraint::Kind::kMaxNorm;
  s.kernel_constraint.max_value = 1.0;
  s.kernel_constraint.axis = 0;
  s.bias_constraint.kind = Constraint::Kind::kNonNeg;
  Conv1D layer(s);
  layer.apply_constraints();  // a no-op before build
  layer.build({kDynamic, kDynamic, 1});
  // kernel (2, 1, 2): f0 taps (3, 4) norm 5 -> scaled to norm 1; f1 taps (0.3, 0.4) norm 0.5
  // stays. bias (-1, 2) -> (0, 2).
  std::vector<float> k{3, 0.3f, 4, 0.4f};
  std::vector<float> b{-1, 2};
  layer.set_weights({Tensor::view(k.data(), {2, 1, 2}), Tensor::view(b.data(), {2})});
  layer.apply_constraints();
  const Tensor& kernel = layer.kernel();
  EXPECT_NEAR(kernel.at(0, 0, 0), 3.0 / (5.0 + 1e-7), 1e-6);
  EXPECT_NEAR(kernel.at(1, 0, 0), 4.0 / (5.0 + 1e-7), 1e-6);
  EXPECT_NEAR(kernel.at(0, 0, 1), 0.3 * 0.5 / (0.5 + 1e-7), 1e-6);
  EXPECT_NEAR(kernel.at(1, 0, 1), 0.4 * 0.5 / (0.5 + 1e-7), 1e-6);
  EXPECT_EQ(layer.bias().to_vector(), (std::vector<float>{0, 2}));
}

TEST(Conv1DLayer, BadConstraintAxisIsRejectedNamingTheConstraint) {
  // The bias has one axis and the kernel three: the spec check names the constraint.
  Conv1DSpec s = base_spec(2, 2);
  s.bias_constraint.kind = Constraint::Kind::kUnitNorm;
  s.bias_constraint.axis = 2;
  Error e = capture_error([&] { Conv1D layer(s); });
  EXPECT_EQ(e.argument(), "bias_constraint") << e.what();
  s = base_spec(2, 2);
  s.kernel_constraint.kind = Constraint::Kind::kMaxNorm;
  s.kernel_constraint.axis = 3;
  e = capture_error([&] { Conv1D layer(s); });
  EXPECT_EQ(e.argument(), "kernel_constraint") << e.what();
}

TEST(Conv1DLayer, SeededInitializersGiveReproducibleLayers) {
  Conv1DSpec s = base_spec(8, 3);
  s.kernel_initializer = seeded(Initializer::Kind::kGlorotUniform, 5);
  s.bias_initializer = seeded(Initializer::Kind::kRandomNormal, 6);
  Conv1D a(s), b(s);
  a.build({kDynamic, kDynamic, 4});
  b.build({kDynamic, kDynamic, 4});
  EXPECT_EQ(a.kernel().to_vector(), b.kernel().to_vector());
  EXPECT_EQ(a.bias().to_vector(), b.bias().to_vector());
  s.kernel_initializer.seed.reset();
  Conv1D c(s), d(s);
  c.build({kDynamic, kDynamic, 4});
  d.build({kDynamic, kDynamic, 4});
  EXPECT_NE(c.kernel().to_vector(), d.kernel().to_vector());
  // glorot_uniform limit for (3, 4, 8): sqrt(6 / (12 + 24)).
  const double limit = std::sqrt(6.0 / 36.0);
  for (float v : a.kernel().to_vector()) EXPECT_LE(std::fabs(v), limit);
}

}  // namespace
}  // namespace convjit
