#include "compiler/ir/pack_weights.hpp"

#include <algorithm>

namespace convjit::detail::ir {

std::int64_t packed_weights_size(const Problem& p, const WeightLayout& layout) {
  if (layout.kind == WeightLayout::Kind::kDirect) {
    return p.groups * layout.blocks * p.kernel * p.ic_per_group * layout.block_width;
  }
  return p.oc_per_group * layout.blocks * p.kernel * layout.block_width;
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
          for (std::int64_t ic = 0; ic < cg; ++ic)
            for (std::int64_t col = 0; col < bw; ++col) {
              const std::int64_t oc = b * bw + col;
              if (oc >= fg) continue;
              packed[(((g * layout.blocks + b) * p.kernel + k) * cg + ic) * bw + col] =
                  keras_kernel[(k * cg + ic) * f + g * fg + oc];
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

}  // namespace convjit::detail::ir
