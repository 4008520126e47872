// Differential grid of the Xbyak backend against the reference: paddings x strides x
// dilations x groups (dense, grouped, depthwise x1 and x2) x data formats x lengths
// around vector-width edges x filters around vector multiples x ISAs x tile shapes.
// Every run checks canaries around output and scratch and that split ranges give the
// same bits as one call.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "compiler/backend/xbyak/generate.hpp"
#include "jit_harness.hpp"

namespace convjit::detail::jit_test {
namespace {

struct Shape {
  const char* what;
  std::int64_t channels, filters, groups;
  Strategy strategy;
};

struct Tile {
  int t, oc, unroll_ic;
  LoopOrder order;
  std::int64_t block_t;
};

std::vector<Shape> shapes(int v) {
  return {
      {"dense F=V-1", 5, v - 1, 1, Strategy::kDirect},
      {"dense F=V+1", 3, v + 1, 1, Strategy::kDirect},
      {"dense F=2V+3", 7, 2 * v + 3, 1, Strategy::kDirect},
      {"groups=2", 6, 2 * (v + 1), 2, Strategy::kDirect},
      {"depthwise x1", v + 3, v + 3, v + 3, Strategy::kDepthwise},
      {"depthwise x1 C=2V", 2 * v, 2 * v, 2 * v, Strategy::kDepthwise},
      {"depthwise x2 (grouped direct)", 5, 10, 5, Strategy::kDirect},
  };
}

std::vector<Tile> tiles(Isa isa) {
  if (isa == Isa::kAvx512) {
    return {{6, 2, 2, LoopOrder::kBatchChannelTime, 0}, {3, 4, 1, LoopOrder::kBatchTimeChannel, 7}};
  }
  return {{3, 2, 2, LoopOrder::kBatchChannelTime, 0}, {4, 3, 1, LoopOrder::kBatchTimeChannel, 5}};
}

struct StrideDilation {
  std::int64_t s, d;
};

// Runs the grid for one ISA; returns the number of cases run. Failures are reported
// (at most 10 messages).
int run_grid(Isa isa, bool execute) {
  const int v = isa == Isa::kAvx512 ? 16 : 8;
  const std::vector<std::int64_t> lengths = {1, 3, v - 1, v, v + 1, 2 * v + 1};
  const StrideDilation sds[] = {{1, 1}, {2, 1}, {3, 1}, {1, 2}, {1, 3}};
  int cases = 0, failures = 0;
  std::uint32_t seed = 1;
  for (const Tile& tile : tiles(isa)) {
    for (const Shape& shape : shapes(v)) {
      for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
        for (const StrideDilation& sd : sds) {
          for (DataFormat fmt : {DataFormat::kChannelsLast, DataFormat::kChannelsFirst}) {
            for (std::int64_t len : lengths) {
              ConvCase c;
              c.batch = 2;
              c.length = len;
              c.channels = shape.channels;
              c.filters = shape.filters;
              c.groups = shape.groups;
              c.kernel = 3;
              c.stride = sd.s;
              c.dilation = sd.d;
              c.padding = pad;
              c.format = fmt;
              c.use_bias = (seed % 3) != 0;
              const Problem p = make_case_problem(c);
              Schedule s = make_schedule(isa, tile.t, tile.oc, shape.strategy, tile.unroll_ic);
              s.loop_order = tile.order;
              s.block_t = tile.block_t / tile.t * tile.t;  // a multiple of tile_t
              const auto kernel = generate_xbyak(p, s);
              ++cases;
              if (!execute) continue;
              const CaseData d = make_data(p, seed++);
              const CheckResult r = run_and_check(*kernel, p, d, /*check_splits=*/true);
              if (!r.ok && ++failures <= 10) {
                ADD_FAILURE() << shape.what << ": " << r.message;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(failures, 0);
  return cases;
}

TEST(JitGrid, Avx2MatchesReference) {
  const int cases = run_grid(Isa::kAvx2, /*execute=*/true);
  EXPECT_EQ(cases, 2 * 7 * 3 * 5 * 2 * 6);
}

TEST(JitGrid, Avx512MatchesReference) {
  // Code generation is checked everywhere; execution needs an AVX-512 host.
  const bool execute = host_has_avx512();
  const int cases = run_grid(Isa::kAvx512, execute);
  EXPECT_EQ(cases, 2 * 7 * 3 * 5 * 2 * 6);
  if (!execute) GTEST_SKIP() << "host has no AVX-512: " << cases << " kernels generated, not run";
}

// Other kernel sizes, and lengths shorter than the kernel.
TEST(JitGrid, KernelSizesAndShortInputs) {
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const bool execute = isa == Isa::kAvx2 || host_has_avx512();
    const int v = isa == Isa::kAvx512 ? 16 : 8;
    std::uint32_t seed = 100;
    for (std::int64_t k : {1, 2, 5, 7}) {
      for (std::int64_t len : {std::int64_t{1}, k - 1, k, k + 1, 3 * std::int64_t{v} + 2}) {
        if (len < 1) continue;
        for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
          for (const Shape& shape : shapes(v)) {
            ConvCase c;
            c.batch = 1;
            c.length = len;
            c.kernel = k;
            c.channels = shape.channels;
            c.filters = shape.filters;
            c.groups = shape.groups;
            c.padding = pad;
            c.stride = k == 2 ? 2 : 1;
            c.dilation = k == 5 ? 2 : 1;
            const Problem p = make_case_problem(c);
            const auto kernel = generate_xbyak(
                p, make_schedule(isa, isa == Isa::kAvx512 ? 8 : 4, 2, shape.strategy, 3));
            if (!execute) continue;
            const CheckResult r = run_and_check(*kernel, p, make_data(p, seed++), true);
            EXPECT_TRUE(r.ok) << shape.what << ": " << r.message;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace convjit::detail::jit_test
