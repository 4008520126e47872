#include "compiler/ir/prune_loops.hpp"

#include "compiler/ir/mutate.hpp"
#include "compiler/ir/simplify.hpp"

namespace convjit::detail::ir {
namespace {

bool is_empty(const Stmt& s) {
  const auto* b = as<Block>(s);
  return b != nullptr && b->stmts.empty();
}

/// `e` with the bound variables replaced, simplified where that changed it.
Expr bound_value(const Expr& e, const Bindings& bound) {
  return bound.empty() ? e : simplify(e, bound);
}

/// `bound` holds the variables of the enclosing loops that ran once, replaced in every
/// expression below them (one walk, however deep they nest).
Stmt prune(const Stmt& s, Bindings& bound) {
  if (const auto* n = as<For>(s)) {
    const Expr lo = bound_value(n->min, bound), extent = bound_value(n->extent, bound);
    std::int64_t count = 0;
    if (extent.is_const(&count) && count <= 0) return Block::make({});
    if (extent.is_const(&count) && count == 1 && n->kind != ForKind::kParallel) {
      bound.emplace_back(n->var, lo);
      Stmt body = prune(n->body, bound);
      bound.pop_back();
      return body;
    }
    Stmt body = prune(n->body, bound);
    if (is_empty(body)) return body;
    const bool same = lo.operator->() == n->min.operator->() &&
                      extent.operator->() == n->extent.operator->() && body == n->body;
    return same ? s : For::make(n->var, lo, extent, n->kind, n->tag, body);
  }
  if (const auto* n = as<Block>(s)) {
    std::vector<Stmt> out;
    bool changed = false;
    for (const Stmt& c : n->stmts) {
      Stmt p = prune(c, bound);
      if (const auto* inner = as<Block>(p)) {
        out.insert(out.end(), inner->stmts.begin(), inner->stmts.end());
        changed = true;
      } else {
        changed = changed || p != c;
        out.push_back(std::move(p));
      }
    }
    if (out.size() == 1) return out.front();
    return changed ? Block::make(std::move(out)) : s;
  }
  return mutate_children(
      s, [&](const Expr& e) { return bound_value(e, bound); },
      [&](const Stmt& c) { return prune(c, bound); });
}

}  // namespace

Func prune_loops(const Func& f) {
  Func out = f;
  Bindings bound;
  out.body = prune(f.body, bound);
  return out;
}

}  // namespace convjit::detail::ir
