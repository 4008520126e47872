// Pass: constant folding and algebraic identities in every expression; constant lets are
// substituted into their bodies.
#pragma once

#include "compiler/ir/ir.hpp"
#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {

Expr simplify(const Expr& e);
/// simplify(substitute(e, bound)) in one walk: bound variables become their values (which
/// are taken as they are, already simplified) and the expression folds around them.
Expr simplify(const Expr& e, const Bindings& bound);
Func simplify(const Func& f);

}  // namespace convjit::detail::ir
