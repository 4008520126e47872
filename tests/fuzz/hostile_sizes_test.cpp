// Hostile sizes and hostile use of the run API: refused with convjit::Error naming the
// argument, before any code is generated or any buffer allocated.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convjit/convjit.hpp"
#include "runtime/compiled_kernel.hpp"

namespace convjit {
namespace {

/// Options with a cache of `capacity` kernels (other fields at their defaults).
JitOptions jit_options(std::size_t capacity) {
  JitOptions o;
  o.capacity = capacity;
  return o;
}

/// A backend that counts its calls and never generates: refusals must come before it.
struct CountingBackend {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<const detail::CodeGenerator> backend() const {
    auto counter = calls;
    auto b = std::make_shared<detail::CodeGenerator>();
    b->name = "counting";
    b->generate = [counter](std::shared_ptr<const detail::ir::ScheduledIr>)
        -> std::unique_ptr<detail::GeneratedKernel> {
      ++*counter;
      throw Error(ErrorCode::kUnsupported, "backend", "the counting backend never generates");
    };
    return b;
  }
};

Conv1DSpec spec_of(std::int64_t filters, std::int64_t kernel_size, std::int64_t strides = 1,
                   std::int64_t dilation = 1) {
  Conv1DSpec s;
  s.filters = filters;
  s.kernel_size = kernel_size;
  s.strides = strides;
  s.dilation_rate = dilation;
  return s;
}

struct HostileCase {
  const char* what;
  Conv1DSpec spec;
  Shape3 shape;
  const char* argument;
  const char* message;
};

TEST(HostileSizes, RefusedBeforeCodeIsGenerated) {
  const std::int64_t k1 = std::int64_t{1} << 10, k14 = std::int64_t{1} << 14;
  const std::vector<HostileCase> cases = {
      {"an input row beyond a 32-bit offset",
       spec_of(4, 1),
       {1, 4, std::int64_t{1} << 28},
       "input_shape",
       "one input row"},
      {"a receptive field beyond a 32-bit offset",
       spec_of(4, std::int64_t{1} << 29),
       {1, kDynamic, 1},
       "kernel_size",
       "receptive field"},
      {"a dilated receptive field",
       spec_of(4, std::int64_t{1} << 20, 1, k1),
       {1, kDynamic, 1},
       "dilation_rate",
       "receptive field"},
      {"a strided tile",
       spec_of(4, 1, std::int64_t{1} << 25),
       {1, kDynamic, 1},
       "strides",
       "strided input rows"},
      {"a tile of output rows",
       spec_of(std::int64_t{1} << 24, 1),
       {1, kDynamic, 4},
       "filters",
       "output rows"},
      {"a block of packed weights",
       spec_of(8, k14),
       {1, kDynamic, k14},
       "kernel_size",
       "packed weights"},
      {"weights beyond memory",
       spec_of(std::int64_t{1} << 22, 1),
       {1, kDynamic, 1 << 16},
       "filters",
       "memory"},
      {"a static input no buffer can hold",
       spec_of(4, 1),
       {std::int64_t{1} << 40, 1024, 4},
       "input_shape",
       "larger than any buffer"},
      {"K and F near 2^31 with 2^20 channels (products beyond 64 bits)",
       spec_of(2147483647, 2147483647),
       {1, kDynamic, std::int64_t{1} << 20},
       "kernel_size",
       "receptive field"},
  };
  CountingBackend counting;
  Jit jit(JitOptions{}, counting.backend());
  for (const HostileCase& c : cases) {
    try {
      jit.compile(c.spec, c.shape);
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kResourceLimit) << c.what << ": " << e.what();
      EXPECT_EQ(e.argument(), c.argument) << c.what << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
          << c.what << ": " << e.what();
    }
  }
  EXPECT_EQ(counting.calls->load(), 0) << "the backend was reached";
  // The real backend refuses them as well (and a legal spec reaches the counting one).
  for (const HostileCase& c : cases) {
    EXPECT_THROW(compile(c.spec, c.shape), Error) << c.what;
  }
  EXPECT_THROW(jit.compile(spec_of(4, 3), {1, 16, 4}), Error);
  EXPECT_EQ(counting.calls->load(), 1);
}

TEST(HostileSizes, RunsOfDynamicKernelsThatNoBufferCanHold) {
  const Kernel k = compile(spec_of(4, 1), {kDynamic, kDynamic, 4});
  const PackedWeights w =
      k.pack_weights(std::vector<float>(16, 1.0f).data(), std::vector<float>(4, 0.0f).data());
  std::vector<float> x(16), y(16);
  const std::int64_t big = std::int64_t{1} << 30;
  try {
    k.run(x.data(), w, y.data(), big, std::int64_t{1} << 20);  // 2^54 bytes of input
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kResourceLimit) << e.what();
    EXPECT_EQ(e.argument(), "length") << e.what();
  }
  try {
    k.run(x.data(), w, y.data(), big, big * big);  // element count beyond 64 bits
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kResourceLimit) << e.what();
  }
  // A run that fits is computed: 4 ones times 4 channels.
  x.assign(8, 1.0f);
  k.run(x.data(), w, y.data(), 1, 2);
  EXPECT_EQ(y[0], 4.0f);
  EXPECT_EQ(y[7], 4.0f);
}

// PackedWeights remember their kernel. A kernel freed after packing and another allocated
// at the same address must not be taken for the owner: the weights would be read with the
// wrong layout (an out-of-bounds read of the packed buffer).
TEST(HostileSizes, WeightsOfAFreedKernelNeverFitAnotherLayout) {
  Jit jit(jit_options(1));
  Conv1DSpec small = spec_of(8, 3), large = spec_of(64, 5);
  small.padding = large.padding = Padding::kSame;
  const std::vector<float> ws(3 * 4 * 8, 0.5f), bs(8, 0.0f);
  std::vector<float> x(16 * 4, 1.0f), y(16 * 64, 0.0f);
  for (int i = 0; i < 40; ++i) {
    PackedWeights packed;
    {
      Kernel a = jit.compile(small, {1, 16, 4});
      packed = a.pack_weights(ws.data(), bs.data());
    }
    jit.clear();  // the small kernel is freed now
    const Kernel b = jit.compile(large, {1, 16, 4});
    try {
      b.run(x.data(), packed, y.data(), 1, 16);
      ADD_FAILURE() << "iteration " << i << ": weights of another layout accepted";
      break;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kShapeMismatch);
      EXPECT_EQ(e.argument(), "weights");
    }
    // A recompiled kernel of the same layout takes them (layout comparison).
    jit.clear();
    const Kernel again = jit.compile(small, {1, 16, 4});
    again.run(x.data(), packed, y.data(), 1, 16);
    EXPECT_EQ(y[8 * 1], 0.5f * 3 * 4) << "interior output of the small kernel";
  }
}

TEST(HostileSizes, NullAndEmptyArgumentsOfEveryBufferEntry) {
  const Kernel k = compile(spec_of(4, 3), {2, 10, 3});
  const std::vector<float> ws(3 * 3 * 4, 1.0f), bs(4, 0.0f);
  auto code_of = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.argument() + ":" + error_code_name(e.code());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(code_of([&] { k.pack_weights(nullptr, bs.data()); }), "kernel:invalid_value");
  EXPECT_EQ(code_of([&] { k.pack_weights(ws.data(), nullptr); }), "bias:invalid_value");
  const PackedWeights w = k.pack_weights(ws.data(), bs.data());
  std::vector<float> x(2 * 10 * 3, 1.0f), y(2 * 8 * 4);
  EXPECT_EQ(code_of([&] { k.run(nullptr, w, y.data(), 2, 10); }), "input:invalid_value");
  EXPECT_EQ(code_of([&] { k.run(x.data(), w, nullptr, 2, 10); }), "output:invalid_value");
  EXPECT_EQ(code_of([&] { k.run(x.data(), PackedWeights{}, y.data(), 2, 10); }),
            "weights:invalid_value");
  EXPECT_EQ(code_of([&] { k.run(x.data(), w, y.data(), 3, 10); }), "batch:shape_mismatch");
  EXPECT_EQ(code_of([&] { k.run(x.data(), w, y.data(), 2, 11); }), "length:shape_mismatch");
  EXPECT_EQ(code_of([&] { Kernel{}.run(x.data(), w, y.data(), 2, 10); }), "kernel:invalid_value");
  EXPECT_EQ(code_of([&] { k.run(x.data(), w, y.data(), 2, 10); }), "accepted");
  EXPECT_EQ(y[0], 9.0f);
}

}  // namespace
}  // namespace convjit
