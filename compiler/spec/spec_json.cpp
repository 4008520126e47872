// Keras get_config() JSON: reading (the exact JSON Keras 3 writes for Conv1D, the serialized
// layer {"class_name": "Conv1D", "config": {...}}, or the plain dicts of the golden cases)
// and writing (what Keras 3 get_config() writes).
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/spec/bounded_json.hpp"
#include "compiler/spec/keras_objects.hpp"
#include "compiler/spec/py_value.hpp"
#include "compiler/spec/spec_args.hpp"
#include "convjit/spec.hpp"

namespace convjit {
namespace {

using detail::Kwargs;
using detail::PyValue;
using Json = nlohmann::json;                 // reading: a tree map, O(log n) per key
using OrderedJson = nlohmann::ordered_json;  // writing: Keras's key order

PyValue to_py(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return PyValue::none();
    case Json::value_t::boolean: return PyValue::from_bool(j.get<bool>());
    case Json::value_t::number_integer: return PyValue::from_int(j.get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      PyValue v = PyValue::from_int(static_cast<std::int64_t>(u & 0x7fffffffffffffffULL));
      if (u > static_cast<std::uint64_t>(INT64_MAX)) {
        v.int_overflow = true;
        v.text = std::to_string(u);
      }
      return v;
    }
    case Json::value_t::number_float: {
      const double d = j.get<double>();
      // An integer literal beyond 64 bits reaches us as a float: keep it an integer.
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) >= 9.2e18) {
        PyValue v = PyValue::from_int(0);
        v.int_overflow = true;
        v.text = j.dump();
        return v;
      }
      return PyValue::from_float(d);
    }
    case Json::value_t::string: return PyValue::from_string(j.get<std::string>());
    case Json::value_t::array: {
      PyValue v;
      v.type = PyValue::Type::kList;
      for (const auto& item : j) v.items.push_back(to_py(item));
      return v;
    }
    case Json::value_t::object: {
      PyValue v;
      v.type = PyValue::Type::kDict;
      for (const auto& [key, item] : j.items()) v.entries.emplace_back(key, to_py(item));
      return v;
    }
    default: return PyValue::none();  // binary and discarded values do not come from text
  }
}

OrderedJson to_json(const PyValue& v) {
  switch (v.type) {
    case PyValue::Type::kNone: return nullptr;
    case PyValue::Type::kBool: return v.boolean;
    case PyValue::Type::kInt: return v.integer;
    case PyValue::Type::kFloat: return v.number;
    case PyValue::Type::kString: return v.text;
    default: {
      OrderedJson out = OrderedJson::array();
      for (const auto& item : v.items) out.push_back(to_json(item));
      return out;
    }
  }
}

OrderedJson object_json(const detail::ObjectConfig& config) {
  OrderedJson fields = OrderedJson::object();
  for (const auto& f : config.fields) fields[f.key] = to_json(f.value);
  OrderedJson out = OrderedJson::object();
  out["module"] = config.module;
  out["class_name"] = config.class_name;
  out["config"] = std::move(fields);
  out["registered_name"] = nullptr;
  return out;
}

OrderedJson regularizer_json(const Regularizer& r) {
  if (r.kind == Regularizer::Kind::kNone) return nullptr;
  return object_json(detail::describe_regularizer(r));
}

OrderedJson constraint_json(const Constraint& c) {
  if (c.kind == Constraint::Kind::kNone) return nullptr;
  return object_json(detail::describe_constraint(c));
}

}  // namespace

Conv1DSpec parse_spec_json(std::string_view json_text) {
  if (json_text.size() > detail::kMaxSpecTextBytes) {
    throw Error(ErrorCode::kResourceLimit, "spec",
                "Spec JSON of " + std::to_string(json_text.size()) +
                    " bytes exceeds the limit of " + std::to_string(detail::kMaxSpecTextBytes) +
                    " bytes");
  }
  // Bounded: nesting deeper than kMaxJsonDepth and duplicate keys (which nlohmann would
  // silently resolve to one of them) are malformed.
  Json j = detail::parse_bounded_json(json_text, "spec");
  if (!j.is_object()) {
    throw Error(
        ErrorCode::kParseError, "spec",
        std::string("A Conv1D config must be a JSON object. Received a JSON ") + j.type_name());
  }
  // A serialized layer: {"module": "keras.layers", "class_name": "Conv1D", "config": {...}}.
  if (j.contains("class_name") && j.contains("config") && !j.contains("filters")) {
    const Json& cls = j["class_name"];
    if (!cls.is_string() || cls.get<std::string>() != "Conv1D") {
      throw Error(ErrorCode::kUnsupported, "class_name",
                  "Only a Conv1D layer can be read. Received: class_name=" +
                      (cls.is_string() ? cls.get<std::string>() : cls.dump()));
    }
    Json config = j["config"];
    if (!config.is_object()) {
      throw Error(ErrorCode::kParseError, "config", "The `config` of a Conv1D must be an object");
    }
    j = std::move(config);
  }
  Kwargs kwargs;
  for (const auto& [key, value] : j.items()) kwargs.emplace_back(key, to_py(value));
  return detail::spec_from_args({}, kwargs);
}

std::string to_config_json(const Conv1DSpec& spec, int indent) {
  detail::validate_enums(spec);
  if (!detail::is_valid_utf8(spec.name)) {
    throw Error(ErrorCode::kInvalidValue, "name", "Argument `name` is not valid UTF-8");
  }
  OrderedJson dtype = OrderedJson::object();
  dtype["module"] = "keras";
  dtype["class_name"] = "DTypePolicy";
  dtype["config"] = OrderedJson{{"name", "float32"}};
  dtype["registered_name"] = nullptr;

  OrderedJson j = OrderedJson::object();
  j["name"] = spec.name;
  j["trainable"] = spec.trainable;
  j["dtype"] = std::move(dtype);
  j["filters"] = spec.filters;
  j["kernel_size"] = OrderedJson::array({spec.kernel_size});
  j["strides"] = OrderedJson::array({spec.strides});
  j["padding"] = padding_name(spec.padding);
  j["data_format"] = data_format_name(spec.data_format);
  j["dilation_rate"] = OrderedJson::array({spec.dilation_rate});
  j["groups"] = spec.groups;
  j["activation"] = activation_name(spec.activation);
  j["use_bias"] = spec.use_bias;
  j["kernel_initializer"] = object_json(detail::describe_initializer(spec.kernel_initializer));
  j["bias_initializer"] = object_json(detail::describe_initializer(spec.bias_initializer));
  j["kernel_regularizer"] = regularizer_json(spec.kernel_regularizer);
  j["bias_regularizer"] = regularizer_json(spec.bias_regularizer);
  j["activity_regularizer"] = regularizer_json(spec.activity_regularizer);
  j["kernel_constraint"] = constraint_json(spec.kernel_constraint);
  j["bias_constraint"] = constraint_json(spec.bias_constraint);
  return j.dump(indent, ' ', false, OrderedJson::error_handler_t::replace);
}

Conv1DSpec parse_spec(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '{') return parse_spec_json(text);
    break;
  }
  return parse_spec_keywords(text);
}

}  // namespace convjit
