// JSON from outside, parsed within a depth bound and without duplicate keys.
#include "compiler/spec/bounded_json.hpp"

#include <string>
#include <unordered_set>
#include <vector>

#include "convjit/error.hpp"

namespace convjit::detail {

nlohmann::json parse_bounded_json(std::string_view text, const std::string& argument) {
  using Json = nlohmann::json;
  std::vector<std::unordered_set<std::string>> keys;  // of each open object
  const Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        // `depth` counts the containers already open around this one.
        if (depth >= kMaxJsonDepth) {
          throw Error(
              ErrorCode::kParseError, argument,
              "Malformed JSON: nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        }
        if (event == Json::parse_event_t::object_start) keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get_ref<const std::string&>()).second) {
          const std::string& key = parsed.get_ref<const std::string&>();
          throw Error(ErrorCode::kParseError, key, "Malformed JSON: duplicate key \"" + key + "\"");
        }
        break;
      default: break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep the position.
    if (const auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    throw Error(ErrorCode::kParseError, argument, "Malformed JSON: " + what);
  }
}

}  // namespace convjit::detail
