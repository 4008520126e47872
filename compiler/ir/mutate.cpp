#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

VReg map_reg(const VReg& r, const ExprFn& fe) {
  return VReg{r.array, fe(r.index)};
}
Access map_access(const Access& a, const ExprFn& fe) {
  return Access{a.buffer, fe(a.index)};
}

}  // namespace

Expr mutate_operands(const Expr& e, const ExprFn& fe) {
  if (e->op == ExprOp::kConst || e->op == ExprOp::kVar) return e;
  auto n = std::make_shared<ExprNode>(*e);
  n->a = fe(e->a);
  n->b = fe(e->b);
  return Expr(std::move(n));
}

Stmt mutate_children(const Stmt& s, const ExprFn& fe, const StmtFn& fs) {
  return std::visit(
      Overloaded{
          [&](const For& n) {
            return For::make(n.var, fe(n.min), fe(n.extent), n.kind, n.tag, fs(n.body));
          },
          [&](const Block& n) {
            std::vector<Stmt> out;
            out.reserve(n.stmts.size());
            for (const Stmt& c : n.stmts) out.push_back(fs(c));
            return Block::make(std::move(out));
          },
          [&](const Let& n) { return Let::make(n.var, fe(n.value), fs(n.body)); },
          [&](const Alloc& n) { return Alloc::make(n.arrays, fs(n.body)); },
          [&](const Zero& n) { return Zero::make(map_reg(n.dst, fe)); },
          [&](const Load& n) {
            return Load::make(map_reg(n.dst, fe), map_access(n.src, fe), fe(n.valid_lanes),
                              n.lane_stride);
          },
          [&](const Broadcast& n) {
            return Broadcast::make(map_reg(n.dst, fe), map_access(n.src, fe));
          },
          [&](const Fma& n) {
            return Fma::make(map_reg(n.acc, fe), map_reg(n.a, fe), map_reg(n.b, fe));
          },
          [&](const AddFrom& n) {
            return AddFrom::make(map_reg(n.dst, fe), map_access(n.src, fe), fe(n.valid_lanes),
                                 n.lane_stride);
          },
          [&](const Activate& n) { return Activate::make(map_reg(n.dst, fe), n.activation); },
          [&](const Store& n) {
            return Store::make(map_reg(n.src, fe), map_access(n.dst, fe), fe(n.valid_lanes),
                               n.lane_stride, n.nontemporal);
          },
          [&](const Prefetch& n) { return Prefetch::make(map_access(n.src, fe)); },
          [&](const Transpose& n) {
            return Transpose::make(map_access(n.src, fe), map_access(n.dst, fe), fe(n.rows),
                                   fe(n.cols));
          },
          [&](const AxisActivation& n) {
            return AxisActivation::make(n.activation, map_access(n.src, fe), fe(n.src_stride),
                                        fe(n.count), map_access(n.dst, fe), fe(n.dst_stride));
          },
      },
      s->node);
}

Expr substitute(const Expr& e, int var, const Expr& value) {
  if (e->op == ExprOp::kVar) return e->var == var ? value : e;
  if (e->op == ExprOp::kConst) return e;
  return mutate_operands(e, [&](const Expr& x) { return substitute(x, var, value); });
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
