// PyValue — a Python literal (None, bool, int, float, str, list, tuple, dict, call), the
// common form of a Keras argument whether it came from keyword syntax or from JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convjit::detail {

/// One argument value as Python would see it. Keyword syntax and JSON both parse into
/// this, so that one set of Keras rules (spec_args.cpp) gives both forms the same errors.
struct PyValue {
  enum class Type { kNone, kBool, kInt, kFloat, kString, kList, kTuple, kDict, kCall };
  Type type = Type::kNone;
  bool boolean = false;
  std::int64_t integer = 0;
  bool int_overflow = false;  ///< an integer literal outside int64; `text` holds its digits
  double number = 0.0;
  std::string text;                                      ///< kString value, kCall callee
  std::vector<PyValue> items;                            ///< kList/kTuple, kCall positional
  std::vector<std::pair<std::string, PyValue>> entries;  ///< kDict entries, kCall keywords

  static PyValue none() { return PyValue{}; }
  static PyValue from_bool(bool b);
  static PyValue from_int(std::int64_t i);
  static PyValue from_float(double d);
  static PyValue from_string(std::string s);

  bool is_none() const { return type == Type::kNone; }
  bool is_int() const { return type == Type::kInt; }  // bool is not an int here
  bool is_number() const { return type == Type::kInt || type == Type::kFloat; }
  bool is_string() const { return type == Type::kString; }
  bool is_sequence() const { return type == Type::kList || type == Type::kTuple; }
  /// The value as a double (kInt or kFloat only).
  double as_double() const;
  /// Finds a kDict entry or kCall keyword; nullptr when absent.
  const PyValue* find(std::string_view key) const;

  /// Python str(): strings bare, everything else as repr().
  std::string str() const;
  /// Python repr(): strings quoted, lists "[1, 2]", tuples "(1,)", dicts "{'a': 1}".
  std::string repr() const;
  /// Python type(x) text, e.g. "<class 'float'>".
  std::string type_name() const;
};

/// Python repr of a float: shortest text that reads back to the same double, "1.0", "1e-05".
std::string py_float_repr(double d);

/// True when text is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace convjit::detail
