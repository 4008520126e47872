// Jit: the kernel cache through the public API, ISA forcing, schedules, dumps, W^X.
// Code comes from the fake backend (tests/runtime/fake_kernel.hpp).
#include "convjit/jit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/convjit.hpp"
#include "fake_kernel.hpp"
#include "runtime/thread_pool.hpp"
#include "test_util.hpp"

namespace convjit {
namespace {

using testing::FakeBackendState;
using testing::make_fake_backend;
using testing::ScopedEnv;

Conv1DSpec small_spec() {
  Conv1DSpec spec;
  spec.filters = 8;
  spec.kernel_size = 3;
  spec.padding = Padding::kSame;
  return spec;
}

CompileOptions avx2_options() {
  CompileOptions o;
  o.isa = Isa::kAvx2;
  return o;
}

TEST(Jit, SecondCompileIsAHit) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Kernel a = jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  const Kernel b = jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  EXPECT_EQ(state.generated.load(), 1);
  EXPECT_EQ(a.code_size(), b.code_size());
  EXPECT_EQ(a.name(), "fake_avx2_c4_f8_k3");
  EXPECT_EQ(a.backend(), "fake");
  EXPECT_EQ(a.isa(), Isa::kAvx2);
  const CacheStats s = jit.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_GT(s.compile_ns_total, 0u);
}

TEST(Jit, EverythingThatChangesTheCodeChangesTheKey) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Shape3 shape{1, 32, 4};
  jit.compile(small_spec(), shape, avx2_options());
  Conv1DSpec relu = small_spec();
  relu.activation = Activation::kRelu;
  jit.compile(relu, shape, avx2_options());
  jit.compile(small_spec(), {1, 33, 4}, avx2_options());
  jit.compile(small_spec(), {1, kDynamic, 4}, avx2_options());
  jit.compile(small_spec(), {kDynamic, 32, 4}, avx2_options());
  jit.compile(small_spec(), {1, 32, 8}, avx2_options());
  EXPECT_EQ(state.generated.load(), 6);
  // Threads and names do not change the code.
  CompileOptions two = avx2_options();
  two.threads = 2;
  const Kernel k2 = jit.compile(small_spec(), shape, two);
  Conv1DSpec renamed = small_spec();
  renamed.name = "other";
  jit.compile(renamed, shape, avx2_options());
  EXPECT_EQ(state.generated.load(), 6);
  EXPECT_EQ(k2.threads(), 2);
  EXPECT_EQ(jit.compile(small_spec(), shape, avx2_options()).threads(),
            detail::ThreadPool::hardware_threads());
  EXPECT_EQ(jit.stats().entries, 6u);
}

TEST(Jit, ScheduleTextIsPartOfTheKeyAndMergesWithTheHeuristic) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Kernel plain = jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  CompileOptions o = avx2_options();
  o.schedule = "tile_t=2";
  const Kernel tuned = jit.compile(small_spec(), {1, 32, 4}, o);
  EXPECT_EQ(state.generated.load(), 2);
  EXPECT_NE(tuned.schedule_text().find("tile_t=2"), std::string::npos) << tuned.schedule_text();
  EXPECT_NE(tuned.schedule_text().find("isa=avx2"), std::string::npos) << tuned.schedule_text();
  EXPECT_NE(plain.schedule_text(), tuned.schedule_text());
  // The schedule text of a kernel compiles back to the same schedule.
  CompileOptions again = avx2_options();
  again.schedule = plain.schedule_text();
  EXPECT_EQ(jit.compile(small_spec(), {1, 32, 4}, again).schedule_text(), plain.schedule_text());
}

TEST(Jit, ScheduleKeysGivenTwiceAreRefusedAsParseScheduleRefusesThem) {
  // compile() merged the words into the heuristic's and kept the last tile_t; parse_schedule
  // (convjit asm) refused the same text.
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  for (const char* text :
       {"tile_t=2 tile_t=3", "isa=avx2 unroll_k=1,unroll_k=1", "tile_t=2 bogus=1", "tile_t=two"}) {
    CompileOptions o = avx2_options();
    o.schedule = text;
    try {
      jit.compile(small_spec(), {1, 32, 4}, o);
      ADD_FAILURE() << "compiled with schedule '" << text << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kParseError) << text;
      std::string parse_message;
      try {
        detail::parse_schedule(text);
      } catch (const Error& p) {
        parse_message = p.what();
      }
      EXPECT_EQ(std::string(e.what()), parse_message) << text;
    }
  }
  EXPECT_EQ(state.generated.load(), 0);
}

TEST(Jit, ScheduleIsaMustAgreeWithTheOption) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  CompileOptions o = avx2_options();
  o.schedule = "isa=avx512";
  try {
    jit.compile(small_spec(), {1, 32, 4}, o);
    FAIL() << "isa=avx512 in the schedule with isa=avx2 in the options must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIncompatibleArguments);
    EXPECT_EQ(e.argument(), "schedule");
  }
  o.schedule = "isa=avx2 tile_t=3";
  o.isa = Isa::kAuto;
  EXPECT_EQ(jit.compile(small_spec(), {1, 32, 4}, o).isa(), Isa::kAvx2);
}

TEST(Jit, CapacityOneEvicts) {
  FakeBackendState state;
  JitOptions options;
  options.capacity = 1;
  Jit jit(options, make_fake_backend(state));
  EXPECT_EQ(jit.capacity(), 1u);
  const Kernel a = jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  jit.compile(small_spec(), {1, 64, 4}, avx2_options());
  jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  EXPECT_EQ(state.generated.load(), 3);
  const CacheStats s = jit.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.hits, 0u);
  // An evicted kernel still works.
  const auto w =
      a.pack_weights(testing::small_ints(3 * 4 * 8, 1).data(), testing::small_ints(8, 2).data());
  std::vector<float> in(32 * 4, 1.0f), out(static_cast<std::size_t>(a.output_size(1, 32)));
  EXPECT_NO_THROW(a.run(in.data(), w, out.data(), 1, 32));
}

TEST(Jit, ClearDropsEntriesButKernelsLive) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Kernel a = jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  jit.clear();
  EXPECT_EQ(jit.stats().entries, 0u);
  EXPECT_FALSE(a.disassemble().empty());
  jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  EXPECT_EQ(state.generated.load(), 2);
}

TEST(Jit, ManyThreadsCompilingOneKeyCompileOnce) {
  FakeBackendState state;
  state.delay_ms = 40;
  Jit jit(JitOptions{}, make_fake_backend(state));
  constexpr int kThreads = 8;
  std::atomic<bool> go{false};
  std::vector<std::string> names(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      names[static_cast<std::size_t>(t)] =
          jit.compile(small_spec(), {1, kDynamic, 4}, avx2_options()).name();
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(state.generated.load(), 1);
  for (const auto& n : names) EXPECT_EQ(n, names[0]);
  const CacheStats s = jit.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, static_cast<std::uint64_t>(kThreads - 1));
}

TEST(Jit, ManyThreadsCompilingManyKeys) {
  FakeBackendState state;
  state.delay_ms = 2;
  Jit jit(JitOptions{}, make_fake_backend(state));
  constexpr int kThreads = 8;
  constexpr int kKeys = 5;
  constexpr int kRounds = 40;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const std::int64_t channels = 1 + (t + r) % kKeys;
        const Kernel k = jit.compile(small_spec(), {1, 16, channels}, avx2_options());
        if (k.name() != "fake_avx2_c" + std::to_string(channels) + "_f8_k3") wrong++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(state.generated.load(), kKeys);
  const CacheStats s = jit.stats();
  EXPECT_EQ(s.misses, static_cast<std::uint64_t>(kKeys));
  EXPECT_EQ(s.hits + s.misses, static_cast<std::uint64_t>(kThreads * kRounds));
  EXPECT_EQ(s.entries, static_cast<std::uint64_t>(kKeys));
}

TEST(Jit, ManyThreadsWithEvictionStayConsistent) {
  FakeBackendState state;
  JitOptions options;
  options.capacity = 3;
  Jit jit(options, make_fake_backend(state));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 60; ++r) {
        const std::int64_t channels = 1 + (t * 5 + r) % 7;
        const Kernel k = jit.compile(small_spec(), {1, 16, channels}, avx2_options());
        if (k.input_shape()[2] != channels) wrong++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const CacheStats s = jit.stats();
  EXPECT_LE(s.entries, 3u);
  EXPECT_EQ(s.misses, static_cast<std::uint64_t>(state.generated.load()));
  EXPECT_EQ(s.misses - s.evictions, s.entries);
}

TEST(Jit, FailuresAreNotCached) {
  FakeBackendState state;
  state.fail_next = 1;
  Jit jit(JitOptions{}, make_fake_backend(state));
  EXPECT_THROW(jit.compile(small_spec(), {1, 32, 4}, avx2_options()), std::runtime_error);
  EXPECT_EQ(jit.stats().entries, 0u);
  EXPECT_NO_THROW(jit.compile(small_spec(), {1, 32, 4}, avx2_options()));
  EXPECT_EQ(state.generated.load(), 2);
  EXPECT_EQ(jit.stats().entries, 1u);
}

TEST(Jit, InvalidSpecsThrowKerasErrors) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  Conv1DSpec bad = small_spec();
  bad.filters = 6;
  bad.groups = 4;
  try {
    jit.compile(bad, {1, 32, 4}, avx2_options());
    FAIL() << "filters=6 groups=4 must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.argument(), "groups") << e.what();
  }
  Conv1DSpec valid = small_spec();
  valid.padding = Padding::kValid;
  valid.kernel_size = 5;
  EXPECT_THROW(jit.compile(valid, {1, 3, 4}, avx2_options()), Error);  // output length <= 0
  EXPECT_EQ(state.generated.load(), 0);
  EXPECT_EQ(jit.stats().entries, 0u);
  CompileOptions negative = avx2_options();
  negative.threads = -1;
  try {
    jit.compile(small_spec(), {1, 32, 4}, negative);
    FAIL() << "threads=-1 must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidValue);
    EXPECT_EQ(e.argument(), "threads");
  }
}

TEST(Jit, IsaFromTheEnvironment) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  {
    ScopedEnv env("CONVJIT_ISA", "avx2");
    EXPECT_EQ(jit.compile(small_spec(), {1, 32, 4}).isa(), Isa::kAvx2);
  }
  {
    ScopedEnv env("CONVJIT_ISA", "neon");
    try {
      jit.compile(small_spec(), {1, 32, 4});
      FAIL() << "CONVJIT_ISA=neon must throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnknownName);
      EXPECT_EQ(e.argument(), "isa");
    }
  }
  {
    ScopedEnv env("CONVJIT_ISA", std::nullopt);
    EXPECT_EQ(jit.compile(small_spec(), {1, 32, 4}).isa(),
              host_supports(Isa::kAvx512) ? Isa::kAvx512 : Isa::kAvx2);
  }
}

TEST(Jit, ForcingAnIsaTheHostLacks) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  CompileOptions o;
  o.isa = Isa::kAvx512;
  if (host_supports(Isa::kAvx512)) {
    EXPECT_EQ(jit.compile(small_spec(), {1, 32, 4}, o).isa(), Isa::kAvx512);
    return;
  }
  try {
    jit.compile(small_spec(), {1, 32, 4}, o);
    FAIL() << "isa=avx512 on a host without AVX-512 must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_EQ(e.argument(), "isa");
  }
  EXPECT_EQ(state.generated.load(), 0);
  // Code for another CPU can still be generated and read, but not run.
  o.allow_unsupported_isa = true;
  const Kernel k = jit.compile(small_spec(), {1, 32, 4}, o);
  EXPECT_EQ(k.isa(), Isa::kAvx512);
  EXPECT_NE(k.disassemble().find("isa: avx512"), std::string::npos);
  const auto w =
      k.pack_weights(testing::small_ints(96, 1).data(), testing::small_ints(8, 2).data());
  std::vector<float> in(128), out(256);
  try {
    k.run(in.data(), w, out.data(), 1, 32);
    FAIL() << "running AVX-512 code on this host must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_EQ(e.argument(), "isa");
  }
  // The same through CONVJIT_ISA.
  ScopedEnv env("CONVJIT_ISA", "avx512");
  CompileOptions cross;
  cross.allow_unsupported_isa = true;
  EXPECT_EQ(jit.compile(small_spec(), {1, 32, 4}, cross).isa(), Isa::kAvx512);
  EXPECT_THROW(jit.compile(small_spec(), {1, 32, 4}), Error);
}

TEST(Jit, DisassemblyHasHeaderAndAnnotations) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  const Kernel k = jit.compile(small_spec(), {1, 32, 4}, avx2_options());
  const std::string text = k.disassemble();
  EXPECT_EQ(text.rfind("; kernel: fake_avx2_c4_f8_k3\n", 0), 0u) << text;
  EXPECT_NE(text.find("; schedule: "), std::string::npos) << text;
  EXPECT_NE(text.find("; problem: "), std::string::npos) << text;
  // The fake's trampoline: mov rsi, rdi; mov rdi, imm; mov rax, imm; jmp rax.
  EXPECT_NE(text.find("; entry\n000000:  mov rsi, rdi\n; load context\n000003:  mov"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("; tail call\n"), std::string::npos) << text;
  EXPECT_NE(text.find("jmp rax"), std::string::npos) << text;
}

TEST(Jit, DumpWritesBinaryAndAssembly) {
  char dir_template[] = "/tmp/convjit_dump_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  Kernel k;
  {
    ScopedEnv env("CONVJIT_DUMP", dir);
    k = jit.compile(small_spec(), {2, kDynamic, 4}, avx2_options());
  }
  const std::string stem = dir + "/fake_avx2_c4_f8_k3_n2_ldyn";
  std::ifstream bin(stem + ".bin", std::ios::binary);
  ASSERT_TRUE(bin.good()) << stem << ".bin missing";
  const std::string bytes((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), k.code_size());
  std::ifstream s(stem + ".s");
  ASSERT_TRUE(s.good()) << stem << ".s missing";
  std::stringstream text;
  text << s.rdbuf();
  const std::string asm_text = text.str();
  EXPECT_NE(asm_text.find("; kernel: fake_avx2_c4_f8_k3"), std::string::npos);
  EXPECT_NE(asm_text.find("jmp rax"), std::string::npos);
  std::remove((stem + ".bin").c_str());
  std::remove((stem + ".s").c_str());
  std::remove(dir.c_str());
}

TEST(Jit, DumpErrorsNeverReachTheHost) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  ScopedEnv env("CONVJIT_DUMP", "/nonexistent/convjit/dump/dir");
  EXPECT_NO_THROW(jit.compile(small_spec(), {1, 32, 4}, avx2_options()));
  EXPECT_NO_THROW(jit.compile(small_spec(), {1, 40, 4}, avx2_options()));
  EXPECT_EQ(state.generated.load(), 2);
}

/// Every mapping of this process that is both writable and executable.
std::vector<std::string> writable_executable_mappings() {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> bad;
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream words(line);
    std::string range, perms;
    words >> range >> perms;
    if (perms.size() >= 3 && perms[1] == 'w' && perms[2] == 'x') bad.push_back(line);
  }
  return bad;
}

/// The permissions of the mapping that holds `address`.
std::string mapping_permissions(const void* address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  while (std::getline(maps, line)) {
    std::istringstream words(line);
    std::string range, perms;
    words >> range >> perms;
    const auto dash = range.find('-');
    const auto lo = std::stoull(range.substr(0, dash), nullptr, 16);
    const auto hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (a >= lo && a < hi) return perms;
  }
  return "";
}

TEST(Jit, CodeIsNeverWritableAndExecutable) {
  FakeBackendState state;
  Jit jit(JitOptions{}, make_fake_backend(state));
  std::vector<Kernel> kernels;
  for (std::int64_t length : {8, 16, 32}) {
    kernels.push_back(jit.compile(small_spec(), {1, length, 4}, avx2_options()));
  }
  EXPECT_EQ(writable_executable_mappings(), std::vector<std::string>{});
  // And the fake's code page really is read+execute.
  detail::Problem p = detail::make_problem(small_spec(), {1, 32, 4});
  testing::FakeKernel fake(p, detail::default_schedule(p, Isa::kAvx2), &state);
  EXPECT_EQ(mapping_permissions(fake.code()).substr(0, 3), "r-x");
}

TEST(Jit, DefaultJitIsProcessWide) {
  EXPECT_EQ(&Jit::default_jit(), &Jit::default_jit());
  EXPECT_EQ(Jit::default_jit().capacity(), 256u);
}

TEST(Jit, EmptyKernelThrows) {
  const Kernel k;
  EXPECT_TRUE(k.empty());
  try {
    k.name();
    FAIL() << "an empty Kernel must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidValue);
    EXPECT_EQ(e.argument(), "kernel");
  }
  EXPECT_THROW(k.pack_weights(nullptr, nullptr), Error);
}

}  // namespace
}  // namespace convjit
