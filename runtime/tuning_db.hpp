// TuningDb — the tuning database of `convjit tune`: JSON lines, one record per measurement.
//
// Appendable (records are only ever appended, never rewritten) and resumable (the tuner skips
// schedules already measured for a key). Lines that do not parse (also lines nested deeper
// than kMaxJsonDepth or longer than 1 MiB), truncated lines and records of another convjit
// version are counted, reported once per path per process on stderr, and ignored; every
// valid record is kept. A path that is not a regular file (a directory, a FIFO, /dev/zero)
// or is larger than 64 MiB is refused before a byte is read. The Jit reads a database at compile
// time (CompileOptions::tuning_db, JitOptions::tuning_db, CONVJIT_TUNING_DB) and compiles the best
// valid record of the key instead of the heuristic schedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convjit/spec.hpp"

namespace convjit::detail {

/// The `format` field of every record.
inline constexpr const char kTuningFormat[] = "convjit-tuning-1";

/// What a tuned schedule is valid for: the computation, the shape class, the thread count,
/// the machine and the convjit version.
struct TuningKey {
  std::string spec;         ///< to_keywords of the computation fields only (no name, initializers)
  std::int64_t batch = 0;   ///< kDynamic when dynamic
  std::int64_t length = 0;  ///< kDynamic when dynamic
  std::int64_t channels = 0;
  std::string data_format;  ///< "channels_last" / "channels_first"
  int threads = 1;
  std::string cpu;       ///< model name of /proc/cpuinfo
  std::string features;  ///< the vector-ISA flags of the CPU, space separated
  std::string version;   ///< kConvjitVersion of the writer

  bool operator==(const TuningKey& o) const;
  bool operator!=(const TuningKey& o) const { return !(*this == o); }
  /// "filters=32,kernel_size=3 [1, 128, 32] threads=1" (for messages).
  std::string describe() const;
};

/// The key of `spec` compiled for `input_shape` (data_format order, kDynamic allowed) run on
/// `threads` threads, on this host, by this convjit version.
TuningKey make_tuning_key(const Conv1DSpec& spec, const Shape3& input_shape, int threads);

/// One measurement of one schedule.
struct TuningRecord {
  TuningKey key;
  std::string config;    ///< to_config_json of the computation spec (for humans and tools)
  std::string isa;       ///< "avx2" / "avx512"
  std::string backend;   ///< "xbyak"
  std::string schedule;  ///< to_string of the schedule (parses with parse_schedule)
  double time_us = 0.0;  ///< median time of one run
  double gflops = 0.0;
  bool checked = false;     ///< the output matched the reference within the golden tolerance
  std::string check;        ///< "ok (...)", "MISMATCH: ...", "FAILED: ..."
  bool final = false;       ///< from the tuner's final head-to-head of the best vs the heuristic
  bool is_default = false;  ///< the schedule is the default heuristic's
  std::string date;         ///< ISO 8601 local time

  /// Usable by a Jit: checked, a positive finite time.
  bool usable() const;
};

/// One JSON line (no newline).
std::string record_to_json(const TuningRecord& r);

/// Parses one line. nullopt with `*error` set when the line is not a complete record of
/// this format (bad JSON, a missing or mistyped field, a schedule that does not parse).
/// A record of another convjit version parses (its key.version says so).
std::optional<TuningRecord> record_from_json(const std::string& line, std::string* error);

/// The records of a database file, as loaded once.
class TuningDb {
 public:
  /// What loading found besides valid records.
  struct LoadReport {
    bool missing = false;         ///< the file does not exist (an empty database)
    std::size_t lines = 0;        ///< non-blank lines
    std::size_t corrupt = 0;      ///< lines that are not records (incl. a truncated last line)
    std::size_t foreign = 0;      ///< records of another convjit version
    std::string first_problem;    ///< "line 7: ..." of the first corrupt or foreign line
    std::string foreign_version;  ///< the first other version seen
    bool clean() const { return corrupt == 0 && foreign == 0; }
  };

  TuningDb() = default;

  /// Reads `path`. Never throws for its content; a missing file is an empty database.
  /// Throws Error(kIoError) for a path that exists but cannot be read or is not a regular
  /// file, Error(kResourceLimit) for a file larger than 64 MiB.
  static TuningDb load(const std::string& path);
  /// Parses database text (as load); `source` names it in messages.
  static TuningDb parse(const std::string& text, const std::string& source);

  const std::string& path() const { return path_; }
  /// Valid records of this version, in file order.
  const std::vector<TuningRecord>& records() const { return records_; }
  const LoadReport& report() const { return report_; }

  /// Records of `key`, in file order.
  std::vector<const TuningRecord*> find(const TuningKey& key) const;
  /// The best usable record of `key` for `isa` and `backend`: among records from a final
  /// head-to-head if there is any, else among all; the smallest time, the earliest on a tie.
  /// nullptr when there is none.
  const TuningRecord* best(const TuningKey& key, const std::string& isa,
                           const std::string& backend) const;

  /// A one-line summary of report() ("" when clean and not missing).
  std::string describe_problems() const;

 private:
  /// One line of the file (blank lines are skipped; a too_long line is corrupt).
  void add_line(std::string_view line, std::size_t line_no, bool too_long);

  std::string path_;
  std::vector<TuningRecord> records_;
  LoadReport report_;
};

/// Prints describe_problems() of `db` on stderr, at most once per path per process (a
/// missing file is not a problem). Returns true when it printed.
bool report_problems_once(const TuningDb& db);

/// Prints "convjit: <error>; it is ignored, ..." on stderr for a database that
/// cannot be read, at most once per path per process. Returns true when it printed.
bool report_unreadable_once(const std::string& path, const Error& error);

/// Appends `r` as one line to `path` (created when missing) with a single O_APPEND write.
/// When the file does not end in a newline (a truncated last line), a newline goes first, so
/// the new record never merges with the broken line. Throws Error(kIoError).
void append_record(const std::string& path, const TuningRecord& r);

/// Model name of /proc/cpuinfo ("unknown" when there is none).
std::string host_cpu_model();
/// The CPU's vector flags that change code or speed (avx, avx2, fma, avx512*, ...), sorted.
std::string host_cpu_features();
/// The local time as "2026-11-05T14:03:00" (TuningRecord::date).
std::string local_iso_date();
/// CONVJIT_TUNING_DB ("" when unset), read once per process.
std::string tuning_db_environment();

}  // namespace convjit::detail
