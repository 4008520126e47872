// The LLVM backend through the public API and its detail interface: target validation,
// backend selection and cache keys, the LLVM assembly listing and dumps, AVX-512 (generated,
// not run where the CPU lacks it), threads, empty outputs, and AOT generation in process.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "compiler/backend/llvm/llvm_backend.hpp"
#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "convjit/jit.hpp"
#include "runtime/test_util.hpp"

namespace convjit {
namespace {

CompileOptions llvm_options(const std::string& cpu = "", Isa isa = Isa::kAuto) {
  CompileOptions o;
  o.backend = Backend::kLlvm;
  o.cpu = cpu;
  o.isa = isa;
  o.threads = 1;
  return o;
}

template <typename F>
ErrorCode error_code_of(F&& f, std::string* argument = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (argument) *argument = e.argument();
    return e.code();
  }
  ADD_FAILURE() << "no convjit::Error thrown";
  return ErrorCode::kIoError;
}

TEST(LlvmTarget, ValidatesCpuNamesBeforeLlvmSeesThem) {
  std::string arg;
  EXPECT_EQ(error_code_of([] { detail::llvm_target("znver99", Isa::kAuto); }, &arg),
            ErrorCode::kUnknownName);
  EXPECT_EQ(arg, "cpu");
  EXPECT_FALSE(detail::is_valid_llvm_cpu("skylake-avx1024"));
  EXPECT_FALSE(detail::is_valid_llvm_cpu(""));
  EXPECT_TRUE(detail::is_valid_llvm_cpu("znver4"));
  EXPECT_TRUE(detail::is_valid_llvm_cpu("x86-64"));
}

TEST(LlvmTarget, FeaturesAndScheduleIsa) {
  const auto base = detail::llvm_target("x86-64", Isa::kAuto);
  EXPECT_FALSE(base.avx2);
  EXPECT_FALSE(base.fma);
  EXPECT_EQ(base.schedule_isa, Isa::kAvx2);  // 8-lane schedule, SSE register pairs
  EXPECT_TRUE(detail::host_can_run(base));
  const auto v4 = detail::llvm_target("", Isa::kAvx512);
  EXPECT_EQ(v4.cpu, "x86-64-v4");
  EXPECT_TRUE(v4.avx512);
  EXPECT_EQ(v4.schedule_isa, Isa::kAvx512);
  EXPECT_EQ(detail::host_can_run(v4), host_supports(Isa::kAvx512));
  const auto zen4_as_avx2 = detail::llvm_target("znver4", Isa::kAvx2);
  EXPECT_EQ(zen4_as_avx2.schedule_isa, Isa::kAvx2);
  std::string arg;
  EXPECT_EQ(error_code_of([] { detail::llvm_target("haswell", Isa::kAvx512); }, &arg),
            ErrorCode::kIncompatibleArguments);
  EXPECT_EQ(arg, "isa");
}

/// The flags of /proc/cpuinfo ("" without one).
std::string cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) return line + " ";
  }
  return "";
}

bool has_flag(const std::string& flags, const std::string& flag) {
  return flags.find(" " + flag + " ") != std::string::npos;
}

TEST(LlvmTarget, EveryFeatureTheCpuImpliesIsCheckedAgainstTheHost) {
  // The check tested only AVX2 and AVX-512 F/VL/BW/DQ: knl (AVX-512 ER/PF, PREFETCHWT1) and
  // sapphirerapids (AVX512-FP16, AMX, ...) were accepted on CPUs without them.
  const std::string flags = cpuinfo_flags();
  struct Named {
    const char* cpu;
    const char* feature;  // LLVM's name of a feature the CPU implies
    const char* flag;     // its /proc/cpuinfo flag
  };
  for (const Named& n : {Named{"knl", "avx512er", "avx512er"},
                         Named{"sapphirerapids", "avx512fp16", "avx512_fp16"}}) {
    SCOPED_TRACE(n.cpu);
    const detail::LlvmTarget t = detail::llvm_target(n.cpu, Isa::kAuto);
    const std::vector<std::string> missing = detail::missing_host_features(t);
    if (flags.empty() || has_flag(flags, n.flag)) continue;  // a host that has it
    EXPECT_NE(std::find(missing.begin(), missing.end(), n.feature), missing.end());
    EXPECT_FALSE(detail::host_can_run(t));
    Jit jit;
    std::string arg;
    try {
      jit.compile(parse_spec("filters=8,kernel_size=3"), {1, 20, 4}, llvm_options(n.cpu));
      ADD_FAILURE() << "compiled for " << n.cpu << " without allow_unsupported_isa";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
      EXPECT_EQ(e.argument(), "cpu");
      EXPECT_NE(std::string(e.what()).find(n.feature), std::string::npos) << e.what();
    }
    // Code for reading is still made.
    CompileOptions read_only = llvm_options(n.cpu);
    read_only.allow_unsupported_isa = true;
    EXPECT_FALSE(jit.compile(parse_spec("filters=8,kernel_size=3"), {1, 20, 4}, read_only)
                     .disassemble()
                     .empty());
  }
  // Features LLVM emits only for their intrinsics are not needed to run a kernel: virtual
  // machines hide some (this host's: xsaves, pku, invpcid, rdseed, mwaitx), and haswell's or
  // znver4's code runs without them.
  for (const char* cpu : {"haswell", "znver4", "x86-64-v3", "x86-64-v4", "host"}) {
    for (const std::string& f :
         detail::missing_host_features(detail::llvm_target(cpu, Isa::kAuto))) {
      for (const char* system : {"xsaves", "pku", "invpcid", "rdseed", "mwaitx", "rdpid",
                                 "wbnoinvd", "rdpru", "shstk", "amx-tile"}) {
        EXPECT_NE(f, system) << cpu;
      }
    }
  }
  EXPECT_TRUE(detail::missing_host_features(detail::llvm_target("x86-64", Isa::kAuto)).empty());
  if (has_flag(flags, "avx2") && has_flag(flags, "fma") && has_flag(flags, "bmi2") &&
      has_flag(flags, "f16c") && has_flag(flags, "movbe") && has_flag(flags, "abm")) {
    EXPECT_TRUE(detail::host_can_run(detail::llvm_target("haswell", Isa::kAuto)));
  }
}

TEST(LlvmJit, BackendSelectionAndCacheKeys) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA";
  Jit jit;
  const Conv1DSpec spec = parse_spec("filters=8,kernel_size=3");
  const Shape3 shape{1, 20, 4};
  CompileOptions xo;
  xo.backend = Backend::kXbyak;
  const Kernel x = jit.compile(spec, shape, xo);
  const Kernel l = jit.compile(spec, shape, llvm_options());
  const Kernel b = jit.compile(spec, shape, llvm_options("x86-64"));
  EXPECT_EQ(x.backend(), "xbyak");
  EXPECT_EQ(l.backend(), "llvm");
  EXPECT_EQ(b.backend(), "llvm-x86-64");
  EXPECT_EQ(b.isa(), Isa::kAvx2);  // the schedule's ISA: 8-float vectors
  EXPECT_EQ(jit.stats().misses, 3u);
  jit.compile(spec, shape, llvm_options());
  jit.compile(spec, shape, llvm_options("x86-64"));
  EXPECT_EQ(jit.stats().misses, 3u);
  EXPECT_EQ(jit.stats().hits, 2u);
  // Weights packed for one backend are refused by the other (layouts are keyed by backend).
  std::vector<float> w(3 * 4 * 8, 0.5f), bias(8, 0.0f);
  const PackedWeights pw = x.pack_weights(w.data(), bias.data());
  std::vector<float> in(20 * 4, 1.0f), out(static_cast<std::size_t>(l.output_size(1, 20)));
  EXPECT_EQ(error_code_of([&] { l.run(in.data(), pw, out.data(), 1, 20); }),
            ErrorCode::kShapeMismatch);
}

TEST(LlvmJit, OptionErrors) {
  Jit jit;
  const Conv1DSpec spec = parse_spec("filters=8,kernel_size=3");
  std::string arg;
  CompileOptions xo;
  xo.backend = Backend::kXbyak;
  xo.cpu = "x86-64";
  EXPECT_EQ(error_code_of(
                [&] {
                  jit.compile(spec, {1, 20, 4}, xo);
                },
                &arg),
            ErrorCode::kIncompatibleArguments);
  EXPECT_EQ(arg, "cpu");
  EXPECT_EQ(error_code_of(
                [&] {
                  jit.compile(spec, {1, 20, 4}, llvm_options("pentium9"));
                },
                &arg),
            ErrorCode::kUnknownName);
  EXPECT_EQ(arg, "cpu");
  if (!host_supports(Isa::kAvx512)) {
    EXPECT_EQ(error_code_of(
                  [&] {
                    jit.compile(spec, {1, 20, 4}, llvm_options("znver4"));
                  },
                  &arg),
              ErrorCode::kUnsupported);
    EXPECT_EQ(arg, "cpu");
  }
  EXPECT_EQ(find_backend("llvm"), Backend::kLlvm);
  EXPECT_EQ(find_backend("xbyak"), Backend::kXbyak);
  EXPECT_FALSE(find_backend("gcc").has_value());
  EXPECT_STREQ(backend_name(Backend::kAuto), "auto");
}

std::string listing(const std::string& cpu, Isa isa, bool allow_unsupported = false) {
  CompileOptions o = llvm_options(cpu, isa);
  o.allow_unsupported_isa = allow_unsupported;
  Jit jit;
  return jit
      .compile(parse_spec("filters=16,kernel_size=3,padding=causal,activation=relu"),
               {1, kDynamic, 8}, o)
      .disassemble();
}

TEST(LlvmAssembly, Avx2ListingIsLlvmIntelSyntaxWithLoopNames) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA";
  const std::string s = listing("", Isa::kAvx2);
  EXPECT_NE(s.find("; backend: llvm"), std::string::npos);
  EXPECT_NE(s.find("LLVM 16"), std::string::npos);
  EXPECT_NE(s.find("interior_tiles"), std::string::npos) << "loop blocks keep the IR's tags";
  EXPECT_NE(s.find("left_edge"), std::string::npos);
  EXPECT_NE(s.find("vfmadd"), std::string::npos);
  EXPECT_NE(s.find("ymmword ptr ["), std::string::npos) << "Intel syntax";
  EXPECT_EQ(s.find("zmm"), std::string::npos) << "AVX2 code must not use zmm";
  EXPECT_EQ(s.find("%ymm"), std::string::npos) << "not AT&T syntax";
}

TEST(LlvmAssembly, X86_64ListingIsSse2Only) {
  const std::string s = listing("x86-64", Isa::kAuto);
  EXPECT_NE(s.find("xmm"), std::string::npos);
  EXPECT_EQ(s.find("ymm"), std::string::npos) << "SSE2 code must not use ymm";
  EXPECT_EQ(s.find("vfmadd"), std::string::npos) << "no FMA on baseline x86-64";
  EXPECT_NE(s.find("mulps"), std::string::npos);
}

TEST(LlvmAvx512, GeneratesZmmCodeAndRunsOnlyWhereSupported) {
  CompileOptions o = llvm_options("", Isa::kAvx512);
  o.allow_unsupported_isa = true;
  Jit jit;
  const Kernel k = jit.compile(parse_spec("filters=20,kernel_size=3,padding=same,activation=gelu"),
                               {2, kDynamic, 8}, o);
  const std::string s = k.disassemble();
  EXPECT_NE(s.find("zmm"), std::string::npos);
  EXPECT_EQ(k.isa(), Isa::kAvx512);
  if (!host_supports(Isa::kAvx512)) {
    std::vector<float> w(3 * 8 * 20, 0.1f), b(20, 0.0f), in(2 * 30 * 8, 1.0f), out(2 * 30 * 20);
    const PackedWeights pw = k.pack_weights(w.data(), b.data());
    EXPECT_EQ(error_code_of([&] { k.run(in.data(), pw, out.data(), 2, 30); }),
              ErrorCode::kUnsupported);
    GTEST_SKIP() << "AVX-512 code generated and disassembled; this CPU cannot run it";
  }
  std::vector<float> w(3 * 8 * 20), b(20), in(2 * 30 * 8), out(2 * 30 * 20);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-1, 1);
  for (float& x : w) x = d(rng);
  for (float& x : b) x = d(rng);
  for (float& x : in) x = d(rng);
  const PackedWeights pw = k.pack_weights(w.data(), b.data());
  k.run(in.data(), pw, out.data(), 2, 30);
  const Conv1DSpec spec = parse_spec("filters=20,kernel_size=3,padding=same,activation=gelu");
  const detail::Problem p = detail::make_problem(spec, {2, 30, 8});
  std::vector<float> want(out.size());
  detail::reference_conv1d(p, in.data(), w.data(), b.data(), want.data());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], want[i], 1e-4) << i;
}

TEST(LlvmJit, ThreadsGiveIdenticalBitsAndEmptyOutputsWork) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA";
  const Conv1DSpec spec = parse_spec("filters=12,kernel_size=5,padding=valid,activation=silu");
  Jit jit;
  CompileOptions one = llvm_options("", Isa::kAvx2);
  CompileOptions three = one;
  three.threads = 3;
  const Kernel k1 = jit.compile(spec, {kDynamic, kDynamic, 6}, one);
  const Kernel k3 = jit.compile(spec, {kDynamic, kDynamic, 6}, three);
  std::vector<float> w(5 * 6 * 12), b(12), in(7 * 200 * 6);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-1, 1);
  for (float& x : w) x = d(rng);
  for (float& x : b) x = d(rng);
  for (float& x : in) x = d(rng);
  const PackedWeights pw = k1.pack_weights(w.data(), b.data());
  std::vector<float> o1(static_cast<std::size_t>(k1.output_size(7, 200)));
  std::vector<float> o3(o1.size(), -1.0f);
  k1.run(in.data(), pw, o1.data(), 7, 200);
  k3.run(in.data(), pw, o3.data(), 7, 200);
  EXPECT_EQ(0, std::memcmp(o1.data(), o3.data(), o1.size() * sizeof(float)));
  // Length 4 < kernel 5 under valid padding: refused, as a static compile and Keras refuse it;
  // nothing written.
  std::fill(o1.begin(), o1.end(), 42.0f);
  EXPECT_EQ(error_code_of([&] { k1.output_size(1, 4); }), ErrorCode::kInvalidShape);
  EXPECT_EQ(error_code_of([&] { k1.run(in.data(), pw, o1.data(), 1, 4); }),
            ErrorCode::kInvalidShape);
  k1.run(in.data(), pw, o1.data(), 0, 5);  // empty batch
  EXPECT_EQ(o1[0], 42.0f);
  // Length 5: one step per sample, equal to the first step of the long run.
  std::vector<float> step(static_cast<std::size_t>(k1.output_size(1, 5)));
  ASSERT_EQ(step.size(), 12u);
  k1.run(in.data(), pw, step.data(), 1, 5);
  for (std::size_t i = 0; i < step.size(); ++i) EXPECT_EQ(step[i], o3[i]) << i;
}

TEST(LlvmDump, WritesLlvmIrBesideCodeAndListing) {
  const auto dir = std::filesystem::temp_directory_path() / "convjit_llvm_dump_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    const testing::ScopedEnv dump("CONVJIT_DUMP", dir.string());  // reloads the environment
    Jit jit;
    jit.compile(parse_spec("filters=4,kernel_size=2"), {1, 9, 3}, llvm_options("x86-64"));
  }
  int ll = 0, s = 0, bin = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    ll += ext == ".ll";
    s += ext == ".s";
    bin += ext == ".bin";
    if (ext == ".ll") {
      std::ifstream in(e.path());
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      EXPECT_NE(text.find("define void @convjit_entry"), std::string::npos);
      EXPECT_NE(text.find("<8 x float>"), std::string::npos);
    }
  }
  EXPECT_EQ(ll, 1);
  EXPECT_EQ(s, 1);
  EXPECT_EQ(bin, 1);
  std::filesystem::remove_all(dir);
}

TEST(LlvmAot, GeneratesAnElfObjectAndADocumentedHeader) {
  const Conv1DSpec spec = parse_spec("filters=6,kernel_size=3,padding=same,activation=softmax");
  const auto t = detail::llvm_target("x86-64", Isa::kAuto);
  const detail::AotKernel k = detail::generate_aot(spec, {kDynamic, 50, 4}, t, "my_conv");
  ASSERT_GE(k.object.size(), 4u);
  EXPECT_EQ(k.object.substr(0, 4), std::string("\x7f"
                                               "ELF"));
  EXPECT_NE(k.header.find("void my_conv(const float* input, const float* packed_weights"),
            std::string::npos);
  EXPECT_NE(k.header.find("int64_t batch"), std::string::npos);    // dynamic batch
  EXPECT_EQ(k.header.find("int64_t length,"), std::string::npos);  // fixed length
  EXPECT_NE(k.header.find("#define MY_CONV_LENGTH 50"), std::string::npos);
  EXPECT_NE(k.header.find("my_conv_pack_weights"), std::string::npos);
  EXPECT_NE(k.llvm_ir.find("define void @my_conv("), std::string::npos);
  EXPECT_EQ(k.llvm_ir.find("convjit_entry"), std::string::npos);
  EXPECT_EQ(k.assembly.find("ymm"), std::string::npos);
  std::string arg;
  EXPECT_EQ(error_code_of(
                [&] {
                  detail::generate_aot(spec, {1, 50, 4}, t, "3bad-name");
                },
                &arg),
            ErrorCode::kInvalidValue);
  EXPECT_EQ(arg, "prefix");
  // A keyword is an identifier no header can declare a function with (`aot --name int`
  // wrote a header that did not compile).
  for (const char* keyword : {"int", "while", "class", "_Bool", "static_assert", "xor"}) {
    EXPECT_EQ(error_code_of(
                  [&] {
                    detail::generate_aot(spec, {1, 50, 4}, t, keyword);
                  },
                  &arg),
              ErrorCode::kInvalidValue)
        << keyword;
    EXPECT_EQ(arg, "prefix");
  }
  EXPECT_NO_THROW(detail::generate_aot(spec, {1, 50, 4}, t, "int_"));
}

}  // namespace
}  // namespace convjit

namespace convjit {
namespace {

TEST(LlvmJit, CodeMemoryIsNeverWritableAndExecutable) {
  Jit jit;
  const Kernel k = jit.compile(parse_spec("filters=8,kernel_size=3,activation=tanh"),
                               {1, kDynamic, 4}, llvm_options("x86-64"));
  ASSERT_FALSE(k.empty());
  std::ifstream maps("/proc/self/maps");
  ASSERT_TRUE(maps.good());
  std::string line;
  int mappings = 0;
  while (std::getline(maps, line)) {
    ++mappings;
    const std::string perms = line.substr(line.find(' ') + 1, 4);
    EXPECT_FALSE(perms[1] == 'w' && perms[2] == 'x') << "writable and executable: " << line;
  }
  EXPECT_GT(mappings, 0);
}

}  // namespace
}  // namespace convjit
