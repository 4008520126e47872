#include "runtime/tuning_db.hpp"

#include "compiler/environment.hpp"

#include "compiler/target/fma_units.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "compiler/schedule/schedule.hpp"
#include "compiler/spec/bounded_json.hpp"
#include "runtime/input_file.hpp"
#include "runtime/version.hpp"

namespace convjit::detail {
namespace {

using Json = nlohmann::json;

/// The spec with only the fields that change the computation (name, initializers,
/// regularizers and constraints reset), so equal computations give equal keys.
Conv1DSpec computation_spec(const Conv1DSpec& spec) {
  Conv1DSpec c;
  c.filters = spec.filters;
  c.kernel_size = spec.kernel_size;
  c.strides = spec.strides;
  c.padding = spec.padding;
  c.data_format = spec.data_format;
  c.dilation_rate = spec.dilation_rate;
  c.groups = spec.groups;
  c.activation = spec.activation;
  c.use_bias = spec.use_bias;
  return c;
}

std::string cpuinfo_field(const std::string& name) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) return "";
      const auto start = line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

/// Bounds of a database file: records are about 1 KB, a database of a whole suite a few MB.
constexpr InputFileKind kDbFile{"the tuning database", "tuning_db", std::uint64_t{64} << 20,
                                std::size_t{1} << 20};

// Shape dims: kDynamic is written as null.
Json dim_json(std::int64_t v) {
  return v == kDynamic ? Json(nullptr) : Json(v);
}

const Json& member(const Json& j, const char* name) {
  if (!j.contains(name)) throw std::runtime_error(fmt::format("missing field {}", name));
  return j.at(name);
}

/// An integer field in [lo, hi]: a float (7.9) or an out-of-range value is an error, never
/// truncated or converted out of range.
std::int64_t integer_field(const Json& j, const char* name, std::int64_t lo, std::int64_t hi) {
  const Json& v = member(j, name);
  if (!v.is_number_integer()) throw std::runtime_error(fmt::format("{} is not an integer", name));
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
    throw std::runtime_error(fmt::format("{} is out of range", name));
  }
  const std::int64_t x = v.get<std::int64_t>();
  if (x < lo || x > hi) throw std::runtime_error(fmt::format("{} is out of range", name));
  return x;
}

// Shape dims: kDynamic is written as null.
std::int64_t dim_from(const Json& j, const char* name) {
  if (member(j, name).is_null()) return kDynamic;
  return integer_field(j, name, 0, INT64_MAX);
}

/// A number field, or null for NaN.
double number_field(const Json& j, const char* name) {
  const Json& v = member(j, name);
  if (v.is_null()) return NAN;
  if (!v.is_number()) throw std::runtime_error(fmt::format("{} is not a number", name));
  return v.get<double>();
}

template <typename T>
T field(const Json& j, const char* name) {
  return member(j, name).get<T>();
}

struct Reported {
  std::mutex mutex;
  std::set<std::string> paths;
};

Reported& reported() {
  static Reported* const r = new Reported();
  return *r;
}

/// Prints "convjit: <text>" unless something was printed for `path` before.
bool report_once(const std::string& path, const std::string& text) {
  Reported& r = reported();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (!r.paths.insert(path).second) return false;
  }
  std::fprintf(stderr, "convjit: %s\n", text.c_str());
  return true;
}

}  // namespace

bool TuningKey::operator==(const TuningKey& o) const {
  return spec == o.spec && batch == o.batch && length == o.length && channels == o.channels &&
         data_format == o.data_format && threads == o.threads && cpu == o.cpu &&
         features == o.features && version == o.version;
}

std::string TuningKey::describe() const {
  auto dim = [](std::int64_t v) { return v == kDynamic ? std::string("?") : std::to_string(v); };
  const bool cf = data_format == "channels_first";
  return fmt::format("{} [{}, {}, {}] threads={}", spec, dim(batch),
                     cf ? std::to_string(channels) : dim(length),
                     cf ? dim(length) : std::to_string(channels), threads);
}

TuningKey make_tuning_key(const Conv1DSpec& spec, const Shape3& input_shape, int threads) {
  TuningKey k;
  k.spec = to_keywords(computation_spec(spec));
  const bool cf = spec.data_format == DataFormat::kChannelsFirst;
  k.batch = input_shape[0] < 0 ? kDynamic : input_shape[0];
  const std::int64_t length = cf ? input_shape[2] : input_shape[1];
  k.length = length < 0 ? kDynamic : length;
  k.channels = cf ? input_shape[1] : input_shape[2];
  k.data_format = data_format_name(spec.data_format);
  k.threads = threads;
  k.cpu = host_cpu_model();
  k.features = host_cpu_features();
  k.version = kConvjitVersion;
  return k;
}

bool TuningRecord::usable() const {
  return checked && std::isfinite(time_us) && time_us > 0.0;
}

std::string record_to_json(const TuningRecord& r) {
  Json j;
  j["format"] = kTuningFormat;
  j["version"] = r.key.version;
  j["spec"] = r.key.spec;
  Json config = r.config.empty() ? Json(nullptr) : Json::parse(r.config, nullptr, false);
  j["config"] = config.is_discarded() ? Json(nullptr) : std::move(config);
  j["batch"] = dim_json(r.key.batch);
  j["length"] = dim_json(r.key.length);
  j["channels"] = r.key.channels;
  j["data_format"] = r.key.data_format;
  j["threads"] = r.key.threads;
  j["cpu"] = r.key.cpu;
  j["features"] = r.key.features;
  j["isa"] = r.isa;
  j["backend"] = r.backend;
  j["schedule"] = r.schedule;
  j["time_us"] = std::isfinite(r.time_us) ? Json(r.time_us) : Json(nullptr);
  j["gflops"] = std::isfinite(r.gflops) ? Json(r.gflops) : Json(nullptr);
  j["checked"] = r.checked;
  j["check"] = r.check;
  j["final"] = r.final;
  j["default"] = r.is_default;
  j["date"] = r.date;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<TuningRecord> record_from_json(const std::string& line, std::string* error) {
  auto fail = [error](const std::string& why) {
    if (error) *error = why;
    return std::nullopt;
  };
  Json j;
  try {
    j = parse_bounded_json(line, "tuning_db");  // depth-bounded: dump() below cannot recurse deep
  } catch (const Error& e) {
    return fail(std::string("not JSON (corrupt or truncated): ") + e.what());
  }
  if (!j.is_object()) return fail("not a JSON object");
  try {
    if (field<std::string>(j, "format") != kTuningFormat) {
      return fail(fmt::format("format is not {}", kTuningFormat));
    }
    TuningRecord r;
    r.key.version = field<std::string>(j, "version");
    r.key.spec = field<std::string>(j, "spec");
    parse_spec_keywords(r.key.spec);  // throws Error for a spec that does not parse
    r.key.batch = dim_from(j, "batch");
    r.key.length = dim_from(j, "length");
    r.key.channels = integer_field(j, "channels", 0, INT64_MAX);
    r.key.data_format = field<std::string>(j, "data_format");
    r.key.threads = static_cast<int>(integer_field(j, "threads", 0, 1 << 20));
    r.key.cpu = field<std::string>(j, "cpu");
    r.key.features = field<std::string>(j, "features");
    if (j.contains("config") && !j.at("config").is_null()) r.config = j.at("config").dump();
    r.isa = field<std::string>(j, "isa");
    r.backend = field<std::string>(j, "backend");
    r.schedule = field<std::string>(j, "schedule");
    const Schedule s = parse_schedule(r.schedule);  // throws Error(kParseError)
    if (isa_name(s.isa) != r.isa) return fail("isa differs from the schedule's isa=");
    r.time_us = number_field(j, "time_us");
    r.gflops = number_field(j, "gflops");
    r.checked = field<bool>(j, "checked");
    r.check = j.value("check", std::string());
    r.final = j.value("final", false);
    r.is_default = j.value("default", false);
    r.date = j.value("date", std::string());
    return r;
  } catch (const Error& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

TuningDb TuningDb::load(const std::string& path) {
  InputFile file(path, kDbFile, /*missing_ok=*/true);
  TuningDb db;
  db.path_ = path;
  db.report_.missing = file.missing();
  InputFile::Line line;
  while (file.next(line)) db.add_line(line.text, line.number, line.too_long);
  return db;
}

TuningDb TuningDb::parse(const std::string& text, const std::string& source) {
  TuningDb db;
  db.path_ = source;
  std::size_t begin = 0;
  std::size_t line_no = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + begin, end - begin);
    begin = end + 1;
    db.add_line(line, ++line_no, line.size() > kDbFile.max_line_bytes);
  }
  return db;
}

void TuningDb::add_line(std::string_view line, std::size_t line_no, bool too_long) {
  if (!too_long && line.find_first_not_of(" \t\r") == std::string::npos) return;
  ++report_.lines;
  std::string why = fmt::format("longer than {} bytes", kDbFile.max_line_bytes);
  auto r = too_long ? std::nullopt : record_from_json(std::string(line), &why);
  if (!r) {
    ++report_.corrupt;
    if (report_.first_problem.empty()) {
      report_.first_problem = fmt::format("line {}: {}", line_no, why);
    }
    return;
  }
  if (r->key.version != kConvjitVersion) {
    ++report_.foreign;
    if (report_.foreign_version.empty()) report_.foreign_version = r->key.version;
    if (report_.first_problem.empty()) {
      report_.first_problem =
          fmt::format("line {}: written by convjit {}", line_no, r->key.version);
    }
    return;
  }
  records_.push_back(std::move(*r));
}

std::vector<const TuningRecord*> TuningDb::find(const TuningKey& key) const {
  std::vector<const TuningRecord*> out;
  for (const TuningRecord& r : records_) {
    if (r.key == key) out.push_back(&r);
  }
  return out;
}

const TuningRecord* TuningDb::best(const TuningKey& key, const std::string& isa,
                                   const std::string& backend) const {
  const TuningRecord* best_final = nullptr;
  const TuningRecord* best_any = nullptr;
  for (const TuningRecord& r : records_) {
    if (!r.usable() || r.isa != isa || r.backend != backend || r.key != key) continue;
    if (!best_any || r.time_us < best_any->time_us) best_any = &r;
    if (r.final && (!best_final || r.time_us < best_final->time_us)) best_final = &r;
  }
  return best_final ? best_final : best_any;
}

std::string TuningDb::describe_problems() const {
  if (report_.clean()) return "";
  std::string parts;
  if (report_.corrupt > 0) {
    parts += fmt::format("{} corrupt or truncated line(s)", report_.corrupt);
  }
  if (report_.foreign > 0) {
    if (!parts.empty()) parts += ", ";
    parts += fmt::format("{} record(s) of convjit {} (this is {})", report_.foreign,
                         report_.foreign_version, kConvjitVersion);
  }
  return fmt::format("tuning database {}: {} ignored (first: {}); {} valid record(s) kept", path_,
                     parts, report_.first_problem, records_.size());
}

bool report_problems_once(const TuningDb& db) {
  const std::string text = db.describe_problems();
  if (text.empty()) return false;
  return report_once(db.path(), text);
}

bool report_unreadable_once(const std::string& path, const Error& error) {
  return report_once(
      path, fmt::format("{}; it is ignored, compiles use the heuristic schedules", error.what()));
}

void append_record(const std::string& path, const TuningRecord& r) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  auto io_error = [&path](const char* what) {
    return Error(
        ErrorCode::kIoError, "tuning_db",
        fmt::format("Cannot {} the tuning database {}: {}", what, path, std::strerror(errno)));
  };
  if (fd < 0) throw io_error("open");
  std::string line = record_to_json(r) + "\n";
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') line.insert(0, "\n");
  }
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const Error e = io_error("append to");
      ::close(fd);
      throw e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw io_error("close");
}

std::string host_cpu_model() {
  // The marketing name alone is ambiguous ("AMD EPYC" is Zen 4 and Zen 5 alike, whose FMA
  // widths differ): the CPUID family and model are part of the key.
  const std::string model = cpuinfo_field("model name");
  const CpuIdentity& id = host_cpu_identity();
  return fmt::format("{} (family {} model {})", model.empty() ? "unknown" : model, id.family,
                     id.model);
}

std::string host_cpu_features() {
  static const char* const kRelevant[] = {
      "avx",      "avx2",     "fma",         "f16c",        "avx512f",    "avx512cd",   "avx512bw",
      "avx512dq", "avx512vl", "avx512_bf16", "avx512_vnni", "avx512ifma", "avx512vbmi", "amx_tile"};
  std::set<std::string> present;
  std::istringstream flags(cpuinfo_field("flags"));
  std::string flag;
  while (flags >> flag) {
    for (const char* want : kRelevant) {
      if (flag == want) present.insert(flag);
    }
  }
  if (present.empty()) {  // no /proc/cpuinfo: what the code generator would use
    if (host_supports(Isa::kAvx2)) present.insert({"avx2", "fma"});
    if (host_supports(Isa::kAvx512)) present.insert("avx512f");
  }
  std::string out;
  for (const std::string& f : present) out += (out.empty() ? "" : " ") + f;
  return out;
}

std::string local_iso_date() {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &local);
  return buf;
}

std::string tuning_db_environment() {
  return environment().tuning_db;
}

}  // namespace convjit::detail
