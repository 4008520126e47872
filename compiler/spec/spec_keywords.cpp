// Keras keyword syntax: "filters=64,kernel_size=3,padding=causal,activation=relu".
//
// The text is read as the argument list of a Python call, so everything a user would type
// into `keras.layers.Conv1D(...)` works: positional filters and kernel_size, quoted or bare
// strings, None/True/False (also true/false), tuples and lists, and calls for weight
// objects such as `kernel_regularizer=l2(0.001)`. A surrounding `Conv1D(...)` is accepted.
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

#include "compiler/spec/keras_objects.hpp"
#include "compiler/spec/py_value.hpp"
#include "compiler/spec/spec_args.hpp"
#include "convjit/spec.hpp"

namespace convjit {
namespace {

using detail::Kwargs;
using detail::PyValue;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// Ends a bare word.
bool is_delimiter(char c) {
  return is_space(c) || c == ',' || c == '(' || c == ')' || c == '[' || c == ']' || c == '=' ||
         c == '\'' || c == '"';
}

bool is_int_literal(std::string_view w) {
  std::size_t i = (!w.empty() && (w[0] == '+' || w[0] == '-')) ? 1 : 0;
  if (i == w.size()) return false;
  for (; i < w.size(); ++i) {
    if (!is_digit(w[i])) return false;
  }
  return true;
}

bool is_float_literal(std::string_view w) {
  std::size_t i = (!w.empty() && (w[0] == '+' || w[0] == '-')) ? 1 : 0;
  std::size_t digits = 0;
  while (i < w.size() && is_digit(w[i])) ++i, ++digits;
  if (i < w.size() && w[i] == '.') {
    ++i;
    while (i < w.size() && is_digit(w[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < w.size() && (w[i] == 'e' || w[i] == 'E')) {
    ++i;
    if (i < w.size() && (w[i] == '+' || w[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < w.size() && is_digit(w[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == w.size();
}

PyValue classify_word(std::string_view w) {
  if (w == "None") return PyValue::none();
  if (w == "True" || w == "true") return PyValue::from_bool(true);
  if (w == "False" || w == "false") return PyValue::from_bool(false);
  if (is_int_literal(w)) {
    std::string_view digits = w[0] == '+' ? w.substr(1) : w;
    std::int64_t i = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), i);
    PyValue v = PyValue::from_int(i);
    if (r.ec != std::errc{}) {
      v.int_overflow = true;
      v.text = std::string(digits);
    }
    return v;
  }
  if (is_float_literal(w)) {
    std::string s(w[0] == '+' ? w.substr(1) : w);
    double d = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (r.ec != std::errc{}) d = std::strtod(s.c_str(), nullptr);  // out of range: +-HUGE_VAL or 0
    return PyValue::from_float(d);
  }
  return PyValue::from_string(std::string(w));
}

class KeywordParser {
 public:
  explicit KeywordParser(std::string_view text) : text_(text) {}

  void parse(std::vector<PyValue>& positional, Kwargs& kwargs) {
    skip_ws();
    // An optional Conv1D( ... ) around the arguments.
    std::size_t p = pos_;
    while (p < text_.size() && (is_ident_char(text_[p]) || text_[p] == '.')) ++p;
    const std::string_view word = text_.substr(pos_, p - pos_);
    std::size_t q = p;
    while (q < text_.size() && is_space(text_[q])) ++q;
    const bool wrapped = word.size() >= 6 && word.substr(word.size() - 6) == "Conv1D" &&
                         q < text_.size() && text_[q] == '(';
    if (wrapped) {
      pos_ = q + 1;
      parse_args(')', 1, positional, kwargs);
      expect(')');
    } else {
      parse_args('\0', 0, positional, kwargs);
    }
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::kParseError, keyword_.empty() ? "spec" : keyword_,
                "Malformed keyword syntax at position " + std::to_string(pos_) + ": " + what +
                    (keyword_.empty() ? "" : " (in the value of `" + keyword_ + "`)"));
  }

  void skip_ws() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  void expect(char c) {
    skip_ws();
    if (!at(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  /// Arguments up to `close` (or the end when close is '\0'): values and key=value pairs.
  void parse_args(char close, int depth, std::vector<PyValue>& positional, Kwargs& kwargs) {
    for (;;) {
      skip_ws();
      if (close == '\0' ? pos_ == text_.size() : at(close)) return;
      // key = value ?
      std::size_t p = pos_;
      std::string key;
      if (p < text_.size() && is_ident_start(text_[p])) {
        while (p < text_.size() && is_ident_char(text_[p])) ++p;
        std::size_t q = p;
        while (q < text_.size() && is_space(text_[q])) ++q;
        if (q < text_.size() && text_[q] == '=') {
          key = std::string(text_.substr(pos_, p - pos_));
          pos_ = q + 1;
        }
      }
      if (key.empty()) {
        if (!kwargs.empty()) fail("positional argument follows keyword argument");
        if (at(',')) fail("empty argument");
        positional.push_back(parse_value(depth));
      } else {
        const std::string outer = keyword_;
        if (depth == 0) keyword_ = key;
        skip_ws();
        if (pos_ == text_.size() || at(',') || at(')')) {
          throw Error(
              ErrorCode::kParseError, key,
              "Missing value for keyword `" + key + "` at position " + std::to_string(pos_));
        }
        kwargs.emplace_back(key, parse_value(depth));
        keyword_ = outer;
      }
      skip_ws();
      if (close == '\0' ? pos_ == text_.size() : at(close)) return;
      if (!at(',')) fail(close == '\0' ? "expected ',' between arguments" : "expected ',' or ')'");
      ++pos_;
    }
  }

  PyValue parse_value(int depth) {
    if (depth >= detail::kMaxSpecNesting) fail("nesting deeper than 64 levels");
    skip_ws();
    if (pos_ == text_.size()) fail("expected a value");
    const char c = text_[pos_];
    if (c == '[' || c == '(') {
      ++pos_;
      PyValue v;
      v.type = c == '[' ? PyValue::Type::kList : PyValue::Type::kTuple;
      const char close = c == '[' ? ']' : ')';
      bool saw_comma = false;
      for (;;) {
        skip_ws();
        if (at(close)) break;
        v.items.push_back(parse_value(depth + 1));
        skip_ws();
        if (at(close)) break;
        if (!at(',')) fail(std::string("expected ',' or '") + close + "'");
        ++pos_;
        saw_comma = true;
      }
      ++pos_;
      if (c == '(' && v.items.size() == 1 && !saw_comma) return std::move(v.items[0]);  // (x)
      return v;
    }
    if (c == '\'' || c == '"') return PyValue::from_string(parse_string());
    if (c == ')' || c == ']' || c == ',' || c == '=') fail("expected a value");
    const std::size_t start = pos_;
    while (pos_ < text_.size() && !is_delimiter(text_[pos_])) ++pos_;
    const std::string_view word = text_.substr(start, pos_ - start);
    std::size_t q = pos_;
    while (q < text_.size() && is_space(text_[q])) ++q;
    if (q < text_.size() && text_[q] == '(') {
      // name(args): a Keras object with arguments, e.g. l2(0.001).
      pos_ = q + 1;
      PyValue call;
      call.type = PyValue::Type::kCall;
      call.text = std::string(word);
      parse_args(')', depth + 1, call.items, call.entries);
      expect(')');
      return call;
    }
    return classify_word(word);
  }

  std::string parse_string() {
    const char quote = text_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\':
        case '\'':
        case '"': out += e; break;
        case 'x': {
          if (pos_ + 2 > text_.size()) fail("bad \\x escape");
          int value = 0;
          const auto r = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 2, value, 16);
          if (r.ptr != text_.data() + pos_ + 2) fail("bad \\x escape");
          out += static_cast<char>(value);
          pos_ += 2;
          break;
        }
        default: out += '\\'; out += e;
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string keyword_;  // the top-level keyword being read, for error messages
};

/// A value as keyword syntax writes it: bare words where they read back as strings.
std::string keyword_value(const PyValue& v) {
  if (v.is_string()) {
    const std::string& s = v.text;
    bool bare = !s.empty() && is_ident_start(s[0]);
    for (char c : s) bare = bare && is_ident_char(c);
    bare = bare && s != "None" && s != "True" && s != "False" && s != "true" && s != "false";
    return bare ? s : v.repr();
  }
  return v.repr();
}

std::string keyword_object(const detail::ObjectConfig& config) {
  // Constructor order: get_config() writes the seed first, Keras's constructors take it last.
  std::string args;
  for (int seed_pass = 0; seed_pass < 2; ++seed_pass) {
    for (const auto& f : config.fields) {
      if (f.is_default || (f.key == "seed") != (seed_pass == 1)) continue;
      if (!args.empty()) args += ',';
      args += f.key + "=" + keyword_value(f.value);
    }
  }
  return args.empty() ? config.keyword_name : config.keyword_name + "(" + args + ")";
}

}  // namespace

Conv1DSpec parse_spec_keywords(std::string_view text) {
  if (text.size() > detail::kMaxSpecTextBytes) {
    throw Error(ErrorCode::kResourceLimit, "spec",
                "Spec text of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                    std::to_string(detail::kMaxSpecTextBytes) + " bytes");
  }
  if (!detail::is_valid_utf8(text)) {
    throw Error(ErrorCode::kParseError, "spec", "Spec text is not valid UTF-8");
  }
  std::vector<PyValue> positional;
  Kwargs kwargs;
  KeywordParser(text).parse(positional, kwargs);
  return detail::spec_from_args(positional, kwargs);
}

std::string to_keywords(const Conv1DSpec& spec) {
  detail::validate_enums(spec);
  std::string out = "filters=" + std::to_string(spec.filters) +
                    ",kernel_size=" + std::to_string(spec.kernel_size);
  auto add = [&out](const char* key, const std::string& value) {
    out += ',';
    out += key;
    out += '=';
    out += value;
  };
  if (spec.strides != 1) add("strides", std::to_string(spec.strides));
  if (spec.padding != Padding::kValid) add("padding", padding_name(spec.padding));
  if (spec.data_format != DataFormat::kChannelsLast) {
    add("data_format", data_format_name(spec.data_format));
  }
  if (spec.dilation_rate != 1) add("dilation_rate", std::to_string(spec.dilation_rate));
  if (spec.groups != 1) add("groups", std::to_string(spec.groups));
  if (spec.activation != Activation::kLinear) add("activation", activation_name(spec.activation));
  if (!spec.use_bias) add("use_bias", "False");
  if (spec.kernel_initializer != Initializer{}) {
    add("kernel_initializer",
        keyword_object(detail::describe_initializer(spec.kernel_initializer)));
  }
  if (spec.bias_initializer != Initializer{Initializer::Kind::kZeros}) {
    add("bias_initializer", keyword_object(detail::describe_initializer(spec.bias_initializer)));
  }
  const std::pair<const char*, const Regularizer*> regularizers[] = {
      {"kernel_regularizer", &spec.kernel_regularizer},
      {"bias_regularizer", &spec.bias_regularizer},
      {"activity_regularizer", &spec.activity_regularizer},
  };
  for (const auto& [key, reg] : regularizers) {
    if (reg->kind != Regularizer::Kind::kNone) {
      add(key, keyword_object(detail::describe_regularizer(*reg)));
    }
  }
  const std::pair<const char*, const Constraint*> constraints[] = {
      {"kernel_constraint", &spec.kernel_constraint},
      {"bias_constraint", &spec.bias_constraint},
  };
  for (const auto& [key, c] : constraints) {
    if (c->kind != Constraint::Kind::kNone) {
      add(key, keyword_object(detail::describe_constraint(*c)));
    }
  }
  if (spec.name != "conv1d") add("name", keyword_value(PyValue::from_string(spec.name)));
  if (!spec.trainable) add("trainable", "False");
  return out;
}

}  // namespace convjit
