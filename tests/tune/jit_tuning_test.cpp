// Jit::compile reading a tuning database: the tuned schedule is used for its key only,
// damaged databases never break compiles.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
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

CompileOptions avx2_options(const std::string& db, int threads = 1) {
  CompileOptions o;
  o.isa = Isa::kAvx2;
  o.threads = threads;
  o.tuning_db = db;
  return o;
}

std::string heuristic_text(int threads = 1) {
  Jit jit;
  CompileOptions o = avx2_options("", threads);
  o.use_tuning_db = false;
  return jit.compile(sample_spec(), sample_shape(), o).schedule_text();
}

/// The tuned record's schedule with the handle's thread count, as schedule_text() prints it.
std::string expected_text(const std::string& words) {
  Schedule s = parse_schedule(sample_record(words, 1).schedule);
  s.threads = 1;
  return to_string(s);
}

TEST(JitTuning, UsesTheBestRecordOfTheKey) {
  TempFile f("jit_best");
  // A legal non-default tile; the heuristic of this problem is different.
  const std::string tuned = "tile_t=2 tile_oc_vecs=1 unroll_ic=2 block_t=0 block_ic=0";
  ASSERT_NE(heuristic_text(), expected_text(tuned));
  append_record(f.path(), sample_record("tile_t=1 tile_oc_vecs=1", 50));
  append_record(f.path(), sample_record(tuned, 10));
  Jit jit;
  const Kernel k = jit.compile(sample_spec(), sample_shape(), avx2_options(f.path()));
  EXPECT_EQ(k.schedule_text(), expected_text(tuned));
  // The tuned kernel computes the layer.
  const Problem p = make_problem(sample_spec(), sample_shape());
  std::vector<float> x(static_cast<std::size_t>(p.input_size())), w(p.kernel_size_elems()), b(8);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3.0f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 5) - 2.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i);
  std::vector<float> got(static_cast<std::size_t>(p.output_size())), want(got.size());
  k.run(x.data(), k.pack_weights(w.data(), b.data()), got.data(), 1, 40);
  reference_conv1d(p, x.data(), w.data(), b.data(), want.data());
  EXPECT_EQ(got, want);  // small integers: exact
}

TEST(JitTuning, OtherKeysAndOptOutGetTheHeuristic) {
  TempFile f("jit_other");
  append_record(f.path(), sample_record("tile_t=2 tile_oc_vecs=1 block_t=0", 10));
  Jit jit;
  // Another thread count, another length, another activation: not this record's key.
  const Kernel k2 = jit.compile(sample_spec(), sample_shape(), avx2_options(f.path(), 2));
  EXPECT_EQ(k2.schedule_text(), heuristic_text(2));
  Conv1DSpec relu = sample_spec();
  relu.activation = Activation::kRelu;
  CompileOptions plain = avx2_options("");
  plain.use_tuning_db = false;
  EXPECT_EQ(jit.compile(relu, sample_shape(), avx2_options(f.path())).schedule_text(),
            jit.compile(relu, sample_shape(), plain).schedule_text());
  EXPECT_EQ(jit.compile(sample_spec(), {1, 41, 4}, avx2_options(f.path())).schedule_text(),
            jit.compile(sample_spec(), {1, 41, 4}, plain).schedule_text());
  // use_tuning_db=false wins over the path.
  CompileOptions off = avx2_options(f.path());
  off.use_tuning_db = false;
  EXPECT_EQ(jit.compile(sample_spec(), sample_shape(), off).schedule_text(), heuristic_text());
  // An explicit schedule wins over the database.
  CompileOptions given = avx2_options(f.path());
  given.schedule = "tile_t=3";
  EXPECT_NE(jit.compile(sample_spec(), sample_shape(), given).schedule_text().find("tile_t=3 "),
            std::string::npos);
}

TEST(JitTuning, JitOptionsPathAndCachingPerDatabase) {
  TempFile f("jit_options");
  append_record(f.path(), sample_record("tile_t=2 tile_oc_vecs=1 block_t=0", 10));
  Jit jit(JitOptions{16, f.path()});
  const Kernel tuned = jit.compile(sample_spec(), sample_shape(), avx2_options(""));
  EXPECT_EQ(tuned.schedule_text(), expected_text("tile_t=2 tile_oc_vecs=1 block_t=0"));
  // The heuristic compile of the same key is cached apart from the tuned one.
  CompileOptions off = avx2_options("");
  off.use_tuning_db = false;
  EXPECT_EQ(jit.compile(sample_spec(), sample_shape(), off).schedule_text(), heuristic_text());
  EXPECT_EQ(jit.stats().misses, 2u);
  // Loaded once per Jit: a record appended later (for another length, so that the compile
  // misses the cache) is not seen by this Jit, but by a new one.
  TuningRecord longer = sample_record("tile_t=4 tile_oc_vecs=1 block_t=0", 1);
  longer.key = make_tuning_key(sample_spec(), {1, 41, 4}, 1);
  append_record(f.path(), longer);
  CompileOptions plain = off;
  EXPECT_EQ(jit.compile(sample_spec(), {1, 41, 4}, avx2_options("")).schedule_text(),
            jit.compile(sample_spec(), {1, 41, 4}, plain).schedule_text());
  Jit fresh(JitOptions{16, f.path()});
  EXPECT_EQ(fresh.compile(sample_spec(), {1, 41, 4}, avx2_options("")).schedule_text(),
            expected_text("tile_t=4 tile_oc_vecs=1 block_t=0"));
}

TEST(JitTuning, DamagedDatabasesNeverBreakACompile) {
  // Corrupt lines around a valid record: the record is used, the damage reported once.
  TempFile f("jit_damaged");
  TuningRecord old = sample_record("tile_t=1 tile_oc_vecs=1", 1);
  old.key.version = "0.0.0-old";
  write_text(f.path(), "{\"format\": \"convjit-tuning-1\"\n" + record_to_json(old) + "\n" +
                           record_to_json(sample_record("tile_t=2 tile_oc_vecs=1 block_t=0", 9)) +
                           "\n{\"trunc");
  testing::internal::CaptureStderr();
  Jit jit;
  const Kernel k = jit.compile(sample_spec(), sample_shape(), avx2_options(f.path()));
  Jit again;
  again.compile(sample_spec(), sample_shape(), avx2_options(f.path()));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(k.schedule_text(), expected_text("tile_t=2 tile_oc_vecs=1 block_t=0"));
  EXPECT_NE(err.find("2 corrupt or truncated line(s)"), std::string::npos) << err;
  EXPECT_NE(err.find("1 record(s) of convjit 0.0.0-old"), std::string::npos) << err;
  EXPECT_EQ(err.find(f.path()), err.rfind(f.path())) << "reported twice: " << err;

  // A record whose schedule this problem cannot take (a 14x1 tile is legal, but a tile
  // wider than 16 registers is not): the heuristic, with a message, no exception.
  TempFile g("jit_illegal");
  append_record(g.path(), sample_record("tile_t=8 tile_oc_vecs=2", 1));
  testing::internal::CaptureStderr();
  Jit third;
  const Kernel h = third.compile(sample_spec(), sample_shape(), avx2_options(g.path()));
  const std::string err2 = testing::internal::GetCapturedStderr();
  EXPECT_EQ(h.schedule_text(), heuristic_text());
  EXPECT_NE(err2.find("refused"), std::string::npos) << err2;

  // A path that is a directory: reported, the heuristic.
  testing::internal::CaptureStderr();
  Jit fourth;
  const Kernel d = fourth.compile(sample_spec(), sample_shape(), avx2_options("/tmp"));
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(d.schedule_text(), heuristic_text());
}

}  // namespace
}  // namespace convjit::detail
