// The channels_first transposes of the Xbyak driver (8x8 register blocks plus scalar edges)
// against the definition, over sizes around the block and sub-ranges that start anywhere;
// every float outside the sub-range must be left alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "compiler/backend/xbyak/layout_transpose.hpp"

namespace convjit::detail {
namespace {

constexpr float kUntouched = -7.25f;

std::vector<float> counting(std::int64_t n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return v;
}

struct Range {
  std::int64_t t0, t1, c0, c1;
};

std::vector<Range> ranges(std::int64_t length, std::int64_t channels) {
  return {{0, length, 0, channels},
          {1, length, 3, channels},
          {length / 3, length - 1, 0, channels / 2 + 1},
          {length - 1, length, channels - 1, channels}};
}

// Runs one direction over every size and range. src_index/dst_index give the offsets of
// element (t, c) in the source and destination layouts (L time steps, C channels).
template <class Transpose, class SrcIndex, class DstIndex>
int check_transpose(Transpose transpose, SrcIndex src_index, DstIndex dst_index) {
  int checked = 0;
  for (const std::int64_t length : {1, 7, 8, 9, 16, 23, 64, 70}) {
    for (const std::int64_t channels : {1, 5, 8, 12, 17, 40}) {
      const std::vector<float> src = counting(channels * length);
      for (const Range r : ranges(length, channels)) {
        if (r.t0 >= r.t1 || r.c0 >= r.c1) continue;
        std::vector<float> dst(static_cast<std::size_t>(length * channels), kUntouched);
        transpose(src.data(), dst.data(), length, channels, r);
        for (std::int64_t t = 0; t < length; ++t) {
          for (std::int64_t c = 0; c < channels; ++c) {
            const bool inside = t >= r.t0 && t < r.t1 && c >= r.c0 && c < r.c1;
            const float want =
                inside ? src[static_cast<std::size_t>(src_index(t, c, length, channels))]
                       : kUntouched;
            EXPECT_EQ(dst[static_cast<std::size_t>(dst_index(t, c, length, channels))], want)
                << "L=" << length << " C=" << channels << " t=" << t << " c=" << c;
            if (::testing::Test::HasFailure()) return checked;
          }
        }
        ++checked;
      }
    }
  }
  return checked;
}

// Offsets of (t, c) in channels_first [C][L] and channels_last [L][C] rows.
std::int64_t first_index(std::int64_t t, std::int64_t c, std::int64_t length, std::int64_t) {
  return c * length + t;
}
std::int64_t last_index(std::int64_t t, std::int64_t c, std::int64_t, std::int64_t channels) {
  return t * channels + c;
}

TEST(LayoutTranspose, ToChannelsLastMatchesDefinition) {
  const int checked = check_transpose(
      [](const float* src, float* dst, std::int64_t length, std::int64_t channels, Range r) {
        transpose_to_channels_last(src, length, dst, channels, r.t0, r.t1, r.c0, r.c1);
      },
      first_index, last_index);
  EXPECT_GE(checked, 150);
}

TEST(LayoutTranspose, ToChannelsFirstMatchesDefinition) {
  const int checked = check_transpose(
      [](const float* src, float* dst, std::int64_t length, std::int64_t channels, Range r) {
        transpose_to_channels_first(src, channels, dst, length, r.t0, r.t1, r.c0, r.c1);
      },
      last_index, first_index);
  EXPECT_GE(checked, 150);
}

}  // namespace
}  // namespace convjit::detail
