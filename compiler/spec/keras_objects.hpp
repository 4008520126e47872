// Keras weight objects of a Conv1D: initializers, regularizers and constraints, read from
// any Keras identifier (a name, a call such as l2(0.001), or a get_config dict), written
// back as the dict get_config() writes, and validated with Keras's constructor rules.
#pragma once

#include <string>
#include <vector>

#include "compiler/spec/py_value.hpp"
#include "convjit/spec.hpp"

namespace convjit::detail {

/// Enumerator counts of Initializer::Kind, Regularizer::Kind and Constraint::Kind.
inline constexpr int kInitializerKinds = static_cast<int>(Initializer::Kind::kVarianceScaling) + 1;
inline constexpr int kRegularizerKinds = static_cast<int>(Regularizer::Kind::kL1L2) + 1;
inline constexpr int kConstraintKinds = static_cast<int>(Constraint::Kind::kUnitNorm) + 1;

/// Refuses, with Error(kInvalidValue) naming the field, an enum field of `spec` (padding,
/// data_format, activation, initializer, regularizer and constraint kinds) outside its
/// enumerators. validate() runs it first; to_keywords and to_config_json run it too.
void validate_enums(const Conv1DSpec& spec);

/// Reads an initializer identifier. None gives `none_kind` with Keras defaults (Keras then
/// uses the layer's default initializer). Throws Error naming `argument`.
Initializer initializer_from_value(const PyValue& value, const std::string& argument,
                                   Initializer::Kind none_kind);

/// Reads a regularizer identifier ("l2", "l1_l2(l1=0.01,l2=0.02)", a dict, or None).
Regularizer regularizer_from_value(const PyValue& value, const std::string& argument);

/// Reads a constraint identifier ("max_norm", "max_norm(3)", a dict, or None).
Constraint constraint_from_value(const PyValue& value, const std::string& argument);

/// Keras constructor checks of the values (finite numbers, VarianceScaling scale/mode/
/// distribution, non-negative penalties, constraint axes within a rank-`rank` weight).
void validate_initializer(const Initializer& init, const std::string& argument);
void validate_regularizer(const Regularizer& reg, const std::string& argument);
void validate_constraint(const Constraint& c, const std::string& argument, int rank);

/// An object as get_config() serializes it, and as keyword syntax writes it.
struct ObjectConfig {
  std::string keyword_name;  ///< the name keyword syntax writes, e.g. "random_normal"
  std::string class_name;    ///< the get_config class_name, e.g. "RandomNormal"
  std::string module;        ///< e.g. "keras.initializers"
  struct Field {
    std::string key;
    PyValue value;
    bool is_default = false;  ///< equal to the default of `keyword_name`
  };
  std::vector<Field> fields;  ///< in the order get_config() writes them
};

ObjectConfig describe_initializer(const Initializer& init);
/// Not for Kind::kNone.
ObjectConfig describe_regularizer(const Regularizer& reg);
/// Not for Kind::kNone.
ObjectConfig describe_constraint(const Constraint& c);

}  // namespace convjit::detail
