// `convjit stream`: its contract lines, exit statuses and argument errors, run as a user
// does; and its comparison (tools/stream_check.cpp) on outputs made to differ.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include "cli/run_cli.hpp"
#include "tools/stream_check.hpp"

namespace {

using convjit::test::Result;
using convjit::test::run_cli;

/// Occurrences of `line` as a whole line of `text`.
int count_lines(const std::string& text, const std::string& line) {
  int count = 0;
  std::size_t at = 0;
  while ((at = text.find(line + "\n", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') ++count;
    at += line.size();
  }
  return count;
}

/// The output of a run whose streams matched: the two contract lines first, exactly, then the
/// kernel line.
void expect_identical_run(const Result& r, std::int64_t chunk, std::int64_t streams,
                          const std::string& what) {
  EXPECT_EQ(r.status, 0) << what << "\n" << r.output;
  EXPECT_EQ(count_lines(r.output, "bit-identical: yes"), 1) << what << "\n" << r.output;
  const std::regex contract("^bit-identical: yes\nstep: [0-9]+\\.[0-9]{3} us \\(chunk " +
                            std::to_string(chunk) + ", streams " + std::to_string(streams) +
                            "\\)\nkernel: [^\n]*, history [0-9]+ rows, delay [0-9]+\n");
  EXPECT_TRUE(std::regex_search(r.output, contract)) << what << "\n" << r.output;
}

struct PaddingCase {
  const char* name;
  const char* spec;
};

void PrintTo(const PaddingCase& c, std::ostream* os) {
  *os << c.name << ": " << c.spec;
}

class StreamCliPadding : public ::testing::TestWithParam<PaddingCase> {};

// Chunks of 1 and 7 rows (the last one shorter: 23 = 3 * 7 + 2), and one chunk longer than
// the sequence, for 3 streams batched in each step.
TEST_P(StreamCliPadding, EveryChunkingIsBitIdentical) {
  for (const std::int64_t chunk : {1, 7, 40}) {
    const std::string args = std::string("stream ") + GetParam().spec + " --input 3,23,5 --chunk " +
                             std::to_string(chunk) + " --seed 5";
    // A chunk above L makes one step of L rows, and that is what is timed.
    expect_identical_run(run_cli(args), std::min<std::int64_t>(chunk, 23), 3, args);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paddings, StreamCliPadding,
    ::testing::Values(
        PaddingCase{"valid", "filters=6,kernel_size=3,dilation_rate=2,padding=valid"},
        PaddingCase{"same", "filters=6,kernel_size=4,padding=same,activation=relu"},
        PaddingCase{"causal", "filters=6,kernel_size=3,dilation_rate=3,padding=causal"},
        PaddingCase{"same_strides2", "filters=6,kernel_size=3,strides=2,padding=same"}),
    [](const ::testing::TestParamInfo<PaddingCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(StreamCli, SameWithStridesTwoOnAnEvenLength) {
  // Keras's left padding of same with strides 2 depends on the length's parity.
  const Result r =
      run_cli("stream filters=4,kernel_size=4,strides=2,padding=same --input 2,24,3 --chunk 5");
  expect_identical_run(r, 5, 2, "even length");
}

TEST(StreamCli, DepthwiseSiluAndGlu) {
  expect_identical_run(
      run_cli("stream filters=8,kernel_size=4,groups=8,padding=causal,activation=silu "
              "--input 4,30,8"),
      1, 4, "depthwise");
  expect_identical_run(
      run_cli("stream filters=8,kernel_size=4,groups=8,padding=causal,activation=silu "
              "--input 4,30,8 --chunk 7"),
      7, 4, "depthwise chunk 7");
  expect_identical_run(
      run_cli("stream filters=6,kernel_size=3,padding=same,activation=glu --input 2,30,4 "
              "--chunk 7"),
      7, 2, "glu");
}

TEST(StreamCli, IsaBackendAndThreads) {
  expect_identical_run(
      run_cli("stream filters=16,kernel_size=3,padding=causal --input 2,50,8 --chunk 7 "
              "--isa avx2 --threads 2"),
      7, 2, "avx2, 2 threads");
  expect_identical_run(
      run_cli("stream filters=16,kernel_size=3,padding=same --input 2,50,8 --chunk 7 "
              "--backend llvm"),
      7, 2, "llvm");
}

TEST(StreamCli, HeaderNamesKernelHistoryAndDelay) {
  // same, K5 d2: history (5 - 1) * 2 = 8 rows, delay 8 - 4 (the left padding) = 4.
  const Result r = run_cli(
      "stream filters=4,kernel_size=5,dilation_rate=2,padding=same --input 1,40,3 --isa avx2 "
      "--backend xbyak");
  expect_identical_run(r, 1, 1, "header");
  EXPECT_NE(r.output.find(", isa avx2, backend xbyak, threads 1, history 8 rows, delay 4\n"),
            std::string::npos)
      << r.output;
}

TEST(StreamCli, ChannelsFirstStreamsWithInputInItsOrder) {
  // --input N,C,L: 2 streams of 3 channels, length 30, in chunks of 4.
  const Result r = run_cli(
      "stream filters=5,kernel_size=3,dilation_rate=2,padding=same,data_format=channels_first "
      "--input 2,3,30 --chunk 4");
  expect_identical_run(r, 4, 2, "channels_first");
}

TEST(StreamCli, ActivationOverTimeExitsOneNamingIt) {
  // channels_first softmax normalizes over time: every output needs the whole sequence.
  const Result r = run_cli(
      "stream filters=4,kernel_size=3,data_format=channels_first,activation=softmax --input "
      "1,3,10");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("activation"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("bit-identical"), std::string::npos) << r.output;
}

TEST(StreamCli, KerasRejectedSpecOrShapeExitsOne) {
  const Result strided = run_cli(
      "stream filters=4,kernel_size=3,strides=2,dilation_rate=2 "
      "--input 1,20,2");
  EXPECT_EQ(strided.status, 1) << strided.output;
  EXPECT_NE(strided.output.find("dilation_rate"), std::string::npos) << strided.output;
  const Result groups = run_cli("stream filters=6,kernel_size=3,groups=3 --input 1,10,4");
  EXPECT_EQ(groups.status, 1) << groups.output;
  EXPECT_NE(groups.output.find("groups=3"), std::string::npos) << groups.output;
}

TEST(StreamCli, BadArgumentsExitTwoNamingThem) {
  const std::string spec = "stream filters=4,kernel_size=3 ";
  const std::pair<std::string, std::string> cases[] = {
      {"--input 1,10,3 --chunk 0", "--chunk"},
      {"--input 1,10,3 --chunk -3", "--chunk"},
      {"--input 1,10,3 --chunk x", "--chunk"},
      {"--input 1,10", "--input"},
      {"--input 1,x,3", "--input"},
      {"--input 0,10,3", "--input"},
      {"--input '1,?,3'", "--input"},
      {"--input 1,10,3 --isa sse9", "--isa"},
      {"--input 1,10,3 --backend nope", "--backend"},
      {"--input 1,10,3 --threads 0", "--threads"},
      {"--input 1,10,3 --seed x", "--seed"},
      {"", "--input"},
  };
  for (const auto& [args, named] : cases) {
    const Result r = run_cli(spec + args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(named), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("bit-identical"), std::string::npos) << args << "\n" << r.output;
  }
  const Result chunk = run_cli(spec + "--input 1,10,3 --chunk 0");
  EXPECT_NE(chunk.output.find("must be >= 1"), std::string::npos) << chunk.output;
  EXPECT_NE(chunk.output.find("Received: 0"), std::string::npos) << chunk.output;
  const Result malformed = run_cli("stream filters=4,kernel_size= --input 1,10,3");
  EXPECT_EQ(malformed.status, 2) << malformed.output;
  EXPECT_NE(malformed.output.find("kernel_size"), std::string::npos) << malformed.output;
}

TEST(StreamCli, HelpListsTheCommandAndItsOptions) {
  const Result all = run_cli("--help");
  EXPECT_EQ(all.status, 0);
  EXPECT_NE(all.output.find("stream"), std::string::npos) << all.output;
  const Result r = run_cli("stream --help");
  EXPECT_EQ(r.status, 0);
  for (const char* option : {"--input", "--chunk", "--isa", "--backend", "--threads", "--seed"}) {
    EXPECT_NE(r.output.find(option), std::string::npos) << option << "\n" << r.output;
  }
}

// ---- the comparison and the lines, on outputs made to differ ----

using convjit::tool::bit_identical_line;
using convjit::tool::first_stream_difference;
using convjit::tool::step_line;
using convjit::tool::StreamedRows;

// Two streams of 3 rows of 4 channels, and the whole output they should equal.
struct Outputs {
  std::vector<float> whole = std::vector<float>(2 * 3 * 4);
  StreamedRows streamed;
  Outputs() {
    for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = 0.25f * static_cast<float>(i);
    streamed = {{whole.begin(), whole.begin() + 12}, {whole.begin() + 12, whole.end()}};
  }
};

TEST(StreamCheck, EqualBitsAreIdentical) {
  const Outputs o;
  const auto difference = first_stream_difference(o.streamed, o.whole, 3, 4);
  EXPECT_FALSE(difference.has_value());
  EXPECT_EQ(bit_identical_line(difference), "bit-identical: yes");
}

TEST(StreamCheck, FirstDifferenceIsStreamThenRowThenChannel) {
  Outputs o;
  o.streamed[1][2 * 4 + 1] += 1.0f;  // n=1, t=2, c=1
  o.streamed[1][1 * 4 + 3] += 1.0f;  // n=1, t=1, c=3: earlier
  const auto difference = first_stream_difference(o.streamed, o.whole, 3, 4);
  ASSERT_TRUE(difference.has_value());
  EXPECT_EQ(bit_identical_line(difference),
            "bit-identical: no (first difference at n=1, t=1, c=3)");
}

TEST(StreamCheck, SignOfZeroIsADifference) {
  Outputs o;
  o.whole[0] = 0.0f;
  o.streamed[0][0] = -0.0f;
  EXPECT_EQ(bit_identical_line(first_stream_difference(o.streamed, o.whole, 3, 4)),
            "bit-identical: no (first difference at n=0, t=0, c=0)");
}

TEST(StreamCheck, MissingOrExtraRowsDiffer) {
  Outputs missing;
  missing.streamed[0].resize(2 * 4);  // stream 0 wrote 2 of 3 rows
  const auto short_stream = first_stream_difference(missing.streamed, missing.whole, 3, 4);
  ASSERT_TRUE(short_stream.has_value());
  EXPECT_EQ(bit_identical_line(short_stream),
            "bit-identical: no (first difference at n=0, t=2, c=0)");
  EXPECT_NE(short_stream->detail.find("wrote 2 outputs"), std::string::npos)
      << short_stream->detail;
  Outputs extra;
  extra.streamed[1].insert(extra.streamed[1].end(), 4, 1.0f);
  EXPECT_EQ(bit_identical_line(first_stream_difference(extra.streamed, extra.whole, 3, 4)),
            "bit-identical: no (first difference at n=1, t=3, c=0)");
}

TEST(StreamCheck, StepLine) {
  EXPECT_EQ(step_line(0.412e-6, 1, 64), "step: 0.412 us (chunk 1, streams 64)");
  EXPECT_EQ(step_line(1234.5678e-6, 256, 1), "step: 1234.568 us (chunk 256, streams 1)");
}

}  // namespace
