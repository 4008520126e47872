#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

bool same(const Expr& a, const Expr& b) {
  return a.operator->() == b.operator->();
}

}  // namespace

Expr with_operands(const Expr& e, Expr a, Expr b) {
  if (same(a, e->a) && same(b, e->b)) return e;
  auto n = std::make_shared<ExprNode>();
  n->op = e->op;
  n->a = std::move(a);
  n->b = std::move(b);
  return Expr(std::move(n));
}

namespace {

/// Copy on write: a pass that changes nothing below a node gets the node itself back, so
/// the passes allocate only what they change (the pipeline's cost, docs/ir.md).
struct Rebuild {
  const ExprFn& fe;
  bool changed = false;

  Expr operator()(const Expr& e) {
    Expr m = fe(e);
    changed = changed || !same(m, e);
    return m;
  }
  VReg operator()(const VReg& r) { return VReg{r.array, (*this)(r.index)}; }
  Access operator()(const Access& a) { return Access{a.buffer, (*this)(a.index)}; }
};

}  // namespace

Expr mutate_operands(const Expr& e, const ExprFn& fe) {
  if (e->op == ExprOp::kConst || e->op == ExprOp::kVar) return e;
  return with_operands(e, fe(e->a), fe(e->b));
}

Stmt mutate_children(const Stmt& s, const ExprFn& fe, const StmtFn& fs) {
  Rebuild m{fe};
  auto child = [&](const Stmt& c) {
    Stmt r = fs(c);
    m.changed = m.changed || r != c;
    return r;
  };
  // Each case maps its operands first and builds a node only when one of them changed.
  return std::visit(
      Overloaded{
          [&](const For& n) {
            Expr lo = m(n.min), extent = m(n.extent);
            Stmt body = child(n.body);
            return m.changed ? For::make(n.var, lo, extent, n.kind, n.tag, body) : s;
          },
          [&](const Block& n) {
            std::vector<Stmt> out;  // filled from the first changed child on
            for (std::size_t i = 0; i < n.stmts.size(); ++i) {
              Stmt c = fs(n.stmts[i]);
              if (!m.changed && c != n.stmts[i]) {
                m.changed = true;
                out.reserve(n.stmts.size());
                out.assign(n.stmts.begin(), n.stmts.begin() + static_cast<std::ptrdiff_t>(i));
              }
              if (m.changed) out.push_back(std::move(c));
            }
            return m.changed ? Block::make(std::move(out)) : s;
          },
          [&](const Let& n) {
            Expr value = m(n.value);
            Stmt body = child(n.body);
            return m.changed ? Let::make(n.var, value, body) : s;
          },
          [&](const Alloc& n) {
            Stmt body = child(n.body);
            return m.changed ? Alloc::make(n.arrays, body) : s;
          },
          [&](const Zero& n) {
            VReg dst = m(n.dst);
            return m.changed ? Zero::make(dst) : s;
          },
          [&](const Load& n) {
            VReg dst = m(n.dst);
            Access src = m(n.src);
            Expr lanes = m(n.valid_lanes);
            return m.changed ? Load::make(dst, src, lanes, n.lane_stride) : s;
          },
          [&](const Broadcast& n) {
            VReg dst = m(n.dst);
            Access src = m(n.src);
            return m.changed ? Broadcast::make(dst, src) : s;
          },
          [&](const Fma& n) {
            VReg acc = m(n.acc), x = m(n.a), y = m(n.b);
            return m.changed ? Fma::make(acc, x, y) : s;
          },
          [&](const AddFrom& n) {
            VReg dst = m(n.dst);
            Access src = m(n.src);
            Expr lanes = m(n.valid_lanes);
            return m.changed ? AddFrom::make(dst, src, lanes, n.lane_stride) : s;
          },
          [&](const Activate& n) {
            VReg dst = m(n.dst);
            return m.changed ? Activate::make(dst, n.activation) : s;
          },
          [&](const Store& n) {
            VReg src = m(n.src);
            Access dst = m(n.dst);
            Expr lanes = m(n.valid_lanes);
            return m.changed ? Store::make(src, dst, lanes, n.lane_stride, n.nontemporal) : s;
          },
          [&](const Prefetch& n) {
            Access src = m(n.src);
            return m.changed ? Prefetch::make(src) : s;
          },
          [&](const Transpose& n) {
            Access src = m(n.src), dst = m(n.dst);
            Expr rows = m(n.rows), cols = m(n.cols);
            return m.changed ? Transpose::make(src, dst, rows, cols) : s;
          },
          [&](const AxisActivation& n) {
            Access src = m(n.src);
            Expr src_stride = m(n.src_stride), count = m(n.count);
            Access dst = m(n.dst);
            Expr dst_stride = m(n.dst_stride);
            return m.changed
                       ? AxisActivation::make(n.activation, src, src_stride, count, dst, dst_stride)
                       : s;
          },
      },
      s->node);
}

Expr substitute(const Expr& e, int var, const Expr& value) {
  switch (e->op) {
    case ExprOp::kConst: return e;
    case ExprOp::kVar: return e->var == var ? value : e;
    default: return with_operands(e, substitute(e->a, var, value), substitute(e->b, var, value));
  }
}

Expr substitute(const Expr& e, const Bindings& bindings) {
  switch (e->op) {
    case ExprOp::kConst: return e;
    case ExprOp::kVar:
      for (auto it = bindings.rbegin(); it != bindings.rend(); ++it) {
        if (it->first == e->var) return it->second;
      }
      return e;
    default: return with_operands(e, substitute(e->a, bindings), substitute(e->b, bindings));
  }
}

Stmt substitute(const Stmt& s, int var, const Expr& value) {
  return mutate_children(
      s, [&](const Expr& e) { return substitute(e, var, value); },
      [&](const Stmt& c) { return substitute(c, var, value); });
}

void visit(const Stmt& s, const std::function<void(const Stmt&)>& f) {
  f(s);
  if (const auto* n = as<For>(s)) visit(n->body, f);
  if (const auto* n = as<Let>(s)) visit(n->body, f);
  if (const auto* n = as<Alloc>(s)) visit(n->body, f);
  if (const auto* n = as<Block>(s)) {
    for (const Stmt& c : n->stmts) visit(c, f);
  }
}

bool uses_var(const Expr& e, int var) {
  switch (e->op) {
    case ExprOp::kConst: return false;
    case ExprOp::kVar: return e->var == var;
    default: return uses_var(e->a, var) || uses_var(e->b, var);
  }
}

}  // namespace convjit::detail::ir
