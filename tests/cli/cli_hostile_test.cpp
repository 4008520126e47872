// The convjit tool given hostile input: case files, sizes, schedules, names, failing reads and
// writes. Every reproduction of issue 18 ends in a clear one-line error and a non-zero exit
// status: no signal, no hang, no silent exit 0.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"

namespace convjit::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kCli = CONVJIT_CLI_PATH;
const std::string kCases = std::string(CONVJIT_SHARED_DIR) + "/conformance/cases.jsonl";

/// A directory of its own under /tmp, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/convjit_cli_hostile_XXXXXX";
    if (mkdtemp(name) != nullptr) path_ = name;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// The first golden case (FORMAT.md's example: input_shape [2, 7, 1]).
json first_case() {
  std::ifstream in(kCases);
  std::string line;
  std::getline(in, line);
  return json::parse(line);
}

void expect_failed(const Result& r, const std::string& substring) {
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, -1) << "killed by a signal: " << r.output;
  EXPECT_NE(r.output.find(substring), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}

TEST(CliHostile, ConformanceReportsEachBadRecordAsAFailedCaseWithItsLine) {
  TempDir dir;
  const json good = first_case();
  ASSERT_EQ(good.at("input_shape"), json({2, 7, 1}));
  std::vector<std::string> lines;
  json c = good;
  c["input"] = {0.5, 0.5, 0.5};  // 3 values for [2, 7, 1]: was read past its end
  lines.push_back(c.dump());
  c = good;
  c["input_shape"] = {2, 50000000, 1};  // was a crash
  c["output_shape"] = {2, 49999999, 2};
  c["input"] = json::array();
  lines.push_back(c.dump());
  c = good;
  c["input_shape"] = {2, 7.9, 1};  // was truncated to 7
  lines.push_back(c.dump());
  const int n = 100000;  // a deeply nested spec: was a crash in dump()
  lines.push_back(R"({"kind":"forward","id":"deep","spec":)" + std::string(n, '[') +
                  std::string(n, ']') + "}");
  lines.push_back(good.dump());
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  const std::string path = dir.file("hostile.jsonl");
  write_file(path, text);
  const Result r = run_cli("conformance --engine reference " + path);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("1 passed, 4 failed"), std::string::npos) << r.output;
  for (const char* want :
       {"`input` holds 3 values, but input_shape [2, 7, 1] needs 14", "(line 1)",
        "`input` holds 0 values, but input_shape [2, 50000000, 1] needs 100000000", "(line 2)",
        "`input_shape` must be 3 integers. Received: [2,7.9,1]", "(line 3)",
        "nesting deeper than 64 levels", "(line 4)"}) {
    EXPECT_NE(r.output.find(want), std::string::npos) << want << " in:\n" << r.output;
  }
}

TEST(CliHostile, ConformanceReadErrorsAreErrorsNotTheEndOfTheFile) {
  // /dev/zero gave "0 passed, 0 failed" and exit 0; a read error counted as the end.
  expect_failed(run_cli("conformance /dev/zero"), "it is a character device, not a regular file");
  expect_failed(run_cli("conformance --engine reference /proc/self/mem"), "Input/output error");
  TempDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_failed(run_shell("timeout 60 " + kCli + " conformance " + fifo),
                "it is a FIFO, not a regular file");
}

TEST(CliHostile, ConformanceWriteErrorsReachTheExitStatus) {
  // --results to a full disk, or past a file-size limit (SIGXFSZ ignored, as a Python parent
  // leaves it): the results were truncated and the exit status 0.
  expect_failed(run_cli("conformance --engine reference " + kCases + " --results /dev/full"),
                "cannot write results file /dev/full: No space left on device");
  TempDir dir;
  const std::string results = dir.file("results.jsonl");
  expect_failed(run_shell("trap '' XFSZ; ulimit -f 64; exec " + kCli +
                          " conformance --engine reference " + kCases + " --results " + results),
                "cannot write results file " + results + ": File too large");
  // The summary itself on a full disk.
  const Result r =
      run_shell("(" + kCli + " conformance --engine reference " + kCases + " > /dev/full)");
  expect_failed(r, "cannot write the output");
}

TEST(CliHostile, RunAndTuneCheckSizesBeforeAllocating) {
  struct Case {
    std::string args, substring;
  };
  const std::vector<Case> cases = {
      // Filled 3.2 GB for 15 s before this error.
      {"run filters=1,kernel_size=1 --input 1,2,268435456", "one input row of C floats"},
      // Ended in internal error: std::bad_alloc or "cannot create std::vector larger than
      // max_size()".
      {"run filters=2147483647,kernel_size=1 --input 1,10,1",
       "a register tile of output rows of F floats"},
      {"run filters=1,kernel_size=2147483647,padding=same --input 1,10,1", "the receptive field"},
      {"run filters=1,kernel_size=1 --input 2147483648,2147483648,1",
       "larger than any buffer can be"},
      // Beyond the memory of any machine (terabytes), so the refusal does not depend on it.
      {"run filters=2147483647,kernel_size=1 --input 1,1000,1 --engine reference",
       "bytes of memory of this machine"},
      {"tune filters=4096,kernel_size=3 --input 1,?,32 --length 1073741824",
       "bytes of memory of this machine"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    const auto t0 = std::chrono::steady_clock::now();
    const Result r = run_cli(c.args);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_EQ(r.status, 1) << r.output;
    expect_failed(r, c.substring);
  }
}

TEST(CliHostile, ScheduleKeysGivenTwiceAreRefusedEverywhere) {
  // asm refused it; run --schedule (and compile()) took the last one.
  const std::string spec = "filters=8,kernel_size=3 --input 1,20,4";
  for (const std::string& args :
       {"asm " + spec + " --schedule-text 'isa=avx2 tile_t=2 tile_t=3'",
        "run " + spec + " --schedule 'isa=avx2 tile_t=2 tile_t=3'",
        "run " + spec + " --schedule 'tile_t=2 tile_t=3' --engine interpreter",
        "aot " + spec + " --schedule 'tile_t=2 tile_t=3' -o /tmp/convjit_never_written"}) {
    SCOPED_TRACE(args);
    const Result r = run_cli(args);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("Schedule key tile_t given twice"), std::string::npos) << r.output;
  }
}

TEST(CliHostile, HugeTileReportsItsAccumulatorsWithoutOverflow) {
  // 1000000000 x 4 accumulators wrapped to -294967296 in 32 bits.
  const Result r = run_cli(
      "run filters=32,kernel_size=3 --input 1,20,4 "
      "--schedule 'isa=avx2 tile_t=1000000000 tile_oc_vecs=4'");
  expect_failed(r, "needs 4000000005 vector registers (4000000000 accumulators");
  EXPECT_EQ(r.output.find("-294967296"), std::string::npos) << r.output;
}

TEST(CliHostile, AotNamesMustBeCIdentifiersThatAreNotKeywords) {
  TempDir dir;
  for (const std::string& args :
       {"--name int -o " + dir.file("k"), "--name while -o " + dir.file("k"),
        "--name class -o " + dir.file("k"), "-o " + dir.file("int"),
        "--name 2x -o " + dir.file("k"), "--name a-b -o " + dir.file("k")}) {
    SCOPED_TRACE(args);
    const Result r = run_cli("aot filters=4,kernel_size=3 --input 1,16,2 " + args);
    expect_failed(r, "must be a C identifier");
    EXPECT_FALSE(fs::exists(dir.file("k.h")));
    EXPECT_FALSE(fs::exists(dir.file("int.h")));
  }
  const Result ok =
      run_cli("aot filters=4,kernel_size=3 --input 1,16,2 --name int_kernel -o " + dir.file("k"));
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_TRUE(fs::exists(dir.file("k.h")));
}

}  // namespace
}  // namespace convjit::test
