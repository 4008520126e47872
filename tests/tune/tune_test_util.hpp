// Helpers of the tuning tests: temporary files and sample records.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "compiler/schedule/schedule.hpp"
#include "runtime/tuning_db.hpp"

namespace convjit::detail::test {

/// A file name under /tmp unique to this process, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(const std::string& tag)
      : path_("/tmp/convjit_tune_test_" + std::to_string(::getpid()) + "_" + tag + ".jsonl") {
    std::remove(path_.c_str());
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

/// The layer most tuning tests use.
inline Conv1DSpec sample_spec() {
  return parse_spec("filters=8,kernel_size=3,padding=same");
}
inline Shape3 sample_shape() {
  return {1, 40, 4};
}

/// A checked avx2 record of sample_spec() on sample_shape() with 1 thread; `words` change
/// the schedule (e.g. "tile_t=3").
inline TuningRecord sample_record(const std::string& words, double time_us) {
  TuningRecord r;
  r.key = make_tuning_key(sample_spec(), sample_shape(), 1);
  r.config = to_config_json(sample_spec());
  r.isa = "avx2";
  r.backend = "xbyak";
  r.schedule = to_string(parse_schedule("isa=avx2 " + words));
  r.time_us = time_us;
  r.gflops = 1.5;
  r.checked = true;
  r.check = "ok";
  r.date = "2026-01-01T00:00:00";
  return r;
}

}  // namespace convjit::detail::test
