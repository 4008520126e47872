// `convjit tune` as a user runs it: it writes the database, resumes from it, and another
// process (this one, and `convjit tune --show` with CONVJIT_TUNING_DB) compiles the winner.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "convjit/jit.hpp"
#include "runtime/tuning_db.hpp"
#include "tune_test_util.hpp"

namespace convjit::detail {
namespace {

using test::read_text;
using test::TempFile;

struct Result {
  int status = -1;
  std::string out;  // stdout and stderr
};

Result run_cli(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + std::string(CONVJIT_CLI_PATH) + " " + args + " 2>&1";
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

constexpr const char* kSpec = "filters=16,kernel_size=3,padding=causal";
const Shape3 kShape{1, 64, 8};

double number_after(const std::string& text, const std::string& label) {
  std::smatch m;
  const std::regex re(label + R"(\s+([0-9.]+))");
  if (!std::regex_search(text, m, re)) return -1.0;
  return std::stod(m[1].str());
}

TEST(TuneCli, TunesResumesAndAFreshProcessCompilesTheWinner) {
  TempFile db("cli");
  const std::string args = std::string("tune ") + kSpec +
                           " --input 1,64,8 --isa avx2 --budget 3 --max-candidates 8 --db " +
                           db.path();
  const Result first = run_cli(args);
  ASSERT_EQ(first.status, 0) << first.out;
  // The report: both rows with GFLOP/s and % of peak, and tuned >= heuristic.
  EXPECT_NE(first.out.find("8 measured, 0 resumed, 0 failed"), std::string::npos) << first.out;
  const double heur_us = number_after(first.out, "heuristic");
  const double tuned_us = number_after(first.out, "tuned");
  ASSERT_GT(heur_us, 0.0) << first.out;
  ASSERT_GT(tuned_us, 0.0) << first.out;
  EXPECT_LE(tuned_us, heur_us) << first.out;
  EXPECT_GE(number_after(first.out, "gain"), 1.0) << first.out;
  EXPECT_NE(first.out.find("% of peak"), std::string::npos) << first.out;

  // Every measurement is a checked record of this key, plus the final head-to-head.
  const std::string text1 = read_text(db.path());
  const TuningDb db1 = TuningDb::load(db.path());
  EXPECT_TRUE(db1.report().clean()) << db1.describe_problems();
  const TuningKey key = make_tuning_key(parse_spec(kSpec), kShape, 1);
  const auto records = db1.find(key);
  ASSERT_GE(records.size(), 9u);
  int finals = 0, defaults = 0;
  for (const TuningRecord* r : records) {
    EXPECT_TRUE(r->checked) << r->check;
    EXPECT_GT(r->time_us, 0.0);
    EXPECT_EQ(r->isa, "avx2");
    finals += r->final ? 1 : 0;
    defaults += r->is_default ? 1 : 0;
  }
  EXPECT_GE(finals, 1);
  EXPECT_GE(defaults, 2);  // measured once as a candidate, once in the final head-to-head
  const TuningRecord* best = db1.best(key, "avx2", "xbyak");
  ASSERT_NE(best, nullptr);

  // This process is a fresh reader: it compiles the database's best schedule.
  Jit jit;
  CompileOptions o;
  o.isa = Isa::kAvx2;
  o.threads = 1;
  o.tuning_db = db.path();
  EXPECT_EQ(jit.compile(parse_spec(kSpec), kShape, o).schedule_text(), best->schedule);
  // And so does a fresh `convjit` process that only has CONVJIT_TUNING_DB.
  const Result show = run_cli(std::string("tune ") + kSpec + " --input 1,64,8 --show",
                              "CONVJIT_ISA=avx2 CONVJIT_TUNING_DB=" + db.path());
  ASSERT_EQ(show.status, 0) << show.out;
  EXPECT_NE(show.out.find(best->schedule), std::string::npos)
      << show.out << "\nwant " << best->schedule;

  // Resume: the second run skips what the first measured and only appends.
  const Result second = run_cli(args);
  ASSERT_EQ(second.status, 0) << second.out;
  EXPECT_NE(second.out.find("(resumed)"), std::string::npos) << second.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(second.out, m, std::regex(R"((\d+) measured, (\d+) resumed)")))
      << second.out;
  EXPECT_GE(std::stoi(m[2].str()), 8) << second.out;
  const std::string text2 = read_text(db.path());
  EXPECT_EQ(text2.substr(0, text1.size()), text1);
  EXPECT_GT(text2.size(), text1.size());
}

TEST(TuneCli, ReportsADamagedDatabaseOnceAndKeepsGoing) {
  TempFile db("cli_damaged");
  test::write_text(db.path(), "this is not json\n{\"format\":\"convjit-tuning-1\",\"vers");
  const Result r =
      run_cli(std::string("tune ") + kSpec +
              " --input 1,64,8 --isa avx2 --budget 1 --max-candidates 2 --db " + db.path());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 corrupt or truncated line(s)"), std::string::npos) << r.out;
  const std::string report = "tuning database " + db.path() + ": ";
  EXPECT_NE(r.out.find(report), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(report), r.out.rfind(report)) << "reported twice:\n" << r.out;
  const TuningDb after = TuningDb::load(db.path());
  EXPECT_EQ(after.report().corrupt, 2u);
  EXPECT_GE(after.records().size(), 3u);  // appended after the truncated line, not merged
}

TEST(TuneCli, BadArguments) {
  EXPECT_EQ(run_cli("tune --budget 1").status, 2);
  EXPECT_EQ(run_cli(std::string("tune ") + kSpec + " --shape small --input 1,64,8").status, 2);
  const Result unknown = run_cli("tune --shape no_such_shape");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.out.find("wavenet_d1"), std::string::npos) << unknown.out;
}

}  // namespace
}  // namespace convjit::detail
