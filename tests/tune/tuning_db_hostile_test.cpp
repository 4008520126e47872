// A hostile tuning database: a deeply nested record, a device, a FIFO, a directory, a huge
// file. Reading it is bounded (runtime/input_file.hpp, compiler/spec/bounded_json.hpp); a bad
// line is reported once and skipped, an unusable file reported once and ignored, and no
// compile, from C++ or C, crashes, hangs or throws anything but convjit::Error.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "convjit/convjit.h"
#include "convjit/jit.hpp"
#include "runtime/tuning_db.hpp"
#include "tune_test_util.hpp"

namespace convjit::detail {
namespace {

using test::sample_record;
using test::sample_shape;
using test::sample_spec;
using test::TempFile;
using test::write_text;

/// A record whose `config` nests `depth` arrays: the line (depth 100,000, 200 KB).
std::string deeply_nested_record(int depth) {
  std::string line = record_to_json(sample_record("tile_t=2 tile_oc_vecs=1 block_t=0", 1));
  const std::string config = "\"config\":";
  const std::size_t at = line.find(config);
  const std::size_t end = line.find(",\"cpu\":", at);  // keys are written sorted
  EXPECT_NE(end, std::string::npos) << line;
  return line.substr(0, at + config.size()) + std::string(depth, '[') + std::string(depth, ']') +
         line.substr(end);
}

CompileOptions db_options(const std::string& db) {
  CompileOptions o;
  o.isa = Isa::kAvx2;
  o.threads = 1;
  o.tuning_db = db;
  return o;
}

/// Compiles sample_spec() with `db` through the C++ API and the C API; returns the C++
/// kernel's schedule text. Fails the test on any error or exception.
std::string compile_both_ways(const std::string& db) {
  std::string text;
  try {
    Jit jit;
    text = jit.compile(sample_spec(), sample_shape(), db_options(db)).schedule_text();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "C++ compile with tuning_db=" << db << " threw: " << e.what();
  }
  convjit_jit* jit = nullptr;
  EXPECT_EQ(convjit_jit_create(4, &jit), CONVJIT_OK);
  convjit_compile_options o{};
  o.isa = CONVJIT_ISA_AVX2;
  o.threads = 1;
  o.tuning_db = db.c_str();
  const int64_t shape[3] = {sample_shape()[0], sample_shape()[1], sample_shape()[2]};
  convjit_kernel* kernel = nullptr;
  EXPECT_EQ(convjit_compile(jit, "filters=8,kernel_size=3,padding=same", shape, &o, &kernel),
            CONVJIT_OK)
      << convjit_last_error();
  convjit_kernel_destroy(kernel);
  convjit_jit_destroy(jit);
  return text;
}

TEST(TuningDbHostile, DeeplyNestedRecordIsOneCorruptLineNotACrash) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA";
  TempFile f("deep");
  const std::string deep = deeply_nested_record(100000);
  EXPECT_GT(deep.size(), 200000u);
  const std::string tuned = "tile_t=2 tile_oc_vecs=1 unroll_ic=2 block_t=0 block_ic=0";
  write_text(f.path(), deep + "\n" + record_to_json(sample_record(tuned, 10)) + "\n" + deep + "\n");
  const TuningDb db = TuningDb::load(f.path());
  EXPECT_EQ(db.report().lines, 3u);
  EXPECT_EQ(db.report().corrupt, 2u);
  ASSERT_EQ(db.records().size(), 1u);  // the valid record is kept
  EXPECT_NE(db.report().first_problem.find("line 1"), std::string::npos);
  EXPECT_NE(db.report().first_problem.find("nesting deeper than 64"), std::string::npos)
      << db.report().first_problem;
  // Every compile, of this spec or another, from C++ and from C: no crash, and the valid
  // record is used; the bad lines are reported once.
  testing::internal::CaptureStderr();
  const std::string text = compile_both_ways(f.path());
  Jit jit;
  jit.compile(parse_spec("filters=3,kernel_size=5,activation=relu"), {2, 30, 6},
              db_options(f.path()));
  const std::string err = testing::internal::GetCapturedStderr();
  Schedule want = parse_schedule("isa=avx2 " + tuned);
  want.threads = 1;
  EXPECT_EQ(parse_schedule(text), want) << text;
  EXPECT_NE(err.find("2 corrupt"), std::string::npos) << err;
  EXPECT_EQ(err.find(f.path()), err.rfind(f.path())) << "reported more than once: " << err;
}

TEST(TuningDbHostile, RecordsNestedWithinTheLimitStillLoad) {
  // A config 64 levels deep is the most a record may nest (the record itself is one level).
  const std::string ok = deeply_nested_record(63);
  const std::string too_deep = deeply_nested_record(64);
  const TuningDb db = TuningDb::parse(ok + "\n" + too_deep + "\n", "mem");
  EXPECT_EQ(db.records().size(), 1u);
  EXPECT_EQ(db.report().corrupt, 1u);
  EXPECT_NE(db.report().first_problem.find("line 2"), std::string::npos)
      << db.report().first_problem;
}

TEST(TuningDbHostile, FloatsAndHugeNumbersInIntegerFieldsAreCorruptNotTruncated) {
  const std::string good = record_to_json(sample_record("tile_t=2", 5));
  std::vector<std::string> lines;
  for (const char* bad :
       {"\"channels\":4.9", "\"channels\":1e300", "\"channels\":-4", "\"threads\":1e300",
        "\"threads\":18446744073709551615", "\"batch\":7.9", "\"time_us\":\"fast\""}) {
    std::string line = good;
    const std::string key = std::string(bad).substr(0, std::string(bad).find(':') + 1);
    const std::size_t at = line.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    const std::size_t end = line.find_first_of(",}", at);
    lines.push_back(line.replace(at, end - at, bad));
  }
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  const TuningDb db = TuningDb::parse(text + good + "\n", "mem");
  EXPECT_EQ(db.report().corrupt, lines.size());
  EXPECT_EQ(db.records().size(), 1u);
}

TEST(TuningDbHostile, DevicesFifosAndDirectoriesAreRefusedBeforeReading) {
  char dir_template[] = "/tmp/convjit_db_hostile_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  struct Case {
    std::string path, substring;
  };
  for (const Case& c :
       {Case{"/dev/zero", "a character device, not a regular file"},
        Case{fifo, "a FIFO, not a regular file"}, Case{dir, "a directory, not a regular file"}}) {
    SCOPED_TRACE(c.path);
    try {
      TuningDb::load(c.path);
      ADD_FAILURE() << "loaded " << c.path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIoError);
      EXPECT_EQ(e.argument(), "tuning_db");
      EXPECT_NE(std::string(e.what()).find(c.substring), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.path), std::string::npos) << e.what();
    }
    // A compile with it: no hang (a watchdog ends the process), no bad_alloc, the heuristic,
    // and one clear message instead of silence.
    alarm(60);
    const auto t0 = std::chrono::steady_clock::now();
    testing::internal::CaptureStderr();
    compile_both_ways(c.path);
    compile_both_ways(c.path);
    const std::string err = testing::internal::GetCapturedStderr();
    alarm(0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_NE(err.find(c.substring), std::string::npos) << err;
    EXPECT_NE(err.find("heuristic"), std::string::npos) << err;
    EXPECT_EQ(err.find(c.path), err.rfind(c.path)) << "reported more than once: " << err;
  }
  std::remove(fifo.c_str());
  rmdir(dir.c_str());
}

TEST(TuningDbHostile, FilesLargerThanTheLimitAreRefusedBeforeReading) {
  TempFile f("huge");
  write_text(f.path(), "");
  ASSERT_EQ(truncate(f.path().c_str(), (std::int64_t{64} << 20) + 1), 0);  // sparse: no disk
  try {
    TuningDb::load(f.path());
    ADD_FAILURE() << "loaded a 64 MiB + 1 database";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kResourceLimit);
    EXPECT_NE(std::string(e.what()).find("more than the limit of 67108864 bytes"),
              std::string::npos)
        << e.what();
  }
}

TEST(TuningDbHostile, OverlongLinesAreCorruptAndNeverStored) {
  TempFile f("long_line");
  const std::string good = record_to_json(sample_record("tile_t=2", 5));
  write_text(f.path(), std::string((1 << 20) + 10, 'x') + "\n" + good + "\n" +
                           std::string(3 << 20, ' ') + "y");  // a last line without '\n'
  const TuningDb db = TuningDb::load(f.path());
  EXPECT_EQ(db.records().size(), 1u);
  EXPECT_EQ(db.report().corrupt, 2u);
  EXPECT_NE(db.report().first_problem.find("line 1: longer than 1048576 bytes"), std::string::npos)
      << db.report().first_problem;
}

}  // namespace
}  // namespace convjit::detail
