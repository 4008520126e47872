// Keras get_config() JSON: reading what Keras writes, writing what Keras writes.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "convjit/spec.hpp"
#include "expect_error.hpp"

namespace convjit {
namespace {

using test::expect_error;
using Json = nlohmann::ordered_json;

// What Keras 3 writes for
//   Conv1D(64, 5, padding="causal", dilation_rate=2, activation="relu", name="conv1d_3",
//          kernel_initializer=HeNormal(seed=42), kernel_regularizer=L2(0.0005),
//          kernel_constraint=MaxNorm(3)).get_config()
constexpr const char* kKerasConfig = R"({
  "name": "conv1d_3",
  "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
  "filters": 64,
  "kernel_size": [5],
  "strides": [1],
  "padding": "causal",
  "data_format": "channels_last",
  "dilation_rate": [2],
  "groups": 1,
  "activation": "relu",
  "use_bias": true,
  "kernel_initializer": {"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": 42}, "registered_name": null},
  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
  "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.0005}, "registered_name": null},
  "bias_regularizer": null,
  "activity_regularizer": null,
  "kernel_constraint": {"module": "keras.constraints", "class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}, "registered_name": null},
  "bias_constraint": null
})";

TEST(SpecJson, ReadsKerasGetConfig) {
  const Conv1DSpec s = parse_spec_json(kKerasConfig);
  EXPECT_EQ(s.name, "conv1d_3");
  EXPECT_TRUE(s.trainable);
  EXPECT_EQ(s.filters, 64);
  EXPECT_EQ(s.kernel_size, 5);
  EXPECT_EQ(s.strides, 1);
  EXPECT_EQ(s.padding, Padding::kCausal);
  EXPECT_EQ(s.data_format, DataFormat::kChannelsLast);
  EXPECT_EQ(s.dilation_rate, 2);
  EXPECT_EQ(s.groups, 1);
  EXPECT_EQ(s.activation, Activation::kRelu);
  EXPECT_TRUE(s.use_bias);
  EXPECT_EQ(s.kernel_initializer.kind, Initializer::Kind::kHeNormal);
  EXPECT_EQ(s.kernel_initializer.seed, std::optional<std::int64_t>(42));
  EXPECT_EQ(s.bias_initializer, Initializer{Initializer::Kind::kZeros});
  EXPECT_EQ(s.kernel_regularizer, (Regularizer{Regularizer::Kind::kL2, 0.0, 0.0005}));
  EXPECT_EQ(s.bias_regularizer, Regularizer{});
  EXPECT_EQ(s.kernel_constraint.kind, Constraint::Kind::kMaxNorm);
  EXPECT_EQ(s.kernel_constraint.max_value, 3.0);
  EXPECT_EQ(s.bias_constraint, Constraint{});
  EXPECT_NO_THROW(validate(s, {kDynamic, kDynamic, 16}));
  // parse_spec picks JSON for a leading '{', after whitespace too.
  EXPECT_EQ(parse_spec(std::string("\n  ") + kKerasConfig), s);
}

TEST(SpecJson, WritesKerasGetConfig) {
  Conv1DSpec s;
  s.filters = 32;
  s.kernel_size = 3;
  const Json got = Json::parse(to_config_json(s));
  const Json want = Json::parse(R"({"name": "conv1d", "trainable": true,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
    "filters": 32, "kernel_size": [3], "strides": [1], "padding": "valid", "data_format": "channels_last",
    "dilation_rate": [1], "groups": 1, "activation": "linear", "use_bias": true,
    "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
    "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
    "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
    "kernel_constraint": null, "bias_constraint": null})");
  EXPECT_EQ(got, want);  // ordered_json: equal includes key order, Keras's
  // One line by default, indented on request.
  EXPECT_EQ(to_config_json(s).find('\n'), std::string::npos);
  EXPECT_NE(to_config_json(s, 2).find("\n  \"filters\": 32"), std::string::npos);
}

TEST(SpecJson, WritesWeightObjectsAsKerasDoes) {
  Conv1DSpec s = parse_spec_keywords(
      "filters=4,kernel_size=2,kernel_initializer=random_uniform(minval=-1,maxval=1,seed=3),"
      "bias_initializer=variance_scaling(scale=0.5,mode=fan_out,distribution=uniform),"
      "kernel_regularizer=l1_l2(l1=0.1,l2=0.2),bias_regularizer=l1,"
      "kernel_constraint=min_max_norm(min_value=0.5),bias_constraint=unit_norm");
  const Json j = Json::parse(to_config_json(s));
  EXPECT_EQ(j["kernel_initializer"],
            Json::parse(R"({"module": "keras.initializers", "class_name": "RandomUniform",
      "config": {"seed": 3, "minval": -1.0, "maxval": 1.0}, "registered_name": null})"));
  EXPECT_EQ(j["bias_initializer"],
            Json::parse(R"({"module": "keras.initializers", "class_name": "VarianceScaling",
      "config": {"seed": null, "scale": 0.5, "mode": "fan_out", "distribution": "uniform"}, "registered_name": null})"));
  EXPECT_EQ(j["kernel_regularizer"],
            Json::parse(R"({"module": "keras.regularizers", "class_name": "L1L2",
      "config": {"l1": 0.1, "l2": 0.2}, "registered_name": null})"));
  EXPECT_EQ(j["bias_regularizer"],
            Json::parse(R"({"module": "keras.regularizers", "class_name": "L1",
      "config": {"l1": 0.01}, "registered_name": null})"));
  EXPECT_EQ(j["kernel_constraint"],
            Json::parse(R"({"module": "keras.constraints", "class_name": "MinMaxNorm",
      "config": {"min_value": 0.5, "max_value": 1.0, "rate": 1.0, "axis": 0}, "registered_name": null})"));
  EXPECT_EQ(j["bias_constraint"],
            Json::parse(R"({"module": "keras.constraints", "class_name": "UnitNorm",
      "config": {"axis": 0}, "registered_name": null})"));
  s.activation = Activation::kSilu;
  EXPECT_EQ(Json::parse(to_config_json(s))["activation"], "silu");
}

TEST(SpecJson, ReadsGoldenPlainDicts) {
  const Conv1DSpec s = parse_spec_json(
      R"({"strides":2,"padding":"SAME","data_format":"Channels_First","dilation_rate":1,"groups":2,)"
      R"("activation":null,"use_bias":false,"filters":6,"kernel_size":3})");
  EXPECT_EQ(s.strides, 2);
  EXPECT_EQ(s.padding, Padding::kSame);
  EXPECT_EQ(s.data_format, DataFormat::kChannelsFirst);
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.activation, Activation::kLinear);
  EXPECT_FALSE(s.use_bias);
  EXPECT_EQ(s.filters, 6);
  EXPECT_EQ(s.kernel_size, 3);
}

TEST(SpecJson, ReadsSerializedLayerAndPlainStrings) {
  const Conv1DSpec s = parse_spec_json(
      R"({"module": "keras.layers", "class_name": "Conv1D", "registered_name": null,
          "build_config": {"input_shape": [null, 100, 8]},
          "config": {"name": "c", "filters": 8, "kernel_size": 3, "kernel_initializer": "he_uniform",
                     "bias_initializer": "ones", "kernel_regularizer": "l1_l2", "bias_constraint": "non_neg",
                     "dtype": "float32", "batch_input_shape": [null, 100, 8]}})");
  EXPECT_EQ(s.name, "c");
  EXPECT_EQ(s.kernel_initializer.kind, Initializer::Kind::kHeUniform);
  EXPECT_EQ(s.bias_initializer.kind, Initializer::Kind::kOnes);
  EXPECT_EQ(s.kernel_regularizer, (Regularizer{Regularizer::Kind::kL1L2, 0.01, 0.01}));
  EXPECT_EQ(s.bias_constraint.kind, Constraint::Kind::kNonNeg);
  expect_error([] { parse_spec_json(R"({"class_name": "Dense", "config": {"units": 3}})"); },
               ErrorCode::kUnsupported, "class_name=Dense", "class_name");
  // Older Keras class names.
  const Conv1DSpec o = parse_spec_json(
      R"({"filters": 2, "kernel_size": 1, "kernel_initializer": {"class_name": "OrthogonalInitializer",
          "config": {"gain": 2.0, "seed": 5}}, "dtype": {"module": "keras", "class_name": "FloatDTypePolicy",
          "config": {"name": "float32"}, "registered_name": null}})");
  EXPECT_EQ(o.kernel_initializer.kind, Initializer::Kind::kOrthogonal);
  EXPECT_EQ(o.kernel_initializer.gain, 2.0);
  EXPECT_EQ(o.kernel_initializer.seed, std::optional<std::int64_t>(5));
}

TEST(SpecJson, TypeErrorsMatchTheKeywordForm) {
  struct Case {
    const char* json_value;
    const char* keyword_value;
    const char* key;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {"2.5", "2.5", "kernel_size", ErrorCode::kInvalidType,
       "The `kernel_size` argument must be a tuple of 1 integers. Received kernel_size=2.5"},
      {"[3,3]", "[3,3]", "kernel_size", ErrorCode::kInvalidType,
       "The `kernel_size` argument must be a tuple of 1 integers. Received kernel_size=[3, 3]"},
      {"\"abc\"", "abc", "filters", ErrorCode::kInvalidType, "Received filters=abc"},
      {"2.5", "2.5", "filters", ErrorCode::kInvalidType, "Received filters=2.5"},
      {"\"yes\"", "yes", "use_bias", ErrorCode::kInvalidType, "Received use_bias=yes"},
      {"\"full\"", "full", "padding", ErrorCode::kUnknownName, "Received: full"},
      {"\"ReLU\"", "ReLU", "activation", ErrorCode::kUnknownName,
       "Could not interpret activation function identifier: ReLU"},
      {"\"channels_middle\"", "channels_middle", "data_format", ErrorCode::kUnknownName,
       "Received: data_format=channels_middle"},
      {"99999999999999999999", "99999999999999999999", "filters", ErrorCode::kResourceLimit,
       "does not fit in a 64-bit integer"},
      {"[99999999999999999999]", "[99999999999999999999]", "strides", ErrorCode::kResourceLimit,
       "does not fit in a 64-bit integer"},
      {"1e300", "1e300", "groups", ErrorCode::kResourceLimit, "does not fit in a 64-bit integer"},
      {"\"lll\"", "lll", "kernel_regularizer", ErrorCode::kUnknownName,
       "Could not interpret regularizer identifier: lll"},
      {"3", "3", "kernel_initializer", ErrorCode::kInvalidType,
       "Could not interpret initializer identifier: 3"},
  };
  for (const auto& c : cases) {
    const std::string base_json = R"({"filters": 4, "kernel_size": 3)";
    const std::string base_kw = "filters=4,kernel_size=3";
    const std::string key = c.key;
    std::string json_text, kw_text;
    if (key == "filters" || key == "kernel_size") {
      json_text = key == "filters"
                      ? std::string(R"({"kernel_size": 3, "filters": )") + c.json_value + "}"
                      : std::string(R"({"filters": 4, "kernel_size": )") + c.json_value + "}";
      kw_text = key == "filters" ? std::string("kernel_size=3,filters=") + c.keyword_value
                                 : std::string("filters=4,kernel_size=") + c.keyword_value;
    } else {
      json_text = base_json + ", \"" + key + "\": " + c.json_value + "}";
      kw_text = base_kw + "," + key + "=" + c.keyword_value;
    }
    SCOPED_TRACE(json_text + "  |  " + kw_text);
    const std::string a = expect_error([&] { parse_spec_json(json_text); }, c.code, c.message, key);
    const std::string b =
        expect_error([&] { parse_spec_keywords(kw_text); }, c.code, c.message, key);
    // A literal beyond 64 bits reaches us from nlohmann as a double, so its text differs.
    if (c.code != ErrorCode::kResourceLimit) {
      EXPECT_EQ(a, b);
    }
  }
}

TEST(SpecJson, StructuralErrors) {
  expect_error([] { parse_spec_json(R"({"filters": 4, "kernel_size": 3, "foo": [1]})"); },
               ErrorCode::kUnknownName,
               "Unrecognized keyword arguments passed to Conv1D: {'foo': [1]}", "foo");
  expect_error([] { parse_spec_json(R"({"kernel_size": 3})"); }, ErrorCode::kInvalidValue,
               "'filters'", "filters");
  expect_error([] { parse_spec_json(R"({"filters": 4, "kernel_size": 3, "filters": 5})"); },
               ErrorCode::kParseError, "duplicate key \"filters\"", "filters");
  expect_error([] { parse_spec_json(R"({"filters": 4, "kernel_size": 3,})"); },
               ErrorCode::kParseError, "line 1, column 33", "spec");
  expect_error([] { parse_spec_json("{\"filters\": 4,\n \"kernel_size\": }"); },
               ErrorCode::kParseError, "line 2, column 17", "spec");
  expect_error([] { parse_spec_json(R"([1, 2])"); }, ErrorCode::kParseError,
               "must be a JSON object", "spec");
  expect_error([] { parse_spec_json(""); }, ErrorCode::kParseError, "Malformed JSON", "spec");
  expect_error([] { parse_spec_json(R"({"filters": 4, "kernel_size": 3} trailing)"); },
               ErrorCode::kParseError, "Malformed JSON", "spec");
  expect_error([] { parse_spec_json(R"({"filters": 4, "kernel_size": 3, "activation": "None"})"); },
               ErrorCode::kUnknownName, "identifier: None", "activation");
  expect_error(
      [] { parse_spec_json(R"({"filters": 4, "kernel_size": 3, "dtype": "mixed_float16"})"); },
      ErrorCode::kUnsupported, "Received: dtype=mixed_float16", "dtype");
  expect_error(
      [] {
        parse_spec_json(
            R"({"filters": 4, "kernel_size": 3, "dtype": {"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": "bfloat16"}, "registered_name": null}})");
      },
      ErrorCode::kUnsupported, "dtype=bfloat16", "dtype");
  expect_error(
      [] {
        parse_spec_json(
            R"({"filters": 4, "kernel_size": 3, "kernel_initializer": {"module": "keras.initializers",
                            "class_name": "Foo", "config": {}, "registered_name": null}})");
      },
      ErrorCode::kUnknownName, "Could not locate class 'Foo'", "kernel_initializer");
  expect_error(
      [] {
        parse_spec_json(
            R"({"filters": 4, "kernel_size": 3, "kernel_constraint": {"class_name": "MaxNorm",
                            "config": {"max_value": 2, "axis": 0, "norm": 1}}})");
      },
      ErrorCode::kUnknownName, "unexpected keyword argument 'norm'", "kernel_constraint");
  expect_error([] { parse_spec_json(R"({"filters": 4, "kernel_size": 3, "lora_rank": 4})"); },
               ErrorCode::kUnsupported, "LoRA", "lora_rank");
  EXPECT_EQ(
      parse_spec_json(R"({"filters": 4, "kernel_size": 3, "lora_rank": null, "data_format": null})")
          .filters,
      4);
}

}  // namespace
}  // namespace convjit
