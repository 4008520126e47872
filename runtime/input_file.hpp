// InputFile — a text file convjit reads but does not control (the tuning database, golden
// case files), read line by line within bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace convjit::detail {

/// One kind of input file: its name in messages and errors, and its bounds.
struct InputFileKind {
  const char* what;              ///< for messages: "the tuning database"
  const char* argument;          ///< the Error's argument: "tuning_db"
  std::uint64_t max_file_bytes;  ///< larger files are refused before reading
  std::size_t max_line_bytes;    ///< longer lines are reported, not stored
};

/// Reads the lines of a regular file. Opening refuses what is not a regular file (a
/// directory, a FIFO, which could block forever, a device such as /dev/zero, which never
/// ends) and a file larger than the limit, before reading a byte; reading never holds more
/// than one line, refuses a file that grows past the limit while it is read, and turns every
/// read error into an Error (never an early end of file).
class InputFile {
 public:
  /// Opens `path` (without blocking, also on a FIFO). Errors name kind.argument:
  /// Error(kIoError) for a path that cannot be opened or is not a regular file,
  /// Error(kResourceLimit) for one larger than kind.max_file_bytes. A path that does not
  /// exist is Error(kIoError) too, unless `missing_ok`: then missing() is true and the file
  /// has no lines.
  InputFile(const std::string& path, const InputFileKind& kind, bool missing_ok = false);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  bool missing() const { return fd_ < 0; }

  /// One line of the file, without its '\n'.
  struct Line {
    std::size_t number = 0;  ///< 1-based
    std::string text;        ///< empty when too_long
    bool too_long = false;   ///< longer than kind.max_line_bytes: skipped, not stored
  };
  /// Reads the next line into `line`; false at the end of the file. A last line without a
  /// final '\n' is a line. Throws Error(kIoError) on a read error and Error(kResourceLimit)
  /// when the file grows past kind.max_file_bytes.
  bool next(Line& line);

 private:
  bool fill();  // reads more bytes into buffer_; false at the end of the file

  std::string path_;
  InputFileKind kind_;
  int fd_ = -1;
  std::string buffer_;     // bytes read and not yet returned
  std::size_t begin_ = 0;  // start of the unreturned bytes in buffer_
  std::uint64_t read_ = 0;
  std::size_t line_number_ = 0;
  bool eof_ = false;
};

}  // namespace convjit::detail
