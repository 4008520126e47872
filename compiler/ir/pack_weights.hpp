// Packing Keras (K, C/g, F) weights into the blocked layout a lowered Func reads.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

/// Floats of the packed weights for `layout`.
std::int64_t packed_weights_size(const Problem& p, const WeightLayout& layout);

/// Packs `keras_kernel` into `packed` (packed_weights_size floats); padding lanes are 0.
void pack_weights(const Problem& p, const WeightLayout& layout, const float* keras_kernel,
                  float* packed);

}  // namespace convjit::detail::ir
