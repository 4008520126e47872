// Golden case records, checked field by field before use.
#include "tools/conformance_case.hpp"

#include <fmt/format.h>

#include <cfloat>
#include <cmath>
#include <string>

#include "compiler/spec/bounded_json.hpp"
#include "convjit/error.hpp"

namespace convjit::tool {
namespace {

using nlohmann::json;

/// Text of a JSON value for a message, shortened.
std::string excerpt(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

const json& member(const json& c, const char* field) {
  if (!c.contains(field)) {
    throw Error(ErrorCode::kParseError, field, fmt::format("the case has no `{}`", field));
  }
  return c.at(field);
}

std::string shape_text(const Shape3& s) {
  return fmt::format("[{}, {}, {}]", s[0], s[1], s[2]);
}

/// The element count of `shape`, refused when it overflows 64 bits.
std::int64_t element_count(const Shape3& shape, const char* field) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) {
      throw Error(ErrorCode::kInvalidValue, field,
                  fmt::format("`{}` must hold sizes >= 0. Received: {}={}", field, field,
                              shape_text(shape)));
    }
  }
  for (std::int64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n)) {
      throw Error(ErrorCode::kResourceLimit, field,
                  fmt::format("The element count of `{}` overflows 64 bits. Received: {}={}", field,
                              field, shape_text(shape)));
    }
  }
  return n;
}

/// `field` is an array of exactly `count` numbers, each a float32 value.
void check_floats(const json& c, const char* field, std::int64_t count, const std::string& from) {
  const json& v = member(c, field);
  if (!v.is_array()) {
    throw Error(ErrorCode::kInvalidType, field,
                fmt::format("`{}` must be an array of numbers. Received: {}", field, excerpt(v)));
  }
  if (static_cast<std::uint64_t>(v.size()) != static_cast<std::uint64_t>(count)) {
    throw Error(ErrorCode::kShapeMismatch, field,
                fmt::format("`{}` holds {} values, but {} needs {}", field, v.size(), from, count));
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    const json& x = v[i];
    if (!x.is_number() || !(std::fabs(x.get<double>()) <= FLT_MAX)) {
      throw Error(ErrorCode::kInvalidValue, field,
                  fmt::format("{}[{}] is not a float32 value. Received: {}", field, i, excerpt(x)));
    }
  }
}

}  // namespace

nlohmann::json parse_case_line(std::string_view line) {
  json c = detail::parse_bounded_json(line, "case");
  if (!c.is_object()) {
    throw Error(ErrorCode::kParseError, "case",
                fmt::format("a case must be a JSON object. Received a JSON {}", c.type_name()));
  }
  return c;
}

Shape3 case_shape(const nlohmann::json& value, const char* field) {
  const bool ok = value.is_array() && value.size() == 3;
  for (std::size_t i = 0; ok && i < 3; ++i) {
    const json& d = value[i];
    if (!d.is_number_integer() ||
        (d.is_number_unsigned() &&
         d.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
      throw Error(ErrorCode::kInvalidType, field,
                  fmt::format("`{}` must be 3 integers. Received: {}", field, excerpt(value)));
    }
  }
  if (!ok) {
    throw Error(ErrorCode::kInvalidType, field,
                fmt::format("`{}` must be 3 integers. Received: {}", field, excerpt(value)));
  }
  return {value[0].get<std::int64_t>(), value[1].get<std::int64_t>(), value[2].get<std::int64_t>()};
}

Conv1DSpec check_forward_case(const nlohmann::json& c) {
  const json& spec_json = member(c, "spec");
  if (!spec_json.is_object()) {
    throw Error(ErrorCode::kInvalidType, "spec",
                fmt::format("`spec` must be an object. Received: {}", excerpt(spec_json)));
  }
  const Conv1DSpec spec = parse_spec_json(spec_json.dump());  // depth-bounded already
  const Shape3 in_shape = case_shape(member(c, "input_shape"), "input_shape");
  const std::int64_t inputs = element_count(in_shape, "input_shape");
  const Shape3 out_shape = call_output_shape(spec, in_shape);  // validates spec and shape
  const Shape3 want_shape = case_shape(member(c, "output_shape"), "output_shape");
  if (out_shape != want_shape) {
    throw Error(ErrorCode::kShapeMismatch, "output_shape",
                fmt::format("output shape {} != expected {}", shape_text(out_shape),
                            shape_text(want_shape)));
  }
  check_floats(c, "input", inputs, "input_shape " + shape_text(in_shape));
  const std::int64_t channels =
      spec.data_format == DataFormat::kChannelsLast ? in_shape[2] : in_shape[1];
  const Shape3 kernel_shape{spec.kernel_size, channels / spec.groups, spec.filters};
  check_floats(c, "kernel", element_count(kernel_shape, "kernel"),
               "the kernel shape " + shape_text(kernel_shape));
  const json& bias = member(c, "bias");
  if (!spec.use_bias && !bias.is_null()) {
    throw Error(
        ErrorCode::kInvalidValue, "bias",
        fmt::format("`bias` must be null when use_bias is false. Received: {}", excerpt(bias)));
  }
  if (spec.use_bias)
    check_floats(c, "bias", spec.filters, "filters=" + std::to_string(spec.filters));
  check_floats(c, "output", element_count(out_shape, "output_shape"),
               "output_shape " + shape_text(out_shape));
  const json& scale = member(c, "acc_scale");
  if (!scale.is_number() || !(scale.get<double>() >= 0.0) || !std::isfinite(scale.get<double>())) {
    throw Error(
        ErrorCode::kInvalidValue, "acc_scale",
        fmt::format("`acc_scale` must be a finite number >= 0. Received: {}", excerpt(scale)));
  }
  return spec;
}

void check_shape_case(const nlohmann::json& c, bool needs_output_shape) {
  const json& spec = member(c, "spec");
  if (!spec.is_object()) {
    throw Error(ErrorCode::kInvalidType, "spec",
                fmt::format("`spec` must be an object. Received: {}", excerpt(spec)));
  }
  case_shape(member(c, "input_shape"), "input_shape");
  const json& expected = member(c, "expected");
  const bool ok = expected.is_object() &&
                  (!expected.contains("error") || expected.at("error").is_string()) &&
                  (!expected.contains("message") || expected.at("message").is_string());
  if (!ok) {
    throw Error(ErrorCode::kInvalidType, "expected",
                fmt::format("`expected` must be an object with an `error` string. Received: {}",
                            excerpt(expected)));
  }
  if (needs_output_shape && !expected.contains("error")) {
    case_shape(member(expected, "output_shape"), "output_shape");
  }
}

}  // namespace convjit::tool
