// Packs Keras Conv1D weights (K, C/g, F) into the blocked layout of the micro-kernels:
// [column group][block][k][ic][block_width], zero-padded past the group's channels.
#pragma once

#include "compiler/backend/xbyak/conv_plan.hpp"

namespace convjit::detail {

/// Writes plan.packed_floats floats to `packed`.
void pack_conv_weights(const ConvPlan& plan, const float* keras_kernel, float* packed);

}  // namespace convjit::detail
