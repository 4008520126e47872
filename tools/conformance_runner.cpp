#include "tools/conformance_runner.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "convjit/spec.hpp"
#include "tools/conformance_case.hpp"

namespace convjit::tool {
namespace {

using nlohmann::json;

struct Outcome {
  enum Kind { kPass, kFail, kSkip } kind = kPass;
  std::string detail;
  double ratio = 0.0;
  json candidate;  // the results line
};

std::vector<float> floats_of(const json& array) {
  std::vector<float> v;
  v.reserve(array.size());
  for (const auto& x : array) v.push_back(static_cast<float>(x.get<double>()));
  return v;
}

Shape3 shape_of(const json& array) {
  return case_shape(array, "input_shape");  // exact integers: 7.9 is refused, not truncated
}

json shape_json(const Shape3& s) {
  return json::array({s[0], s[1], s[2]});
}

Outcome run_forward(const json& c, const ConformanceOptions& opt) {
  Outcome o;
  o.candidate["id"] = c.at("id");
  const json& spec_json = c.at("spec");
  if (spec_json.contains("activation") && spec_json["activation"].is_string() &&
      spec_json["activation"].get<std::string>().rfind("tfjs:", 0) == 0) {
    o.kind = Outcome::kSkip;
    o.detail = fmt::format(
        "activation {} is a tfjs-only identifier, not a Keras 3 name "
        "(a Keras string cannot select it)",
        spec_json["activation"].get<std::string>());
    o.candidate["error"] = "not a Keras 3 activation name";
    return o;
  }
  const Conv1DSpec spec = check_forward_case(c);  // every field, before any allocation
  const Shape3 in_shape = shape_of(c.at("input_shape"));
  const std::vector<float> input = floats_of(c.at("input"));
  const std::vector<float> kernel = floats_of(c.at("kernel"));
  std::vector<float> bias;
  if (!c.at("bias").is_null()) bias = floats_of(c.at("bias"));
  const Shape3 out_shape = call_output_shape(spec, in_shape);
  const std::vector<float> got =
      detail::run_engine(opt.engine, spec, in_shape, input.data(), kernel.data(),
                         bias.empty() ? nullptr : bias.data(), opt.engine_options);
  o.candidate["output_shape"] = shape_json(out_shape);
  o.candidate["output"] = got;

  const Shape3 want_shape = shape_of(c.at("output_shape"));
  if (out_shape != want_shape) {
    o.kind = Outcome::kFail;
    o.detail = fmt::format("output shape {} != expected {}", shape_json(out_shape).dump(),
                           shape_json(want_shape).dump());
    return o;
  }
  const std::vector<float> want = floats_of(c.at("output"));
  if (got.size() != want.size()) {
    o.kind = Outcome::kFail;
    o.detail = fmt::format("{} output values, expected {}", got.size(), want.size());
    return o;
  }
  const double scale = std::max(1.0, c.at("acc_scale").get<double>());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    const double tol = opt.atol * scale + opt.rtol * std::abs(w);
    if (!std::isfinite(g)) {
      o.kind = Outcome::kFail;
      o.detail = fmt::format("output[{}] = {} is not finite (expected {})", i, g, w);
      return o;
    }
    const double ratio = std::abs(g - w) / tol;
    if (ratio > o.ratio) o.ratio = ratio;
    if (ratio > 1.0 && o.kind != Outcome::kFail) {
      o.kind = Outcome::kFail;
      o.detail = fmt::format("output[{}] = {:.9g}, expected {:.9g} (|diff| {:.3g} > tol {:.3g})", i,
                             g, w, std::abs(g - w), tol);
    }
  }
  return o;
}

Outcome run_shape(const json& c) {
  Outcome o;
  o.candidate["id"] = c.at("id");
  check_shape_case(c, true);
  const Conv1DSpec spec = parse_spec_json(c.at("spec").dump());
  const Shape3 in_shape = shape_of(c.at("input_shape"));
  const json& expected = c.at("expected");
  try {
    const Shape3 got = compute_output_shape(spec, in_shape);
    o.candidate["output_shape"] = shape_json(got);
    if (expected.contains("error")) {
      o.kind = Outcome::kFail;
      o.detail =
          fmt::format("expected {}: {}, got output shape {}", expected["error"].get<std::string>(),
                      expected.value("message", ""), shape_json(got).dump());
    } else if (shape_json(got) != expected.at("output_shape")) {
      o.kind = Outcome::kFail;
      o.detail = fmt::format("output shape {} != expected {}", shape_json(got).dump(),
                             expected.at("output_shape").dump());
    }
  } catch (const Error& e) {
    o.candidate["error"] = e.what();
    if (!expected.contains("error")) {
      o.kind = Outcome::kFail;
      o.detail = fmt::format("unexpected error: {}", e.what());
    }
  }
  return o;
}

Outcome run_invalid(const json& c) {
  Outcome o;
  o.candidate["id"] = c.at("id");
  check_shape_case(c, false);
  try {
    const Conv1DSpec spec = parse_spec_json(c.at("spec").dump());
    validate(spec, shape_of(c.at("input_shape")));
    o.kind = Outcome::kFail;
    o.detail =
        fmt::format("accepted a spec Keras rejects ({})", c.at("expected").value("message", ""));
    o.candidate["error"] = nullptr;
  } catch (const Error& e) {
    o.candidate["error"] = e.what();
  }
  return o;
}

/// A failed write to the results file (a full disk, a file-size limit) ends the run with
/// Error(kIoError): results are never silently truncated.
void check_results(const std::ofstream& results, const std::string& path) {
  if (results.fail()) {
    throw Error(ErrorCode::kIoError, "--results",
                fmt::format("cannot write results file {}: {}", path, std::strerror(errno)));
  }
}

}  // namespace

ConformanceSummary run_conformance(const std::vector<std::string>& files,
                                   const ConformanceOptions& opt) {
  ConformanceSummary sum;
  std::ofstream results;
  if (!opt.results_path.empty()) {
    results.open(opt.results_path);
    if (!results) {
      throw Error(ErrorCode::kIoError, "--results",
                  fmt::format("cannot write results file {}", opt.results_path));
    }
  }
  for (const std::string& path : files) {
    // A regular file of bounded size and lines; a read error is an Error, never an end.
    detail::InputFile in(path, kCaseFile);
    detail::InputFile::Line text;
    while (in.next(text)) {
      const std::string& line = text.text;
      const std::size_t line_no = text.number;
      if (!text.too_long && line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Outcome o;
      std::string id = fmt::format("{}:{}", path, line_no);
      std::string kind;
      try {
        if (text.too_long) {
          throw Error(ErrorCode::kResourceLimit, "FILE",
                      fmt::format("line longer than {} bytes", kCaseFile.max_line_bytes));
        }
        const json c = parse_case_line(line);
        id = c.value("id", id);
        kind = c.value("kind", "");
        if (kind == "forward") {
          o = run_forward(c, opt);
        } else if (kind == "shape") {
          o = run_shape(c);
        } else if (kind == "invalid") {
          o = run_invalid(c);
        } else {
          o.kind = Outcome::kSkip;
          o.detail = fmt::format("unknown case kind '{}'", kind);
        }
      } catch (const json::exception& e) {
        o.kind = Outcome::kFail;
        o.detail = fmt::format("malformed case: {}", e.what());
      } catch (const Error& e) {
        o.kind = Outcome::kFail;
        o.detail = fmt::format("error: {}", e.what());
      }
      switch (o.kind) {
        case Outcome::kPass:
          ++sum.passed;
          if (o.ratio > sum.worst_ratio) {
            sum.worst_ratio = o.ratio;
            sum.worst_id = id;
          }
          if (opt.verbose) fmt::print("PASS {} (error/tol {:.3g})\n", id, o.ratio);
          break;
        case Outcome::kFail:
          ++sum.failed;
          fmt::print(
              "FAIL {}: {}\n  repro: convjit conformance --engine {} --isa {} {} "
              "(line {})\n",
              id, o.detail, opt.engine, opt.engine_options.isa, path, line_no);
          break;
        case Outcome::kSkip:
          ++sum.skipped;
          fmt::print("SKIP {}: {}\n", id, o.detail);
          break;
      }
      if (results.is_open() && !o.candidate.empty()) results << o.candidate.dump() << '\n';
      check_results(results, opt.results_path);
    }
  }
  if (results.is_open()) {
    results.close();  // flushes: a full disk shows here
    check_results(results, opt.results_path);
  }
  return sum;
}

}  // namespace convjit::tool
