// parse_bounded_json — JSON from outside (spec text, tuning-database records, case files),
// parsed without recursion and within bounds.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace convjit::detail {

/// Deepest nesting of arrays and objects in any JSON convjit reads. A Conv1D config nests 4
/// levels, a tuning record 5, a golden case 3.
inline constexpr int kMaxJsonDepth = 64;

/// Parses `text` as one JSON value. Nesting deeper than kMaxJsonDepth and duplicate keys are
/// refused while parsing (a parser callback; nlohmann's parser keeps its own stack, it does
/// not recurse), so no recursive walk of the result (dump, comparison, destruction) can run
/// out of stack. Throws Error(kParseError, argument, "Malformed JSON: ...").
nlohmann::json parse_bounded_json(std::string_view text, const std::string& argument);

}  // namespace convjit::detail
