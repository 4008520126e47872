#include "compiler/ir/ir.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace convjit::detail::ir {
namespace {

Expr binary(ExprOp op, const Expr& a, const Expr& b) {
  auto n = std::make_shared<ExprNode>();
  n->op = op;
  n->a = a;
  n->b = b;
  return Expr(std::move(n));
}

Stmt wrap(StmtNode n) {
  return std::make_shared<const StmtNode>(std::move(n));
}

[[noreturn]] void die(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: internal error: %s\n", file, line, what);
  std::abort();
}

}  // namespace

namespace {

std::shared_ptr<const ExprNode> const_node(std::int64_t value) {
  auto n = std::make_shared<ExprNode>();
  n->op = ExprOp::kConst;
  n->value = value;
  return n;
}

/// The small constants, made once: tile offsets and loop bounds are mostly these, and the
/// passes make them by the thousand.
constexpr std::int64_t kSharedConstMin = -64, kSharedConstEnd = 1024;

const std::vector<std::shared_ptr<const ExprNode>>& shared_consts() {
  static const std::vector<std::shared_ptr<const ExprNode>> consts = [] {
    std::vector<std::shared_ptr<const ExprNode>> v;
    v.reserve(static_cast<std::size_t>(kSharedConstEnd - kSharedConstMin));
    for (std::int64_t c = kSharedConstMin; c < kSharedConstEnd; ++c) v.push_back(const_node(c));
    return v;
  }();
  return consts;
}

}  // namespace

Expr::Expr(std::int64_t value)
    : node_(value >= kSharedConstMin && value < kSharedConstEnd
                ? shared_consts()[static_cast<std::size_t>(value - kSharedConstMin)]
                : const_node(value)) {}

bool Expr::is_const(std::int64_t* value) const {
  if (!node_ || node_->op != ExprOp::kConst) return false;
  if (value) *value = node_->value;
  return true;
}

Expr make_var(int slot, const std::string& name) {
  auto n = std::make_shared<ExprNode>();
  n->op = ExprOp::kVar;
  n->var = slot;
  n->name = name;
  return Expr(std::move(n));
}

Expr operator+(const Expr& a, const Expr& b) {
  return binary(ExprOp::kAdd, a, b);
}
Expr operator-(const Expr& a, const Expr& b) {
  return binary(ExprOp::kSub, a, b);
}
Expr operator*(const Expr& a, const Expr& b) {
  return binary(ExprOp::kMul, a, b);
}
Expr floor_div(const Expr& a, const Expr& b) {
  return binary(ExprOp::kFloorDiv, a, b);
}
Expr ceil_div(const Expr& a, std::int64_t b) {
  return floor_div(a + (b - 1), b);
}
Expr min(const Expr& a, const Expr& b) {
  return binary(ExprOp::kMin, a, b);
}
Expr max(const Expr& a, const Expr& b) {
  return binary(ExprOp::kMax, a, b);
}
Expr clamp(const Expr& x, const Expr& lo, const Expr& hi) {
  return min(max(x, lo), hi);
}

std::int64_t eval(const Expr& e, const std::int64_t* env) {
  const ExprNode& n = *e;
  switch (n.op) {
    case ExprOp::kConst: return n.value;
    case ExprOp::kVar: return env[n.var];
    case ExprOp::kAdd: return eval(n.a, env) + eval(n.b, env);
    case ExprOp::kSub: return eval(n.a, env) - eval(n.b, env);
    case ExprOp::kMul: return eval(n.a, env) * eval(n.b, env);
    case ExprOp::kFloorDiv: {
      const std::int64_t d = eval(n.b, env);
      if (d <= 0) die(__FILE__, __LINE__, "floor_div by a non-positive value");
      return floor_div_int(eval(n.a, env), d);
    }
    case ExprOp::kMin: return std::min(eval(n.a, env), eval(n.b, env));
    case ExprOp::kMax: return std::max(eval(n.a, env), eval(n.b, env));
  }
  die(__FILE__, __LINE__, "bad expression op");
}

Stmt For::make(int var, Expr min, Expr extent, ForKind kind, std::string tag, Stmt body) {
  return wrap(
      StmtNode{For{var, std::move(min), std::move(extent), kind, std::move(tag), std::move(body)}});
}
Stmt Block::make(std::vector<Stmt> stmts) {
  return wrap(StmtNode{Block{std::move(stmts)}});
}
Stmt Let::make(int var, Expr value, Stmt body) {
  return wrap(StmtNode{Let{var, std::move(value), std::move(body)}});
}
Stmt Alloc::make(std::vector<int> arrays, Stmt body) {
  return wrap(StmtNode{Alloc{std::move(arrays), std::move(body)}});
}
Stmt Zero::make(VReg dst) {
  return wrap(StmtNode{Zero{std::move(dst)}});
}
Stmt Load::make(VReg dst, Access src, Expr valid_lanes, std::int64_t lane_stride) {
  return wrap(StmtNode{Load{std::move(dst), std::move(src), std::move(valid_lanes), lane_stride}});
}
Stmt Broadcast::make(VReg dst, Access src) {
  return wrap(StmtNode{Broadcast{std::move(dst), std::move(src)}});
}
Stmt Fma::make(VReg acc, VReg a, VReg b) {
  return wrap(StmtNode{Fma{std::move(acc), std::move(a), std::move(b)}});
}
Stmt AddFrom::make(VReg dst, Access src, Expr valid_lanes, std::int64_t lane_stride) {
  return wrap(
      StmtNode{AddFrom{std::move(dst), std::move(src), std::move(valid_lanes), lane_stride}});
}
Stmt Activate::make(VReg dst, Activation activation) {
  return wrap(StmtNode{Activate{std::move(dst), activation}});
}
Stmt Store::make(VReg src, Access dst, Expr valid_lanes, std::int64_t lane_stride,
                 bool nontemporal) {
  return wrap(StmtNode{
      Store{std::move(src), std::move(dst), std::move(valid_lanes), lane_stride, nontemporal}});
}
Stmt Prefetch::make(Access src) {
  return wrap(StmtNode{Prefetch{std::move(src)}});
}
Stmt Transpose::make(Access src, Access dst, Expr rows, Expr cols) {
  return wrap(
      StmtNode{Transpose{std::move(src), std::move(dst), std::move(rows), std::move(cols)}});
}
Stmt AxisActivation::make(Activation activation, Access src, Expr src_stride, Expr count,
                          Access dst, Expr dst_stride) {
  return wrap(StmtNode{AxisActivation{activation, std::move(src), std::move(src_stride),
                                      std::move(count), std::move(dst), std::move(dst_stride)}});
}

int Func::var(const std::string& var_name) {
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (vars[i] == var_name) return static_cast<int>(i);
  }
  vars.push_back(var_name);
  return static_cast<int>(vars.size() - 1);
}

Expr Func::var_expr(const std::string& var_name) {
  const int slot = var(var_name);
  return make_var(slot, var_name);
}

int Func::find_buffer(const std::string& buffer_name) const {
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].name == buffer_name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace convjit::detail::ir
