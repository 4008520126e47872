// run_bench end to end on a tiny suite, and the shape selection.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "harness/bench_suite.hpp"
#include "harness/onednn_runner.hpp"

namespace convjit::harness {
namespace {

std::string write_tiny_suite() {
  // One file per process: ctest runs these tests in parallel processes.
  const auto path = std::filesystem::temp_directory_path() /
                    ("convjit_bench_tiny_suite_" + std::to_string(::getpid()) + ".csv");
  std::ofstream out(path);
  out << "name,N,L,Cin,F,K,s,d,g,pad\n"
         "tiny_same,1,40,8,16,3,1,1,1,same\n"
         "tiny_dw,2,30,16,16,4,1,1,16,causal\n"
         "big,4,4096,64,64,3,1,1,1,same\n";  // 2*4*4096*64*64*3 flops: shrunk by --quick
  return path.string();
}

TEST(BenchSuite, SelectShapesByNameOrAll) {
  const auto suite = parse_suite(
      "name,N,L,Cin,F,K,s,d,g,pad\na,1,8,1,1,1,1,1,1,valid\n"
      "b,1,8,1,1,1,1,1,1,valid\n",
      "t");
  EXPECT_EQ(select_shapes(suite, "").size(), 2u);
  ASSERT_EQ(select_shapes(suite, "b").size(), 1u);
  EXPECT_EQ(select_shapes(suite, "b")[0].name, "b");
  try {
    select_shapes(suite, "c");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnknownName);
    EXPECT_EQ(e.argument(), "shape");
    EXPECT_NE(std::string(e.what()).find("Unknown shape: c. Valid shapes: a, b"), std::string::npos)
        << e.what();
  }
}

TEST(BenchSuite, QuickRunMeasuresAndChecksEveryShape) {
  BenchOptions o;
  o.suite_path = write_tiny_suite();
  o.quick = true;
  o.threads = 1;
  std::ostringstream progress;
  const BenchReport rep = run_bench(o, &progress);
  ASSERT_EQ(rep.rows.size(), 3u);
  EXPECT_TRUE(rep.quick);
  EXPECT_GT(rep.peaks.ymm_1t, 1.0);
  EXPECT_NE(progress.str().find("[1/3] tiny_same ..."), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("[3/3] big ..."), std::string::npos);
  for (const BenchRow& r : rep.rows) {
    SCOPED_TRACE(r.name);
    EXPECT_TRUE(r.check_ok) << r.check;
    EXPECT_GT(r.time_us, 0.0);
    EXPECT_NEAR(r.gflops, r.shape.flops / (r.time_us * 1e3), 1e-9 * r.gflops);
    EXPECT_NEAR(r.pct_peak, 100.0 * r.gflops / r.peak_gflops, 1e-9 * r.pct_peak);
    EXPECT_GT(r.compile_us, 0.0);
    EXPECT_GE(r.repetitions, 3);
    EXPECT_EQ(r.onednn, onednn_available());
    if (r.onednn) {
      EXPECT_GT(r.onednn_time_us, 0.0);
      EXPECT_NEAR(r.ratio_vs_onednn, r.gflops / r.onednn_gflops, 1e-9 * r.ratio_vs_onednn);
      EXPECT_EQ(r.formulations.size(), all_onednn_formulations().size());
      EXPECT_NE(r.check.find("vs oneDNN ok"), std::string::npos) << r.check;
    } else {
      EXPECT_NE(r.check.find("vs reference ok"), std::string::npos) << r.check;
    }
  }
  EXPECT_FALSE(rep.rows[0].shrunk);
  EXPECT_TRUE(rep.rows[2].shrunk);
  EXPECT_EQ(rep.rows[2].shape.batch, 1);
  EXPECT_LE(rep.rows[2].shape.flops, kQuickMaxFlops);
  EXPECT_FALSE(rep.notes.empty());
  std::filesystem::remove(o.suite_path);
}

TEST(BenchSuite, ConvjitOnlyRunChecksAgainstTheReference) {
  BenchOptions o;
  o.suite_path = write_tiny_suite();
  o.shape = "tiny_dw";
  o.quick = true;
  o.use_onednn = false;
  o.activation = Activation::kSilu;
  const BenchReport rep = run_bench(o, nullptr);
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_FALSE(rep.rows[0].onednn);
  EXPECT_TRUE(rep.rows[0].check_ok) << rep.rows[0].check;
  EXPECT_NE(rep.rows[0].check.find("vs reference ok"), std::string::npos) << rep.rows[0].check;
  std::filesystem::remove(o.suite_path);
}

// --clock cpu: the calling thread's CPU time; said in the notes; refused for several
// threads (the other threads' time would not count) and for unknown clock names.
TEST(BenchSuite, CpuClockTimesTheCallingThread) {
  BenchOptions o;
  o.suite_path = write_tiny_suite();
  o.shape = "tiny_same";
  o.quick = true;
  o.clock = "cpu";
  const BenchReport rep = run_bench(o, nullptr);
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_TRUE(rep.rows[0].check_ok) << rep.rows[0].check;
  EXPECT_GT(rep.rows[0].time_us, 0.0);
  bool noted = false;
  for (const std::string& n : rep.notes) noted = noted || n.find("clock=cpu") != std::string::npos;
  EXPECT_TRUE(noted);

  for (const auto& [clock, threads] :
       {std::pair<std::string, int>{"cpu", 2}, std::pair<std::string, int>{"sundial", 1}}) {
    o.clock = clock;
    o.threads = threads;
    try {
      run_bench(o, nullptr);
      FAIL() << "no error for clock=" << clock << " threads=" << threads;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidValue);
      EXPECT_EQ(e.argument(), "clock");
      EXPECT_NE(std::string(e.what()).find("Received:"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove(o.suite_path);
}

}  // namespace
}  // namespace convjit::harness
