// Activations in LLVM IR: element-wise ones on a float vector (computed in double, as the
// reference does, with libm for exp/expm1/log1p/tanh/erf), axis-wise ones as row functions.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "convjit/activation.hpp"

namespace convjit::detail {

/// act(x) lane-wise for a <V x float> value (an element-wise activation); NaN propagates.
llvm::Value* emit_activation(llvm::IRBuilder<>& b, llvm::Module& m, Activation act, llvm::Value* x);

/// void(const float* src, i64 src_stride, i64 count, float* dst, i64 dst_stride): the axis
/// activation (softmax, log_softmax, sparsemax, glu) of one row, in double. Defined once per
/// module (internal linkage).
llvm::Function* axis_activation_function(llvm::Module& m, Activation act);

}  // namespace convjit::detail
