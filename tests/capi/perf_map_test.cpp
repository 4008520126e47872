// CONVJIT_PERF_MAP: the line format, the switch, and a real kernel's entry pointing at
// executable memory of its size.
#include "runtime/perf_map.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "convjit/convjit.hpp"
#include "runtime/test_util.hpp"

namespace convjit::detail {
namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

using testing::ScopedEnv;  // reloads the library's read-once environment

/// True when [start, start + size) lies inside one executable mapping of this process.
bool in_executable_mapping(std::uintptr_t start, std::size_t size) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    unsigned long lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (start >= lo && start + size <= hi) return perms[2] == 'x';
  }
  return false;
}

TEST(PerfMap, PathIsPerfsConvention) {
  EXPECT_EQ(perf_map_path(), "/tmp/perf-" + std::to_string(::getpid()) + ".map");
}

TEST(PerfMap, EnabledByAnyValueButEmptyAndZero) {
  {
    ScopedEnv env("CONVJIT_PERF_MAP", std::nullopt);
    EXPECT_FALSE(perf_map_enabled());
  }
  {
    ScopedEnv env("CONVJIT_PERF_MAP", "");
    EXPECT_FALSE(perf_map_enabled());
  }
  {
    ScopedEnv env("CONVJIT_PERF_MAP", "0");
    EXPECT_FALSE(perf_map_enabled());
  }
  {
    ScopedEnv env("CONVJIT_PERF_MAP", "1");
    EXPECT_TRUE(perf_map_enabled());
  }
  {
    ScopedEnv env("CONVJIT_PERF_MAP", "yes");
    EXPECT_TRUE(perf_map_enabled());
  }
}

TEST(PerfMap, AppendsHexStartSizeAndName) {
  const std::string path =
      ::testing::TempDir() + "convjit_perf_map_test_" + std::to_string(::getpid()) + ".map";
  std::remove(path.c_str());
  EXPECT_TRUE(perf_map_append(path, reinterpret_cast<const void*>(0x7f00dead0000), 0x1a4,
                              "conv1d_avx2_first"));
  EXPECT_TRUE(perf_map_append(path, reinterpret_cast<const void*>(0x10), 3, "second\nline"));
  const std::vector<std::string> lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "7f00dead0000 1a4 conv1d_avx2_first");
  EXPECT_EQ(lines[1], "10 3 second line");  // a name never breaks the one-line format
  std::remove(path.c_str());
}

TEST(PerfMap, UnwritablePathIsReportedNotThrown) {
  EXPECT_FALSE(perf_map_append("/nonexistent_convjit_dir/perf.map",
                               reinterpret_cast<const void*>(0x1000), 16, "k"));
}

TEST(PerfMap, EveryCompiledKernelGetsAnEntryOnlyWhenEnabled) {
  const std::string path = perf_map_path();
  const std::size_t before = read_lines(path).size();
  Jit jit;
  Kernel kernel;
  {
    ScopedEnv env("CONVJIT_PERF_MAP", "1");
    kernel = jit.compile(parse_spec("filters=24,kernel_size=5,dilation_rate=3,padding=causal"),
                         {1, kDynamic, 12});
    jit.compile(parse_spec("filters=24,kernel_size=5,dilation_rate=3,padding=causal"),
                {1, kDynamic, 12});  // a cache hit: no new code, no new entry
  }
  std::vector<std::string> lines = read_lines(path);
  ASSERT_EQ(lines.size(), before + 1) << path;
  std::istringstream entry(lines.back());
  std::string start_hex, size_hex, name;
  entry >> start_hex >> size_hex >> name;
  EXPECT_EQ(name.rfind(kernel.name(), 0), 0u) << name;
  EXPECT_NE(name.find("_n1_ldyn"), std::string::npos) << name;
  EXPECT_EQ(std::stoull(size_hex, nullptr, 16), kernel.code_size());
  const std::uintptr_t start = std::stoull(start_hex, nullptr, 16);
  EXPECT_TRUE(in_executable_mapping(start, kernel.code_size())) << lines.back();

  {
    ScopedEnv env("CONVJIT_PERF_MAP", "0");
    jit.compile(parse_spec("filters=24,kernel_size=3,padding=causal"), {1, kDynamic, 12});
  }
  EXPECT_EQ(read_lines(path).size(), before + 1);
  if (before == 0) std::remove(path.c_str());
}

}  // namespace
}  // namespace convjit::detail
