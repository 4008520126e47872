#include "compiler/ir/full_lanes.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>

#include "compiler/ir/mutate.hpp"
#include "compiler/ir/simplify.hpp"

namespace convjit::detail {
namespace {

using ir::Expr;
using ir::Stmt;

struct Interval {
  std::int64_t lo = 0, hi = 0;
};

class FoldLanes {
 public:
  Stmt stmt(const Stmt& s) {
    if (const auto* n = ir::as<ir::For>(s)) {
      std::int64_t lo = 0, extent = 0;
      const bool known = ir::simplify(n->min).is_const(&lo) &&
                         ir::simplify(n->extent).is_const(&extent) && extent > 0;
      if (known) vars_[n->var] = Interval{lo, lo + extent - 1};
      Stmt body = stmt(n->body);
      vars_.erase(n->var);
      if (body == n->body) return s;  // copy on write: unchanged nodes are kept
      return ir::For::make(n->var, n->min, n->extent, n->kind, n->tag, body);
    }
    if (const auto* n = ir::as<ir::Load>(s)) {
      const Expr valid = lanes(n->valid_lanes);
      if (same(valid, n->valid_lanes)) return s;
      return ir::Load::make(n->dst, n->src, valid, n->lane_stride);
    }
    if (const auto* n = ir::as<ir::AddFrom>(s)) {
      const Expr valid = lanes(n->valid_lanes);
      if (same(valid, n->valid_lanes)) return s;
      return ir::AddFrom::make(n->dst, n->src, valid, n->lane_stride);
    }
    if (const auto* n = ir::as<ir::Store>(s)) {
      const Expr valid = lanes(n->valid_lanes);
      if (same(valid, n->valid_lanes)) return s;
      return ir::Store::make(n->src, n->dst, valid, n->lane_stride, n->nontemporal);
    }
    return mutate_children(
        s, [](const Expr& e) { return e; }, [this](const Stmt& c) { return stmt(c); });
  }

 private:
  static bool same(const Expr& a, const Expr& b) { return a.operator->() == b.operator->(); }

  Expr lanes(const Expr& valid) const {
    const std::optional<Interval> r = range(valid);
    if (r && r->lo == r->hi) return r->lo;
    return valid;
  }

  std::optional<Interval> range(const Expr& e) const {
    switch (e->op) {
      case ir::ExprOp::kConst: return Interval{e->value, e->value};
      case ir::ExprOp::kVar: {
        const auto it = vars_.find(e->var);
        if (it == vars_.end()) return std::nullopt;
        return it->second;
      }
      default: break;
    }
    const std::optional<Interval> a = range(e->a);
    const std::optional<Interval> b = range(e->b);
    if (!a || !b) return std::nullopt;
    switch (e->op) {
      case ir::ExprOp::kAdd: return Interval{a->lo + b->lo, a->hi + b->hi};
      case ir::ExprOp::kSub: return Interval{a->lo - b->hi, a->hi - b->lo};
      case ir::ExprOp::kMul: {
        const std::int64_t p[] = {a->lo * b->lo, a->lo * b->hi, a->hi * b->lo, a->hi * b->hi};
        return Interval{*std::min_element(p, p + 4), *std::max_element(p, p + 4)};
      }
      case ir::ExprOp::kFloorDiv:
        if (b->lo != b->hi || b->lo <= 0) return std::nullopt;
        return Interval{ir::floor_div_int(a->lo, b->lo), ir::floor_div_int(a->hi, b->lo)};
      case ir::ExprOp::kMin: return Interval{std::min(a->lo, b->lo), std::min(a->hi, b->hi)};
      case ir::ExprOp::kMax: return Interval{std::max(a->lo, b->lo), std::max(a->hi, b->hi)};
      default: return std::nullopt;
    }
  }

  std::map<int, Interval> vars_;
};

}  // namespace

ir::Func fold_full_lanes(const ir::Func& f) {
  ir::Func out = f;
  out.body = FoldLanes().stmt(f.body);
  return out;
}

}  // namespace convjit::detail
