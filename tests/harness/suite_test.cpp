// The suite reader: the real suite, derived columns, malformed files, shrinking.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "convjit/error.hpp"
#include "harness/suite.hpp"

namespace convjit::harness {
namespace {

const std::string kHeader = "name,N,L,Cin,F,K,s,d,g,pad,padL,padR,Lout,flops,min_bytes,origin\n";

// The message of the Error `text` raises as a suite, and its code.
std::pair<ErrorCode, std::string> parse_error(const std::string& text) {
  try {
    parse_suite(text, "t.csv");
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return {ErrorCode::kInvalidValue, ""};
}

TEST(Suite, ReadsTheSharedSuite) {
  const auto suite = read_suite(std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv");
  ASSERT_EQ(suite.size(), 11u);
  const char* names[] = {"w2v2_l0", "w2v2_l1",      "wavenet_d1", "wavenet_d256",
                         "tcn",     "conformer_dw", "mamba_dw",   "pointwise",
                         "small",   "kws",          "grouped"};
  for (std::size_t i = 0; i < suite.size(); ++i) EXPECT_EQ(suite[i].name, names[i]);

  const SuiteShape& w = suite[static_cast<std::size_t>(find_shape(suite, "wavenet_d256"))];
  EXPECT_EQ(w.padding, Padding::kCausal);
  EXPECT_EQ(w.dilation, 256);
  EXPECT_EQ(w.pad_left, 256);
  EXPECT_EQ(w.pad_right, 0);
  EXPECT_EQ(w.out_length, 16000);
  EXPECT_EQ(w.origin, "WaveNet dilated causal (gated 2x64) d=256");

  const SuiteShape& l0 = suite[0];
  EXPECT_EQ(l0.out_length, 3199);  // (16000 - 10) / 5 + 1
  EXPECT_DOUBLE_EQ(l0.flops, 32757760.0);
  EXPECT_DOUBLE_EQ(l0.min_bytes, 6638080.0);

  const SuiteShape& c = suite[static_cast<std::size_t>(find_shape(suite, "conformer_dw"))];
  EXPECT_EQ(c.groups, 256);
  EXPECT_EQ(c.pad_left, 15);
  EXPECT_EQ(c.pad_right, 15);
  EXPECT_EQ(c.kernel_elems(), 31 * 1 * 256);

  const Conv1DSpec spec = c.spec(Activation::kRelu);
  EXPECT_EQ(spec.filters, 256);
  EXPECT_EQ(spec.kernel_size, 31);
  EXPECT_EQ(spec.groups, 256);
  EXPECT_EQ(spec.padding, Padding::kSame);
  EXPECT_EQ(spec.activation, Activation::kRelu);
  EXPECT_TRUE(spec.use_bias);
  EXPECT_EQ(find_shape(suite, "nope"), -1);
}

TEST(Suite, DerivesColumnsWhenAbsentAndJoinsCommasInOrigin) {
  const auto suite = parse_suite(
      "name,N,L,Cin,F,K,s,d,g,pad,origin\n"
      "a,2,10,4,6,3,2,1,2,SAME,one, two\n"
      "\n"
      "# a comment\n"
      "b,1,9,3,5,4,1,2,1,valid,x\n",
      "t.csv");
  ASSERT_EQ(suite.size(), 2u);
  // same, L=10, s=2, K=3: total = (5-1)*2 + 3 - 10 = 1 -> left 0, right 1.
  EXPECT_EQ(suite[0].pad_left, 0);
  EXPECT_EQ(suite[0].pad_right, 1);
  EXPECT_EQ(suite[0].out_length, 5);
  EXPECT_DOUBLE_EQ(suite[0].flops, 2.0 * 2 * 5 * 6 * (4 / 2) * 3);
  EXPECT_EQ(suite[0].origin, "one, two");
  // valid, L=9, K=4, d=2: field 7 -> Lout 3.
  EXPECT_EQ(suite[1].out_length, 3);
  EXPECT_DOUBLE_EQ(suite[1].min_bytes, 4.0 * (9 * 3 + 4 * 3 * 5 + 5 + 3 * 5));
}

TEST(Suite, RejectsMalformedFiles) {
  struct Case {
    std::string text, substring;
  };
  const Case cases[] = {
      {"name,N,L,Cin,F,K,s,d,g\nx,1,8,1,1,1,1,1,1\n", "no column 'pad'"},
      {kHeader + "x,1,8,1,1,1,1,1,1,valid,0,0,8\n", "fields where the header has"},
      {kHeader + "x,1,8,2,2,3,1,1,1,same,0,1,8,192,0,o\n", "column padL of 'x' is 0"},
      {kHeader + "x,1,8,2,2,3,1,1,1,same,1,1,7,96,0,o\n", "column Lout of 'x' is 7"},
      {kHeader + "x,1,8,2,2,3,1,1,1,same,1,1,8,95,0,o\n", "column flops of 'x' is 95"},
      {kHeader + "x,1,8,3,2,3,1,1,2,same,1,1,8,192,0,o\n", "is not a valid Conv1D"},
      {kHeader + "x,1,8,2,2,3,2,2,1,same,1,1,8,192,0,o\n", "is not a valid Conv1D"},
      {kHeader + "x,1,2,2,2,3,1,1,1,valid,0,0,0,0,0,o\n", "is not a valid Conv1D"},
      {kHeader + "x,1,8,2,2,3,1,1,1,full,1,1,8,192,0,o\n", "'full' is not valid, same or causal"},
      {kHeader + "x,1,8,2,two,3,1,1,1,same,1,1,8,192,0,o\n", "column F: 'two' is not an integer"},
      {kHeader + "x,0,8,2,2,3,1,1,1,same,1,1,8,0,0,o\n", "N=0 and L=8 must be >= 1"},
      {kHeader + "x,1,8,2,2,3,1,1,1,same,1,1,8,192,0,o\nx,1,8,2,2,3,1,1,1,same,1,1,8,192,0,o\n",
       "appears twice"},
      {"", "no header line"},
  };
  for (const auto& c : cases) {
    const auto [code, message] = parse_error(c.text);
    EXPECT_EQ(code, ErrorCode::kParseError) << c.text;
    EXPECT_NE(message.find(c.substring), std::string::npos) << message;
    if (!c.text.empty()) {
      EXPECT_NE(message.find("t.csv:"), std::string::npos) << message;
    }
  }
}

TEST(Suite, MissingFileIsAnIoError) {
  try {
    read_suite("/nonexistent/suite.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIoError);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/suite.csv"), std::string::npos);
  }
}

TEST(Suite, ShrinkKeepsTheLayerAndFitsTheBudget) {
  const auto suite = read_suite(std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv");
  for (const SuiteShape& s : suite) {
    const SuiteShape r = shrink_to_flops(s, 4e6);
    SCOPED_TRACE(s.name);
    EXPECT_EQ(r.name, s.name);
    EXPECT_EQ(r.in_channels, s.in_channels);
    EXPECT_EQ(r.filters, s.filters);
    EXPECT_EQ(r.kernel, s.kernel);
    EXPECT_EQ(r.dilation, s.dilation);
    if (s.flops <= 4e6) {
      EXPECT_EQ(r.batch, s.batch);
      EXPECT_EQ(r.length, s.length);
      continue;
    }
    EXPECT_EQ(r.batch, 1);
    EXPECT_LE(r.length, s.length);
    EXPECT_GE(r.out_length, 8);
    // At most the budget, unless 8 output steps already exceed it.
    const double per_step = 2.0 * r.filters * (r.in_channels / r.groups) * r.kernel;
    EXPECT_LE(r.flops, std::max(4e6, 8 * per_step) + per_step * r.stride);
    EXPECT_DOUBLE_EQ(r.flops, conv_flops(r));
    // Pads and Lout follow Keras's rules for the new length.
    const Conv1DSpec spec = r.spec();
    EXPECT_EQ(r.out_length, output_length(spec, r.length));
    EXPECT_EQ(r.pad_left, padding_amounts(spec, r.length)[0]);
    EXPECT_EQ(r.pad_right, padding_amounts(spec, r.length)[1]);
  }
}

TEST(Suite, ResizeRecomputesSamePadding) {
  const auto suite = parse_suite("name,N,L,Cin,F,K,s,d,g,pad\nx,1,10,2,2,4,3,1,1,same\n", "t");
  const SuiteShape r = resize(suite[0], 3, 11);
  // same, L=11, s=3, K=4: Lout = 4, total = 3*3 + 4 - 11 = 2 -> 1, 1.
  EXPECT_EQ(r.batch, 3);
  EXPECT_EQ(r.out_length, 4);
  EXPECT_EQ(r.pad_left, 1);
  EXPECT_EQ(r.pad_right, 1);
  EXPECT_DOUBLE_EQ(r.flops, 2.0 * 3 * 4 * 2 * 2 * 4);
}

}  // namespace
}  // namespace convjit::harness
