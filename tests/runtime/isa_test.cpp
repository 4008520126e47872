// ISA detection and forcing: CPUID against /proc/cpuinfo, CONVJIT_ISA, errors.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "test_util.hpp"

namespace convjit {
namespace {

using testing::ScopedEnv;

/// The flags the kernel reports for the first CPU: an independent view of CPUID.
std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      std::string w;
      while (words >> w) flags.insert(w);
      return flags;
    }
  }
  return {};
}

bool has_all(const std::set<std::string>& flags, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (!flags.count(n)) return false;
  }
  return true;
}

TEST(Isa, NamesRoundTrip) {
  for (Isa isa : {Isa::kAuto, Isa::kAvx2, Isa::kAvx512}) {
    ASSERT_TRUE(find_isa(isa_name(isa)).has_value());
    EXPECT_EQ(*find_isa(isa_name(isa)), isa);
  }
  EXPECT_STREQ(isa_name(Isa::kAvx2), "avx2");
  EXPECT_STREQ(isa_name(Isa::kAvx512), "avx512");
  EXPECT_FALSE(find_isa("AVX2").has_value());
  EXPECT_FALSE(find_isa("sse4").has_value());
  EXPECT_FALSE(find_isa("").has_value());
}

TEST(Isa, Lanes) {
  EXPECT_EQ(vector_lanes(Isa::kAvx2), 8);
  EXPECT_EQ(vector_lanes(Isa::kAvx512), 16);
}

TEST(Isa, HostDetectionMatchesProcCpuinfo) {
  const auto flags = cpuinfo_flags();
  ASSERT_FALSE(flags.empty()) << "no flags line in /proc/cpuinfo";
  EXPECT_EQ(host_supports(Isa::kAvx2), has_all(flags, {"avx2", "fma"}));
  EXPECT_EQ(host_supports(Isa::kAvx512),
            has_all(flags, {"avx512f", "avx512vl", "avx512bw", "avx512dq"}));
}

TEST(Isa, AutoPicksTheBestTheHostHas) {
  ScopedEnv env("CONVJIT_ISA", std::nullopt);
  const Isa expected = host_supports(Isa::kAvx512) ? Isa::kAvx512 : Isa::kAvx2;
  EXPECT_EQ(resolve_isa(Isa::kAuto), expected);
  EXPECT_EQ(vector_lanes(Isa::kAuto), vector_lanes(expected));
}

TEST(Isa, EnvironmentOverridesAuto) {
  {
    ScopedEnv env("CONVJIT_ISA", "avx2");
    EXPECT_EQ(resolve_isa(Isa::kAuto), Isa::kAvx2);
  }
  {
    ScopedEnv env("CONVJIT_ISA", "auto");
    EXPECT_EQ(resolve_isa(Isa::kAuto), host_supports(Isa::kAvx512) ? Isa::kAvx512 : Isa::kAvx2);
  }
  {
    ScopedEnv env("CONVJIT_ISA", "avx512");
    if (host_supports(Isa::kAvx512)) {
      EXPECT_EQ(resolve_isa(Isa::kAuto), Isa::kAvx512);
    } else {
      try {
        resolve_isa(Isa::kAuto);
        FAIL() << "CONVJIT_ISA=avx512 on a host without AVX-512 must throw";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
        EXPECT_EQ(e.argument(), "isa");
        EXPECT_NE(std::string(e.what()).find("CONVJIT_ISA=avx512"), std::string::npos) << e.what();
      }
    }
  }
}

TEST(Isa, ExplicitRequestWinsOverEnvironment) {
  ScopedEnv env("CONVJIT_ISA", "avx512");
  EXPECT_EQ(resolve_isa(Isa::kAvx2), Isa::kAvx2);
}

TEST(Isa, UnknownEnvironmentValueIsAnError) {
  ScopedEnv env("CONVJIT_ISA", "avx1024");
  try {
    resolve_isa(Isa::kAuto);
    FAIL() << "unknown CONVJIT_ISA must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnknownName);
    EXPECT_EQ(e.argument(), "isa");
    EXPECT_NE(std::string(e.what()).find("avx1024"), std::string::npos) << e.what();
  }
}

TEST(Isa, ForcingAnIsaTheHostLacksIsAnError) {
  ScopedEnv env("CONVJIT_ISA", std::nullopt);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (host_supports(isa)) {
      EXPECT_EQ(resolve_isa(isa), isa);
      continue;
    }
    try {
      resolve_isa(isa);
      FAIL() << "forcing " << isa_name(isa) << " must throw on this host";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
      EXPECT_EQ(e.argument(), "isa");
      EXPECT_NE(std::string(e.what()).find(std::string("isa=") + isa_name(isa)), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace convjit
