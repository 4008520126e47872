#include "compiler/spec/keras_objects.hpp"

#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace convjit::detail {
namespace {

using Kind = Initializer::Kind;

// ---------------------------------------------------------------------------------------
// An identifier as a call: a bare name, name(args), or {"class_name":..,"config":{..}}.

struct CallForm {
  std::string name;
  bool from_dict = false;
  std::vector<const PyValue*> positional;
  std::vector<std::pair<std::string, const PyValue*>> keywords;
};

CallForm to_call(const PyValue& v, const std::string& argument, const char* what) {
  CallForm call;
  switch (v.type) {
    case PyValue::Type::kString: call.name = v.text; return call;
    case PyValue::Type::kCall:
      call.name = v.text;
      for (const auto& item : v.items) call.positional.push_back(&item);
      for (const auto& [k, item] : v.entries) call.keywords.emplace_back(k, &item);
      return call;
    case PyValue::Type::kDict: {
      const PyValue* cls = v.find("class_name");
      if (!cls || !cls->is_string()) {
        throw Error(ErrorCode::kInvalidType, argument,
                    std::string("Could not interpret ") + what + " identifier: " + v.repr() +
                        " (a serialized object needs a string `class_name`)");
      }
      call.name = cls->text;
      call.from_dict = true;
      const PyValue* config = v.find("config");
      if (config && config->type == PyValue::Type::kDict) {
        for (const auto& [k, item] : config->entries) call.keywords.emplace_back(k, &item);
      } else if (config && !config->is_none()) {
        throw Error(ErrorCode::kInvalidType, argument,
                    std::string("The `config` of a serialized ") + what +
                        " must be a dict. Received: config=" + config->repr());
      }
      // "module", "registered_name" and "shared_object_id" are ignored, as Keras does for
      // built-in classes.
      return call;
    }
    default:
      throw Error(ErrorCode::kInvalidType, argument,
                  std::string("Could not interpret ") + what + " identifier: " + v.str());
  }
}

[[noreturn]] void throw_unknown(const PyValue& v, const CallForm& call, const std::string& argument,
                                const char* what) {
  if (call.from_dict) {
    throw Error(ErrorCode::kUnknownName, argument,
                "Could not locate class '" + call.name +
                    "'. Make sure custom classes are decorated with "
                    "`@keras.saving.register_keras_serializable()`. Full object config: " +
                    v.repr());
  }
  throw Error(ErrorCode::kUnknownName, argument,
              std::string("Could not interpret ") + what + " identifier: " + v.str());
}

/// Binds positional and keyword arguments to a constructor's parameters, as Python does.
std::vector<const PyValue*> bind(const CallForm& call, const std::string& display,
                                 std::initializer_list<const char*> params,
                                 const std::string& argument) {
  std::vector<const char*> names(params);
  std::vector<const PyValue*> out(names.size(), nullptr);
  if (call.positional.size() > names.size()) {
    throw Error(ErrorCode::kInvalidValue, argument,
                display + ".__init__() takes at most " + std::to_string(names.size()) +
                    " arguments but " + std::to_string(call.positional.size()) + " were given");
  }
  for (std::size_t i = 0; i < call.positional.size(); ++i) out[i] = call.positional[i];
  for (const auto& [key, value] : call.keywords) {
    std::size_t idx = names.size();
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (key == names[i]) idx = i;
    }
    if (idx == names.size()) {
      throw Error(ErrorCode::kUnknownName, argument,
                  display + ".__init__() got an unexpected keyword argument '" + key + "'");
    }
    if (out[idx]) {
      throw Error(ErrorCode::kInvalidValue, argument,
                  display + ".__init__() got multiple values for argument '" + key + "'");
    }
    out[idx] = value;
  }
  return out;
}

double number_arg(const PyValue* v, double fallback, const std::string& display, const char* key,
                  const std::string& argument) {
  if (!v) return fallback;
  if (v->is_number()) return v->as_double();
  throw Error(ErrorCode::kInvalidType, argument,
              "Invalid type for argument `" + std::string(key) + "` of " + display +
                  ": expected a number. Received: " + key + "=" + v->str() + " (of type " +
                  v->type_name() + ")");
}

std::optional<std::int64_t> seed_arg(const PyValue* v, const std::string& argument) {
  if (!v || v->is_none()) return std::nullopt;
  if (v->is_int()) {
    if (v->int_overflow) {
      throw Error(ErrorCode::kResourceLimit, argument,
                  "`seed` argument does not fit in a 64-bit integer. Received: seed=" + v->str());
    }
    return v->integer;
  }
  if (v->type == PyValue::Type::kDict) {
    throw Error(ErrorCode::kUnsupported, argument,
                "A serialized `keras.random.SeedGenerator` seed is not supported; use an integer. "
                "Received: seed=" +
                    v->repr());
  }
  throw Error(ErrorCode::kInvalidType, argument,
              "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an "
              "integer. Received: seed=" +
                  v->str());
}

std::string string_arg(const PyValue* v, const char* fallback, const std::string& display,
                       const char* key, const std::string& argument) {
  if (!v) return fallback;
  if (v->is_string()) return v->text;
  throw Error(ErrorCode::kInvalidType, argument,
              "Invalid type for argument `" + std::string(key) + "` of " + display +
                  ": expected a string. Received: " + key + "=" + v->str());
}

int axis_arg(const PyValue* v, const std::string& argument) {
  if (!v) return 0;
  const PyValue* x = v;
  if (v->is_sequence()) {
    if (v->items.size() != 1) {
      throw Error(ErrorCode::kUnsupported, argument,
                  "Only a single constraint axis is supported. Received: axis=" + v->repr());
    }
    x = &v->items[0];
  }
  if (!x->is_int()) {
    throw Error(
        ErrorCode::kInvalidType, argument,
        "Invalid type for argument `axis`: expected an integer. Received: axis=" + v->str());
  }
  if (x->int_overflow || x->integer < -1000 || x->integer > 1000) {
    throw Error(ErrorCode::kInvalidValue, argument,
                "Invalid value for argument `axis`: a Conv1D weight has at most 3 axes. "
                "Received: axis=" +
                    v->str());
  }
  return static_cast<int>(x->integer);
}

// ---------------------------------------------------------------------------------------
// Initializers.

struct InitName {
  std::string_view name;
  Kind kind;
};

constexpr std::array<InitName, 34> kInitNames{{
    {"zeros", Kind::kZeros},
    {"Zeros", Kind::kZeros},
    {"zero", Kind::kZeros},
    {"ones", Kind::kOnes},
    {"Ones", Kind::kOnes},
    {"one", Kind::kOnes},
    {"constant", Kind::kConstant},
    {"Constant", Kind::kConstant},
    {"random_normal", Kind::kRandomNormal},
    {"RandomNormal", Kind::kRandomNormal},
    {"normal", Kind::kRandomNormal},
    {"random_uniform", Kind::kRandomUniform},
    {"RandomUniform", Kind::kRandomUniform},
    {"uniform", Kind::kRandomUniform},
    {"truncated_normal", Kind::kTruncatedNormal},
    {"TruncatedNormal", Kind::kTruncatedNormal},
    {"glorot_uniform", Kind::kGlorotUniform},
    {"GlorotUniform", Kind::kGlorotUniform},
    {"glorot_normal", Kind::kGlorotNormal},
    {"GlorotNormal", Kind::kGlorotNormal},
    {"he_normal", Kind::kHeNormal},
    {"HeNormal", Kind::kHeNormal},
    {"he_uniform", Kind::kHeUniform},
    {"HeUniform", Kind::kHeUniform},
    {"lecun_normal", Kind::kLecunNormal},
    {"LecunNormal", Kind::kLecunNormal},
    {"lecun_uniform", Kind::kLecunUniform},
    {"LecunUniform", Kind::kLecunUniform},
    {"orthogonal", Kind::kOrthogonal},
    {"Orthogonal", Kind::kOrthogonal},
    {"OrthogonalInitializer", Kind::kOrthogonal},
    {"orthogonal_initializer", Kind::kOrthogonal},
    {"variance_scaling", Kind::kVarianceScaling},
    {"VarianceScaling", Kind::kVarianceScaling},
}};

struct InitInfo {
  const char* keyword_name;
  const char* class_name;
};

// Indexed by Initializer::Kind.
constexpr std::array<InitInfo, kInitializerKinds> kInitInfo{{
    {"zeros", "Zeros"},
    {"ones", "Ones"},
    {"constant", "Constant"},
    {"random_normal", "RandomNormal"},
    {"random_uniform", "RandomUniform"},
    {"truncated_normal", "TruncatedNormal"},
    {"glorot_uniform", "GlorotUniform"},
    {"glorot_normal", "GlorotNormal"},
    {"he_normal", "HeNormal"},
    {"he_uniform", "HeUniform"},
    {"lecun_normal", "LecunNormal"},
    {"lecun_uniform", "LecunUniform"},
    {"orthogonal", "Orthogonal"},
    {"variance_scaling", "VarianceScaling"},
}};

const InitInfo& info(Kind k) {
  return kInitInfo[static_cast<std::size_t>(k)];
}

bool has_seed(Kind k) {
  return k != Kind::kZeros && k != Kind::kOnes && k != Kind::kConstant;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void check_finite(double v, const char* key, const std::string& argument) {
  if (!std::isfinite(v)) {
    throw Error(ErrorCode::kInvalidValue, argument,
                "Invalid value for argument `" + std::string(key) + "` of " + argument +
                    ": expected a finite number. Received: " + key + "=" + py_float_repr(v));
  }
}

PyValue seed_value(const std::optional<std::int64_t>& seed) {
  return seed ? PyValue::from_int(*seed) : PyValue::none();
}

}  // namespace

Initializer initializer_from_value(const PyValue& value, const std::string& argument,
                                   Initializer::Kind none_kind) {
  Initializer init;
  if (value.is_none()) {
    init.kind = none_kind;
    return init;
  }
  const CallForm call = to_call(value, argument, "initializer");
  std::optional<Kind> kind;
  for (const auto& n : kInitNames) {
    if (n.name == call.name) kind = n.kind;
  }
  if (!kind) {
    if (call.name == "identity" || call.name == "Identity" || call.name == "IdentityInitializer") {
      throw Error(ErrorCode::kUnsupported, argument,
                  "The Identity initializer needs a 2D weight; a Conv1D kernel is 3D. Received: " +
                      argument + "=" + value.str());
    }
    throw_unknown(value, call, argument, "initializer");
  }
  init.kind = *kind;
  const std::string display = info(*kind).class_name;
  switch (*kind) {
    case Kind::kZeros:
    case Kind::kOnes: bind(call, display, {}, argument); break;
    case Kind::kConstant: {
      const auto b = bind(call, display, {"value"}, argument);
      if (b[0] && b[0]->is_sequence()) {
        throw Error(ErrorCode::kUnsupported, argument,
                    "Only a scalar Constant initializer value is supported. Received: value=" +
                        b[0]->repr());
      }
      init.value = number_arg(b[0], 0.0, display, "value", argument);
      break;
    }
    case Kind::kRandomNormal:
    case Kind::kTruncatedNormal: {
      const auto b = bind(call, display, {"mean", "stddev", "seed"}, argument);
      init.mean = number_arg(b[0], 0.0, display, "mean", argument);
      init.stddev = number_arg(b[1], 0.05, display, "stddev", argument);
      init.seed = seed_arg(b[2], argument);
      break;
    }
    case Kind::kRandomUniform: {
      const auto b = bind(call, display, {"minval", "maxval", "seed"}, argument);
      init.minval = number_arg(b[0], -0.05, display, "minval", argument);
      init.maxval = number_arg(b[1], 0.05, display, "maxval", argument);
      init.seed = seed_arg(b[2], argument);
      break;
    }
    case Kind::kVarianceScaling: {
      const auto b = bind(call, display, {"scale", "mode", "distribution", "seed"}, argument);
      init.scale = number_arg(b[0], 1.0, display, "scale", argument);
      init.mode = string_arg(b[1], "fan_in", display, "mode", argument);
      // Keras lower-cases the distribution and reads "normal" as "truncated_normal".
      init.distribution =
          lower(string_arg(b[2], "truncated_normal", display, "distribution", argument));
      if (init.distribution == "normal") init.distribution = "truncated_normal";
      init.seed = seed_arg(b[3], argument);
      break;
    }
    case Kind::kOrthogonal: {
      const auto b = bind(call, display, {"gain", "seed"}, argument);
      init.gain = number_arg(b[0], 1.0, display, "gain", argument);
      init.seed = seed_arg(b[1], argument);
      break;
    }
    default: {
      const auto b = bind(call, display, {"seed"}, argument);
      init.seed = seed_arg(b[0], argument);
      break;
    }
  }
  return init;
}

void validate_initializer(const Initializer& init, const std::string& argument) {
  switch (init.kind) {
    case Kind::kConstant: check_finite(init.value, "value", argument); break;
    case Kind::kRandomNormal:
    case Kind::kTruncatedNormal:
      check_finite(init.mean, "mean", argument);
      check_finite(init.stddev, "stddev", argument);
      break;
    case Kind::kRandomUniform:
      check_finite(init.minval, "minval", argument);
      check_finite(init.maxval, "maxval", argument);
      break;
    case Kind::kOrthogonal: check_finite(init.gain, "gain", argument); break;
    case Kind::kVarianceScaling:
      check_finite(init.scale, "scale", argument);
      if (init.scale <= 0.0) {
        throw Error(ErrorCode::kInvalidValue, argument,
                    "Argument `scale` must be positive float. Received: scale=" +
                        py_float_repr(init.scale));
      }
      if (init.mode != "fan_in" && init.mode != "fan_out" && init.mode != "fan_avg") {
        throw Error(ErrorCode::kInvalidValue, argument,
                    "Invalid `mode` argument: " + init.mode +
                        ". Please use one of {'fan_in', 'fan_out', 'fan_avg'}");
      }
      if (init.distribution != "uniform" && init.distribution != "truncated_normal" &&
          init.distribution != "untruncated_normal") {
        throw Error(ErrorCode::kInvalidValue, argument,
                    "Invalid `distribution` argument: " + init.distribution +
                        ".Please use one of {'uniform', 'truncated_normal', 'untruncated_normal'}");
      }
      break;
    default: break;
  }
}

ObjectConfig describe_initializer(const Initializer& init) {
  ObjectConfig out;
  out.keyword_name = info(init.kind).keyword_name;
  out.class_name = info(init.kind).class_name;
  out.module = "keras.initializers";
  auto add = [&out](const char* key, PyValue v, bool is_default) {
    out.fields.push_back({key, std::move(v), is_default});
  };
  auto add_number = [&add](const char* key, double v, double def) {
    add(key, PyValue::from_float(v), v == def);
  };
  if (has_seed(init.kind)) add("seed", seed_value(init.seed), !init.seed.has_value());
  switch (init.kind) {
    case Kind::kConstant: add_number("value", init.value, 0.0); break;
    case Kind::kRandomNormal:
    case Kind::kTruncatedNormal:
      add_number("mean", init.mean, 0.0);
      add_number("stddev", init.stddev, 0.05);
      break;
    case Kind::kRandomUniform:
      add_number("minval", init.minval, -0.05);
      add_number("maxval", init.maxval, 0.05);
      break;
    case Kind::kOrthogonal: add_number("gain", init.gain, 1.0); break;
    case Kind::kVarianceScaling:
      add_number("scale", init.scale, 1.0);
      add("mode", PyValue::from_string(init.mode), init.mode == "fan_in");
      add("distribution", PyValue::from_string(init.distribution),
          init.distribution == "truncated_normal");
      break;
    default: break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Regularizers.

Regularizer regularizer_from_value(const PyValue& value, const std::string& argument) {
  Regularizer reg;
  if (value.is_none()) return reg;
  const CallForm call = to_call(value, argument, "regularizer");
  const std::string& n = call.name;
  // None for an argument means: the class default (L1/L2: 0.01; L1L2: 0.0).
  auto penalty = [&](const PyValue* v, double missing, double none, const std::string& display,
                     const char* key) {
    if (v && v->is_none()) return none;
    return number_arg(v, missing, display, key, argument);
  };
  if (n == "l1" || n == "L1") {
    const auto b = bind(call, "L1", {"l1"}, argument);
    reg.kind = Regularizer::Kind::kL1;
    reg.l1 = penalty(b[0], 0.01, 0.01, "L1", "l1");
  } else if (n == "l2" || n == "L2") {
    const auto b = bind(call, "L2", {"l2"}, argument);
    reg.kind = Regularizer::Kind::kL2;
    reg.l2 = penalty(b[0], 0.01, 0.01, "L2", "l2");
  } else if (n == "l1_l2" && !call.from_dict) {
    // keras.regularizers.l1_l2(l1=0.01, l2=0.01), also what the string "l1_l2" means.
    const auto b = bind(call, "l1_l2", {"l1", "l2"}, argument);
    reg.kind = Regularizer::Kind::kL1L2;
    reg.l1 = penalty(b[0], 0.01, 0.0, "l1_l2", "l1");
    reg.l2 = penalty(b[1], 0.01, 0.0, "l1_l2", "l2");
  } else if (n == "L1L2" || n == "l1l2" || n == "l1_l2") {
    const auto b = bind(call, "L1L2", {"l1", "l2"}, argument);
    reg.kind = Regularizer::Kind::kL1L2;
    reg.l1 = penalty(b[0], 0.0, 0.0, "L1L2", "l1");
    reg.l2 = penalty(b[1], 0.0, 0.0, "L1L2", "l2");
  } else if (n == "OrthogonalRegularizer" || n == "orthogonal_regularizer") {
    throw Error(ErrorCode::kUnsupported, argument,
                "OrthogonalRegularizer needs a rank-2 weight; a Conv1D kernel has rank 3. "
                "Received: " +
                    argument + "=" + value.str());
  } else {
    throw_unknown(value, call, argument, "regularizer");
  }
  return reg;
}

void validate_regularizer(const Regularizer& reg, const std::string& argument) {
  auto check = [&argument](double v, const char* key) {
    if (!std::isfinite(v) || v < 0) {
      throw Error(ErrorCode::kInvalidValue, argument,
                  "Invalid value for argument " + std::string(key) +
                      ": expected a non-negative float.Received: " + key + "=" + py_float_repr(v));
    }
  };
  switch (reg.kind) {
    case Regularizer::Kind::kNone: break;
    case Regularizer::Kind::kL1: check(reg.l1, "l1"); break;
    case Regularizer::Kind::kL2: check(reg.l2, "l2"); break;
    case Regularizer::Kind::kL1L2:
      check(reg.l1, "l1");
      check(reg.l2, "l2");
      break;
  }
}

ObjectConfig describe_regularizer(const Regularizer& reg) {
  ObjectConfig out;
  out.module = "keras.regularizers";
  switch (reg.kind) {
    case Regularizer::Kind::kL1:
      out.keyword_name = "l1";
      out.class_name = "L1";
      out.fields.push_back({"l1", PyValue::from_float(reg.l1), reg.l1 == 0.01});
      break;
    case Regularizer::Kind::kL2:
      out.keyword_name = "l2";
      out.class_name = "L2";
      out.fields.push_back({"l2", PyValue::from_float(reg.l2), reg.l2 == 0.01});
      break;
    case Regularizer::Kind::kNone:  // not written; described as L1L2 for completeness
    case Regularizer::Kind::kL1L2:
      out.keyword_name = "l1_l2";
      out.class_name = "L1L2";
      out.fields.push_back({"l1", PyValue::from_float(reg.l1), reg.l1 == 0.01});
      out.fields.push_back({"l2", PyValue::from_float(reg.l2), reg.l2 == 0.01});
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Constraints.

Constraint constraint_from_value(const PyValue& value, const std::string& argument) {
  Constraint c;
  if (value.is_none()) return c;
  const CallForm call = to_call(value, argument, "constraint");
  const std::string& n = call.name;
  if (n == "max_norm" || n == "MaxNorm") {
    const auto b = bind(call, "MaxNorm", {"max_value", "axis"}, argument);
    c.kind = Constraint::Kind::kMaxNorm;
    c.max_value = number_arg(b[0], 2.0, "MaxNorm", "max_value", argument);
    c.axis = axis_arg(b[1], argument);
  } else if (n == "min_max_norm" || n == "MinMaxNorm") {
    const auto b = bind(call, "MinMaxNorm", {"min_value", "max_value", "rate", "axis"}, argument);
    c.kind = Constraint::Kind::kMinMaxNorm;
    c.min_value = number_arg(b[0], 0.0, "MinMaxNorm", "min_value", argument);
    c.max_value = number_arg(b[1], 1.0, "MinMaxNorm", "max_value", argument);
    c.rate = number_arg(b[2], 1.0, "MinMaxNorm", "rate", argument);
    c.axis = axis_arg(b[3], argument);
  } else if (n == "non_neg" || n == "NonNeg") {
    bind(call, "NonNeg", {}, argument);
    c.kind = Constraint::Kind::kNonNeg;
  } else if (n == "unit_norm" || n == "UnitNorm") {
    const auto b = bind(call, "UnitNorm", {"axis"}, argument);
    c.kind = Constraint::Kind::kUnitNorm;
    c.axis = axis_arg(b[0], argument);
  } else {
    throw_unknown(value, call, argument, "constraint");
  }
  return c;
}

void validate_constraint(const Constraint& c, const std::string& argument, int rank) {
  auto check_axis = [&] {
    if (c.axis < -rank || c.axis >= rank) {
      throw Error(ErrorCode::kInvalidValue, argument,
                  "Invalid `axis` for " + argument + ": " + std::to_string(c.axis) +
                      ". The weight has rank " + std::to_string(rank) + ", so axis must be in [" +
                      std::to_string(-rank) + ", " + std::to_string(rank - 1) + "].");
    }
  };
  switch (c.kind) {
    case Constraint::Kind::kNone:
    case Constraint::Kind::kNonNeg: break;
    case Constraint::Kind::kMaxNorm:
      check_finite(c.max_value, "max_value", argument);
      check_axis();
      break;
    case Constraint::Kind::kMinMaxNorm:
      check_finite(c.min_value, "min_value", argument);
      check_finite(c.max_value, "max_value", argument);
      check_finite(c.rate, "rate", argument);
      check_axis();
      break;
    case Constraint::Kind::kUnitNorm: check_axis(); break;
  }
}

ObjectConfig describe_constraint(const Constraint& c) {
  ObjectConfig out;
  out.module = "keras.constraints";
  auto add_number = [&out](const char* key, double v, double def) {
    out.fields.push_back({key, PyValue::from_float(v), v == def});
  };
  auto add_axis = [&out, &c] {
    out.fields.push_back({"axis", PyValue::from_int(c.axis), c.axis == 0});
  };
  switch (c.kind) {
    case Constraint::Kind::kNone:
    case Constraint::Kind::kNonNeg:
      out.keyword_name = "non_neg";
      out.class_name = "NonNeg";
      break;
    case Constraint::Kind::kMaxNorm:
      out.keyword_name = "max_norm";
      out.class_name = "MaxNorm";
      add_number("max_value", c.max_value, 2.0);
      add_axis();
      break;
    case Constraint::Kind::kMinMaxNorm:
      out.keyword_name = "min_max_norm";
      out.class_name = "MinMaxNorm";
      add_number("min_value", c.min_value, 0.0);
      add_number("max_value", c.max_value, 1.0);
      add_number("rate", c.rate, 1.0);
      add_axis();
      break;
    case Constraint::Kind::kUnitNorm:
      out.keyword_name = "unit_norm";
      out.class_name = "UnitNorm";
      add_axis();
      break;
  }
  return out;
}

}  // namespace convjit::detail

namespace convjit {

// Equality compares what the kind uses: a Zeros with value=3 equals any Zeros.
bool Initializer::operator==(const Initializer& o) const {
  if (kind != o.kind) return false;
  if (detail::has_seed(kind) && seed != o.seed) return false;
  switch (kind) {
    case Kind::kConstant: return value == o.value;
    case Kind::kRandomNormal:
    case Kind::kTruncatedNormal: return mean == o.mean && stddev == o.stddev;
    case Kind::kRandomUniform: return minval == o.minval && maxval == o.maxval;
    case Kind::kOrthogonal: return gain == o.gain;
    case Kind::kVarianceScaling:
      return scale == o.scale && mode == o.mode && distribution == o.distribution;
    default: return true;
  }
}

bool Constraint::operator==(const Constraint& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kMaxNorm: return max_value == o.max_value && axis == o.axis;
    case Kind::kMinMaxNorm:
      return min_value == o.min_value && max_value == o.max_value && rate == o.rate &&
             axis == o.axis;
    case Kind::kUnitNorm: return axis == o.axis;
    default: return true;
  }
}

}  // namespace convjit
