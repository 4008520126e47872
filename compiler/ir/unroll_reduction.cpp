#include "compiler/ir/unroll_reduction.hpp"

#include "compiler/ir/mutate.hpp"
#include "compiler/ir/simplify.hpp"

namespace convjit::detail::ir {
namespace {

struct Splitter {
  Func& f;
  int var;
  int outer, inner;
  int factor;

  Stmt run(const Stmt& s) {
    if (const auto* n = as<For>(s); n && n->var == var && n->kind == ForKind::kSerial) {
      const Stmt body = run(n->body);
      // The new bounds and index are simplified here, so the IR stays simplified for the
      // passes after this one (unroll_loops and prune_loops simplify only what they bind).
      const Expr groups = simplify(floor_div(n->extent, factor));
      const Expr io = make_var(inner, f.vars[inner]), oo = make_var(outer, f.vars[outer]);
      const Expr index = simplify(n->min + oo * factor + io);
      Stmt main = For::make(
          outer, 0, groups, ForKind::kSerial, n->tag,
          For::make(inner, 0, factor, ForKind::kUnrolled, "", substitute(body, var, index)));
      Stmt rest =
          For::make(var, simplify(n->min + groups * factor), simplify(n->extent - groups * factor),
                    ForKind::kSerial, "remainder", body);
      return Block::make({main, rest});
    }
    return mutate_children(
        s, [](const Expr& e) { return e; }, [this](const Stmt& c) { return run(c); });
  }
};

Func split(const Func& f, const std::string& name, int factor) {
  if (factor <= 1) return f;
  Func out = f;
  const int var = out.var(name);
  Splitter sp{out, var, out.var(name + "_o"), out.var(name + "_i"), factor};
  out.body = sp.run(out.body);
  return out;
}

}  // namespace

Func unroll_reduction(const Func& f, int unroll_k, int unroll_ic) {
  return split(split(f, "k", unroll_k), "ic", unroll_ic);
}

}  // namespace convjit::detail::ir
