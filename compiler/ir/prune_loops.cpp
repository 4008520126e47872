#include "compiler/ir/prune_loops.hpp"

#include "compiler/ir/mutate.hpp"
#include "compiler/ir/simplify.hpp"

namespace convjit::detail::ir {
namespace {

bool is_empty(const Stmt& s) {
  const auto* b = as<Block>(s);
  return b != nullptr && b->stmts.empty();
}

Stmt prune(const Stmt& s) {
  if (const auto* n = as<For>(s)) {
    std::int64_t extent = 0;
    if (n->extent.is_const(&extent) && extent <= 0) return Block::make({});
    if (n->extent.is_const(&extent) && extent == 1 && n->kind != ForKind::kParallel) {
      return prune(substitute(n->body, n->var, simplify(n->min)));
    }
    Stmt body = prune(n->body);
    if (is_empty(body)) return body;
    return For::make(n->var, n->min, n->extent, n->kind, n->tag, body);
  }
  if (const auto* n = as<Block>(s)) {
    std::vector<Stmt> out;
    for (const Stmt& c : n->stmts) {
      Stmt p = prune(c);
      if (const auto* inner = as<Block>(p)) {
        out.insert(out.end(), inner->stmts.begin(), inner->stmts.end());
      } else {
        out.push_back(p);
      }
    }
    if (out.size() == 1) return out.front();
    return Block::make(std::move(out));
  }
  return mutate_children(
      s, [](const Expr& e) { return e; }, prune);
}

}  // namespace

Func prune_loops(const Func& f) {
  Func out = f;
  out.body = prune(f.body);
  return simplify(out);
}

}  // namespace convjit::detail::ir
