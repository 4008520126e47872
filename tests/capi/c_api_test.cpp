// The C API (convjit.h): every function, its results against the C++ API and a direct
// computation, and its error paths (status codes, thread-local messages, NULL handles).
#include "convjit/convjit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "capi/c_handles.hpp"
#include "convjit/convjit.hpp"
#include "convjit/version.hpp"

namespace {

using namespace convjit::capi_test;  // NOLINT: the handle owners

std::vector<float> small_values(std::size_t n, int modulus, float offset) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(static_cast<int>(i * 7 % modulus)) + offset;
  return v;
}

/// A channels_last Conv1D computed directly (valid/causal padding, linear or relu).
std::vector<float> direct(const std::vector<float>& x, const std::vector<float>& w,
                          const std::vector<float>& b, std::int64_t length, std::int64_t c,
                          std::int64_t f, std::int64_t k, std::int64_t d, bool causal, bool relu) {
  const std::int64_t pad = causal ? (k - 1) * d : 0;
  const std::int64_t out_len = causal ? length : length - (k - 1) * d;
  std::vector<float> y(out_len * f);
  for (std::int64_t t = 0; t < out_len; ++t) {
    for (std::int64_t o = 0; o < f; ++o) {
      double sum = b.empty() ? 0.0 : b[o];
      for (std::int64_t tap = 0; tap < k; ++tap) {
        const std::int64_t s = t + tap * d - pad;
        if (s < 0 || s >= length) continue;
        for (std::int64_t i = 0; i < c; ++i) sum += double(x[s * c + i]) * w[(tap * c + i) * f + o];
      }
      y[t * f + o] = static_cast<float>(relu && sum < 0 ? 0.0 : sum);
    }
  }
  return y;
}

const std::int64_t kDynamicShape[3] = {1, CONVJIT_DYNAMIC, 4};
const char* const kSpec = "filters=8,kernel_size=3,dilation_rate=2,padding=causal,activation=relu";

TEST(CApiVersion, MatchesHeaderAndCMake) {
  EXPECT_STREQ(convjit_version(), CONVJIT_VERSION_STRING);
  EXPECT_EQ(std::string(convjit_version()), std::to_string(CONVJIT_VERSION_MAJOR) + "." +
                                                std::to_string(CONVJIT_VERSION_MINOR) + "." +
                                                std::to_string(CONVJIT_VERSION_PATCH));
  EXPECT_EQ(CONVJIT_VERSION_NUMBER,
            CONVJIT_VERSION_MAJOR * 10000 + CONVJIT_VERSION_MINOR * 100 + CONVJIT_VERSION_PATCH);
  EXPECT_STREQ(convjit::kVersionString, CONVJIT_VERSION_STRING);
}

TEST(CApiStatus, NamesAreStableAndMirrorErrorCodes) {
  EXPECT_STREQ(convjit_status_name(CONVJIT_OK), "ok");
  EXPECT_STREQ(convjit_status_name(CONVJIT_INVALID_VALUE), "invalid_value");
  EXPECT_STREQ(convjit_status_name(CONVJIT_INVALID_TYPE), "invalid_type");
  EXPECT_STREQ(convjit_status_name(CONVJIT_UNKNOWN_NAME), "unknown_name");
  EXPECT_STREQ(convjit_status_name(CONVJIT_INCOMPATIBLE_ARGUMENTS), "incompatible_arguments");
  EXPECT_STREQ(convjit_status_name(CONVJIT_INVALID_SHAPE), "invalid_shape");
  EXPECT_STREQ(convjit_status_name(CONVJIT_SHAPE_MISMATCH), "shape_mismatch");
  EXPECT_STREQ(convjit_status_name(CONVJIT_PARSE_ERROR), "parse_error");
  EXPECT_STREQ(convjit_status_name(CONVJIT_ILLEGAL_SCHEDULE), "illegal_schedule");
  EXPECT_STREQ(convjit_status_name(CONVJIT_UNSUPPORTED), "unsupported");
  EXPECT_STREQ(convjit_status_name(CONVJIT_RESOURCE_LIMIT), "resource_limit");
  EXPECT_STREQ(convjit_status_name(CONVJIT_IO_ERROR), "io_error");
  EXPECT_STREQ(convjit_status_name(CONVJIT_OUT_OF_MEMORY), "out_of_memory");
  EXPECT_STREQ(convjit_status_name(CONVJIT_INTERNAL_ERROR), "internal_error");
  EXPECT_STREQ(convjit_status_name(static_cast<convjit_status>(55)), "unknown_status");
  EXPECT_STREQ(convjit_status_name(static_cast<convjit_status>(-1)), "unknown_status");
  for (int code = 0; code <= static_cast<int>(convjit::ErrorCode::kIoError); ++code) {
    EXPECT_STREQ(convjit_status_name(static_cast<convjit_status>(code + 1)),
                 convjit::error_code_name(static_cast<convjit::ErrorCode>(code)));
  }
}

TEST(CApiIsa, HostSupportAgreesWithCpp) {
  EXPECT_EQ(convjit_host_supports_isa(CONVJIT_ISA_AUTO), 1);
  EXPECT_EQ(convjit_host_supports_isa(CONVJIT_ISA_AVX2),
            convjit::host_supports(convjit::Isa::kAvx2) ? 1 : 0);
  EXPECT_EQ(convjit_host_supports_isa(CONVJIT_ISA_AVX512),
            convjit::host_supports(convjit::Isa::kAvx512) ? 1 : 0);
  EXPECT_EQ(convjit_host_supports_isa(static_cast<convjit_isa>(9)), 0);
}

TEST(CApiCompile, RunMatchesDirectComputationAndCppApiForSeveralLengths) {
  JitHandle jit;
  ASSERT_EQ(convjit_jit_create(8, &jit.j), CONVJIT_OK) << convjit_last_error();
  KernelHandle kernel;
  ASSERT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, nullptr, &kernel.k), CONVJIT_OK)
      << convjit_last_error();
  EXPECT_STREQ(convjit_last_error(), "");

  std::int64_t kernel_floats = 0, bias_floats = 0;
  ASSERT_EQ(convjit_kernel_weight_sizes(kernel.k, &kernel_floats, &bias_floats), CONVJIT_OK);
  EXPECT_EQ(kernel_floats, 3 * 4 * 8);
  EXPECT_EQ(bias_floats, 8);
  const std::vector<float> w = small_values(kernel_floats, 5, -2.0f);
  const std::vector<float> b = small_values(bias_floats, 3, -1.0f);
  WeightsHandle weights;
  ASSERT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), b.data(), &weights.w), CONVJIT_OK);
  std::size_t packed = 0;
  ASSERT_EQ(convjit_weights_size(weights.w, &packed), CONVJIT_OK);
  EXPECT_GE(packed, static_cast<std::size_t>(kernel_floats));

  const convjit::Kernel cpp =
      convjit::compile(convjit::parse_spec(kSpec), {1, convjit::kDynamic, 4});
  const convjit::PackedWeights cpp_weights = cpp.pack_weights(w.data(), b.data());
  for (const std::int64_t length : {1, 7, 8, 9, 100}) {
    std::int64_t in_size = 0, out_size = 0;
    ASSERT_EQ(convjit_kernel_input_size(kernel.k, 1, length, &in_size), CONVJIT_OK);
    ASSERT_EQ(convjit_kernel_output_size(kernel.k, 1, length, &out_size), CONVJIT_OK);
    EXPECT_EQ(in_size, length * 4);
    EXPECT_EQ(out_size, length * 8);
    std::int64_t out_shape[3] = {-7, -7, -7};
    ASSERT_EQ(convjit_kernel_output_shape(kernel.k, 1, length, out_shape), CONVJIT_OK);
    EXPECT_EQ(out_shape[0], 1);
    EXPECT_EQ(out_shape[1], length);
    EXPECT_EQ(out_shape[2], 8);

    const std::vector<float> x = small_values(in_size, 9, -4.0f);
    std::vector<float> y(out_size, -99.0f), y_cpp(out_size, -77.0f);
    ASSERT_EQ(convjit_kernel_run(kernel.k, x.data(), weights.w, y.data(), 1, length), CONVJIT_OK)
        << convjit_last_error();
    cpp.run(x.data(), cpp_weights, y_cpp.data(), 1, length);
    const std::vector<float> want = direct(x, w, b, length, 4, 8, 3, 2, true, true);
    ASSERT_EQ(want.size(), y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      EXPECT_EQ(y[i], y_cpp[i]) << "length " << length << " i " << i;
      EXPECT_NEAR(y[i], want[i], 1e-4) << "length " << length << " i " << i;
    }
  }
  // One kernel for every length: one miss, in this Jit.
  convjit_cache_stats stats{};
  ASSERT_EQ(convjit_jit_stats(jit.j, &stats), CONVJIT_OK);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_GT(stats.compile_ns_total, 0u);
}

TEST(CApiCompile, KerasGetConfigJsonAndChannelsFirstGroupsWithoutBias) {
  const char* json =
      R"({"name": "c", "filters": 6, "kernel_size": [3], "strides": [1], "padding": "valid",
          "data_format": "channels_first", "dilation_rate": [1], "groups": 2,
          "activation": "linear", "use_bias": false})";
  const std::int64_t shape[3] = {2, 4, 10};  // (N, C, L)
  KernelHandle kernel;
  ASSERT_EQ(convjit_compile(convjit_default_jit(), json, shape, nullptr, &kernel.k), CONVJIT_OK)
      << convjit_last_error();
  std::int64_t kernel_floats = -1, bias_floats = -1;
  ASSERT_EQ(convjit_kernel_weight_sizes(kernel.k, &kernel_floats, &bias_floats), CONVJIT_OK);
  EXPECT_EQ(kernel_floats, 3 * (4 / 2) * 6);
  EXPECT_EQ(bias_floats, 0);
  std::int64_t in_shape[3] = {};
  ASSERT_EQ(convjit_kernel_input_shape(kernel.k, in_shape), CONVJIT_OK);
  EXPECT_EQ(in_shape[0], 2);
  EXPECT_EQ(in_shape[1], 4);
  EXPECT_EQ(in_shape[2], 10);
  std::int64_t out_shape[3] = {};
  ASSERT_EQ(convjit_kernel_output_shape(kernel.k, 2, 10, out_shape), CONVJIT_OK);
  EXPECT_EQ(out_shape[0], 2);
  EXPECT_EQ(out_shape[1], 6);
  EXPECT_EQ(out_shape[2], 8);

  const std::vector<float> w = small_values(kernel_floats, 4, -1.5f);
  WeightsHandle weights;
  // use_bias=false: a bias is an error, NULL is right.
  const std::vector<float> bias(6, 1.0f);
  EXPECT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), bias.data(), &weights.w),
            CONVJIT_INVALID_VALUE);
  EXPECT_EQ(weights.w, nullptr);
  ASSERT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), nullptr, &weights.w), CONVJIT_OK);

  const std::vector<float> x = small_values(2 * 4 * 10, 7, -3.0f);
  std::vector<float> y(2 * 6 * 8);
  ASSERT_EQ(convjit_kernel_run(kernel.k, x.data(), weights.w, y.data(), 2, 10), CONVJIT_OK);
  // Direct grouped channels_first convolution.
  for (int n = 0; n < 2; ++n) {
    for (int o = 0; o < 6; ++o) {
      const int g = o / 3;
      for (int t = 0; t < 8; ++t) {
        double sum = 0;
        for (int k = 0; k < 3; ++k) {
          for (int i = 0; i < 2; ++i) {
            sum += double(x[(n * 4 + g * 2 + i) * 10 + t + k]) * w[(k * 2 + i) * 6 + o];
          }
        }
        EXPECT_NEAR(y[(n * 6 + o) * 8 + t], sum, 1e-4) << n << " " << o << " " << t;
      }
    }
  }
}

TEST(CApiKernel, QueriesNameScheduleBackendIsaCodeAndDisassembly) {
  KernelHandle kernel;
  ASSERT_EQ(convjit_compile(convjit_default_jit(), kSpec, kDynamicShape, nullptr, &kernel.k),
            CONVJIT_OK);
  const convjit::Kernel cpp =
      convjit::compile(convjit::parse_spec(kSpec), {1, convjit::kDynamic, 4});
  const char* text = nullptr;
  ASSERT_EQ(convjit_kernel_name(kernel.k, &text), CONVJIT_OK);
  EXPECT_EQ(std::string(text), cpp.name());
  EXPECT_NE(std::string(text).find("causal_relu"), std::string::npos) << text;
  ASSERT_EQ(convjit_kernel_schedule(kernel.k, &text), CONVJIT_OK);
  EXPECT_EQ(std::string(text), cpp.schedule_text());
  ASSERT_EQ(convjit_kernel_backend(kernel.k, &text), CONVJIT_OK);
  EXPECT_STREQ(text, "xbyak");
  convjit_isa isa = CONVJIT_ISA_AUTO;
  ASSERT_EQ(convjit_kernel_isa(kernel.k, &isa), CONVJIT_OK);
  EXPECT_EQ(isa, cpp.isa() == convjit::Isa::kAvx512 ? CONVJIT_ISA_AVX512 : CONVJIT_ISA_AVX2);
  std::size_t bytes = 0;
  ASSERT_EQ(convjit_kernel_code_size(kernel.k, &bytes), CONVJIT_OK);
  EXPECT_EQ(bytes, cpp.code_size());
  EXPECT_GT(bytes, 16u);

  const char* assembly = nullptr;
  ASSERT_EQ(convjit_kernel_disassemble(kernel.k, &assembly), CONVJIT_OK);
  EXPECT_EQ(std::string(assembly), cpp.disassemble());
  EXPECT_EQ(std::string(assembly).rfind("; kernel: ", 0), 0u) << assembly;
  const char* again = nullptr;
  ASSERT_EQ(convjit_kernel_disassemble(kernel.k, &again), CONVJIT_OK);
  EXPECT_EQ(again, assembly);  // made once, owned by the handle
}

TEST(CApiOptions, ThreadsScheduleAndIsa) {
  JitHandle jit;
  ASSERT_EQ(convjit_jit_create(4, &jit.j), CONVJIT_OK);
  convjit_compile_options options{};
  options.threads = 2;
  options.schedule = "tile_t=2";
  KernelHandle kernel;
  ASSERT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &kernel.k), CONVJIT_OK)
      << convjit_last_error();
  const char* schedule = nullptr;
  ASSERT_EQ(convjit_kernel_schedule(kernel.k, &schedule), CONVJIT_OK);
  EXPECT_NE(std::string(schedule).find("tile_t=2"), std::string::npos) << schedule;
  EXPECT_NE(std::string(schedule).find("threads=2"), std::string::npos) << schedule;

  KernelHandle bad;
  options.schedule = "tile_t=banana";
  EXPECT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &bad.k), CONVJIT_PARSE_ERROR);
  EXPECT_EQ(bad.k, nullptr);
  EXPECT_STRNE(convjit_last_error(), "");

  options = convjit_compile_options{};
  options.isa = 7;
  EXPECT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &bad.k), CONVJIT_UNKNOWN_NAME);
  EXPECT_STREQ(convjit_last_error_argument(), "isa");
  EXPECT_NE(std::string(convjit_last_error()).find("7"), std::string::npos);

  options = convjit_compile_options{};
  options.reserved = 1;
  EXPECT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &bad.k), CONVJIT_INVALID_VALUE);
  EXPECT_STREQ(convjit_last_error_argument(), "options");

  options = convjit_compile_options{};
  options.threads = -1;
  EXPECT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &bad.k), CONVJIT_INVALID_VALUE);
  EXPECT_STREQ(convjit_last_error_argument(), "threads");
}

TEST(CApiOptions, LayoutIsFixedForForeignFunctionInterfaces) {
  static_assert(sizeof(convjit_compile_options) == 48, "options layout");
  static_assert(offsetof(convjit_compile_options, schedule) == 8, "options layout");
  static_assert(offsetof(convjit_compile_options, backend) == 20, "options layout");
  static_assert(offsetof(convjit_compile_options, cpu) == 24, "options layout");
  static_assert(offsetof(convjit_compile_options, tuning_db) == 32, "options layout");
  static_assert(offsetof(convjit_compile_options, reserved) == 44, "options layout");
  static_assert(sizeof(convjit_cache_stats) == 40, "stats layout");
  convjit_compile_options zero{};
  KernelHandle kernel;
  ASSERT_EQ(convjit_compile(convjit_default_jit(), kSpec, kDynamicShape, &zero, &kernel.k),
            CONVJIT_OK);
  const char* backend = nullptr;
  ASSERT_EQ(convjit_kernel_backend(kernel.k, &backend), CONVJIT_OK);
  EXPECT_EQ(std::string(backend),
            convjit::compile(convjit::parse_spec(kSpec), {1, convjit::kDynamic, 4}).backend());
}

TEST(CApiOptions, BackendCpuAndTuningDatabase) {
  JitHandle jit;
  ASSERT_EQ(convjit_jit_create(8, &jit.j), CONVJIT_OK);
  convjit_compile_options options{};
  options.backend = CONVJIT_BACKEND_LLVM;
  options.cpu = "x86-64";
  options.no_tuning_db = 1;
  KernelHandle kernel;
  ASSERT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &kernel.k), CONVJIT_OK)
      << convjit_last_error();
  const char* backend = nullptr;
  ASSERT_EQ(convjit_kernel_backend(kernel.k, &backend), CONVJIT_OK);
  EXPECT_EQ(std::string(backend).rfind("llvm", 0), 0u) << backend;  // "llvm-x86-64"
  const std::vector<float> w = small_values(3 * 4 * 8, 5, -2.0f), b(8, 0.5f);
  const std::vector<float> x = small_values(20 * 4, 9, -4.0f);
  std::vector<float> y(20 * 8);
  WeightsHandle weights;
  ASSERT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), b.data(), &weights.w), CONVJIT_OK);
  ASSERT_EQ(convjit_kernel_run(kernel.k, x.data(), weights.w, y.data(), 1, 20), CONVJIT_OK);
  const std::vector<float> want = direct(x, w, b, 20, 4, 8, 3, 2, true, true);
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-4) << i;

  KernelHandle bad;
  options = convjit_compile_options{};
  options.backend = 3;
  EXPECT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &bad.k), CONVJIT_UNKNOWN_NAME);
  EXPECT_STREQ(convjit_last_error_argument(), "backend");
  options.backend = CONVJIT_BACKEND_XBYAK;
  options.cpu = "x86-64";
  EXPECT_EQ(convjit_compile(jit.j, kSpec, kDynamicShape, &options, &bad.k),
            CONVJIT_INCOMPATIBLE_ARGUMENTS);
  EXPECT_STREQ(convjit_last_error_argument(), "cpu");
  EXPECT_EQ(bad.k, nullptr);
}

TEST(CApiOptions, Avx512OnAHostWithoutItOnlyForReading) {
  if (convjit_host_supports_isa(CONVJIT_ISA_AVX512)) {
    GTEST_SKIP() << "this CPU has AVX-512: the unsupported-ISA path cannot be reached";
  }
  convjit_compile_options options{};
  options.isa = CONVJIT_ISA_AVX512;
  KernelHandle kernel;
  EXPECT_EQ(convjit_compile(convjit_default_jit(), kSpec, kDynamicShape, &options, &kernel.k),
            CONVJIT_UNSUPPORTED);
  EXPECT_STREQ(convjit_last_error_argument(), "isa");
  options.allow_unsupported_isa = 1;
  ASSERT_EQ(convjit_compile(convjit_default_jit(), kSpec, kDynamicShape, &options, &kernel.k),
            CONVJIT_OK);
  convjit_isa isa = CONVJIT_ISA_AUTO;
  ASSERT_EQ(convjit_kernel_isa(kernel.k, &isa), CONVJIT_OK);
  EXPECT_EQ(isa, CONVJIT_ISA_AVX512);
  const char* assembly = nullptr;
  ASSERT_EQ(convjit_kernel_disassemble(kernel.k, &assembly), CONVJIT_OK);
  EXPECT_NE(std::string(assembly).find("zmm"), std::string::npos);
  const std::vector<float> w(3 * 4 * 8, 1.0f), b(8, 0.0f), x(4 * 10, 1.0f);
  std::vector<float> y(8 * 10);
  WeightsHandle weights;
  ASSERT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), b.data(), &weights.w), CONVJIT_OK);
  EXPECT_EQ(convjit_kernel_run(kernel.k, x.data(), weights.w, y.data(), 1, 10),
            CONVJIT_UNSUPPORTED);
}

TEST(CApiErrors, SpecErrorsCarryKerasMessagesAndArguments) {
  struct Case {
    const char* spec;
    convjit_status status;
    const char* argument;
    const char* message_part;
  };
  const Case cases[] = {
      {"filters=0,kernel_size=3", CONVJIT_INVALID_VALUE, "filters", "filters"},
      {"filters=4,kernel_size=3,padding=full", CONVJIT_UNKNOWN_NAME, "padding", "full"},
      {"filters=4,kernel_size=3,activation=ReLU", CONVJIT_UNKNOWN_NAME, "activation", "ReLU"},
      {"filters=4,kernel_size=2.5", CONVJIT_INVALID_TYPE, "kernel_size", "2.5"},
      {"filters=4,kernel_size=3,strides=2,dilation_rate=2", CONVJIT_INCOMPATIBLE_ARGUMENTS, "",
       "dilation"},
      {"filters=4,kernel_size=3,groups=3", CONVJIT_INCOMPATIBLE_ARGUMENTS, "", "groups"},
      {"{\"filters\": 4,", CONVJIT_PARSE_ERROR, "", ""},
  };
  for (const Case& c : cases) {
    convjit_kernel* kernel = reinterpret_cast<convjit_kernel*>(0x1);  // must be reset
    EXPECT_EQ(convjit_compile(convjit_default_jit(), c.spec, kDynamicShape, nullptr, &kernel),
              c.status)
        << c.spec << ": " << convjit_last_error();
    EXPECT_EQ(kernel, nullptr) << c.spec;
    if (c.argument[0] != '\0') {
      EXPECT_STREQ(convjit_last_error_argument(), c.argument) << c.spec;
    }
    EXPECT_NE(std::string(convjit_last_error()).find(c.message_part), std::string::npos)
        << c.spec << ": " << convjit_last_error();
    EXPECT_STRNE(convjit_last_error(), "") << c.spec;
  }
  // The shape: 6 channels with groups=4.
  const std::int64_t shape[3] = {1, 10, 6};
  convjit_kernel* kernel = nullptr;
  EXPECT_EQ(convjit_compile(convjit_default_jit(), "filters=4,kernel_size=3,groups=4", shape,
                            nullptr, &kernel),
            CONVJIT_INVALID_SHAPE)
      << convjit_last_error();
  const std::int64_t short_shape[3] = {1, 2, 4};
  EXPECT_EQ(convjit_compile(convjit_default_jit(), "filters=4,kernel_size=3", short_shape, nullptr,
                            &kernel),
            CONVJIT_INVALID_SHAPE)
      << convjit_last_error();
  EXPECT_EQ(kernel, nullptr);
}

TEST(CApiErrors, RunErrors) {
  const std::int64_t shape[3] = {1, 16, 4};
  KernelHandle kernel, other;
  ASSERT_EQ(
      convjit_compile(convjit_default_jit(), "filters=8,kernel_size=3", shape, nullptr, &kernel.k),
      CONVJIT_OK);
  ASSERT_EQ(
      convjit_compile(convjit_default_jit(), "filters=8,kernel_size=5", shape, nullptr, &other.k),
      CONVJIT_OK);
  const std::vector<float> w(3 * 4 * 8, 0.5f), w5(5 * 4 * 8, 0.5f), b(8, 0.0f), x(16 * 4, 1.0f);
  std::vector<float> y(14 * 8);
  WeightsHandle weights, other_weights;
  ASSERT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), b.data(), &weights.w), CONVJIT_OK);
  ASSERT_EQ(convjit_kernel_pack_weights(other.k, w5.data(), b.data(), &other_weights.w),
            CONVJIT_OK);

  // A static length that differs from the compiled one.
  EXPECT_EQ(convjit_kernel_run(kernel.k, x.data(), weights.w, y.data(), 1, 15),
            CONVJIT_SHAPE_MISMATCH);
  // Weights packed for another layout.
  EXPECT_EQ(convjit_kernel_run(kernel.k, x.data(), other_weights.w, y.data(), 1, 16),
            CONVJIT_SHAPE_MISMATCH);
  EXPECT_STREQ(convjit_last_error_argument(), "weights");
  // NULL buffers.
  EXPECT_EQ(convjit_kernel_run(kernel.k, nullptr, weights.w, y.data(), 1, 16),
            CONVJIT_INVALID_VALUE);
  EXPECT_STREQ(convjit_last_error_argument(), "input");
  EXPECT_EQ(convjit_kernel_run(kernel.k, x.data(), weights.w, nullptr, 1, 16),
            CONVJIT_INVALID_VALUE);
  EXPECT_STREQ(convjit_last_error_argument(), "output");
  // NULL kernel weights.
  convjit_weights* none = nullptr;
  EXPECT_EQ(convjit_kernel_pack_weights(kernel.k, nullptr, b.data(), &none), CONVJIT_INVALID_VALUE);
  EXPECT_EQ(none, nullptr);
  // The same calls succeed and clear the error.
  EXPECT_EQ(convjit_kernel_run(kernel.k, x.data(), weights.w, y.data(), 1, 16), CONVJIT_OK);
  EXPECT_STREQ(convjit_last_error(), "");
  EXPECT_STREQ(convjit_last_error_argument(), "");
  EXPECT_FLOAT_EQ(y[0], 3 * 4 * 0.5f);
  // Sizes that overflow.
  std::int64_t size = 5;
  KernelHandle dynamic;
  ASSERT_EQ(convjit_compile(convjit_default_jit(), "filters=8,kernel_size=3", kDynamicShape,
                            nullptr, &dynamic.k),
            CONVJIT_OK);
  EXPECT_EQ(convjit_kernel_input_size(dynamic.k, 1, INT64_MAX / 2, &size), CONVJIT_RESOURCE_LIMIT);
  EXPECT_EQ(size, 0);
}

TEST(CApiErrors, NullHandlesAndOutPointersNeverCrash) {
  const std::int64_t shape[3] = {1, 8, 4};
  KernelHandle kernel;
  ASSERT_EQ(
      convjit_compile(convjit_default_jit(), "filters=4,kernel_size=3", shape, nullptr, &kernel.k),
      CONVJIT_OK);
  const std::vector<float> w(3 * 4 * 4, 1.0f), b(4, 0.0f), x(8 * 4, 1.0f);
  std::vector<float> y(6 * 4);
  WeightsHandle weights;
  ASSERT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), b.data(), &weights.w), CONVJIT_OK);

  auto expect_null = [](convjit_status status, const char* argument, const char* call) {
    EXPECT_EQ(status, CONVJIT_INVALID_VALUE) << call;
    EXPECT_STREQ(convjit_last_error_argument(), argument) << call;
    EXPECT_NE(std::string(convjit_last_error()).find("NULL"), std::string::npos) << call;
  };
  convjit_kernel* k = nullptr;
  convjit_jit* j = nullptr;
  convjit_weights* wh = nullptr;
  std::int64_t v = 3, shape_out[3] = {9, 9, 9}, v2 = 4;
  const char* text = "untouched";
  std::size_t bytes = 5;
  convjit_isa isa = CONVJIT_ISA_AVX2;
  convjit_cache_stats stats{};
  stats.hits = 9;

  expect_null(convjit_jit_create(4, nullptr), "out", "jit_create");
  expect_null(convjit_jit_stats(nullptr, &stats), "jit", "jit_stats");
  EXPECT_EQ(stats.hits, 0u);
  expect_null(convjit_jit_stats(convjit_default_jit(), nullptr), "out", "jit_stats out");
  expect_null(convjit_jit_clear(nullptr), "jit", "jit_clear");
  expect_null(convjit_compile(nullptr, "filters=4,kernel_size=3", shape, nullptr, &k), "jit",
              "compile jit");
  expect_null(convjit_compile(convjit_default_jit(), nullptr, shape, nullptr, &k), "spec",
              "compile spec");
  expect_null(
      convjit_compile(convjit_default_jit(), "filters=4,kernel_size=3", nullptr, nullptr, &k),
      "input_shape", "compile shape");
  expect_null(
      convjit_compile(convjit_default_jit(), "filters=4,kernel_size=3", shape, nullptr, nullptr),
      "out", "compile out");
  EXPECT_EQ(k, nullptr);

  expect_null(convjit_kernel_input_shape(nullptr, shape_out), "kernel", "input_shape");
  EXPECT_EQ(shape_out[0], 0);
  expect_null(convjit_kernel_input_shape(kernel.k, nullptr), "shape", "input_shape out");
  expect_null(convjit_kernel_output_shape(nullptr, 1, 8, shape_out), "kernel", "output_shape");
  expect_null(convjit_kernel_output_shape(kernel.k, 1, 8, nullptr), "shape", "output_shape out");
  expect_null(convjit_kernel_input_size(nullptr, 1, 8, &v), "kernel", "input_size");
  EXPECT_EQ(v, 0);
  expect_null(convjit_kernel_input_size(kernel.k, 1, 8, nullptr), "floats", "input_size out");
  expect_null(convjit_kernel_output_size(nullptr, 1, 8, &v), "kernel", "output_size");
  expect_null(convjit_kernel_output_size(kernel.k, 1, 8, nullptr), "floats", "output_size out");
  v = 3;
  expect_null(convjit_kernel_weight_sizes(nullptr, &v, &v2), "kernel", "weight_sizes");
  EXPECT_EQ(v, 0);
  EXPECT_EQ(v2, 0);
  expect_null(convjit_kernel_weight_sizes(kernel.k, nullptr, &v2), "kernel_floats",
              "weight_sizes kernel_floats");
  expect_null(convjit_kernel_weight_sizes(kernel.k, &v, nullptr), "bias_floats",
              "weight_sizes bias_floats");
  expect_null(convjit_kernel_name(nullptr, &text), "kernel", "name");
  EXPECT_EQ(text, nullptr);
  expect_null(convjit_kernel_name(kernel.k, nullptr), "name", "name out");
  expect_null(convjit_kernel_schedule(nullptr, &text), "kernel", "schedule");
  expect_null(convjit_kernel_schedule(kernel.k, nullptr), "text", "schedule out");
  expect_null(convjit_kernel_backend(nullptr, &text), "kernel", "backend");
  expect_null(convjit_kernel_backend(kernel.k, nullptr), "name", "backend out");
  expect_null(convjit_kernel_isa(nullptr, &isa), "kernel", "isa");
  EXPECT_EQ(isa, CONVJIT_ISA_AUTO);
  expect_null(convjit_kernel_isa(kernel.k, nullptr), "isa", "isa out");
  expect_null(convjit_kernel_code_size(nullptr, &bytes), "kernel", "code_size");
  EXPECT_EQ(bytes, 0u);
  expect_null(convjit_kernel_code_size(kernel.k, nullptr), "bytes", "code_size out");
  expect_null(convjit_kernel_disassemble(nullptr, &text), "kernel", "disassemble");
  expect_null(convjit_kernel_disassemble(kernel.k, nullptr), "text", "disassemble out");
  expect_null(convjit_kernel_pack_weights(nullptr, w.data(), b.data(), &wh), "kernel",
              "pack_weights");
  expect_null(convjit_kernel_pack_weights(kernel.k, w.data(), b.data(), nullptr), "out",
              "pack_weights out");
  EXPECT_EQ(wh, nullptr);
  expect_null(convjit_weights_size(nullptr, &bytes), "weights", "weights_size");
  expect_null(convjit_weights_size(weights.w, nullptr), "floats", "weights_size out");
  expect_null(convjit_kernel_run(nullptr, x.data(), weights.w, y.data(), 1, 8), "kernel", "run");
  expect_null(convjit_kernel_run(kernel.k, x.data(), nullptr, y.data(), 1, 8), "weights",
              "run weights");

  // Destroying NULL, and the default Jit, does nothing.
  convjit_kernel_destroy(nullptr);
  convjit_weights_destroy(nullptr);
  convjit_jit_destroy(nullptr);
  convjit_jit_destroy(convjit_default_jit());
  EXPECT_EQ(convjit_jit_stats(convjit_default_jit(), &stats), CONVJIT_OK);
  EXPECT_EQ(j, nullptr);
}

TEST(CApiJit, CapacityStatsClearAndKernelsOutliveTheJit) {
  convjit_jit* jit = reinterpret_cast<convjit_jit*>(0x1);
  EXPECT_EQ(convjit_jit_create(0, &jit), CONVJIT_INVALID_VALUE);
  EXPECT_EQ(jit, nullptr);
  EXPECT_STREQ(convjit_last_error_argument(), "capacity");

  ASSERT_EQ(convjit_jit_create(1, &jit), CONVJIT_OK);
  KernelHandle a, a2, b;
  ASSERT_EQ(convjit_compile(jit, "filters=4,kernel_size=3", kDynamicShape, nullptr, &a.k),
            CONVJIT_OK);
  ASSERT_EQ(convjit_compile(jit, "filters=4,kernel_size=3", kDynamicShape, nullptr, &a2.k),
            CONVJIT_OK);
  ASSERT_EQ(convjit_compile(jit, "filters=4,kernel_size=5", kDynamicShape, nullptr, &b.k),
            CONVJIT_OK);
  convjit_cache_stats stats{};
  ASSERT_EQ(convjit_jit_stats(jit, &stats), CONVJIT_OK);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(stats.entries, 1u);
  ASSERT_EQ(convjit_jit_clear(jit), CONVJIT_OK);
  ASSERT_EQ(convjit_jit_stats(jit, &stats), CONVJIT_OK);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.misses, 2u);
  convjit_jit_destroy(jit);

  // The kernels still run after their Jit is gone.
  const std::vector<float> w(3 * 4 * 4, 1.0f), b4(4, 0.5f), x(6 * 4, 1.0f);
  std::vector<float> y(4 * 4);
  WeightsHandle weights;
  ASSERT_EQ(convjit_kernel_pack_weights(a.k, w.data(), b4.data(), &weights.w), CONVJIT_OK);
  ASSERT_EQ(convjit_kernel_run(a.k, x.data(), weights.w, y.data(), 1, 6), CONVJIT_OK);
  for (float v : y) EXPECT_FLOAT_EQ(v, 3 * 4 + 0.5f);
  // Weights packed through one handle fit the other handle of the same kernel.
  ASSERT_EQ(convjit_kernel_run(a2.k, x.data(), weights.w, y.data(), 1, 6), CONVJIT_OK);
}

TEST(CApiThreads, LastErrorIsPerThreadAndRunsAreConcurrent) {
  KernelHandle kernel;
  ASSERT_EQ(convjit_compile(convjit_default_jit(), kSpec, kDynamicShape, nullptr, &kernel.k),
            CONVJIT_OK);
  const std::vector<float> w = small_values(3 * 4 * 8, 5, -2.0f), b(8, 0.25f);
  WeightsHandle weights;
  ASSERT_EQ(convjit_kernel_pack_weights(kernel.k, w.data(), b.data(), &weights.w), CONVJIT_OK);

  // An error on this thread stays while other threads succeed and fail.
  convjit_kernel* bad = nullptr;
  ASSERT_EQ(convjit_compile(convjit_default_jit(), "filters=0,kernel_size=1", kDynamicShape,
                            nullptr, &bad),
            CONVJIT_INVALID_VALUE);
  const std::string mine = convjit_last_error();

  constexpr int kThreads = 4;
  std::vector<std::vector<float>> outputs(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::int64_t length = 50;
      const std::vector<float> x = small_values(length * 4, 9, -4.0f);
      outputs[i].assign(length * 8, 0.0f);
      for (int rep = 0; rep < 20; ++rep) {
        if (convjit_kernel_run(kernel.k, x.data(), weights.w, outputs[i].data(), 1, length) !=
            CONVJIT_OK) {
          errors[i] = convjit_last_error();
          return;
        }
      }
      convjit_kernel* k = nullptr;
      if (convjit_compile(convjit_default_jit(), "filters=4,kernel_size=3,padding=full",
                          kDynamicShape, nullptr, &k) != CONVJIT_UNKNOWN_NAME) {
        errors[i] = "expected unknown_name";
      } else if (std::string(convjit_last_error_argument()) != "padding") {
        errors[i] = std::string("argument ") + convjit_last_error_argument();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(std::string(convjit_last_error()), mine);
  EXPECT_STREQ(convjit_last_error_argument(), "filters");
  const std::vector<float> want =
      direct(small_values(50 * 4, 9, -4.0f), w, b, 50, 4, 8, 3, 2, true, true);
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(errors[i], "") << "thread " << i;
    ASSERT_EQ(outputs[i].size(), want.size());
    for (std::size_t j = 0; j < want.size(); ++j) {
      EXPECT_NEAR(outputs[i][j], want[j], 1e-4) << "thread " << i << " element " << j;
    }
  }
}

}  // namespace
