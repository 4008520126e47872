// InputFile: open without blocking, regular files only, bounded lines, every error reported.
#include "runtime/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

constexpr std::size_t kChunk = 1 << 16;

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

InputFile::InputFile(const std::string& path, const InputFileKind& kind, bool missing_ok)
    : path_(path), kind_(kind) {
  // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT && missing_ok) return;
    throw Error(ErrorCode::kIoError, kind.argument,
                fmt::format("Cannot read {} {}: {}", kind.what, path, std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(ErrorCode::kIoError, kind.argument,
                fmt::format("Cannot read {} {}: {}", kind.what, path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorCode::kIoError, kind.argument,
                fmt::format("Cannot read {} {}: it is {}, not a regular file", kind.what, path,
                            file_type(st.st_mode)));
  }
  if (static_cast<std::uint64_t>(st.st_size) > kind.max_file_bytes) {
    ::close(fd);
    throw Error(
        ErrorCode::kResourceLimit, kind.argument,
        fmt::format("Cannot read {} {}: it has {} bytes, more than the limit of {} bytes",
                    kind.what, path, static_cast<std::uint64_t>(st.st_size), kind.max_file_bytes));
  }
  fd_ = fd;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool InputFile::fill() {
  if (eof_ || fd_ < 0) return false;
  if (begin_ > 0) {
    buffer_.erase(0, begin_);
    begin_ = 0;
  }
  const std::size_t old = buffer_.size();
  buffer_.resize(old + kChunk);
  ssize_t n = 0;
  do {
    n = ::read(fd_, &buffer_[old], kChunk);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    buffer_.resize(old);
    throw Error(ErrorCode::kIoError, kind_.argument,
                fmt::format("Cannot read {} {} (after {} bytes): {}", kind_.what, path_, read_,
                            std::strerror(err)));
  }
  buffer_.resize(old + static_cast<std::size_t>(n));
  read_ += static_cast<std::uint64_t>(n);
  if (read_ > kind_.max_file_bytes) {
    throw Error(ErrorCode::kResourceLimit, kind_.argument,
                fmt::format("Cannot read {} {}: it grew past the limit of {} bytes while it was "
                            "read",
                            kind_.what, path_, kind_.max_file_bytes));
  }
  if (n == 0) eof_ = true;
  return n > 0;
}

bool InputFile::next(Line& line) {
  line.text.clear();
  line.too_long = false;
  std::size_t scanned = begin_;  // bytes before this hold no '\n'
  for (;;) {
    const std::size_t nl = buffer_.find('\n', scanned);
    if (nl != std::string::npos) {
      if (!line.too_long) {
        if (nl - begin_ > kind_.max_line_bytes) {
          line.too_long = true;
        } else {
          line.text.assign(buffer_, begin_, nl - begin_);
        }
      }
      begin_ = nl + 1;
      line.number = ++line_number_;
      return true;
    }
    if (buffer_.size() - begin_ > kind_.max_line_bytes) {
      line.too_long = true;  // drop what is held; keep reading to the end of the line
      buffer_.clear();
      begin_ = 0;
    }
    scanned = buffer_.size() - begin_;  // fill() moves the unreturned bytes to the front
    if (!fill()) {
      if (buffer_.size() == begin_ && !line.too_long) return false;
      if (!line.too_long) line.text.assign(buffer_, begin_, std::string::npos);
      buffer_.clear();
      begin_ = 0;
      line.number = ++line_number_;
      return true;
    }
  }
}

}  // namespace convjit::detail
