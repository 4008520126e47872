// Golden case records checked before use (tools/conformance_case.hpp): an error table of
// {record change, code, argument, message substring}, from a valid record of FORMAT.md.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convjit/error.hpp"
#include "spec/expect_error.hpp"
#include "tools/conformance_case.hpp"

namespace convjit::tool {
namespace {

using nlohmann::json;
using test::expect_error;

/// FORMAT.md's example: filters=2, kernel_size=2, valid, relu, input (2, 7, 1).
json valid_forward() {
  json c;
  c["kind"] = "forward";
  c["id"] = "t-0001";
  c["spec"] = {{"filters", 2},
               {"kernel_size", 2},
               {"strides", 1},
               {"padding", "valid"},
               {"data_format", "channels_last"},
               {"dilation_rate", 1},
               {"groups", 1},
               {"activation", "relu"},
               {"use_bias", true}};
  c["input_shape"] = {2, 7, 1};
  c["output_shape"] = {2, 6, 2};
  c["input"] = std::vector<double>(14, 0.5);
  c["kernel"] = std::vector<double>(4, 0.25);
  c["bias"] = std::vector<double>(2, 0.125);
  c["output"] = std::vector<double>(24, 0.375);
  c["acc_scale"] = 1.0;
  return c;
}

struct CaseError {
  std::string what;
  std::function<void(json&)> change;
  ErrorCode code;
  std::string argument, substring;
};

TEST(ConformanceCase, ValidRecordsPass) {
  EXPECT_EQ(check_forward_case(valid_forward()).filters, 2);
  json no_bias = valid_forward();
  no_bias["spec"]["use_bias"] = false;
  no_bias["bias"] = nullptr;
  EXPECT_FALSE(check_forward_case(no_bias).use_bias);
  const json shape = json::parse(
      R"({"kind":"shape","id":"s","spec":{"filters":2,"kernel_size":3},"input_shape":[2,2,3],)"
      R"("expected":{"error":"ValueError","message":"Computed output size"}})");
  check_shape_case(shape, true);
  const json shape_ok = json::parse(
      R"({"kind":"shape","id":"s","spec":{"filters":2,"kernel_size":3},"input_shape":[2,9,3],)"
      R"("expected":{"output_shape":[2,7,2]}})");
  check_shape_case(shape_ok, true);
}

TEST(ConformanceCase, ForwardRecordErrorTable) {
  const std::vector<CaseError> table = {
      // The issue's reproductions.
      {"3 input values for shape [2,7,1]",
       [](json& c) {
         c["input"] = {0.5, 0.5, 0.5};
       },
       ErrorCode::kShapeMismatch, "input",
       "`input` holds 3 values, but input_shape [2, 7, 1] needs 14"},
      {"input_shape [2,50000000,1] with the output of [2,7,1]",
       [](json& c) {
         c["input_shape"] = {2, 50000000, 1};
       },
       ErrorCode::kShapeMismatch, "output_shape",
       "output shape [2, 49999999, 2] != expected [2, 6, 2]"},
      {"input_shape [2,50000000,1], output_shape to match, input []",
       [](json& c) {
         c["input_shape"] = {2, 50000000, 1};
         c["output_shape"] = {2, 49999999, 2};
         c["input"] = json::array();
       },
       ErrorCode::kShapeMismatch, "input", "`input` holds 0 values, but input_shape"},
      {"input_shape 7.9",
       [](json& c) {
         c["input_shape"] = {2, 7.9, 1};
       },
       ErrorCode::kInvalidType, "input_shape", "must be 3 integers. Received: [2,7.9,1]"},
      // Every other field.
      {"no spec", [](json& c) { c.erase("spec"); }, ErrorCode::kParseError, "spec",
       "has no `spec`"},
      {"spec not an object", [](json& c) { c["spec"] = "filters=2"; }, ErrorCode::kInvalidType,
       "spec", "must be an object"},
      {"spec Keras rejects", [](json& c) { c["spec"]["filters"] = 0; }, ErrorCode::kInvalidValue,
       "filters", "Received filters=0"},
      {"input_shape of 2",
       [](json& c) {
         c["input_shape"] = {2, 7};
       },
       ErrorCode::kInvalidType, "input_shape", "must be 3 integers"},
      {"input_shape a string", [](json& c) { c["input_shape"] = "2,7,1"; }, ErrorCode::kInvalidType,
       "input_shape", "must be 3 integers"},
      {"input_shape beyond int64",
       [](json& c) {
         c["input_shape"] = {2, 18446744073709551615ull, 1};
       },
       ErrorCode::kInvalidType, "input_shape", "must be 3 integers"},
      {"input_shape overflowing",
       [](json& c) {
         c["input_shape"] = {1LL << 40, 1LL << 40, 1};
       },
       ErrorCode::kResourceLimit, "input_shape", "element count of `input_shape` overflows"},
      {"negative input_shape",
       [](json& c) {
         c["input_shape"] = {-2, 7, 1};
       },
       ErrorCode::kInvalidValue, "input_shape", "sizes >= 0"},
      {"output_shape 6.5",
       [](json& c) {
         c["output_shape"] = {2, 6.5, 2};
       },
       ErrorCode::kInvalidType, "output_shape", "must be 3 integers"},
      {"input not an array", [](json& c) { c["input"] = 0.5; }, ErrorCode::kInvalidType, "input",
       "must be an array of numbers"},
      {"a string in the input", [](json& c) { c["input"][3] = "x"; }, ErrorCode::kInvalidValue,
       "input", "input[3] is not a float32 value. Received: \"x\""},
      {"null in the input", [](json& c) { c["input"][0] = nullptr; }, ErrorCode::kInvalidValue,
       "input", "input[0] is not a float32 value"},
      {"1e300 in the input", [](json& c) { c["input"][5] = 1e300; }, ErrorCode::kInvalidValue,
       "input", "input[5] is not a float32 value"},
      {"a nested array in the input", [](json& c) { c["input"][1] = {1.0}; },
       ErrorCode::kInvalidValue, "input", "input[1] is not a float32 value"},
      {"5 kernel values", [](json& c) { c["kernel"].push_back(1.0); }, ErrorCode::kShapeMismatch,
       "kernel", "`kernel` holds 5 values, but the kernel shape [2, 1, 2] needs 4"},
      {"no kernel", [](json& c) { c.erase("kernel"); }, ErrorCode::kParseError, "kernel",
       "has no `kernel`"},
      {"3 bias values",
       [](json& c) {
         c["bias"] = {1.0, 2.0, 3.0};
       },
       ErrorCode::kShapeMismatch, "bias", "`bias` holds 3 values, but filters=2 needs 2"},
      {"null bias with use_bias", [](json& c) { c["bias"] = nullptr; }, ErrorCode::kInvalidType,
       "bias", "must be an array of numbers"},
      {"a bias without use_bias", [](json& c) { c["spec"]["use_bias"] = false; },
       ErrorCode::kInvalidValue, "bias", "must be null when use_bias is false"},
      {"23 output values", [](json& c) { c["output"].erase(0); }, ErrorCode::kShapeMismatch,
       "output", "`output` holds 23 values, but output_shape [2, 6, 2] needs 24"},
      {"acc_scale a string", [](json& c) { c["acc_scale"] = "1"; }, ErrorCode::kInvalidValue,
       "acc_scale", "finite number >= 0"},
      {"negative acc_scale", [](json& c) { c["acc_scale"] = -1.0; }, ErrorCode::kInvalidValue,
       "acc_scale", "finite number >= 0"},
      {"no acc_scale", [](json& c) { c.erase("acc_scale"); }, ErrorCode::kParseError, "acc_scale",
       "has no `acc_scale`"},
  };
  for (const CaseError& e : table) {
    SCOPED_TRACE(e.what);
    json c = valid_forward();
    e.change(c);
    expect_error([&] { check_forward_case(c); }, e.code, e.substring, e.argument);
  }
}

TEST(ConformanceCase, ShapeAndInvalidRecordErrorTable) {
  const json base = json::parse(
      R"({"kind":"shape","id":"s","spec":{"filters":2,"kernel_size":3},"input_shape":[2,9,3],)"
      R"("expected":{"output_shape":[2,7,2]}})");
  const std::vector<CaseError> table = {
      {"spec a list",
       [](json& c) {
         c["spec"] = {1, 2};
       },
       ErrorCode::kInvalidType, "spec", "must be an object"},
      {"input_shape 7.9",
       [](json& c) {
         c["input_shape"] = {2, 7.9, 3};
       },
       ErrorCode::kInvalidType, "input_shape", "must be 3 integers"},
      {"no expected", [](json& c) { c.erase("expected"); }, ErrorCode::kParseError, "expected",
       "has no `expected`"},
      {"expected a string", [](json& c) { c["expected"] = "ValueError"; }, ErrorCode::kInvalidType,
       "expected", "must be an object"},
      {"error not a string",
       [](json& c) {
         c["expected"] = {{"error", 1}};
       },
       ErrorCode::kInvalidType, "expected", "must be an object"},
      {"output_shape of floats",
       [](json& c) {
         c["expected"]["output_shape"] = {2.5, 7, 2};
       },
       ErrorCode::kInvalidType, "output_shape", "must be 3 integers"},
  };
  for (const CaseError& e : table) {
    SCOPED_TRACE(e.what);
    json c = base;
    e.change(c);
    expect_error([&] { check_shape_case(c, true); }, e.code, e.substring, e.argument);
  }
}

TEST(ConformanceCase, LinesAreBoundedJsonObjects) {
  const int n = 100000;
  const std::string deep =
      R"({"kind":"forward","id":"deep","spec":)" + std::string(n, '[') + std::string(n, ']') + "}";
  expect_error([&] { parse_case_line(deep); }, ErrorCode::kParseError,
               "nesting deeper than 64 levels", "case");
  expect_error([&] { parse_case_line("[1, 2]"); }, ErrorCode::kParseError,
               "a case must be a JSON object", "case");
  expect_error([&] { parse_case_line(R"({"id": 1, "id": 2})"); }, ErrorCode::kParseError,
               "duplicate key \"id\"", "id");
  expect_error([&] { parse_case_line(R"({"id": )"); }, ErrorCode::kParseError, "Malformed JSON",
               "case");
  EXPECT_EQ(parse_case_line(R"({"id": "x"})").at("id"), "x");
}

}  // namespace
}  // namespace convjit::tool
