// The convjit tool as a user meets it: exit statuses, one-line errors, help text.
#include <gtest/gtest.h>

#include <string>

#include "cli/run_cli.hpp"

namespace {

using convjit::test::Result;
using convjit::test::run_cli;

const std::string kShared = CONVJIT_SHARED_DIR;

TEST(Cli, HelpListsEveryCommand) {
  const Result r = run_cli("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* cmd : {"demo", "run", "conformance"}) {
    EXPECT_NE(r.output.find(cmd), std::string::npos) << cmd << " missing from:\n" << r.output;
  }
}

TEST(Cli, CommandHelpExplainsOptions) {
  const Result r = run_cli("run --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("--input"), std::string::npos);
  EXPECT_NE(r.output.find("--engine"), std::string::npos);
  EXPECT_NE(r.output.find("--seed"), std::string::npos);
}

TEST(Cli, RunChecksAgainstTheReference) {
  const Result r = run_cli(
      "run filters=4,kernel_size=3,padding=causal,activation=relu "
      "--input 2,17,3 --engine reference --seed 7");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("output shape: [2, 17, 4]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("reference:    match"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GFLOP/s"), std::string::npos) << r.output;
}

TEST(Cli, RunAcceptsGetConfigJson) {
  const Result r = run_cli(
      "run '{\"filters\": 2, \"kernel_size\": [3], \"strides\": [2], \"padding\": \"same\", "
      "\"data_format\": \"channels_first\"}' --input 1,3,9 --engine reference");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("output shape: [1, 2, 5]"), std::string::npos) << r.output;
}

TEST(Cli, KerasRejectedSpecExitsOneWithKerasMessage) {
  const Result r = run_cli("run filters=4,kernel_size=3,strides=2,dilation_rate=2 --input 1,20,2");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
            std::string::npos)
      << r.output;
}

TEST(Cli, GroupsNotDividingChannelsExitsOne) {
  const Result r = run_cli("run filters=6,kernel_size=3,groups=3 --input 1,10,4");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("groups=3"), std::string::npos) << r.output;
}

TEST(Cli, BadArgumentsExitTwoWithOneLineNamingThem) {
  for (const char* args :
       {"run filters=4,kernel_size=3 --input 1,2", "run filters=4,kernel_size=3 --input 1,x,3",
        "run filters=4,kernel_size=3 --input 1,10,3 --engine nope",
        "run filters=4,kernel_size=3 --input 1,10,3 --isa sse9", "frobnicate",
        "run filters=4,kernel_size=3"}) {
    const Result r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_FALSE(r.output.empty()) << args;
  }
  const Result r = run_cli("run filters=4,kernel_size=3 --input 1,x,3");
  EXPECT_NE(r.output.find("--input"), std::string::npos) << r.output;
}

TEST(Cli, ConformancePrintsCountsLastAndFailsOnAMissingFile) {
  const Result ok = run_cli("conformance --engine reference " + kShared +
                            "/conformance/shapes.jsonl " + kShared + "/conformance/invalid.jsonl");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("69 passed, 0 failed\n"), std::string::npos) << ok.output;
  const Result missing = run_cli("conformance /nonexistent/cases.jsonl");
  EXPECT_EQ(missing.status, 2) << missing.output;
}

TEST(Cli, ConformanceWritesCandidateResultsForCheckPy) {
  const std::string out = ::testing::TempDir() + "/convjit_results.jsonl";
  const Result r = run_cli("conformance --engine reference --results " + out + " " + kShared +
                           "/conformance/cases.jsonl " + kShared + "/conformance/shapes.jsonl " +
                           kShared + "/conformance/invalid.jsonl");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string check = "python3 " + kShared + "/conformance/check.py " + kShared +
                            "/conformance/cases.jsonl " + kShared + "/conformance/shapes.jsonl " +
                            kShared + "/conformance/invalid.jsonl --candidate " + out + " 2>&1";
  FILE* pipe = popen(check.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) text += buf.data();
  EXPECT_EQ(WEXITSTATUS(pclose(pipe)), 0) << text;
  EXPECT_NE(text.find(" 0 failed"), std::string::npos) << text;
}

/// The number N of "median of N calls" in a run or demo report, or -1.
long timed_calls(const std::string& output) {
  const std::string key = "(median of ";
  const std::size_t at = output.find(key);
  return at == std::string::npos ? -1 : std::stol(output.substr(at + key.size()));
}

TEST(Cli, DemoRunsAndMatchesTheReference) {
  const Result r = run_cli("demo");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("reference:    match"), std::string::npos) << r.output;
  // The kernel's time: a median of many calls on buffers made once, the first call apart.
  EXPECT_NE(r.output.find("\nfirst call:   "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\nkernel:       conv1d_"), std::string::npos) << r.output;
  EXPECT_GE(timed_calls(r.output), 50) << r.output;
}

TEST(Cli, RunTimesAtLeastRepeatsCalls) {
  const Result r = run_cli("run filters=8,kernel_size=3,padding=same --input 1,64,8 --repeats 300");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_GE(timed_calls(r.output), 300) << r.output;
  EXPECT_NE(r.output.find("\nfirst call:   "), std::string::npos) << r.output;
}

}  // namespace

namespace {

TEST(Cli, AsmPrintsAnnotatedAvx2AssemblyWithoutZmm) {
  const Result r = run_cli(
      "asm filters=32,kernel_size=3,padding=same,activation=gelu "
      "--input 1,?,32 --isa avx2");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("# schedule"), std::string::npos);
  EXPECT_NE(r.output.find("micro-kernel"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vfmadd231ps ymm"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("zmm"), std::string::npos) << "AVX2 code must not use zmm";
}

TEST(Cli, AsmShowsAvx512CodeEvenWhereTheCpuLacksIt) {
  const Result r = run_cli("asm filters=32,kernel_size=3 --input 1,64,32 --isa avx512 --asm");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("zmm"), std::string::npos) << r.output;
  // Each input broadcast once per tile row into a register, never folded into every FMA.
  EXPECT_NE(r.output.find("vbroadcastss zmm"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("{1to16}"), std::string::npos) << "no embedded-broadcast FMAs";
}

TEST(Cli, AsmIrAndScheduleSections) {
  const Result r =
      run_cli("asm filters=8,kernel_size=3,padding=causal --input 1,?,4 --ir --schedule");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("# IR before scheduling"), std::string::npos);
  EXPECT_NE(r.output.find("# IR after scheduling"), std::string::npos);
  EXPECT_NE(r.output.find("# why:"), std::string::npos);
  EXPECT_EQ(r.output.find("# assembly"), std::string::npos);
}

}  // namespace
