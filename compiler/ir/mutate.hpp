// Generic traversal helpers the passes are built from: rebuild a node with its
// expressions and child statements mapped, substitute a variable, visit in pre-order.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

using ExprFn = std::function<Expr(const Expr&)>;
using StmtFn = std::function<Stmt(const Stmt&)>;

/// `s` rebuilt with every expression it holds mapped by `fe` and every direct child
/// statement mapped by `fs` (the children are not recursed into by this function).
Stmt mutate_children(const Stmt& s, const ExprFn& fe, const StmtFn& fs);

/// `e` with operands `a` and `b`: `e` itself when they are its own (copy on write).
Expr with_operands(const Expr& e, Expr a, Expr b);

/// `e` with every operand mapped by `fe` (one level, the node itself is rebuilt).
Expr mutate_operands(const Expr& e, const ExprFn& fe);

/// Replaces variable `var` by `value` everywhere in `e` / `s`.
Expr substitute(const Expr& e, int var, const Expr& value);
Stmt substitute(const Stmt& s, int var, const Expr& value);

/// Variables bound to values, applied together: what a pass carries down a nest instead of
/// substituting each binding into the whole body below it (one walk, not one per binding).
/// The innermost binding of a variable is the last one.
using Bindings = std::vector<std::pair<int, Expr>>;

/// `e` with every bound variable replaced by its value (values are not substituted into).
/// Returns `e` itself when it mentions none of them.
Expr substitute(const Expr& e, const Bindings& bindings);

/// Calls `f` on `s` and every statement below it, parents first.
void visit(const Stmt& s, const std::function<void(const Stmt&)>& f);

/// Whether `e` mentions variable `var`.
bool uses_var(const Expr& e, int var);

}  // namespace convjit::detail::ir
