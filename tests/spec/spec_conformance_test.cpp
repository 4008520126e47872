// The golden files of shared/conformance, read at run time: every invalid spec is rejected
// with Keras's message and the right code, every shape case and every forward case's
// output shape and padding come out as recorded.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convjit/spec.hpp"

namespace convjit {
namespace {

using Json = nlohmann::json;

std::vector<Json> read_jsonl(const std::string& name) {
  const std::string path = std::string(CONVJIT_SHARED_DIR) + "/conformance/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<Json> records;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) records.push_back(Json::parse(line));
  }
  return records;
}

Shape3 shape_of(const Json& j) {
  return {j[0].get<std::int64_t>(), j[1].get<std::int64_t>(), j[2].get<std::int64_t>()};
}

/// The spec dict as keyword syntax: null -> None, true -> True, strings and lists as JSON.
std::string keywords_of(const Json& spec) {
  std::string out;
  for (const auto& [key, value] : spec.items()) {
    if (!out.empty()) out += ", ";
    out += key + "=";
    if (value.is_null()) {
      out += "None";
    } else if (value.is_boolean()) {
      out += value.get<bool>() ? "True" : "False";
    } else {
      out += value.dump();
    }
  }
  return out;
}

/// Keras's message with "..." where FORMAT.md elides values: each piece must appear in
/// ours, in order.
void expect_message_matches(const std::string& ours, const std::string& keras,
                            const std::string& id) {
  std::size_t from = 0, at = 0;
  while (from <= keras.size()) {
    std::size_t dots = keras.find("...", from);
    const std::string piece =
        keras.substr(from, dots == std::string::npos ? std::string::npos : dots - from);
    if (!piece.empty()) {
      const std::size_t found = ours.find(piece, at);
      ASSERT_NE(found, std::string::npos)
          << id << ": our message\n  " << ours << "\nlacks Keras's\n  " << piece;
      at = found + piece.size();
    }
    if (dots == std::string::npos) break;
    from = dots + 3;
  }
}

/// The error code each Keras message maps to. A record whose message matches no entry
/// fails the test, so a new kind of record cannot pass unchecked.
ErrorCode expected_code(const std::string& message, const std::string& id) {
  struct Rule {
    const char* fragment;
    ErrorCode code;
  };
  static const Rule kRules[] = {
      {"not supported in conjunction with", ErrorCode::kIncompatibleArguments},
      {"number of filters must be evenly divisible", ErrorCode::kIncompatibleArguments},
      {"number of input channels must be evenly divisible", ErrorCode::kInvalidShape},
      {"number of groups must be a positive integer", ErrorCode::kInvalidValue},
      {"that do not satisfy `value > 0`", ErrorCode::kInvalidValue},
      {"argument must be a tuple of 1 integers", ErrorCode::kInvalidType},
      {"Expected a strictly positive value", ErrorCode::kInvalidValue},
      {"The `padding` argument must be a list/tuple or one of", ErrorCode::kUnknownName},
      {"`padding` must be either", ErrorCode::kInvalidValue},
      {"The `data_format` argument must be one of", ErrorCode::kUnknownName},
      {"Could not interpret activation function identifier", ErrorCode::kUnknownName},
      {"Computed output size would be zero or negative", ErrorCode::kInvalidShape},
  };
  for (const auto& rule : kRules) {
    if (message.find(rule.fragment) != std::string::npos) return rule.code;
  }
  ADD_FAILURE() << id << ": no expected code for Keras message: " << message;
  return ErrorCode::kIoError;
}

/// Parses (JSON or keywords) and builds against the input shape; returns the Error.
std::optional<Error> reject(const std::string& text, const Shape3& shape) {
  try {
    const Conv1DSpec spec = parse_spec(text);
    validate(spec, shape);
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

TEST(SpecConformance, EveryInvalidRecordIsRejectedWithKerasMessage) {
  const auto records = read_jsonl("invalid.jsonl");
  ASSERT_GE(records.size(), 24u);
  for (const auto& r : records) {
    const std::string id = r["id"];
    const std::string keras = r["expected"]["message"];
    const ErrorCode code = expected_code(keras, id);
    const Shape3 shape = shape_of(r["input_shape"]);
    for (const std::string& text : {r["spec"].dump(), keywords_of(r["spec"])}) {
      SCOPED_TRACE(id + ": " + text);
      const auto error = reject(text, shape);
      ASSERT_TRUE(error.has_value()) << id << " was accepted";
      EXPECT_EQ(error_code_name(error->code()), std::string(error_code_name(code)))
          << error->what();
      expect_message_matches(error->what(), keras, id);
    }
  }
}

TEST(SpecConformance, InvalidRecordsStageMatches) {
  // Constructor-stage errors need no input shape: validate(spec) alone (or parsing) rejects
  // them. Build-stage errors pass validate(spec) and fail only with the shape.
  for (const auto& r : read_jsonl("invalid.jsonl")) {
    const std::string id = r["id"];
    SCOPED_TRACE(id);
    const bool constructor = r["expected"]["stage"] == "constructor";
    bool rejected_without_shape = false;
    try {
      validate(parse_spec_json(r["spec"].dump()));
    } catch (const Error&) {
      rejected_without_shape = true;
    }
    // pub-i017 (padding=[1, 2]) fails at build in Keras; we cannot hold a list padding, so
    // it is rejected when read.
    if (id == "pub-i017") {
      EXPECT_TRUE(rejected_without_shape);
    } else {
      EXPECT_EQ(rejected_without_shape, constructor);
    }
  }
}

TEST(SpecConformance, ExactMessagesWithValuesFilledIn) {
  auto message = [](const std::string& text, const Shape3& shape) {
    auto e = reject(text, shape);
    return e ? std::string(e->what()) : std::string("<accepted>");
  };
  EXPECT_EQ(message("filters=4,kernel_size=6", {1, 5, 2}),
            "Computed output size would be zero or negative. Received `inputs shape=(1, 5, 2)`, "
            "`kernel shape=(6, 2, 4)`, `dilation_rate=(1,)`, `strides=(1,)`, `padding=valid`.");
  EXPECT_EQ(message("filters=6,kernel_size=3,groups=3", {1, 10, 4}),
            "The number of input channels must be evenly divisible by the number of groups. "
            "Received groups=3, but the input has 4 channels (full input shape is (1, 10, 4)).");
  EXPECT_EQ(message("filters=5,kernel_size=3,groups=2", {1, 10, 4}),
            "The number of filters must be evenly divisible by the number of groups. Received: "
            "groups=2, filters=5.");
  EXPECT_EQ(message("filters=0,kernel_size=3", {1, 10, 4}),
            "Invalid value for argument `filters`. Expected a strictly positive value. Received "
            "filters=0.");
  EXPECT_EQ(message("filters=4,kernel_size=3,strides=2,dilation_rate=2", {1, 10, 4}),
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
            "strides=(2,) and dilation_rate=(2,)");
  EXPECT_EQ(message("filters=4,kernel_size=0", {1, 10, 4}),
            "The `kernel_size` argument must be a tuple of 1 integers. Received kernel_size=0, "
            "including values {0} that do not satisfy `value > 0`");
  EXPECT_EQ(message("filters=4,kernel_size=3,groups=0", {1, 10, 4}),
            "The number of groups must be a positive integer. Received: groups=0.");
  // A dynamic batch prints as None.
  EXPECT_EQ(message("filters=4,kernel_size=6,data_format=channels_first", {kDynamic, 2, 5}),
            "Computed output size would be zero or negative. Received `inputs shape=(None, 2, "
            "5)`, `kernel shape=(6, 2, 4)`, `dilation_rate=(1,)`, `strides=(1,)`, "
            "`padding=valid`.");
}

TEST(SpecConformance, EveryShapeRecord) {
  const auto records = read_jsonl("shapes.jsonl");
  ASSERT_GE(records.size(), 45u);
  int errors = 0, shapes = 0;
  for (const auto& r : records) {
    const std::string id = r["id"];
    SCOPED_TRACE(id);
    const Conv1DSpec spec = parse_spec_json(r["spec"].dump());
    const Shape3 in = shape_of(r["input_shape"]);
    const Json& expected = r["expected"];
    if (expected.contains("output_shape")) {
      ++shapes;
      const Shape3 want = shape_of(expected["output_shape"]);
      EXPECT_EQ(compute_output_shape(spec, in), want);
      EXPECT_EQ(call_output_shape(spec, in), want);
      EXPECT_NO_THROW(validate(spec, in));
    } else {
      ++errors;
      try {
        compute_output_shape(spec, in);
        ADD_FAILURE() << id << " accepted";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidShape) << e.what();
        EXPECT_EQ(e.argument(), "padding");
        expect_message_matches(e.what(), expected["message"], id);
      }
      // The pre-3.14 rule (error only below zero) is what output_length reports.
      if (r.contains("keras_before_3_14") && r["keras_before_3_14"].contains("output_shape")) {
        const Shape3 old = shape_of(r["keras_before_3_14"]["output_shape"]);
        const bool cl = spec.data_format == DataFormat::kChannelsLast;
        EXPECT_EQ(output_length(spec, cl ? in[1] : in[2]), cl ? old[1] : old[2]);
      }
    }
  }
  EXPECT_GT(errors, 10);
  EXPECT_GT(shapes, 10);
}

TEST(SpecConformance, EveryForwardCaseShapeAndPadding) {
  int checked = 0, glu = 0;
  for (const char* file : {"cases.jsonl", "extra_activations.jsonl", "variants.jsonl"}) {
    for (const auto& r : read_jsonl(file)) {
      const std::string id = r["id"];
      SCOPED_TRACE(id);
      const Json& jspec = r["spec"];
      const std::string act =
          jspec["activation"].is_string() ? jspec["activation"].get<std::string>() : "";
      if (act.rfind("tfjs:", 0) == 0) {
        // tfjs-only identifiers are not Keras names.
        EXPECT_THROW(parse_spec_json(jspec.dump()), Error);
        continue;
      }
      const Conv1DSpec spec = parse_spec_json(jspec.dump());
      EXPECT_EQ(spec, parse_spec_keywords(keywords_of(jspec)));
      const Shape3 in = shape_of(r["input_shape"]);
      EXPECT_EQ(call_output_shape(spec, in), shape_of(r["output_shape"]));
      const bool cl = spec.data_format == DataFormat::kChannelsLast;
      const auto pads = padding_amounts(spec, cl ? in[1] : in[2]);
      EXPECT_EQ(pads[0], r["keras_padding_lr"][0].get<std::int64_t>());
      EXPECT_EQ(pads[1], r["keras_padding_lr"][1].get<std::int64_t>());
      // The kernel shape Keras stores: (K, C/groups, F).
      EXPECT_EQ(spec.kernel_size, r["kernel_shape"][0].get<std::int64_t>());
      EXPECT_EQ((cl ? in[2] : in[1]) / spec.groups, r["kernel_shape"][1].get<std::int64_t>());
      EXPECT_EQ(spec.filters, r["kernel_shape"][2].get<std::int64_t>());
      glu += spec.activation == Activation::kGlu;
      ++checked;
    }
  }
  EXPECT_GT(checked, 500);
  EXPECT_GE(glu, 2);
}

}  // namespace
}  // namespace convjit
