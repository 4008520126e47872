#include "compiler/backend/xbyak/layout_transpose.hpp"

#include <immintrin.h>

#include <algorithm>

#include "convjit/isa.hpp"

namespace convjit::detail {
namespace {

constexpr std::int64_t kBlock = 8;  // 8x8 floats: one AVX2 register per row

// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols.
void transpose_scalar(const float* src, std::int64_t src_stride, float* dst,
                      std::int64_t dst_stride, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t j = 0; j < cols; ++j) {
    for (std::int64_t i = 0; i < rows; ++i) dst[j * dst_stride + i] = src[i * src_stride + j];
  }
}

// One 8x8 block in registers: 8 loads, 24 shuffles, 8 stores (instead of 64 strided
// scalar moves). Compiled for AVX2 only; called only where the host has it.
__attribute__((target("avx2"))) void transpose8x8_avx2(const float* src, std::int64_t src_stride,
                                                       float* dst, std::int64_t dst_stride) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride);
  // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves.
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  const __m256 columns[8] = {
      _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
      _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
      _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
      _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
  for (int j = 0; j < 8; ++j) _mm256_storeu_ps(dst + j * dst_stride, columns[j]);
}

// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols: 8x8 blocks in
// registers on AVX2 hosts (every host the Xbyak kernels run on), scalar edges. Blocks go
// along a destination row (j fixed by the outer loop), so the destination is written in
// address order and each source line is read within a few blocks.
void transpose(const float* src, std::int64_t src_stride, float* dst, std::int64_t dst_stride,
               std::int64_t rows, std::int64_t cols) {
  static const bool avx2 = host_supports(Isa::kAvx2);
  if (!avx2) {
    transpose_scalar(src, src_stride, dst, dst_stride, rows, cols);
    return;
  }
  const std::int64_t full_rows = rows / kBlock * kBlock;
  const std::int64_t full_cols = cols / kBlock * kBlock;
  for (std::int64_t j = 0; j < full_cols; j += kBlock) {
    for (std::int64_t i = 0; i < full_rows; i += kBlock) {
      transpose8x8_avx2(src + i * src_stride + j, src_stride, dst + j * dst_stride + i, dst_stride);
    }
  }
  // The rows past the last whole block (all columns), then the columns past it.
  transpose_scalar(src + full_rows * src_stride, src_stride, dst + full_rows, dst_stride,
                   rows - full_rows, cols);
  transpose_scalar(src + full_cols, src_stride, dst + full_cols * dst_stride, dst_stride, full_rows,
                   cols - full_cols);
}

}  // namespace

void transpose_to_channels_last(const float* src, std::int64_t src_length, float* dst,
                                std::int64_t dst_channels, std::int64_t t0, std::int64_t t1,
                                std::int64_t c0, std::int64_t c1) {
  if (t0 >= t1 || c0 >= c1) return;
  // Source rows are channels (stride L), destination rows are time steps (stride C).
  transpose(src + c0 * src_length + t0, src_length, dst + t0 * dst_channels + c0, dst_channels,
            c1 - c0, t1 - t0);
}

void transpose_to_channels_first(const float* src, std::int64_t src_channels, float* dst,
                                 std::int64_t dst_length, std::int64_t t0, std::int64_t t1,
                                 std::int64_t c0, std::int64_t c1) {
  if (t0 >= t1 || c0 >= c1) return;
  // Source rows are time steps (stride F), destination rows are channels (stride L').
  transpose(src + t0 * src_channels + c0, src_channels, dst + c0 * dst_length + t0, dst_length,
            t1 - t0, c1 - c0);
}

}  // namespace convjit::detail
