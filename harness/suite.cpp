#include "harness/suite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace convjit::harness {
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = line.find(',', pos);
    fields.push_back(line.substr(pos, end == std::string::npos ? end : end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return fields;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

[[noreturn]] void fail(const std::string& source, int line, const std::string& message) {
  throw Error(ErrorCode::kParseError, "suite", fmt::format("{}:{}: {}", source, line, message));
}

std::int64_t parse_int(const std::string& text, const std::string& column,
                       const std::string& source, int line) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    fail(source, line, fmt::format("column {}: '{}' is not an integer", column, text));
  }
  return v;
}

double parse_double(const std::string& text, const std::string& column, const std::string& source,
                    int line) {
  std::istringstream in(text);
  double v = 0;
  in >> v;
  if (text.empty() || in.fail() || !in.eof()) {
    fail(source, line, fmt::format("column {}: '{}' is not a number", column, text));
  }
  return v;
}

Padding parse_padding(const std::string& text, const std::string& source, int line) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "valid") return Padding::kValid;
  if (lower == "same") return Padding::kSame;
  if (lower == "causal") return Padding::kCausal;
  fail(source, line, fmt::format("column pad: '{}' is not valid, same or causal", text));
}

// Fills pads, Lout and flops from the Keras rules. Throws Error for a Keras-invalid layer.
void derive(SuiteShape& s) {
  const Conv1DSpec spec = s.spec();
  validate(spec, s.input_shape());
  const auto pads = padding_amounts(spec, s.length);
  s.pad_left = pads[0];
  s.pad_right = pads[1];
  s.out_length = output_length(spec, s.length);
  s.flops = conv_flops(s);
  s.min_bytes =
      4.0 * static_cast<double>(s.input_elems() + s.kernel_elems() + s.filters + s.output_elems());
}

}  // namespace

Conv1DSpec SuiteShape::spec(Activation activation) const {
  Conv1DSpec spec;
  spec.filters = filters;
  spec.kernel_size = kernel;
  spec.strides = stride;
  spec.padding = padding;
  spec.dilation_rate = dilation;
  spec.groups = groups;
  spec.activation = activation;
  spec.use_bias = true;
  spec.name = name.empty() ? "conv1d" : name;
  return spec;
}

double conv_flops(const SuiteShape& s) {
  return 2.0 * static_cast<double>(s.batch) * static_cast<double>(s.out_length) *
         static_cast<double>(s.filters) * static_cast<double>(s.in_channels / s.groups) *
         static_cast<double>(s.kernel);
}

std::vector<SuiteShape> parse_suite(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  std::map<std::string, std::size_t> column;
  std::size_t column_count = 0;
  std::vector<SuiteShape> suite;
  while (std::getline(in, line)) {
    ++line_no;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = split_csv_line(line);
    if (column.empty()) {
      for (auto& f : fields) f = trim(f);
      for (std::size_t i = 0; i < fields.size(); ++i) column[fields[i]] = i;
      column_count = fields.size();
      for (const char* required : {"name", "N", "L", "Cin", "F", "K", "s", "d", "g", "pad"}) {
        if (!column.count(required)) {
          fail(source, line_no, fmt::format("the header has no column '{}'", required));
        }
      }
      continue;
    }
    // A free-text last column (origin) may hold commas: join the overflow back.
    if (fields.size() > column_count && column.count("origin") &&
        column["origin"] == column_count - 1) {
      std::string joined = fields[column_count - 1];
      for (std::size_t i = column_count; i < fields.size(); ++i) joined += "," + fields[i];
      fields.resize(column_count);
      fields.back() = joined;
    }
    for (auto& f : fields) f = trim(f);
    if (fields.size() != column_count) {
      fail(source, line_no,
           fmt::format("{} fields where the header has {}", fields.size(), column_count));
    }
    auto get = [&](const char* name) -> const std::string& { return fields[column[name]]; };
    auto get_int = [&](const char* name) { return parse_int(get(name), name, source, line_no); };
    SuiteShape s;
    s.name = get("name");
    if (s.name.empty()) fail(source, line_no, "empty shape name");
    if (find_shape(suite, s.name) >= 0) {
      fail(source, line_no, fmt::format("shape '{}' appears twice", s.name));
    }
    s.batch = get_int("N");
    s.length = get_int("L");
    s.in_channels = get_int("Cin");
    s.filters = get_int("F");
    s.kernel = get_int("K");
    s.stride = get_int("s");
    s.dilation = get_int("d");
    s.groups = get_int("g");
    s.padding = parse_padding(get("pad"), source, line_no);
    if (s.batch < 1 || s.length < 1) {
      fail(source, line_no, fmt::format("N={} and L={} must be >= 1", s.batch, s.length));
    }
    try {
      derive(s);
    } catch (const Error& e) {
      fail(source, line_no, fmt::format("shape '{}' is not a valid Conv1D: {}", s.name, e.what()));
    }
    if (s.out_length < 1) {
      fail(source, line_no, fmt::format("shape '{}' has an empty output", s.name));
    }
    // Cross-check the derived columns the file carries.
    const std::pair<const char*, std::int64_t> derived[] = {
        {"padL", s.pad_left}, {"padR", s.pad_right}, {"Lout", s.out_length}};
    for (const auto& [name, value] : derived) {
      if (column.count(name) && get_int(name) != value) {
        fail(source, line_no,
             fmt::format("column {} of '{}' is {} but Keras's rules give {}", name, s.name,
                         get(name), value));
      }
    }
    if (column.count("flops")) {
      const double file_flops = parse_double(get("flops"), "flops", source, line_no);
      if (std::fabs(file_flops - s.flops) > 0.5) {
        fail(source, line_no,
             fmt::format("column flops of '{}' is {} but 2*N*Lout*F*(Cin/g)*K = {}", s.name,
                         get("flops"), s.flops));
      }
    }
    if (column.count("min_bytes")) {
      s.min_bytes = parse_double(get("min_bytes"), "min_bytes", source, line_no);
    }
    if (column.count("origin")) s.origin = get("origin");
    suite.push_back(std::move(s));
  }
  if (column.empty()) fail(source, line_no, "no header line");
  return suite;
}

std::vector<SuiteShape> read_suite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorCode::kIoError, "suite", fmt::format("Cannot read the suite file {}", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_suite(text.str(), path);
}

SuiteShape resize(const SuiteShape& s, std::int64_t batch, std::int64_t length) {
  SuiteShape r = s;
  r.batch = batch;
  r.length = length;
  derive(r);
  return r;
}

SuiteShape shrink_to_flops(const SuiteShape& s, double max_flops) {
  if (s.flops <= max_flops) return s;
  SuiteShape r = resize(s, 1, s.length);
  if (r.flops <= max_flops) return r;
  // Flops grow linearly in Lout; keep at least 8 output steps.
  const double per_step = r.flops / static_cast<double>(r.out_length);
  const std::int64_t want_out =
      std::max<std::int64_t>(8, static_cast<std::int64_t>(max_flops / per_step));
  // Input length giving want_out outputs: valid needs the receptive field.
  const std::int64_t field = (s.kernel - 1) * s.dilation + 1;
  std::int64_t length =
      s.padding == Padding::kValid ? (want_out - 1) * s.stride + field : want_out * s.stride;
  length = std::min(length, s.length);
  return resize(s, 1, length);
}

int find_shape(const std::vector<SuiteShape>& suite, const std::string& name) {
  for (std::size_t i = 0; i < suite.size(); ++i) {
    if (suite[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace convjit::harness
