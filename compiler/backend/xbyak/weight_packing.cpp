#include "compiler/backend/xbyak/weight_packing.hpp"

namespace convjit::detail {

void pack_conv_weights(const ConvPlan& plan, const float* keras_kernel, float* packed) {
  const std::int64_t width = plan.block_width;
  // Depthwise: one column group of C channels, one input channel per output channel;
  // direct: group g's output channels read its own icg input channels, in ic blocks
  // (ConvPlan::ic_block) of K * ic_block rows each.
  const std::int64_t icg = plan.kind == JitKind::kDepthwise ? 1 : plan.icg;
  const std::int64_t ic_block = plan.kind == JitKind::kDepthwise ? 1 : plan.ic_block;
  float* dst = packed;
  for (std::int64_t g = 0; g < plan.col_groups; ++g) {
    for (std::int64_t b = 0; b < plan.blocks_per_group; ++b) {
      for (std::int64_t ic0 = 0; ic0 < icg; ic0 += ic_block) {
        for (std::int64_t k = 0; k < plan.K; ++k) {
          for (std::int64_t ic = ic0; ic < ic0 + ic_block; ++ic) {
            const float* src = keras_kernel + (k * icg + ic) * plan.F + g * plan.col_channels;
            for (std::int64_t lane = 0; lane < width; ++lane) {
              const std::int64_t oc = b * width + lane;
              *dst++ = oc < plan.col_channels ? src[oc] : 0.0f;
            }
          }
        }
      }
    }
  }
}

}  // namespace convjit::detail
