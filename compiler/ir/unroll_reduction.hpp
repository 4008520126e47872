// Pass: splits the reduction loops over taps (k) and input channels (ic) by the
// schedule's unroll factors: an outer loop over groups of `factor` iterations whose body
// is an unrolled inner loop, then a remainder loop for the last extent % factor.
#pragma once

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

Func unroll_reduction(const Func& f, int unroll_k, int unroll_ic);

}  // namespace convjit::detail::ir
