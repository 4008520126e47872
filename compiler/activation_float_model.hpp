// Scalar C++ models of the Xbyak activation building blocks: the same constants
// (activation_description.hpp), the same operations in the same order, FMA as std::fma, so
// each rounds as the emitted vector code does. They let the coefficients be tested on any
// host, against libm, without running JIT code.
#pragma once

namespace convjit::detail {

/// exp(x) as the emitter's exp block: clamp to [kExpLo, kExpHi], n = round(x·log2 e),
/// r = x - n·ln2 (two-part ln2), Cephes polynomial, result 2·exp(r)·2^(n-1). NaN gives NaN.
float approx_exp_float(float x);

/// log1p(y) for y in [0, 1] as the emitter's log1p block: 2·atanh(y/(2 + y)) by its series.
float approx_log1p_unit_float(float y);

/// erfc(a/√2) for a >= 0 (a <= kGeluClamp) as gelu's block: Numerical Recipes erfcc.
float approx_erfc_scaled_float(float a);

}  // namespace convjit::detail
