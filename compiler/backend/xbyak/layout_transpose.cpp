#include "compiler/backend/xbyak/layout_transpose.hpp"

#include <algorithm>

namespace convjit::detail {
namespace {
constexpr std::int64_t kTile = 16;  // 16x16 floats: both sides stay in L1
}  // namespace

void transpose_to_channels_last(const float* src, std::int64_t src_length, float* dst,
                                std::int64_t dst_channels, std::int64_t t0, std::int64_t t1,
                                std::int64_t c0, std::int64_t c1) {
  for (std::int64_t tb = t0; tb < t1; tb += kTile) {
    const std::int64_t te = std::min(tb + kTile, t1);
    for (std::int64_t cb = c0; cb < c1; cb += kTile) {
      const std::int64_t ce = std::min(cb + kTile, c1);
      for (std::int64_t t = tb; t < te; ++t) {
        float* row = dst + t * dst_channels;
        for (std::int64_t c = cb; c < ce; ++c) row[c] = src[c * src_length + t];
      }
    }
  }
}

void transpose_to_channels_first(const float* src, std::int64_t src_channels, float* dst,
                                 std::int64_t dst_length, std::int64_t t0, std::int64_t t1,
                                 std::int64_t c0, std::int64_t c1) {
  for (std::int64_t cb = c0; cb < c1; cb += kTile) {
    const std::int64_t ce = std::min(cb + kTile, c1);
    for (std::int64_t tb = t0; tb < t1; tb += kTile) {
      const std::int64_t te = std::min(tb + kTile, t1);
      for (std::int64_t c = cb; c < ce; ++c) {
        float* row = dst + c * dst_length;
        for (std::int64_t t = tb; t < te; ++t) row[t] = src[t * src_channels + c];
      }
    }
  }
}

}  // namespace convjit::detail
