// Hostile text never crashes: every failure is a convjit::Error with a code.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "convjit/spec.hpp"
#include "expect_error.hpp"

namespace convjit {
namespace {

using test::expect_error;

TEST(SpecHostile, HugeInputs) {
  const std::string huge_kw = "filters=1,kernel_size=1,name='" + std::string(2 << 20, 'a') + "'";
  expect_error([&] { parse_spec_keywords(huge_kw); }, ErrorCode::kResourceLimit,
               "exceeds the limit", "spec");
  const std::string huge_json =
      "{\"filters\": 1, \"kernel_size\": 1, \"name\": \"" + std::string(2 << 20, 'a') + "\"}";
  expect_error([&] { parse_spec_json(huge_json); }, ErrorCode::kResourceLimit, "exceeds the limit",
               "spec");
  expect_error([&] { parse_spec(huge_json); }, ErrorCode::kResourceLimit, "exceeds the limit",
               "spec");
  // Long, but within the limit: a long name is fine.
  const std::string long_name(100000, 'n');
  EXPECT_EQ(parse_spec_keywords("filters=1,kernel_size=1,name=" + long_name).name, long_name);
}

TEST(SpecHostile, ManyKeysFailFast) {
  std::string kw = "filters=1,kernel_size=1";
  std::string json = "{\"filters\": 1, \"kernel_size\": 1";
  for (int i = 0; i < 80000; ++i) {
    kw += ",k" + std::to_string(i) + "=1";
    json += ", \"k" + std::to_string(i) + "\": 1";
  }
  json += "}";
  expect_error([&] { parse_spec_keywords(kw); }, ErrorCode::kUnknownName, "{'k0': 1}", "k0");
  expect_error([&] { parse_spec_json(json); }, ErrorCode::kUnknownName, "{'k0': 1}", "k0");
  expect_error([&] { parse_spec_keywords(kw + ",k79999=2"); }, ErrorCode::kParseError,
               "multiple values for argument 'k79999'", "k79999");
}

TEST(SpecHostile, DeepNesting) {
  const int n = 200000;
  const std::string deep_json = "{\"filters\": " + std::string(n, '[') + std::string(n, ']') + "}";
  expect_error([&] { parse_spec_json(deep_json); }, ErrorCode::kParseError,
               "nesting deeper than 64", "spec");
  const std::string deep_braces = std::string(n, '{');  // malformed at its second brace
  expect_error([&] { parse_spec_json(deep_braces); }, ErrorCode::kParseError, "Malformed JSON",
               "spec");
  std::string deep_objects;
  for (int i = 0; i < n; ++i) deep_objects += "{\"a\":";
  expect_error([&] { parse_spec_json(deep_objects); }, ErrorCode::kParseError,
               "nesting deeper than 64", "spec");
  // Brackets inside strings do not count.
  EXPECT_EQ(parse_spec_json("{\"filters\": 1, \"kernel_size\": 1, \"name\": \"" +
                            std::string(1000, '[') + "\"}")
                .name,
            std::string(1000, '['));
  expect_error([&] { parse_spec_keywords("filters=1,kernel_size=" + std::string(n, '(')); },
               ErrorCode::kParseError, "nesting deeper than 64", "kernel_size");
  expect_error([&] { parse_spec_keywords("filters=1,kernel_size=" + std::string(n, '[')); },
               ErrorCode::kParseError, "nesting deeper than 64", "kernel_size");
  std::string calls = "filters=1,kernel_size=1,kernel_initializer=";
  for (int i = 0; i < 10000; ++i) calls += "f(";
  expect_error([&] { parse_spec_keywords(calls); }, ErrorCode::kParseError, "nesting",
               "kernel_initializer");
  // Moderate nesting is parsed and then rejected for its type.
  expect_error(
      [&] {
        parse_spec_keywords("filters=1,kernel_size=" + std::string(30, '[') + "3" +
                            std::string(30, ']'));
      },
      ErrorCode::kInvalidType, "must be a tuple of 1 integers", "kernel_size");
}

TEST(SpecHostile, NotUtf8) {
  for (const std::string& bad :
       {std::string("\xff"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
        std::string("\xe2\x82"), std::string("\xf8\x88\x80\x80\x80")}) {
    expect_error([&] { parse_spec_keywords("filters=1,kernel_size=1,name=a" + bad); },
                 ErrorCode::kParseError, "not valid UTF-8", "spec");
    expect_error(
        [&] {
          parse_spec_json("{\"filters\": 1, \"kernel_size\": 1, \"name\": \"a" + bad + "\"}");
        },
        ErrorCode::kParseError, "Malformed JSON", "spec");
  }
  Conv1DSpec s;
  s.name = "bad\xff";
  expect_error([&] { to_config_json(s); }, ErrorCode::kInvalidValue, "UTF-8", "name");
  // Valid UTF-8 of every length passes.
  EXPECT_EQ(
      parse_spec_keywords("filters=1,kernel_size=1,name='\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'")
          .name,
      "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST(SpecHostile, ControlCharactersAndNul) {
  const std::string nul("filters=1,kernel_size=1,name=a\0b", 32);
  EXPECT_EQ(parse_spec_keywords(nul).name, std::string("a\0b", 3));
  expect_error([&] { parse_spec_json(std::string("{\"filters\": 1,\0 \"kernel_size\": 1}", 33)); },
               ErrorCode::kParseError, "Malformed JSON", "spec");
}

TEST(SpecHostile, MutatedTextOnlyThrowsErrorsAndWhatParsesRoundTrips) {
  const std::vector<std::string> seeds = {
      "filters=64,kernel_size=3,padding=causal,activation=relu",
      "Conv1D(8, (5,), strides=[2], kernel_initializer=random_normal(mean=0,stddev=0.1,seed=7), "
      "kernel_regularizer=l1_l2(l1=0.01,l2=0.02), kernel_constraint=max_norm(max_value=3,axis=0), "
      "name='x y')",
      R"({"name": "conv1d_3", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy",
          "config": {"name": "float32"}, "registered_name": null}, "filters": 64, "kernel_size": [5],
          "strides": [1], "padding": "causal", "dilation_rate": [2], "groups": 1, "activation": "relu",
          "kernel_initializer": {"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": 42}},
          "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.0005}},
          "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}})",
  };
  const std::string specials = ",()[]{}=:\"'\\ .-+e0123456789\xff\x80";
  std::mt19937_64 rng(12345);
  int parsed = 0, rejected = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 5) {
        case 0: text.erase(at, 1 + rng() % 4); break;
        case 1: text.insert(at, 1, specials[rng() % specials.size()]); break;
        case 2: text[at] = specials[rng() % specials.size()]; break;
        case 3: text.insert(at, text.substr(rng() % text.size(), rng() % 12)); break;
        default: text[at] = static_cast<char>(rng() % 256); break;
      }
    }
    try {
      const Conv1DSpec s = parse_spec(text);
      ++parsed;
      // Whatever parses and is a valid Keras layer prints back to itself.
      bool valid = true;
      try {
        validate(s);
      } catch (const Error&) {
        valid = false;
      }
      if (valid) {
        EXPECT_EQ(parse_spec_keywords(to_keywords(s)), s) << text;
        EXPECT_EQ(parse_spec_json(to_config_json(s)), s) << text;
      }
    } catch (const Error& e) {
      ++rejected;
      EXPECT_NE(std::string(e.what()), "");
      EXPECT_NE(e.argument(), "");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-convjit exception " << e.what() << " for: " << text;
    }
  }
  EXPECT_GT(parsed, 100);
  EXPECT_GT(rejected, 1000);
}

TEST(SpecHostile, RandomBytes) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string text(rng() % 64, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    if (i % 2) text.insert(0, "{");
    try {
      parse_spec(text);
    } catch (const Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-convjit exception " << e.what();
    }
  }
}

TEST(SpecHostile, ExtremeNumbers) {
  expect_error([] { parse_spec_keywords("filters=99999999999999999999999,kernel_size=1"); },
               ErrorCode::kResourceLimit, "filters=99999999999999999999999", "filters");
  expect_error([] { parse_spec_keywords("filters=-99999999999999999999999,kernel_size=1"); },
               ErrorCode::kResourceLimit, "does not fit", "filters");
  expect_error([] { parse_spec_json(R"({"filters": 1, "kernel_size": 18446744073709551615})"); },
               ErrorCode::kResourceLimit, "does not fit", "kernel_size");
  expect_error([] { parse_spec_json(R"({"filters": 1, "kernel_size": 1e400})"); },
               ErrorCode::kParseError, "Malformed JSON", "spec");
  // In range of int64 but absurd: validate() refuses it, never overflows.
  const Conv1DSpec s =
      parse_spec_json(R"({"filters": 9223372036854775807, "kernel_size": 9223372036854775807})");
  expect_error([&] { validate(s); }, ErrorCode::kResourceLimit, "exceeds the supported maximum",
               "filters");
  const Conv1DSpec t = parse_spec_keywords("filters=4,kernel_size=3,dilation_rate=4294967296");
  expect_error([&] { validate(t); }, ErrorCode::kResourceLimit, "dilation_rate=4294967296",
               "dilation_rate");
  const Conv1DSpec u = parse_spec_keywords("filters=4,kernel_size=3,groups=4294967296");
  expect_error([&] { validate(u); }, ErrorCode::kIncompatibleArguments, "groups=4294967296",
               "groups");
  // 1e999 reads as inf; validate() refuses a non-finite argument.
  const Conv1DSpec v =
      parse_spec_keywords("filters=4,kernel_size=3,kernel_initializer=random_normal(stddev=1e999)");
  expect_error([&] { validate(v); }, ErrorCode::kInvalidValue, "stddev=inf", "kernel_initializer");
}

}  // namespace
}  // namespace convjit
