// Sizes the machine cannot hold are refused with the library's resource-limit error before
// anything is allocated, on every path a host reaches: tensors, layer build, layer call and
// the engines. Never std::bad_alloc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "convjit/convjit.hpp"
#include "runtime/engine.hpp"
#include "runtime/resource_limits.hpp"
#include "spec/expect_error.hpp"

namespace convjit {
namespace {

using test::expect_error;

TEST(MemoryLimits, LayerBuildRefusesWeightsAsCompileDoes) {
  // The issue: 3 x 2000 x 4194304 floats (100 GB) of weights; compile refuses the same spec
  // with a clear `filters` error, build threw std::bad_alloc.
  if (detail::physical_memory_bytes() > (std::int64_t{100} << 30)) {
    GTEST_SKIP() << "this machine holds the issue's 100 GB of weights";
  }
  const Conv1DSpec spec = parse_spec("filters=4194304,kernel_size=3");
  expect_error(
      [&] {
        compile(spec, {1, kDynamic, 2000});
      },
      ErrorCode::kResourceLimit, "more than the", "filters");
  Conv1D layer(spec);
  expect_error(
      [&] {
        layer.build({1, -1, 2000});
      },
      ErrorCode::kResourceLimit,
      "The weights of this Conv1D (kernel (3, 2000, 4194304) and bias) needs", "filters");
  EXPECT_FALSE(layer.built());  // nothing committed
  // A layer the machine can hold still builds.
  Conv1D small(parse_spec("filters=64,kernel_size=3"));
  small.build({1, -1, 2000});
  EXPECT_TRUE(small.built());
}

TEST(MemoryLimits, TensorOfMoreThanTheMachineHoldsIsRefused) {
  expect_error([] { Tensor t({1LL << 40}); }, ErrorCode::kResourceLimit,
               "A tensor of shape (1099511627776,) needs 4398046511104 bytes", "shape");
  expect_error(
      [] {
        Tensor t({1LL << 20, 1LL << 20, 4}, 1.0f);
      },
      ErrorCode::kResourceLimit, "A tensor of shape (1048576, 1048576, 4)", "shape");
  EXPECT_EQ(Tensor({3, 4}).size(), 12);
}

TEST(MemoryLimits, LayerCallWhoseOutputCannotBeAllocatedIsRefused) {
  // 2^20 filters over 2^20 steps: 4 TB of output from a 4 MB input and 4 MB of weights.
  Conv1D layer(parse_spec("filters=1048576,kernel_size=1,kernel_initializer=zeros"));
  std::vector<float> x(std::size_t{1} << 20, 1.0f);
  const Tensor input = Tensor::view(x.data(), {1, 1 << 20, 1});
  expect_error([&] { layer(input); }, ErrorCode::kResourceLimit,
               "The output of this Conv1D, shape (1, 1048576, 1048576), needs", "inputs");
  for (const std::string& engine : detail::engine_names()) {
    SCOPED_TRACE(engine);
    layer.set_engine(engine);
    expect_error([&] { layer(input); }, ErrorCode::kResourceLimit, "The output of this Conv1D",
                 "inputs");
    std::vector<float> w(1 << 20, 0.0f), b(1 << 20, 0.0f);
    expect_error(
        [&] {
          detail::run_engine(engine, layer.spec(), {1, 1 << 20, 1}, x.data(), w.data(), b.data());
        },
        ErrorCode::kResourceLimit, "The output of this Conv1D", "input_shape");
  }
}

}  // namespace
}  // namespace convjit
