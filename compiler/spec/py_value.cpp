#include "compiler/spec/py_value.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace convjit::detail {

PyValue PyValue::from_bool(bool b) {
  PyValue v;
  v.type = Type::kBool;
  v.boolean = b;
  return v;
}

PyValue PyValue::from_int(std::int64_t i) {
  PyValue v;
  v.type = Type::kInt;
  v.integer = i;
  return v;
}

PyValue PyValue::from_float(double d) {
  PyValue v;
  v.type = Type::kFloat;
  v.number = d;
  return v;
}

PyValue PyValue::from_string(std::string s) {
  PyValue v;
  v.type = Type::kString;
  v.text = std::move(s);
  return v;
}

double PyValue::as_double() const {
  if (type == Type::kFloat) return number;
  if (int_overflow) return std::strtod(text.c_str(), nullptr);
  return static_cast<double>(integer);
}

const PyValue* PyValue::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-tripping precision.
  char buf[64];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // buf is "[-]D.DDDe[+-]XX": split digits and exponent.
  std::string s(buf);
  const std::size_t e = s.find('e');
  const int exponent = std::atoi(s.c_str() + e + 1);
  std::string mantissa = s.substr(0, e);
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exponent + 1) {
      out +=
          digits + std::string(static_cast<std::size_t>(exponent + 1) - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(exponent + 1)) + "." +
             digits.substr(static_cast<std::size_t>(exponent + 1));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

namespace {

std::string quote(const std::string& s) {
  const bool use_double = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = use_double ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += q;
  return out;
}

}  // namespace

std::string PyValue::str() const {
  return type == Type::kString ? text : repr();
}

std::string PyValue::repr() const {
  switch (type) {
    case Type::kNone: return "None";
    case Type::kBool: return boolean ? "True" : "False";
    case Type::kInt: return int_overflow ? text : std::to_string(integer);
    case Type::kFloat: return py_float_repr(number);
    case Type::kString: return quote(text);
    case Type::kList:
    case Type::kTuple: {
      std::string out = type == Type::kList ? "[" : "(";
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += items[i].repr();
      }
      if (type == Type::kTuple && items.size() == 1) out += ",";
      return out + (type == Type::kList ? "]" : ")");
    }
    case Type::kDict: {
      std::string out = "{";
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i) out += ", ";
        out += quote(entries[i].first) + ": " + entries[i].second.repr();
      }
      return out + "}";
    }
    case Type::kCall: {
      std::string out = text + "(";
      bool first = true;
      for (const auto& item : items) {
        if (!first) out += ", ";
        first = false;
        out += item.repr();
      }
      for (const auto& [k, v] : entries) {
        if (!first) out += ", ";
        first = false;
        out += k + "=" + v.repr();
      }
      return out + ")";
    }
  }
  return "?";
}

std::string PyValue::type_name() const {
  switch (type) {
    case Type::kNone: return "<class 'NoneType'>";
    case Type::kBool: return "<class 'bool'>";
    case Type::kInt: return "<class 'int'>";
    case Type::kFloat: return "<class 'float'>";
    case Type::kString: return "<class 'str'>";
    case Type::kList: return "<class 'list'>";
    case Type::kTuple: return "<class 'tuple'>";
    case Type::kDict: return "<class 'dict'>";
    case Type::kCall: return "<class 'object'>";
  }
  return "<class 'object'>";
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace convjit::detail
