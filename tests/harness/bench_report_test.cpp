// The report: JSON keys and values, nulls for missing numbers, the table.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "convjit/error.hpp"
#include "harness/bench_report.hpp"

namespace convjit::harness {
namespace {

BenchReport sample_report() {
  BenchReport rep;
  rep.date = "2026-11-05T14:03:00";
  rep.cpu = "Test CPU";
  rep.onednn = "oneDNN 2.6.3 (CPU runtime OMP)";
  rep.threads = 2;
  rep.peaks.threads = 2;
  rep.peaks.ymm_1t = 100.0;
  rep.peaks.ymm_nt = 190.0;
  const auto suite = parse_suite(
      "name,N,L,Cin,F,K,s,d,g,pad\nsmall,1,128,32,32,3,1,1,1,same\n"
      "kws,1,98,40,64,3,1,1,1,valid\n",
      "t");
  BenchRow a;
  a.name = "small";
  a.shape = suite[0];
  a.threads = 2;
  a.time_us = 10.0;
  a.gflops = 78.6432;
  a.pct_peak = 41.4;
  a.compile_us = 25.0;
  a.peak_gflops = 190.0;
  a.onednn = true;
  a.onednn_time_us = 20.0;
  a.onednn_gflops = 39.3216;
  a.onednn_pct_peak = 20.7;
  a.ratio_vs_onednn = 2.0;
  a.onednn_formulation = "1d_any (src nCw8c)";
  a.formulations.push_back({"1d_nwc", "1d_nwc (src nwc)", 25.0, 900.0, true});
  a.formulations.push_back({"1d_blocked", "skipped", NAN, 80.0, false});
  a.check = "vs oneDNN ok (max err/tol 0.01)";
  BenchRow b;
  b.name = "kws";
  b.shape = suite[1];
  b.shrunk = true;
  b.threads = 2;
  b.time_us = 5.0;
  b.gflops = 1.0;
  b.compile_us = NAN;  // engine without a compile step
  b.check_ok = false;
  b.check = "MISMATCH: 3 of 6144 elements";
  rep.rows = {a, b};
  return rep;
}

TEST(BenchReport, JsonHasOneObjectPerRowWithTheDocumentedKeys) {
  const auto j = nlohmann::json::parse(report_to_json(sample_report()));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  const auto& a = j[0];
  EXPECT_EQ(a["name"], "small");
  EXPECT_EQ(a["threads"], 2);
  EXPECT_DOUBLE_EQ(a["time_us"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(a["gflops"].get<double>(), 78.6432);
  EXPECT_DOUBLE_EQ(a["pct_peak"].get<double>(), 41.4);
  EXPECT_DOUBLE_EQ(a["compile_us"].get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(a["peak_gflops"].get<double>(), 190.0);
  EXPECT_DOUBLE_EQ(a["peak_gflops_1t"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(a["onednn_gflops"].get<double>(), 39.3216);
  EXPECT_DOUBLE_EQ(a["onednn_time_us"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(a["ratio_vs_onednn"].get<double>(), 2.0);
  EXPECT_EQ(a["onednn_formulation"], "1d_any (src nCw8c)");
  EXPECT_EQ(a["date"], "2026-11-05T14:03:00");
  EXPECT_EQ(a["cpu"], "Test CPU");
  EXPECT_EQ(a["shape"]["L"], 128);
  EXPECT_EQ(a["shape"]["pad"], "same");
  EXPECT_EQ(a["shape"]["padL"], 1);
  EXPECT_DOUBLE_EQ(a["flops"].get<double>(), 786432.0);
  EXPECT_EQ(a["check_ok"], true);
  ASSERT_EQ(a["onednn_formulations"].size(), 2u);
  EXPECT_TRUE(a["onednn_formulations"][1]["time_us"].is_null());
  EXPECT_EQ(a["onednn_formulations"][0]["ok"], true);

  const auto& b = j[1];
  EXPECT_TRUE(b["compile_us"].is_null());
  EXPECT_TRUE(b["pct_peak"].is_number());
  EXPECT_EQ(b["shrunk"], true);
  EXPECT_EQ(b["check_ok"], false);
  EXPECT_EQ(b["onednn_available"], false);
  EXPECT_FALSE(b.contains("onednn_gflops"));
  EXPECT_FALSE(b.contains("ratio_vs_onednn"));
}

TEST(BenchReport, WritesAFileAndFailsLoudlyOnABadPath) {
  const auto path = std::filesystem::temp_directory_path() / "convjit_bench_report_test.json";
  write_json_file(sample_report(), path.string());
  std::ifstream in(path);
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j.size(), 2u);
  std::filesystem::remove(path);
  try {
    write_json_file(sample_report(), "/nonexistent/dir/out.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIoError);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/out.json"), std::string::npos);
  }
}

TEST(BenchReport, TableShowsRowsPeaksAndFailures) {
  BenchReport rep = sample_report();
  std::string t = format_table(rep);
  EXPECT_NE(t.find("ymm 100.0 GFLOP/s (1 thread), 190.0 (2 threads)"), std::string::npos) << t;
  EXPECT_NE(t.find("small"), std::string::npos);
  EXPECT_NE(t.find("kws*"), std::string::npos) << "a shrunk shape is marked";
  EXPECT_NE(t.find("78.6"), std::string::npos);
  EXPECT_NE(t.find("2.00"), std::string::npos);
  EXPECT_NE(t.find("!!! MISMATCH: 3 of 6144"), std::string::npos) << t;
  EXPECT_NE(t.find("CHECK FAILED"), std::string::npos);
  EXPECT_FALSE(rep.all_checks_ok());
  rep.rows.pop_back();
  t = format_table(rep);
  EXPECT_TRUE(rep.all_checks_ok());
  EXPECT_EQ(t.find("!!!"), std::string::npos) << t;
}

TEST(BenchReport, MachineFacts) {
  EXPECT_FALSE(cpu_model_name().empty());
  const std::string d = iso_date_now();
  ASSERT_EQ(d.size(), 19u) << d;
  EXPECT_EQ(d[4], '-');
  EXPECT_EQ(d[10], 'T');
  EXPECT_EQ(d[13], ':');
}

}  // namespace
}  // namespace convjit::harness
