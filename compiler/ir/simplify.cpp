#include "compiler/ir/simplify.hpp"

#include <algorithm>

#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {
namespace {

bool same_var(const Expr& a, const Expr& b) {
  return a->op == ExprOp::kVar && b->op == ExprOp::kVar && a->var == b->var;
}

/// x + c as (x, c); otherwise (e, 0).
std::pair<Expr, std::int64_t> split_offset(const Expr& e) {
  std::int64_t c = 0;
  if (e->op == ExprOp::kAdd && e->b.is_const(&c)) return {e->a, c};
  if (e->op == ExprOp::kSub && e->b.is_const(&c)) return {e->a, -c};
  return {e, 0};
}

Expr add_const(const Expr& x, std::int64_t c) {
  if (c == 0) return x;
  return c > 0 ? x + c : x - (-c);
}

Expr fold(const Expr& e) {
  std::int64_t a = 0, b = 0;
  const bool ca = e->op != ExprOp::kConst && e->op != ExprOp::kVar && e->a.is_const(&a);
  const bool cb = e->op != ExprOp::kConst && e->op != ExprOp::kVar && e->b.is_const(&b);
  switch (e->op) {
    case ExprOp::kConst:
    case ExprOp::kVar: return e;
    case ExprOp::kAdd: {
      if (ca && cb) return a + b;
      if (ca) return fold(e->b + e->a);
      if (cb) {
        const auto [x, c] = split_offset(e->a);
        if (c == 0 && b > 0) return e;  // already x + b
        return add_const(x, c + b);
      }
      return e;
    }
    case ExprOp::kSub: {
      if (ca && cb) return a - b;
      if (same_var(e->a, e->b)) return 0;
      if (cb) {
        const auto [x, c] = split_offset(e->a);
        if (c == 0 && b > 0) return e;  // already x - b
        return add_const(x, c - b);
      }
      return e;
    }
    case ExprOp::kMul: {
      if (ca && cb) return a * b;
      if (ca) return fold(e->b * e->a);
      if (cb && b == 0) return 0;
      if (cb && b == 1) return e->a;
      std::int64_t inner = 0;
      if (cb && e->a->op == ExprOp::kMul && e->a->b.is_const(&inner)) return e->a->a * (inner * b);
      return e;
    }
    case ExprOp::kFloorDiv: {
      if (cb && b == 1) return e->a;
      if (ca && cb && b > 0) return floor_div_int(a, b);
      return e;
    }
    case ExprOp::kMin:
      if (ca && cb) return std::min(a, b);
      if (same_var(e->a, e->b)) return e->a;
      return e;
    case ExprOp::kMax:
      if (ca && cb) return std::max(a, b);
      if (same_var(e->a, e->b)) return e->a;
      return e;
  }
  return e;
}

Stmt simplify_stmt(const Stmt& s, Bindings& bound) {
  if (const auto* n = as<Let>(s)) {
    const Expr v = simplify(n->value, bound);
    if (v.is_const()) {
      bound.emplace_back(n->var, v);
      Stmt body = simplify_stmt(n->body, bound);
      bound.pop_back();
      return body;
    }
    Stmt body = simplify_stmt(n->body, bound);
    return v.operator->() == n->value.operator->() && body == n->body ? s
                                                                      : Let::make(n->var, v, body);
  }
  return mutate_children(
      s, [&](const Expr& e) { return simplify(e, bound); },
      [&](const Stmt& c) { return simplify_stmt(c, bound); });
}

}  // namespace

Expr simplify(const Expr& e, const Bindings& bound) {
  switch (e->op) {
    case ExprOp::kConst: return e;
    case ExprOp::kVar: return bound.empty() ? e : substitute(e, bound);
    default: return fold(with_operands(e, simplify(e->a, bound), simplify(e->b, bound)));
  }
}

Expr simplify(const Expr& e) {
  return simplify(e, Bindings{});
}

Func simplify(const Func& f) {
  Func out = f;
  Bindings bound;
  out.body = simplify_stmt(f.body, bound);
  for (BufferDecl& b : out.buffers) b.size = simplify(b.size);
  return out;
}

}  // namespace convjit::detail::ir
