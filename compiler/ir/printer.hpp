// Stable, readable text of IR expressions, statements and functions (convjit asm --ir,
// CONVJIT_DEBUG=2, golden tests).
#pragma once

#include <string>

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

/// e.g. "min(max(((t*2) - pad_left), 0), L)"; variables by name.
std::string to_string(const Expr& e);
/// The statement tree, `indent` spaces deep, one node per line.
std::string to_string(const Func& f, const Stmt& s, int indent = 0);
/// Header (parameters, buffers, register arrays, weight layout) and body.
std::string to_string(const Func& f);

}  // namespace convjit::detail::ir
