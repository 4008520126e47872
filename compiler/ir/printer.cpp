#include "compiler/ir/printer.hpp"

#include <fmt/format.h>

#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {
namespace {

int precedence(const Expr& e) {
  switch (e->op) {
    case ExprOp::kAdd:
    case ExprOp::kSub: return 1;
    case ExprOp::kMul: return 2;
    default: return 3;
  }
}

std::string operand(const Expr& e, int parent, bool right_of_sub) {
  const std::string s = to_string(e);
  const int p = precedence(e);
  if (p < parent || (right_of_sub && p == parent)) return "(" + s + ")";
  return s;
}

class Printer {
 public:
  explicit Printer(const Func& f) : f_(f) {}

  std::string reg(const VReg& r) const {
    return fmt::format("{}[{}]", f_.regs.at(r.array).name, to_string(r.index));
  }
  int lanes(const VReg& r) const { return f_.regs.at(r.array).lanes; }
  std::string mem(const Access& a) const {
    return fmt::format("{}[{}]", f_.buffers.at(a.buffer).name, to_string(a.index));
  }
  std::string lanes_suffix(const VReg& r, const Expr& valid, std::int64_t stride) const {
    std::string out;
    std::int64_t v = 0;
    if (!valid.is_const(&v) || v != lanes(r)) out += " mask " + to_string(valid);
    if (stride != 1) out += fmt::format(" stride {}", stride);
    return out;
  }

  void print(const Stmt& s, int indent, std::string& out) const {
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    if (const auto* n = as<Block>(s)) {
      for (const Stmt& c : n->stmts) print(c, indent, out);
      return;
    }
    if (const auto* n = as<For>(s)) {
      const char* kind = n->kind == ForKind::kParallel   ? "parallel for"
                         : n->kind == ForKind::kUnrolled ? "unrolled for"
                                                         : "for";
      out += fmt::format("{}{} {} from {} count {}:{}\n", pad, kind, f_.vars.at(n->var),
                         to_string(n->min), to_string(n->extent),
                         n->tag.empty() ? "" : "  # " + n->tag);
      print(n->body, indent + 2, out);
      return;
    }
    if (const auto* n = as<Let>(s)) {
      out += fmt::format("{}let {} = {}\n", pad, f_.vars.at(n->var), to_string(n->value));
      print(n->body, indent, out);
      return;
    }
    if (const auto* n = as<Alloc>(s)) {
      std::string names;
      for (int a : n->arrays) {
        const RegArray& r = f_.regs.at(a);
        names += fmt::format("{}{}[{}] x{}", names.empty() ? "" : ", ", r.name, r.count, r.lanes);
      }
      out += fmt::format("{}registers {}:\n", pad, names);
      print(n->body, indent + 2, out);
      return;
    }
    if (const auto* n = as<Zero>(s)) {
      out += fmt::format("{}{} = 0\n", pad, reg(n->dst));
      return;
    }
    if (const auto* n = as<Load>(s)) {
      out += fmt::format("{}{} = load{} {}{}\n", pad, reg(n->dst), lanes(n->dst), mem(n->src),
                         lanes_suffix(n->dst, n->valid_lanes, n->lane_stride));
      return;
    }
    if (const auto* n = as<Broadcast>(s)) {
      out += fmt::format("{}{} = broadcast{} {}\n", pad, reg(n->dst), lanes(n->dst), mem(n->src));
      return;
    }
    if (const auto* n = as<Fma>(s)) {
      out += fmt::format("{}{} = fma({}, {}, {})\n", pad, reg(n->acc), reg(n->a), reg(n->b),
                         reg(n->acc));
      return;
    }
    if (const auto* n = as<AddFrom>(s)) {
      out += fmt::format("{}{} += load{} {}{}\n", pad, reg(n->dst), lanes(n->dst), mem(n->src),
                         lanes_suffix(n->dst, n->valid_lanes, n->lane_stride));
      return;
    }
    if (const auto* n = as<Activate>(s)) {
      out += fmt::format("{}{} = {}({})\n", pad, reg(n->dst), activation_name(n->activation),
                         reg(n->dst));
      return;
    }
    if (const auto* n = as<Store>(s)) {
      out += fmt::format("{}store{} {} = {}{}{}\n", pad, lanes(n->src), mem(n->dst), reg(n->src),
                         lanes_suffix(n->src, n->valid_lanes, n->lane_stride),
                         n->nontemporal ? " nontemporal" : "");
      return;
    }
    if (const auto* n = as<Prefetch>(s)) {
      out += fmt::format("{}prefetch {}\n", pad, mem(n->src));
      return;
    }
    if (const auto* n = as<Transpose>(s)) {
      out += fmt::format("{}transpose {} rows {} cols {} -> {}\n", pad, mem(n->src),
                         to_string(n->rows), to_string(n->cols), mem(n->dst));
      return;
    }
    if (const auto* n = as<AxisActivation>(s)) {
      out += fmt::format("{}{} {} stride {} count {} -> {} stride {}\n", pad,
                         activation_name(n->activation), mem(n->src), to_string(n->src_stride),
                         to_string(n->count), mem(n->dst), to_string(n->dst_stride));
    }
  }

 private:
  const Func& f_;
};

const char* buffer_kind_name(BufferKind k) {
  switch (k) {
    case BufferKind::kInput: return "input";
    case BufferKind::kWeights: return "weights";
    case BufferKind::kBias: return "bias";
    case BufferKind::kOutput: return "output";
    case BufferKind::kScratch: return "scratch";
  }
  return "?";
}

}  // namespace

std::string to_string(const Expr& e) {
  if (!e.defined()) return "<undefined>";
  switch (e->op) {
    case ExprOp::kConst: return std::to_string(e->value);
    case ExprOp::kVar: return e->name;
    case ExprOp::kAdd: return operand(e->a, 1, false) + " + " + operand(e->b, 1, false);
    case ExprOp::kSub: return operand(e->a, 1, false) + " - " + operand(e->b, 1, true);
    case ExprOp::kMul: return operand(e->a, 2, false) + "*" + operand(e->b, 2, true);
    case ExprOp::kFloorDiv:
      return "floor(" + operand(e->a, 2, false) + " / " + operand(e->b, 3, false) + ")";
    case ExprOp::kMin: return "min(" + to_string(e->a) + ", " + to_string(e->b) + ")";
    case ExprOp::kMax: return "max(" + to_string(e->a) + ", " + to_string(e->b) + ")";
  }
  return "?";
}

std::string to_string(const Func& f, const Stmt& s, int indent) {
  std::string out;
  Printer(f).print(s, indent, out);
  return out;
}

std::string to_string(const Func& f) {
  std::string out =
      fmt::format("func {}(N, L)  # {} {}\n", f.name, isa_name(f.isa), f.problem.to_string());
  for (const BufferDecl& b : f.buffers) {
    out += fmt::format("  buffer {} {}[{}]\n", buffer_kind_name(b.kind), b.name, to_string(b.size));
  }
  out += fmt::format("  weights packed {} block_width {} blocks {}\n",
                     f.weights.kind == WeightLayout::Kind::kDirect ? "direct" : "depthwise",
                     f.weights.block_width, f.weights.blocks);
  out += to_string(f, f.body, 2);
  return out;
}

}  // namespace convjit::detail::ir
