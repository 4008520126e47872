// JIT memory: code pages are mapped read+execute only (never writable and executable, the
// check is in tests/runtime) and are unmapped when the last handle of an evicted kernel
// goes. Measured as the bytes of anonymous executable mappings in /proc/self/maps.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "convjit/convjit.hpp"

namespace convjit {
namespace {

/// Options with a cache of `capacity` kernels (other fields at their defaults).
JitOptions jit_options(std::size_t capacity) {
  JitOptions o;
  o.capacity = capacity;
  return o;
}

/// Bytes of executable mappings without a file (JIT code), and whether any mapping of the
/// process is writable and executable.
struct ExecMemory {
  std::int64_t anonymous_exec_bytes = 0;
  std::int64_t writable_exec_mappings = 0;
};

ExecMemory exec_memory() {
  ExecMemory m;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream words(line);
    std::string range, perms, offset, dev, inode, path;
    words >> range >> perms >> offset >> dev >> inode >> path;
    if (perms.size() < 3 || perms[2] != 'x') continue;
    if (perms[1] == 'w') ++m.writable_exec_mappings;
    if (!path.empty()) continue;  // a file: the program, shared libraries, [vdso]...
    const auto dash = range.find('-');
    const auto lo = std::stoull(range.substr(0, dash), nullptr, 16);
    const auto hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    m.anonymous_exec_bytes += static_cast<std::int64_t>(hi - lo);
  }
  return m;
}

Conv1DSpec spec_with(std::int64_t filters) {
  Conv1DSpec s;
  s.filters = filters;
  s.kernel_size = 3;
  s.padding = Padding::kSame;
  s.activation = Activation::kGelu;
  return s;
}

TEST(JitMemory, CodePagesAreReleasedWhenEvictedKernelsAreDropped) {
  constexpr int kKernels = 120;
  Jit jit(jit_options(4));
  const ExecMemory baseline = exec_memory();
  {
    // Held handles keep their code mapped even after the cache evicted them.
    std::vector<Kernel> held;
    for (int i = 0; i < kKernels; ++i) held.push_back(jit.compile(spec_with(8 + i), {1, 32, 8}));
    const ExecMemory full = exec_memory();
    EXPECT_EQ(full.writable_exec_mappings, 0);
    EXPECT_GE(full.anonymous_exec_bytes - baseline.anonymous_exec_bytes,
              static_cast<std::int64_t>(kKernels) * 4096)
        << "every kernel's code is at least one executable page";
    EXPECT_GE(jit.stats().evictions, static_cast<std::uint64_t>(kKernels - 4));
  }
  // Handles gone: only the (at most 4) cached kernels keep pages.
  const ExecMemory after_drop = exec_memory();
  EXPECT_LE(after_drop.anonymous_exec_bytes - baseline.anonymous_exec_bytes, 4 * 64 * 1024);
  jit.clear();
  const ExecMemory after_clear = exec_memory();
  EXPECT_LE(after_clear.anonymous_exec_bytes, baseline.anonymous_exec_bytes);
  // Churning through the small cache without holding handles does not grow the code memory.
  for (int i = 0; i < kKernels; ++i) jit.compile(spec_with(200 + i), {1, 32, 8});
  const ExecMemory churned = exec_memory();
  EXPECT_LE(churned.anonymous_exec_bytes - baseline.anonymous_exec_bytes, 4 * 64 * 1024);
  EXPECT_EQ(churned.writable_exec_mappings, 0);
}

}  // namespace
}  // namespace convjit
