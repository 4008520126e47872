// CONVJIT_PERF_MAP: one /tmp/perf-<pid>.map line per compiled kernel.
#include "runtime/perf_map.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "compiler/environment.hpp"
#include "runtime/compiled_kernel.hpp"
#include "runtime/debug_output.hpp"

namespace convjit::detail {
namespace {

std::atomic<bool> g_reported{false};

void report_once(const std::string& path, const char* what) {
  report_write_failure_once(g_reported, "CONVJIT_PERF_MAP", "perf map", path, what);
}

}  // namespace

bool perf_map_enabled() {
  return environment().perf_map;
}

std::string perf_map_path() {
  return "/tmp/perf-" + std::to_string(static_cast<long long>(::getpid())) + ".map";
}

bool perf_map_append(const std::string& path, const void* start, std::size_t size,
                     const std::string& name) {
  try {
    // perf reads "START SIZE symbolname", hex without 0x, one symbol per line.
    std::string line(64 + name.size(), '\0');
    const int n = std::snprintf(
        line.data(), line.size(), "%llx %zx ",
        static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(start)), size);
    line.resize(static_cast<std::size_t>(n));
    for (char c : name) line.push_back(c == '\n' ? ' ' : c);
    line.push_back('\n');

    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      report_once(path, std::strerror(errno));
      return false;
    }
    const ssize_t written = ::write(fd, line.data(), line.size());
    const int saved = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(line.size())) {
      report_once(path, written < 0 ? std::strerror(saved) : "short write");
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    report_once(path, e.what());
    return false;
  }
}

void perf_map_record(const CompiledKernel& kernel) {
  if (!perf_map_enabled() || !kernel.code) return;
  perf_map_append(perf_map_path(), kernel.code->code(), kernel.code->code_size(),
                  kernel.dump_name.empty() ? kernel.name : kernel.dump_name);
}

}  // namespace convjit::detail
