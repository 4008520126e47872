// The reference Conv1D: plain, obviously correct, double accumulation. The oracle.
#pragma once

#include "compiler/problem.hpp"

namespace convjit::detail {

/// Runs the whole Keras Conv1D: padding, stride, dilation, groups, bias, activation
/// (axis-wise ones over the last axis of the output in its own data_format).
/// input: p.input_size() floats in the data_format layout; kernel: Keras layout
/// (K, C/g, F); bias: F floats or nullptr when !p.use_bias; output: p.output_size() floats.
void reference_conv1d(const Problem& p, const float* input, const float* kernel, const float* bias,
                      float* output);

/// Pre-activation convolution (bias added) in double, in the output layout with
/// p.filters channels and p.out_length steps: the exact value the activation sees.
void reference_preactivation(const Problem& p, const float* input, const float* kernel,
                             const float* bias, double* preact);

}  // namespace convjit::detail
