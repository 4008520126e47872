#include "compiler/schedule/weight_layout.hpp"

#include <algorithm>

namespace convjit::detail {

std::int64_t layout_ic_block(const Problem& p, const WeightLayout& layout) {
  return layout.ic_block > 0 ? layout.ic_block : p.ic_per_group;
}

std::int64_t packed_weights_size(const Problem& p, const WeightLayout& layout) {
  if (layout.kind == WeightLayout::Kind::kDirect) {
    return p.groups * layout.blocks * p.kernel * p.ic_per_group * layout.block_width;
  }
  return p.oc_per_group * layout.blocks * p.kernel * layout.block_width;
}

std::int64_t packed_weights_offset(const Problem& p, const WeightLayout& layout, std::int64_t g,
                                   std::int64_t b, std::int64_t k, std::int64_t ic) {
  const std::int64_t icb = layout_ic_block(p, layout);
  const std::int64_t ic_blocks = p.ic_per_group / icb;
  const std::int64_t block = (g * layout.blocks + b) * ic_blocks + ic / icb;
  return ((block * p.kernel + k) * icb + ic % icb) * layout.block_width;
}

void pack_weights(const Problem& p, const WeightLayout& layout, const float* keras_kernel,
                  float* packed) {
  const std::int64_t bw = layout.block_width;
  const std::int64_t cg = p.ic_per_group, fg = p.oc_per_group, f = p.filters;
  std::fill(packed, packed + packed_weights_size(p, layout), 0.0f);
  if (layout.kind == WeightLayout::Kind::kDirect) {
    for (std::int64_t g = 0; g < p.groups; ++g)
      for (std::int64_t b = 0; b < layout.blocks; ++b)
        for (std::int64_t k = 0; k < p.kernel; ++k)
          for (std::int64_t ic = 0; ic < cg; ++ic) {
            float* row = packed + packed_weights_offset(p, layout, g, b, k, ic);
            const float* src = keras_kernel + (k * cg + ic) * f + g * fg;
            for (std::int64_t col = 0; col < bw && b * bw + col < fg; ++col)
              row[col] = src[b * bw + col];
          }
    return;
  }
  // Depthwise: channel c of multiplier j is filter c * fg + j.
  for (std::int64_t j = 0; j < fg; ++j)
    for (std::int64_t b = 0; b < layout.blocks; ++b)
      for (std::int64_t k = 0; k < p.kernel; ++k)
        for (std::int64_t col = 0; col < bw; ++col) {
          const std::int64_t c = b * bw + col;
          if (c >= p.in_channels) continue;
          packed[((j * layout.blocks + b) * p.kernel + k) * bw + col] =
              keras_kernel[k * f + c * fg + j];
        }
}

}  // namespace convjit::detail
