// Pass: replaces every unrolled loop (constant extent) by copies of its body, one per
// iteration, with the loop variable substituted: register tiles become explicit registers.
#pragma once

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

Func unroll_loops(const Func& f);

}  // namespace convjit::detail::ir
