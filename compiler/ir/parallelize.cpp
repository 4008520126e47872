#include "compiler/ir/parallelize.hpp"

#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {
namespace {

Stmt mark(const Stmt& s) {
  if (const auto* n = as<For>(s); n && n->tag == "batch") {
    return For::make(n->var, n->min, n->extent, ForKind::kParallel, n->tag, n->body);
  }
  return mutate_children(
      s, [](const Expr& e) { return e; }, mark);
}

}  // namespace

Func parallelize(const Func& f, int threads) {
  if (threads <= 1) return f;
  Func out = f;
  out.body = mark(f.body);
  return out;
}

}  // namespace convjit::detail::ir
