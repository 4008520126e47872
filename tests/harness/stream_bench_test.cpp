// The pieces of `convjit bench --stream`: the plain per-sample loop and oneDNN's run_on
// against the reference, the shapes of issue 17, and the table and JSON of a report.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "harness/naive_stream_loop.hpp"
#include "harness/onednn_runner.hpp"
#include "harness/output_check.hpp"
#include "harness/stream_bench.hpp"

namespace convjit::harness {
namespace {

std::vector<float> uniform(std::int64_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(count));
  for (float& e : v) e = u(rng);
  return v;
}

// Causal and valid layers with strides, dilation, groups and depthwise (the loop's paths).
const char* kShapes =
    "name,N,L,Cin,F,K,s,d,g,pad\n"
    "causal_dilated,1,29,3,9,3,1,4,1,causal\n"
    "causal_strided,1,23,4,6,4,3,1,1,causal\n"
    "valid_strided,1,31,1,16,10,5,1,1,valid\n"
    "grouped,1,17,6,9,3,1,2,3,causal\n"
    "depthwise,1,19,16,16,4,1,1,16,causal\n";

TEST(NaiveStreamLoop, OneSampleAtATimeMatchesTheReference) {
  unsigned seed = 1;
  for (const SuiteShape& s : parse_suite(kShapes, "t")) {
    for (const Activation a : {Activation::kLinear, Activation::kSilu}) {
      SCOPED_TRACE(s.name + " " + activation_name(a));
      const auto x = uniform(s.input_elems(), seed++);
      const auto w = uniform(s.kernel_elems(), seed++);
      const auto b = uniform(s.filters, seed++);
      const detail::Problem p = detail::make_problem(s.spec(a), s.input_shape());
      std::vector<float> want(static_cast<std::size_t>(p.output_size()));
      detail::reference_conv1d(p, x.data(), w.data(), b.data(), want.data());
      NaiveStreamLoop loop(s, a, w.data(), b.data());
      std::vector<float> got, row(static_cast<std::size_t>(s.filters));
      for (std::int64_t t = 0; t < s.length; ++t) {
        if (loop.step(x.data() + t * s.in_channels, row.data()) == 1) {
          got.insert(got.end(), row.begin(), row.end());
        }
      }
      const CheckResult c = compare_outputs(got, want, acc_scale(s, x.data(), w.data(), b.data()));
      EXPECT_TRUE(c.ok()) << c.describe(got, want);
    }
  }
}

TEST(NaiveStreamLoop, RefusesSamePaddingAndOtherActivations) {
  const SuiteShape same =
      parse_suite("name,N,L,Cin,F,K,s,d,g,pad\nx,1,9,2,3,3,1,1,1,same\n", "t")[0];
  const std::vector<float> w(static_cast<std::size_t>(same.kernel_elems())), b(3);
  try {
    NaiveStreamLoop loop(same, Activation::kLinear, w.data(), b.data());
    ADD_FAILURE() << "same padding accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.argument(), "padding");
  }
  SuiteShape causal = same;
  causal.padding = Padding::kCausal;
  try {
    NaiveStreamLoop loop(causal, Activation::kGelu, w.data(), b.data());
    ADD_FAILURE() << "gelu accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.argument(), "activation");
  }
}

TEST(OnednnRunner, RunOnAnotherInputMatchesTheReference) {
#ifdef CONVJIT_REQUIRE_ONEDNN
  if (!onednn_available()) FAIL() << "CONVJIT_REQUIRE_ONEDNN, but: " << onednn_description();
#else
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN: " << onednn_description();
#endif
  onednn_set_threads(1);
  const SuiteShape s =
      parse_suite("name,N,L,Cin,F,K,s,d,g,pad\nwin,1,9,8,16,2,1,8,1,valid\n", "t")[0];
  const auto first = uniform(s.input_elems(), 1), second = uniform(s.input_elems(), 2);
  const auto w = uniform(s.kernel_elems(), 3), b = uniform(s.filters, 4);
  const detail::Problem p = detail::make_problem(s.spec(), s.input_shape());
  std::vector<float> want(static_cast<std::size_t>(p.output_size()));
  detail::reference_conv1d(p, second.data(), w.data(), b.data(), want.data());
  for (const OnednnFormulation f : {OnednnFormulation::k1dNwc, OnednnFormulation::k1dAny}) {
    SCOPED_TRACE(onednn_formulation_name(f));
    OnednnRunner r(s, Activation::kLinear, f, first.data(), w.data(), b.data());
    r.run_on(second.data());
    const std::vector<float> got = r.output();
    const CheckResult c =
        compare_outputs(got, want, acc_scale(s, second.data(), w.data(), b.data()));
    EXPECT_TRUE(c.ok()) << c.describe(got, want);
  }
}

TEST(StreamBench, ShapesAreIssue17s) {
  const auto shapes = stream_bench_shapes();
  ASSERT_EQ(shapes.size(), 5u);
  const SuiteShape& mamba = shapes[2].layer;
  EXPECT_EQ(mamba.name, "mamba_dw");
  EXPECT_EQ(mamba.groups, 1536);
  EXPECT_EQ(mamba.filters, 1536);
  EXPECT_EQ(shapes[2].activation, Activation::kSilu);
  EXPECT_EQ(shapes[1].layer.dilation, 256);
  EXPECT_EQ(shapes[4].layer.stride, 5);
  EXPECT_EQ(shapes[4].layer.padding, Padding::kValid);
}

TEST(StreamBench, TableAndJsonOfAReport) {
  StreamBenchReport report;
  report.date = "2026-12-06T00:00:00";
  report.cpu = "test cpu";
  StreamBenchRow row;
  row.name = "wavenet_d1";
  row.shape = stream_bench_shapes()[0];
  row.step1_us = 0.5;
  row.window_onednn_us = NAN;  // no oneDNN: null in JSON, "-" in the table
  row.check_ok = false;
  row.check = "MISMATCH: loop";
  report.rows.push_back(row);
  const std::string table = format_stream_table(report);
  EXPECT_NE(table.find("wavenet_d1"), std::string::npos) << table;
  EXPECT_NE(table.find("!!! CHECK FAILED"), std::string::npos) << table;
  const auto json = nlohmann::json::parse(stream_report_to_json(report));
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["name"], "wavenet_d1");
  EXPECT_EQ(json[0]["step1_us"], 0.5);
  EXPECT_TRUE(json[0]["window_onednn_us"].is_null());
  EXPECT_EQ(json[0]["check_ok"], false);
  EXPECT_EQ(json[0]["shape"]["d"], 1);
  EXPECT_EQ(report.all_checks_ok(), false);
}

TEST(StreamBench, UnknownShapeIsRefusedBeforeMeasuring) {
  StreamBenchOptions o;
  o.shape = "nope";
  try {
    (void)run_stream_bench(o, nullptr);
    ADD_FAILURE() << "unknown shape accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.argument(), "shape");
    EXPECT_NE(std::string(e.what()).find("mamba_dw"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace convjit::harness
