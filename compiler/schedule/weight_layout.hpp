// WeightLayout — how the packed weights buffer is laid out, and the one packer for it.
//
// Every backend reads weights in the layout its KernelPlan chose (KernelPlan::weights): the
// IR's weights buffer, the Xbyak column functions and the LLVM code all index the same
// layout, and pack_weights() here is the only code that writes it (the LLVM AOT object's
// own pack function emits the same loops, from packed_weights_offset()).
#pragma once

#include <cstdint>

#include "compiler/problem.hpp"

namespace convjit::detail {

struct WeightLayout {
  enum class Kind {
    /// [g][oc_blk][ic_blk][k][ic][block_width]: group g's output channels in blocks of
    /// block_width (zeros past oc_per_group), its input channels in ic_block-sized blocks.
    kDirect,
    /// [multiplier j][c_blk][k][block_width]: zeros past C.
    kDepthwise,
  };
  Kind kind = Kind::kDirect;
  std::int64_t block_width = 1;  ///< floats of one packed row (tile_oc_vecs * lanes)
  std::int64_t blocks = 1;       ///< oc blocks per group (direct) or channel blocks (depthwise)
  /// Direct: input channels per ic block, a divisor of ic_per_group (0: the whole group).
  std::int64_t ic_block = 0;

  bool operator==(const WeightLayout& o) const {
    return kind == o.kind && block_width == o.block_width && blocks == o.blocks &&
           ic_block == o.ic_block;
  }
};

/// Input channels per ic block of `layout` for `p` (the whole group when unblocked).
std::int64_t layout_ic_block(const Problem& p, const WeightLayout& layout);

/// Floats of the packed weights for `layout`.
std::int64_t packed_weights_size(const Problem& p, const WeightLayout& layout);

/// Direct layout: the offset of row (g, oc block b, tap k, input channel ic of the group).
std::int64_t packed_weights_offset(const Problem& p, const WeightLayout& layout, std::int64_t g,
                                   std::int64_t b, std::int64_t k, std::int64_t ic);

/// Packs `keras_kernel` into `packed` (packed_weights_size floats); padding lanes are 0.
void pack_weights(const Problem& p, const WeightLayout& layout, const float* keras_kernel,
                  float* packed);

}  // namespace convjit::detail
