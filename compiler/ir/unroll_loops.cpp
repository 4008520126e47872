#include "compiler/ir/unroll_loops.hpp"

#include <cstdio>
#include <cstdlib>

#include "compiler/ir/mutate.hpp"
#include "compiler/ir/simplify.hpp"

namespace convjit::detail::ir {
namespace {

Stmt unroll(const Stmt& s) {
  if (const auto* n = as<For>(s); n && n->kind == ForKind::kUnrolled) {
    std::int64_t lo = 0, extent = 0;
    if (!simplify(n->min).is_const(&lo) || !simplify(n->extent).is_const(&extent)) {
      std::fprintf(stderr, "%s:%d: internal error: unrolled loop with a non-constant range\n",
                   __FILE__, __LINE__);
      std::abort();
    }
    std::vector<Stmt> copies;
    for (std::int64_t i = 0; i < extent; ++i) {
      copies.push_back(unroll(substitute(n->body, n->var, lo + i)));
    }
    return Block::make(std::move(copies));
  }
  return mutate_children(
      s, [](const Expr& e) { return e; }, unroll);
}

}  // namespace

Func unroll_loops(const Func& f) {
  Func out = f;
  out.body = unroll(f.body);
  return out;
}

}  // namespace convjit::detail::ir
