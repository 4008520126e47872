#include "harness/bench_report.hpp"

#include "compiler/target/fma_units.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "convjit/error.hpp"
#include "runtime/tuning_db.hpp"

namespace convjit::harness {
namespace {

nlohmann::json number_or_null(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

std::string fixed_or_dash(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

bool BenchReport::all_checks_ok() const {
  for (const auto& r : rows) {
    if (!r.check_ok) return false;
  }
  return true;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) break;
      const auto start = line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? "unknown" : line.substr(start);
    }
  }
  return "unknown";
}

std::string iso_date_now() {
  return detail::local_iso_date();
}

std::string report_to_json(const BenchReport& report, int indent) {
  nlohmann::json rows = nlohmann::json::array();
  for (const BenchRow& r : report.rows) {
    const SuiteShape& s = r.shape;
    nlohmann::json o;
    o["name"] = r.name;
    o["threads"] = r.threads;
    o["time_us"] = number_or_null(r.time_us);
    o["gflops"] = number_or_null(r.gflops);
    o["pct_peak"] = number_or_null(r.pct_peak);
    o["compile_us"] = number_or_null(r.compile_us);
    o["peak_gflops"] = number_or_null(r.peak_gflops);
    o["peak_gflops_1t"] = number_or_null(report.peaks.peak(true, 1));
    o["engine"] = r.engine;
    o["repetitions"] = r.repetitions;
    o["flops"] = s.flops;
    o["shape"] = {{"N", s.batch},       {"L", s.length},       {"Cin", s.in_channels},
                  {"F", s.filters},     {"K", s.kernel},       {"s", s.stride},
                  {"d", s.dilation},    {"g", s.groups},       {"pad", padding_name(s.padding)},
                  {"padL", s.pad_left}, {"padR", s.pad_right}, {"Lout", s.out_length}};
    o["shrunk"] = r.shrunk;
    o["quick"] = report.quick;
    o["check"] = r.check;
    o["check_ok"] = r.check_ok;
    o["onednn_available"] = r.onednn;
    if (r.onednn) {
      o["onednn_time_us"] = number_or_null(r.onednn_time_us);
      o["onednn_gflops"] = number_or_null(r.onednn_gflops);
      o["onednn_pct_peak"] = number_or_null(r.onednn_pct_peak);
      o["ratio_vs_onednn"] = number_or_null(r.ratio_vs_onednn);
      o["onednn_formulation"] = r.onednn_formulation;
      o["onednn_creation_us"] = number_or_null(r.onednn_creation_us);
      nlohmann::json tried = nlohmann::json::array();
      for (const auto& f : r.formulations) {
        tried.push_back({{"name", f.name},
                         {"description", f.description},
                         {"time_us", number_or_null(f.time_us)},
                         {"creation_us", number_or_null(f.creation_us)},
                         {"ok", f.ok}});
      }
      o["onednn_formulations"] = tried;
    }
    if (r.tuned) {
      o["tuned_schedule"] = r.tuned_schedule;
      o["tuned_found"] = r.tuned_found;
      o["tuned_heuristic_time_us"] = number_or_null(r.tuned_heuristic_time_us);
      o["tuned_time_us"] = number_or_null(r.tuned_time_us);
      o["tuned_gflops"] = number_or_null(r.tuned_gflops);
      o["tuned_pct_peak"] = number_or_null(r.tuned_pct_peak);
      o["tuned_speedup"] = number_or_null(r.tuned_speedup);
    }
    o["onednn"] = report.onednn;
    o["notes"] = report.notes;
    o["date"] = report.date;
    o["cpu"] = report.cpu;
    rows.push_back(std::move(o));
  }
  return rows.dump(indent);
}

void write_json_text(const std::string& json, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw Error(ErrorCode::kIoError, "json", fmt::format("Cannot write the JSON file {}", path));
  }
  out << json << "\n";
  out.flush();
  if (!out) {
    throw Error(ErrorCode::kIoError, "json", fmt::format("Cannot write the JSON file {}", path));
  }
}

void write_json_file(const BenchReport& report, const std::string& path) {
  write_json_text(report_to_json(report), path);
}

std::string fma_units_line(const PeakInfo& p) {
  std::string why;
  detail::host_fma_units(&why);
  std::string line = "fma units: " + why;
  if (p.has_zmm && p.ymm_1t > 0) {
    line += fmt::format("; probes: zmm/ymm = {:.2f} ({})", p.zmm_1t / p.ymm_1t,
                        p.zmm_1t / p.ymm_1t > 1.5 ? "full width" : "split");
  }
  return line;
}

std::string format_table(const BenchReport& report) {
  std::string t;
  const PeakInfo& p = report.peaks;
  t += fmt::format("convjit bench  {}  cpu: {}  threads: {}\n", report.date, report.cpu,
                   report.threads);
  t += fmt::format("fp32 FMA peak (measured): ymm {:.1f} GFLOP/s (1 thread), {:.1f} ({} threads)",
                   p.ymm_1t, p.ymm_nt, p.threads);
  if (p.has_zmm) {
    t += fmt::format("; zmm {:.1f} (1 thread), {:.1f} ({} threads)", p.zmm_1t, p.zmm_nt, p.threads);
  }
  t += "\n" + fma_units_line(p) + "\n" + report.onednn + "\n";
  for (const auto& n : report.notes) t += "note: " + n + "\n";
  t += fmt::format("{:<14} {:>3} {:>11} {:>8} {:>6} {:>11} {:>8} {:>6} {:>6} {:>10}  {}\n", "shape",
                   "thr", "convjit_us", "GFLOP/s", "%peak", "oneDNN_us", "GFLOP/s", "%peak",
                   "ratio", "compile_us", "check / oneDNN formulation");
  for (const BenchRow& r : report.rows) {
    const std::string name = r.shrunk ? r.name + "*" : r.name;
    t += fmt::format(
        "{:<14} {:>3} {:>11} {:>8} {:>6} {:>11} {:>8} {:>6} {:>6} {:>10}  {}{}{}\n", name,
        r.threads, fixed_or_dash(r.time_us, 1), fixed_or_dash(r.gflops, 1),
        fixed_or_dash(r.pct_peak, 1), r.onednn ? fixed_or_dash(r.onednn_time_us, 1) : "-",
        r.onednn ? fixed_or_dash(r.onednn_gflops, 1) : "-",
        r.onednn ? fixed_or_dash(r.onednn_pct_peak, 1) : "-",
        r.onednn ? fixed_or_dash(r.ratio_vs_onednn, 2) : "-", fixed_or_dash(r.compile_us, 0),
        r.check_ok ? "" : "!!! ", r.check, r.onednn ? " / " + r.onednn_formulation : std::string());
  }
  bool any_tuned = false;
  for (const BenchRow& r : report.rows) any_tuned = any_tuned || r.tuned;
  if (any_tuned) {
    t += fmt::format("\nheuristic vs tuned ({}), timed head to head:\n", report.tuning_db);
    t += fmt::format("{:<14} {:>11} {:>8} {:>6} {:>11} {:>8} {:>6} {:>6}  {}\n", "shape", "heur_us",
                     "GFLOP/s", "%peak", "tuned_us", "GFLOP/s", "%peak", "gain", "tuned schedule");
    for (const BenchRow& r : report.rows) {
      if (!r.tuned) continue;
      const double heur_gflops = r.shape.flops / (r.tuned_heuristic_time_us * 1e3);
      t += fmt::format("{:<14} {:>11} {:>8} {:>6} {:>11} {:>8} {:>6} {:>6}  {}\n",
                       r.shrunk ? r.name + "*" : r.name,
                       fixed_or_dash(r.tuned_heuristic_time_us, 1), fixed_or_dash(heur_gflops, 1),
                       fixed_or_dash(100.0 * heur_gflops / r.peak_gflops, 1),
                       fixed_or_dash(r.tuned_time_us, 1), fixed_or_dash(r.tuned_gflops, 1),
                       fixed_or_dash(r.tuned_pct_peak, 1), fixed_or_dash(r.tuned_speedup, 2),
                       r.tuned_found ? r.tuned_schedule : "(no record: the heuristic)");
    }
  }
  if (!report.all_checks_ok()) {
    t += "!!! CHECK FAILED: a row failed or its outputs disagree (see the check column)\n";
  }
  return t;
}

}  // namespace convjit::harness
