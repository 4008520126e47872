// Transposes between channels_first rows (C x L) and the channels_last rows (L x C) the
// micro-kernels read and write. Sub-ranges only: a call transposes what it needs.
#pragma once

#include <cstdint>

namespace convjit::detail {

/// dst[t * dst_channels + c] = src[c * src_length + t] for t in [t0, t1), c in [c0, c1).
void transpose_to_channels_last(const float* src, std::int64_t src_length, float* dst,
                                std::int64_t dst_channels, std::int64_t t0, std::int64_t t1,
                                std::int64_t c0, std::int64_t c1);

/// dst[c * dst_length + t] = src[t * src_channels + c] for t in [t0, t1), c in [c0, c1).
void transpose_to_channels_first(const float* src, std::int64_t src_channels, float* dst,
                                 std::int64_t dst_length, std::int64_t t0, std::int64_t t1,
                                 std::int64_t c0, std::int64_t c1);

}  // namespace convjit::detail
