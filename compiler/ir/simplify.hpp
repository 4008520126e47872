// Pass: constant folding and algebraic identities in every expression; constant lets are
// substituted into their bodies.
#pragma once

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

Expr simplify(const Expr& e);
Func simplify(const Func& f);

}  // namespace convjit::detail::ir
