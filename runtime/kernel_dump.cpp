// CONVJIT_DUMP: <dir>/<name>.bin and <dir>/<name>.s for each compiled kernel.
#include "runtime/kernel_dump.hpp"

#include <atomic>
#include <cerrno>
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
  report_write_failure_once(g_reported, "CONVJIT_DUMP", "dump", path, what);
}

bool write_file(const std::string& path, const void* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    report_once(path, std::strerror(errno));
    return false;
  }
  const bool ok = std::fwrite(data, 1, size, f) == size;
  const int saved = errno;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    report_once(path, std::strerror(ok ? errno : saved));
    return false;
  }
  return true;
}

}  // namespace

std::string dump_directory() {
  return environment().dump_dir;
}

std::string sanitize_file_name(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) c = '_';
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out;
}

void dump_kernel(const CompiledKernel& kernel, const std::string& dir) {
  if (dir.empty()) return;
  const std::string stem = dir + "/" + sanitize_file_name(kernel.dump_name);
  try {
    if (!write_file(stem + ".bin", kernel.code->code(), kernel.code->code_size())) return;
    const std::string text = kernel.disassemble();
    if (!write_file(stem + ".s", text.data(), text.size())) return;
    for (const auto& [extension, contents] : kernel.code->dump_files()) {  // LLVM: the .ll
      if (!write_file(stem + extension, contents.data(), contents.size())) return;
    }
  } catch (const std::exception& e) {
    report_once(stem, e.what());
  }
}

}  // namespace convjit::detail
