// The tuning database: records, keys, loading damaged files, appending, the best record.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "runtime/tuning_db.hpp"
#include "runtime/version.hpp"
#include "tune_test_util.hpp"

namespace convjit::detail {
namespace {

using test::read_text;
using test::sample_record;
using test::TempFile;
using test::write_text;

TEST(TuningKey, IgnoresNameAndInitializersButNotComputation) {
  Conv1DSpec a = parse_spec("filters=8,kernel_size=3,padding=same");
  Conv1DSpec b = a;
  b.name = "other";
  b.kernel_initializer = Initializer(Initializer::Kind::kOnes);
  EXPECT_EQ(make_tuning_key(a, {1, 40, 4}, 1), make_tuning_key(b, {1, 40, 4}, 1));
  b.activation = Activation::kRelu;
  EXPECT_NE(make_tuning_key(a, {1, 40, 4}, 1), make_tuning_key(b, {1, 40, 4}, 1));
  EXPECT_NE(make_tuning_key(a, {1, 40, 4}, 1), make_tuning_key(a, {1, 40, 4}, 2));
  EXPECT_NE(make_tuning_key(a, {1, 40, 4}, 1), make_tuning_key(a, {1, kDynamic, 4}, 1));
  EXPECT_NE(make_tuning_key(a, {1, 40, 4}, 1), make_tuning_key(a, {2, 40, 4}, 1));
  const TuningKey k = make_tuning_key(a, {kDynamic, kDynamic, 4}, 3);
  EXPECT_EQ(k.spec, "filters=8,kernel_size=3,padding=same");
  EXPECT_EQ(k.batch, kDynamic);
  EXPECT_EQ(k.length, kDynamic);
  EXPECT_EQ(k.channels, 4);
  EXPECT_EQ(k.threads, 3);
  EXPECT_EQ(k.version, kConvjitVersion);
  EXPECT_EQ(k.data_format, "channels_last");
  EXPECT_FALSE(k.cpu.empty());
  EXPECT_NE(k.features.find("avx2"), std::string::npos);  // the CI machine has AVX2
}

TEST(TuningKey, ChannelsFirstTakesLengthFromTheLastAxis) {
  const Conv1DSpec cf = parse_spec("filters=8,kernel_size=3,data_format=channels_first");
  const TuningKey k = make_tuning_key(cf, {2, 5, 77}, 1);
  EXPECT_EQ(k.channels, 5);
  EXPECT_EQ(k.length, 77);
  EXPECT_EQ(k.data_format, "channels_first");
}

TEST(TuningRecord, JsonRoundTripKeepsEveryField) {
  TuningRecord r = sample_record("tile_t=3", 12.5);
  r.key.length = kDynamic;
  r.final = true;
  r.is_default = true;
  r.check = "ok (max err/tol 0.01)";
  const std::string line = record_to_json(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  std::string error;
  const auto back = record_from_json(line, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->key, r.key);
  EXPECT_EQ(back->isa, r.isa);
  EXPECT_EQ(back->backend, r.backend);
  EXPECT_EQ(back->schedule, r.schedule);
  EXPECT_DOUBLE_EQ(back->time_us, 12.5);
  EXPECT_DOUBLE_EQ(back->gflops, r.gflops);
  EXPECT_TRUE(back->checked);
  EXPECT_TRUE(back->final);
  EXPECT_TRUE(back->is_default);
  EXPECT_EQ(back->check, r.check);
  EXPECT_EQ(back->date, r.date);
  // The config is Keras get_config JSON of the computation.
  EXPECT_EQ(parse_spec_json(back->config), parse_spec_keywords(r.key.spec));
}

TEST(TuningRecord, RejectsIncompleteOrInconsistentLines) {
  const std::string good = record_to_json(sample_record("tile_t=3", 10));
  std::string error;
  EXPECT_FALSE(record_from_json(good.substr(0, good.size() / 2), &error));
  EXPECT_NE(error.find("JSON"), std::string::npos) << error;
  EXPECT_FALSE(record_from_json("[1,2]", &error));
  std::string no_time = good;
  no_time.replace(no_time.find("\"time_us\""), 9, "\"time_xx\"");
  EXPECT_FALSE(record_from_json(no_time, &error));
  EXPECT_NE(error.find("time_us"), std::string::npos) << error;
  std::string bad_schedule = good;
  bad_schedule.replace(bad_schedule.find("tile_t=3"), 8, "tile_t=x");
  EXPECT_FALSE(record_from_json(bad_schedule, &error));
  std::string wrong_isa = good;
  wrong_isa.replace(wrong_isa.find("\"isa\":\"avx2\""), 12, "\"isa\":\"avx512\"");
  EXPECT_FALSE(record_from_json(wrong_isa, &error));
  EXPECT_NE(error.find("isa"), std::string::npos) << error;
}

TEST(TuningDb, KeepsValidRecordsAroundCorruptAndTruncatedLines) {
  const std::string a = record_to_json(sample_record("tile_t=1", 30));
  const std::string b = record_to_json(sample_record("tile_t=2", 20));
  const std::string c = record_to_json(sample_record("tile_t=3", 10));
  const std::string text = a + "\n" + "{not json\n\n" + b + "\n" + c.substr(0, c.size() - 7);
  const TuningDb db = TuningDb::parse(text, "mem");
  ASSERT_EQ(db.records().size(), 2u);
  EXPECT_NE(db.records()[0].schedule.find("tile_t=1"), std::string::npos);
  EXPECT_NE(db.records()[1].schedule.find("tile_t=2"), std::string::npos);
  EXPECT_EQ(db.report().lines, 4u);
  EXPECT_EQ(db.report().corrupt, 2u);
  EXPECT_EQ(db.report().foreign, 0u);
  EXPECT_NE(db.report().first_problem.find("line 2"), std::string::npos);
  const std::string d = db.describe_problems();
  EXPECT_NE(d.find("2 corrupt or truncated line(s)"), std::string::npos) << d;
  EXPECT_NE(d.find("2 valid record(s) kept"), std::string::npos) << d;
}

TEST(TuningDb, IgnoresRecordsOfAnotherVersion) {
  TuningRecord old = sample_record("tile_t=1", 1);
  old.key.version = "0.0.1";
  const std::string text =
      record_to_json(old) + "\n" + record_to_json(sample_record("tile_t=2", 50)) + "\n";
  const TuningDb db = TuningDb::parse(text, "mem");
  ASSERT_EQ(db.records().size(), 1u);
  EXPECT_NE(db.records()[0].schedule.find("tile_t=2"), std::string::npos);
  EXPECT_EQ(db.report().foreign, 1u);
  EXPECT_EQ(db.report().foreign_version, "0.0.1");
  EXPECT_NE(db.describe_problems().find("convjit 0.0.1"), std::string::npos);
  // The old record is faster, but never chosen.
  const TuningRecord& r = db.records()[0];
  EXPECT_EQ(db.best(r.key, "avx2", "xbyak"), &db.records()[0]);
}

TEST(TuningDb, ReportsProblemsOncePerPath) {
  TempFile f("report_once");
  write_text(f.path(), "garbage\n" + record_to_json(sample_record("tile_t=2", 5)) + "\n");
  const TuningDb db = TuningDb::load(f.path());
  testing::internal::CaptureStderr();
  const bool first = report_problems_once(db);
  const bool second = report_problems_once(TuningDb::load(f.path()));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  EXPECT_NE(err.find(f.path()), std::string::npos) << err;
  EXPECT_NE(err.find("1 corrupt"), std::string::npos) << err;
  EXPECT_EQ(err.find(f.path()), err.rfind(f.path())) << "reported twice: " << err;
  // A clean database says nothing.
  TempFile clean("report_clean");
  write_text(clean.path(), record_to_json(sample_record("tile_t=2", 5)) + "\n");
  EXPECT_FALSE(report_problems_once(TuningDb::load(clean.path())));
}

TEST(TuningDb, MissingFileIsAnEmptyDatabase) {
  const TuningDb db = TuningDb::load("/nonexistent-dir-convjit/tuning.jsonl");
  EXPECT_TRUE(db.report().missing);
  EXPECT_TRUE(db.records().empty());
  EXPECT_EQ(db.describe_problems(), "");
}

TEST(TuningDb, AppendNeverRewritesAndSurvivesATruncatedLastLine) {
  TempFile f("append");
  append_record(f.path(), sample_record("tile_t=1", 30));  // creates the file
  const std::string first = read_text(f.path());
  ASSERT_EQ(first.back(), '\n');
  // A crash mid-write left half a line.
  const std::string half = record_to_json(sample_record("tile_t=9", 1)).substr(0, 40);
  write_text(f.path(), first + half);
  append_record(f.path(), sample_record("tile_t=2", 20));
  append_record(f.path(), sample_record("tile_t=3", 10));
  const std::string after = read_text(f.path());
  EXPECT_EQ(after.substr(0, first.size() + half.size()), first + half);  // bytes never rewritten
  const TuningDb db = TuningDb::load(f.path());
  ASSERT_EQ(db.records().size(), 3u);
  EXPECT_EQ(db.report().corrupt, 1u);
  EXPECT_NE(db.records()[2].schedule.find("tile_t=3"), std::string::npos);
}

TEST(TuningDb, AppendToAnUnwritablePathThrowsIoError) {
  try {
    append_record("/nonexistent-dir-convjit/tuning.jsonl", sample_record("tile_t=1", 1));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIoError);
    EXPECT_EQ(e.argument(), "tuning_db");
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir-convjit"), std::string::npos);
  }
}

TEST(TuningDb, BestPrefersFinalRecordsThenTheSmallestTime) {
  TuningRecord slow = sample_record("tile_t=1", 30);
  TuningRecord fast = sample_record("tile_t=2", 10);
  TuningRecord unchecked = sample_record("tile_t=3", 1);
  unchecked.checked = false;
  TuningRecord other_isa = sample_record("tile_t=4", 2);
  other_isa.isa = "avx512";
  other_isa.schedule = "isa=avx512 tile_t=4";
  TuningRecord other_key = sample_record("tile_t=5", 3);
  other_key.key.threads = 7;
  TuningRecord nan_time = sample_record("tile_t=6", NAN);
  std::string text;
  for (const auto* r : {&slow, &fast, &unchecked, &other_isa, &other_key, &nan_time}) {
    text += record_to_json(*r) + "\n";
  }
  {
    const TuningDb db = TuningDb::parse(text, "mem");
    ASSERT_EQ(db.records().size(), 6u);
    const TuningRecord* best = db.best(slow.key, "avx2", "xbyak");
    ASSERT_NE(best, nullptr);
    EXPECT_EQ(best->schedule, fast.schedule);
    EXPECT_EQ(db.best(slow.key, "avx2", "llvm"), nullptr);
    EXPECT_EQ(db.find(slow.key).size(), 5u);
  }
  // A final head-to-head record wins over faster non-final ones.
  TuningRecord final_slow = slow;
  final_slow.final = true;
  final_slow.time_us = 25;
  const TuningDb db = TuningDb::parse(text + record_to_json(final_slow) + "\n", "mem");
  ASSERT_NE(db.best(slow.key, "avx2", "xbyak"), nullptr);
  EXPECT_EQ(db.best(slow.key, "avx2", "xbyak")->schedule, slow.schedule);
  EXPECT_TRUE(db.best(slow.key, "avx2", "xbyak")->final);
}

TEST(Version, MatchesTheCMakeProjectVersion) {
  const std::string cmake = read_text(std::string(CONVJIT_TEST_DIR) + "/../CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(convjit VERSION ([0-9.]+))")));
  EXPECT_EQ(m[1].str(), kConvjitVersion);
}

}  // namespace
}  // namespace convjit::detail
