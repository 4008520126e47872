#include "compiler/ir/unroll_loops.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "compiler/ir/mutate.hpp"
#include "compiler/ir/simplify.hpp"

namespace convjit::detail::ir {
namespace {

/// `bound` holds the enclosing unrolled loops' variables at this copy's iteration, replaced
/// in every expression below them in one walk.
Stmt unroll(const Stmt& s, Bindings& bound) {
  if (const auto* n = as<For>(s); n && n->kind == ForKind::kUnrolled) {
    std::int64_t lo = 0, extent = 0;
    if (!simplify(n->min, bound).is_const(&lo) || !simplify(n->extent, bound).is_const(&extent)) {
      std::fprintf(stderr, "%s:%d: internal error: unrolled loop with a non-constant range\n",
                   __FILE__, __LINE__);
      std::abort();
    }
    std::vector<Stmt> copies;
    copies.reserve(static_cast<std::size_t>(std::max<std::int64_t>(extent, 0)));
    for (std::int64_t i = 0; i < extent; ++i) {
      bound.emplace_back(n->var, Expr(lo + i));
      copies.push_back(unroll(n->body, bound));
      bound.pop_back();
    }
    return Block::make(std::move(copies));
  }
  return mutate_children(
      s, [&](const Expr& e) { return bound.empty() ? e : simplify(e, bound); },
      [&](const Stmt& c) { return unroll(c, bound); });
}

}  // namespace

Func unroll_loops(const Func& f) {
  Func out = f;
  Bindings bound;
  out.body = unroll(f.body, bound);
  return out;
}

}  // namespace convjit::detail::ir
