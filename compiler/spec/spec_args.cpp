#include "compiler/spec/spec_args.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "compiler/spec/keras_objects.hpp"

namespace convjit::detail {
namespace {

// Keras's Conv1D.__init__ parameters, in order (what positional arguments bind to).
constexpr std::array<std::string_view, 16> kPositional{
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "groups",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
};

// Layer keywords that do not change what the layer computes.
constexpr std::array<std::string_view, 6> kIgnored{
    "input_shape", "input_dim", "batch_input_shape", "batch_shape", "batch_size", "autocast",
};

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

/// filters, groups: a Python int.
std::int64_t int_arg(const PyValue& v, const std::string& name) {
  if (v.is_int()) {
    if (v.int_overflow) {
      throw Error(ErrorCode::kResourceLimit, name,
                  "Invalid value for argument `" + name + "`: " + v.str() +
                      " does not fit in a 64-bit integer. Received " + name + "=" + v.str() + ".");
    }
    return v.integer;
  }
  // A float far beyond int64 (e.g. 1e30) is a size, not a fraction: a limit error.
  if (v.type == PyValue::Type::kFloat && (v.number >= 9.2e18 || v.number <= -9.2e18)) {
    throw Error(ErrorCode::kResourceLimit, name,
                "Invalid value for argument `" + name + "`: " + v.str() +
                    " does not fit in a 64-bit integer. Received " + name + "=" + v.str() + ".");
  }
  throw Error(ErrorCode::kInvalidType, name,
              "Invalid type for argument `" + name + "`. Expected an integer. Received " + name +
                  "=" + v.str() + " (of type " + v.type_name() + ").");
}

/// kernel_size, strides, dilation_rate: Keras's standardize_tuple(value, 1, name).
std::int64_t tuple_arg(const PyValue& v, const std::string& name) {
  const std::string message =
      "The `" + name + "` argument must be a tuple of 1 integers. Received " + name + "=" + v.str();
  const PyValue* x = &v;
  if (v.is_sequence()) {
    if (v.items.size() != 1) throw Error(ErrorCode::kInvalidType, name, message);
    x = &v.items[0];
  }
  if (x->is_int()) {
    if (x->int_overflow) {
      throw Error(ErrorCode::kResourceLimit, name,
                  message + ", which does not fit in a 64-bit integer");
    }
    return x->integer;
  }
  if (x->type == PyValue::Type::kFloat && (x->number >= 9.2e18 || x->number <= -9.2e18)) {
    throw Error(ErrorCode::kResourceLimit, name,
                message + ", which does not fit in a 64-bit integer");
  }
  throw Error(ErrorCode::kInvalidType, name, message);
}

bool bool_arg(const PyValue& v, const std::string& name) {
  if (v.type == PyValue::Type::kBool) return v.boolean;
  throw Error(ErrorCode::kInvalidType, name,
              "Invalid type for argument `" + name +
                  "`. Expected a boolean (True or False). "
                  "Received " +
                  name + "=" + v.str() + " (of type " + v.type_name() + ").");
}

Padding padding_arg(const PyValue& v) {
  if (v.is_sequence()) {
    // Keras's constructor accepts a list/tuple; its shape computation then rejects it.
    throw Error(ErrorCode::kInvalidValue, "padding",
                "`padding` must be either `'valid'` or `'same'`. Received " + v.repr() + ".");
  }
  const std::string message_head =
      "The `padding` argument must be a list/tuple or one of {'valid', 'same', 'causal'}. "
      "Received: ";
  if (!v.is_string()) {
    throw Error(ErrorCode::kInvalidType, "padding", message_head + v.str());
  }
  const std::string p = lower(v.text);
  if (p == "valid") return Padding::kValid;
  if (p == "same") return Padding::kSame;
  if (p == "causal") return Padding::kCausal;
  throw Error(ErrorCode::kUnknownName, "padding", message_head + p);
}

DataFormat data_format_arg(const PyValue& v) {
  if (v.is_none()) return DataFormat::kChannelsLast;  // Keras: image_data_format(), default
  const std::string f = lower(v.str());
  if (f == "channels_last") return DataFormat::kChannelsLast;
  if (f == "channels_first") return DataFormat::kChannelsFirst;
  throw Error(v.is_string() ? ErrorCode::kUnknownName : ErrorCode::kInvalidType, "data_format",
              "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
              "Received: data_format=" +
                  f);
}

Activation activation_arg(const PyValue& v) {
  if (v.is_none()) return Activation::kLinear;
  const PyValue* name = &v;
  // A serialized function, {"class_name": "function", "config": "relu", ...}.
  if (v.type == PyValue::Type::kDict) {
    const PyValue* config = v.find("config");
    if (config && config->is_string()) name = config;
  }
  if (name->is_string() && !name->text.empty() && name->text != "None") {
    if (auto a = find_activation(name->text)) return *a;
  }
  throw Error(name->is_string() ? ErrorCode::kUnknownName : ErrorCode::kInvalidType, "activation",
              "Could not interpret activation function identifier: " + v.str());
}

std::string name_arg(const PyValue& v) {
  if (v.is_none()) return "conv1d";
  if (!v.is_string()) {
    throw Error(ErrorCode::kInvalidType, "name",
                "Argument `name` must be a string and cannot contain character `/`. Received: "
                "name=" +
                    v.str() + " (of type " + v.type_name() + ")");
  }
  if (v.text.find('/') != std::string::npos) {
    throw Error(ErrorCode::kInvalidValue, "name",
                "Argument `name` must be a string and cannot contain character `/`. Received: "
                "name=" +
                    v.text + " (of type <class 'str'>)");
  }
  return v.text;
}

void dtype_arg(const PyValue& v) {
  if (v.is_none()) return;
  std::string policy;
  if (v.is_string()) {
    policy = v.text;
  } else if (v.type == PyValue::Type::kDict) {
    // {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, ...}
    const PyValue* cls = v.find("class_name");
    const PyValue* config = v.find("config");
    const PyValue* name =
        config && config->type == PyValue::Type::kDict ? config->find("name") : nullptr;
    if (cls && cls->is_string() &&
        (cls->text == "DTypePolicy" || cls->text == "FloatDTypePolicy") && name &&
        name->is_string()) {
      policy = name->text;
    } else {
      throw Error(ErrorCode::kInvalidType, "dtype",
                  "Could not interpret dtype policy: " + v.repr());
    }
  } else {
    throw Error(ErrorCode::kInvalidType, "dtype", "Could not interpret dtype: " + v.str());
  }
  if (policy != "float32") {
    throw Error(ErrorCode::kUnsupported, "dtype",
                "convjit computes Conv1D in float32 only. Received: dtype=" + policy);
  }
}

}  // namespace

Conv1DSpec spec_from_args(const std::vector<PyValue>& positional, const Kwargs& kwargs) {
  if (positional.size() > kPositional.size()) {
    throw Error(ErrorCode::kInvalidValue, "filters",
                "Conv1D.__init__() takes at most " + std::to_string(kPositional.size()) +
                    " positional arguments but " + std::to_string(positional.size()) +
                    " were given");
  }
  // Bind everything to names first, as Python does.
  std::vector<std::pair<std::string, const PyValue*>> bound;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < positional.size(); ++i) {
    bound.emplace_back(std::string(kPositional[i]), &positional[i]);
    seen.insert(std::string(kPositional[i]));
  }
  for (const auto& [key, value] : kwargs) {
    if (!seen.insert(key).second) {
      throw Error(ErrorCode::kParseError, key,
                  "Conv1D.__init__() got multiple values for argument '" + key + "'");
    }
    bound.emplace_back(key, &value);
  }

  // Keras's order: Layer.__init__ first (unknown keywords, name, dtype, ...), then BaseConv
  // standardizes kernel_size, strides, dilation_rate, padding, data_format, activation and
  // the weight objects; filters and groups are checked last.
  std::unordered_map<std::string, const PyValue*> by_key;
  for (const auto& [key, vp] : bound) by_key.emplace(key, vp);
  for (const auto& [key, vp] : bound) {
    bool known = std::find(kPositional.begin(), kPositional.end(), key) != kPositional.end() ||
                 std::find(kIgnored.begin(), kIgnored.end(), key) != kIgnored.end() ||
                 key == "name" || key == "trainable" || key == "dtype" || key == "lora_rank" ||
                 key == "lora_alpha";
    if (!known) {
      PyValue shown;
      shown.type = PyValue::Type::kDict;
      shown.entries.emplace_back(key, *vp);
      throw Error(ErrorCode::kUnknownName, key,
                  "Unrecognized keyword arguments passed to Conv1D: " + shown.repr());
    }
  }
  auto get = [&by_key](const char* key) -> const PyValue* {
    const auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : it->second;
  };

  Conv1DSpec spec;
  if (auto v = get("name")) spec.name = name_arg(*v);
  if (auto v = get("trainable")) spec.trainable = bool_arg(*v, "trainable");
  if (auto v = get("dtype")) dtype_arg(*v);
  for (const char* key : {"lora_rank", "lora_alpha"}) {
    if (auto v = get(key); v && !v->is_none()) {
      throw Error(ErrorCode::kUnsupported, key,
                  std::string("LoRA is not supported by convjit's Conv1D. Received: ") + key + "=" +
                      v->str());
    }
  }
  if (auto v = get("activity_regularizer")) {
    spec.activity_regularizer = regularizer_from_value(*v, "activity_regularizer");
  }
  const bool have_filters = get("filters") != nullptr;
  const bool have_kernel = get("kernel_size") != nullptr;
  if (have_kernel) spec.kernel_size = tuple_arg(*get("kernel_size"), "kernel_size");
  if (auto v = get("strides")) spec.strides = tuple_arg(*v, "strides");
  if (auto v = get("dilation_rate")) spec.dilation_rate = tuple_arg(*v, "dilation_rate");
  if (auto v = get("padding")) spec.padding = padding_arg(*v);
  if (auto v = get("data_format")) spec.data_format = data_format_arg(*v);
  if (auto v = get("activation")) spec.activation = activation_arg(*v);
  if (auto v = get("use_bias")) spec.use_bias = bool_arg(*v, "use_bias");
  if (auto v = get("kernel_initializer")) {
    spec.kernel_initializer =
        initializer_from_value(*v, "kernel_initializer", Initializer::Kind::kGlorotUniform);
  }
  if (auto v = get("bias_initializer")) {
    spec.bias_initializer =
        initializer_from_value(*v, "bias_initializer", Initializer::Kind::kZeros);
  }
  if (auto v = get("kernel_regularizer")) {
    spec.kernel_regularizer = regularizer_from_value(*v, "kernel_regularizer");
  }
  if (auto v = get("bias_regularizer")) {
    spec.bias_regularizer = regularizer_from_value(*v, "bias_regularizer");
  }
  if (auto v = get("kernel_constraint")) {
    spec.kernel_constraint = constraint_from_value(*v, "kernel_constraint");
  }
  if (auto v = get("bias_constraint")) {
    spec.bias_constraint = constraint_from_value(*v, "bias_constraint");
  }
  if (have_filters) spec.filters = int_arg(*get("filters"), "filters");
  if (auto v = get("groups")) spec.groups = int_arg(*v, "groups");
  if (!have_filters || !have_kernel) {
    const bool both = !have_filters && !have_kernel;
    throw Error(ErrorCode::kInvalidValue, have_filters ? "kernel_size" : "filters",
                std::string("Conv1D.__init__() missing ") + (both ? "2" : "1") +
                    " required positional argument" + (both ? "s" : "") + ": " +
                    (both ? "'filters' and 'kernel_size'"
                          : (have_filters ? "'kernel_size'" : "'filters'")));
  }
  return spec;
}

}  // namespace convjit::detail
