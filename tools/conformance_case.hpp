// A golden case record of shared/conformance/ (FORMAT.md), checked before it is used: case
// files come from outside, so every field a kind reads is checked for presence, type, exact
// integers and float32 range, and every array against the length its shape implies, before
// anything is allocated or run.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "convjit/spec.hpp"
#include "runtime/input_file.hpp"

namespace convjit::tool {

/// A case file: the golden files are 2.5 MB at most, with lines of 0.5 MB.
inline constexpr detail::InputFileKind kCaseFile{"the case file", "FILE", std::uint64_t{1} << 30,
                                                 std::size_t{16} << 20};

/// One line of a case file as JSON: bounded (nesting, duplicate keys) and an object.
/// Throws Error(kParseError).
nlohmann::json parse_case_line(std::string_view line);

/// Checks a "forward" record and returns its spec: `spec` parses, `input_shape` and
/// `output_shape` are 3 exact non-negative integers, `input`, `kernel`, `bias` (null exactly
/// when use_bias is false) and `output` hold as many float32 values as their shapes imply
/// (the kernel's (kernel_size, C/groups, filters)), the output shape is the one the spec
/// gives, and `acc_scale` is a finite number >= 0. Throws Error naming the field and value.
Conv1DSpec check_forward_case(const nlohmann::json& c);

/// Checks a "shape" or "invalid" record: `spec` is an object, `input_shape` 3 exact
/// integers, `expected` an object whose `error` and `message` are strings, and, when
/// `needs_output_shape` ("shape" records) and there is no `error`, whose `output_shape` is 3
/// integers. The spec itself is not parsed: rejecting it may be the expected result.
void check_shape_case(const nlohmann::json& c, bool needs_output_shape);

/// An `input_shape` or `output_shape` value: 3 exact integers in int64 (negative ones are
/// left to validate()). Throws Error(kInvalidType, field).
Shape3 case_shape(const nlohmann::json& value, const char* field);

}  // namespace convjit::tool
