// The one description of every Keras activation, read by all three implementations:
//   - the C++ reference in double (compiler/activation_math.cpp, activate() and the axis ones),
//   - the Xbyak vector sequences in float (compiler/backend/xbyak/activation_emitter.cpp),
//   - the LLVM lowering in double (compiler/backend/llvm/llvm_activation.cpp).
// It holds the Keras parameters, the float approximation constants of the vector code (each
// with its range and accuracy; compiler/activation_float_model.hpp evaluates them in C++), and
// a table per activation: element-wise or axis, and the vector temporaries its Xbyak sequence
// needs, readable by the planner without Xbyak. docs/jit-activations.md explains the methods.
#pragma once

#include <array>

#include "convjit/activation.hpp"

namespace convjit::detail {

// --- Keras parameters (Keras 3 defaults), in double: the reference's precision --------------

/// leaky_relu(x) = x >= 0 ? x : slope·x (negative_slope=0.2).
inline constexpr double kLeakyReluSlope = 0.2;
/// relu6(x) = min(max(x, 0), 6).
inline constexpr double kRelu6Cap = 6.0;
/// hard_sigmoid(x) = relu6(x + offset) / divisor; hard_silu(x) = x·hard_sigmoid(x).
inline constexpr double kHardSigmoidOffset = 3.0;
inline constexpr double kHardSigmoidDivisor = 6.0;
/// elu and celu (alpha=1.0): x > 0 ? x : alpha·expm1(x). Every implementation has alpha 1
/// built in (no multiplication) and static_asserts these.
inline constexpr double kEluAlpha = 1.0;
inline constexpr double kCeluAlpha = 1.0;
/// selu(x) = scale·(x >= 0 ? x : alpha·expm1(x)) (Klambauer et al. 2017).
inline constexpr double kSeluScale = 1.0507009873554805;
inline constexpr double kSeluAlpha = 1.6732632423543772;
/// hard_shrink and soft_shrink (threshold=0.5).
inline constexpr double kShrinkThreshold = 0.5;
/// squareplus(x) = (x + sqrt(x² + b)) / 2 (b=4).
inline constexpr double kSquareplusB = 4.0;

// --- Float approximations of the vector code (Xbyak; activation_float_model.hpp) ------------
// Polynomials are listed from the highest power down, in the order Horner evaluates them.

/// exp: x is clamped to [kExpLo, kExpHi]. With the result formed as 2·p·2^(n-1), n =
/// round(x·log2 e) stays in [-126, 128]: n = 128 overflows to +Inf exactly when exp(x) does,
/// and n = -126 gives the bit pattern of +0 for 2^(n-1), so exp(x < -86.99) is 0 (results
/// below 2^-125.5 = 1.7e-38 flush, FLT_MIN being 1.2e-38).
inline constexpr float kExpHi = 89.0f;
inline constexpr float kExpLo = -87.6f;
inline constexpr float kLog2e = 1.44269504088896341f;
/// Cephes split of ln 2: n·kLn2Hi is exact for |n| <= 128, kLn2Lo carries the rest.
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;
/// Cephes expf: exp(r) = 1 + r + r²·P(r) for |r| <= ln2/2, relative error ~1e-7.
inline constexpr float kExpP[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                  4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

/// tanh: Cephes tanhf. For |x| < kTanhSmall, x + x·x²·P(x²) (relative error ~1e-7);
/// otherwise 1 - 2/(exp(2|x|) + 1) with the sign of x.
inline constexpr float kTanhSmall = 0.625f;
inline constexpr float kTanhP[] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f,
                                   1.33314422036e-1f, -3.33332819422e-1f};

/// log1p(y) for y in [0, 1]: 2·atanh(s), s = y/(2 + y) in [0, 1/3], the odd Taylor series of
/// atanh: s + s·w·P(w), w = s², P up to s^15 (truncation error < 2e-9 relative).
inline constexpr float kAtanhP[] = {1.0f / 15, 1.0f / 13, 1.0f / 11, 1.0f / 9,
                                    1.0f / 7,  1.0f / 5,  1.0f / 3};

/// erfc(z) for z >= 0: Numerical Recipes erfcc, t = 1/(1 + z/2), erfc(z) = t·exp(-z² + Q(t)),
/// fractional error < 1.2e-7 everywhere.
inline constexpr float kErfcQ[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f,
                                   0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f,
                                   1.00002368f, -1.26551223f};
/// (1/2)·(1/√2): z/2 for z = |x|/√2 (gelu's erfc argument).
inline constexpr float kHalfRsqrt2 = 0.353553390593273762f;

/// Clamps that keep saturated results exact and Inf·0 out of the products:
/// gelu: |x| <= 50, erfc(50/√2) = 0 in float, so |x|·erfc stays finite.
inline constexpr float kGeluClamp = 50.0f;
/// silu and mish: x >= -200; x·sigmoid(x) and x·tanh(softplus(x)) are -0 in float below.
inline constexpr float kGateClamp = -200.0f;
/// mish: exp(min(x, 20)); tanh(softplus(x)) == 1 in float above.
inline constexpr float kMishExpClamp = 20.0f;
/// squareplus: |x| <= 1e18 before squaring; sqrt(x² + 4) == |x| in float above.
inline constexpr float kSquareplusClamp = 1e18f;
/// softsign: x in [-1e30, 1e30]; x/(1 + |x|) == ±1 in float beyond, so ±Inf gives ±1.
inline constexpr float kSoftsignClamp = 1e30f;

// --- Per activation ------------------------------------------------------------------------

/// Vector temporaries any element-wise Xbyak sequence may need besides its value register.
inline constexpr int kMaxActivationVectorTemps = 6;

struct ActivationDescription {
  Activation activation;
  /// Acts on a whole axis (softmax, log_softmax, sparsemax, glu): applied after the
  /// convolution of the axis, in double, not fused into the vector epilogue.
  bool axis;
  /// Element-wise only: vector temporaries the Xbyak sequence clobbers besides the value.
  int vector_temps;
};

/// Indexed by the enum value (checked below).
inline constexpr std::array<ActivationDescription, kActivationCount> kActivationDescriptions{{
    {Activation::kLinear, false, 0},
    {Activation::kRelu, false, 1},
    {Activation::kRelu6, false, 1},
    {Activation::kLeakyRelu, false, 1},
    {Activation::kElu, false, 3},
    {Activation::kSelu, false, 3},
    {Activation::kCelu, false, 3},
    {Activation::kGelu, false, 5},
    {Activation::kSigmoid, false, 2},
    {Activation::kHardSigmoid, false, 1},
    {Activation::kHardSilu, false, 1},
    {Activation::kSilu, false, 3},
    {Activation::kMish, false, 3},
    {Activation::kTanh, false, 4},
    {Activation::kHardTanh, false, 1},
    {Activation::kTanhShrink, false, 4},
    {Activation::kSoftplus, false, 3},
    {Activation::kSoftsign, false, 1},
    {Activation::kSquareplus, false, 2},
    {Activation::kSparsePlus, false, 1},
    {Activation::kSparseSigmoid, false, 1},
    {Activation::kExponential, false, 2},
    {Activation::kLogSigmoid, false, 3},
    {Activation::kHardShrink, false, 1},
    {Activation::kSoftShrink, false, 1},
    {Activation::kSoftmax, true, 0},
    {Activation::kLogSoftmax, true, 0},
    {Activation::kSparsemax, true, 0},
    {Activation::kGlu, true, 0},
}};

constexpr bool activation_descriptions_in_enum_order() {
  for (int i = 0; i < kActivationCount; ++i) {
    const ActivationDescription& d = kActivationDescriptions[static_cast<std::size_t>(i)];
    if (static_cast<int>(d.activation) != i) return false;
    if (d.vector_temps < 0 || d.vector_temps > kMaxActivationVectorTemps) return false;
    if (d.axis && d.vector_temps != 0) return false;
  }
  return true;
}
static_assert(activation_descriptions_in_enum_order(),
              "kActivationDescriptions: one row per Activation, in enum order, temps in range");

/// The row of `a`, which must be a valid enum value.
constexpr const ActivationDescription& activation_description(Activation a) {
  return kActivationDescriptions[static_cast<std::size_t>(a)];
}

/// Vector temporaries the Xbyak epilogue needs for `a` besides its value register: 0 for
/// linear and for axis activations (they are not fused). Readable without Xbyak, for the planner.
constexpr int activation_vector_temps(Activation a) {
  return activation_description(a).vector_temps;
}

}  // namespace convjit::detail
