#include "compiler/ir/call_ranges.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/loop_tags.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/sweep_channels.hpp"

namespace convjit::detail {
namespace {

using ir::Block;
using ir::Expr;
using ir::For;
using ir::Let;
using ir::Stmt;

[[noreturn]] void ranges_bug(const char* what) {
  std::fprintf(stderr, "%s:%d: convjit internal error: call ranges: %s\n", __FILE__, __LINE__,
               what);
  std::abort();
}

bool has_tag(const Stmt& s, const char* tag) {
  const auto* n = ir::as<For>(s);
  return n != nullptr && n->tag == tag;
}

/// `loop` (same variable, body and tag) over [begin, end).
Stmt loop_over(const For& loop, const Expr& begin, const Expr& end, std::string tag = {}) {
  return For::make(loop.var, begin, end - begin, loop.kind, tag.empty() ? loop.tag : std::move(tag),
                   loop.body);
}

class Restrict {
 public:
  explicit Restrict(ir::Func& f) : f_(f), p_(f.problem) {
    t0_ = f_.var_expr(CallRangeNames::kTBegin);
    t1_ = f_.var_expr(CallRangeNames::kTEnd);
    oc0_ = f_.var_expr(CallRangeNames::kOcBegin);
    oc1_ = f_.var_expr(CallRangeNames::kOcEnd);
    guard_var_ = f_.var("oc_in_range");
  }

  /// The body with the range Lets inside the length Lets (Lout, pad_left, t_lo, t_hi):
  /// lower_conv's `t_begin = 0` and `t_end = Lout` (the steps its time blocks and regions
  /// cover) become the call's clamped range.
  Stmt run(const Stmt& body) {
    if (const auto* n = ir::as<Let>(body)) {
      if (n->var != t0_->var) return Let::make(n->var, n->value, run(n->body));
      const auto* end = ir::as<Let>(n->body);
      if (end == nullptr || end->var != t1_->var) ranges_bug("t_begin without t_end");
      return ranges(end->body);
    }
    ranges_bug("no t_begin/t_end Lets (not lower_conv's scheduled nest)");
  }

 private:
  Stmt ranges(const Stmt& body) {
    const Expr lout = f_.var_expr("Lout");
    const Expr pad = f_.var_expr("pad_left");
    const Expr length = ir::make_var(ir::Func::kVarL, "L");
    const Expr in_b = f_.var_expr(CallRangeNames::kInBegin);
    const Expr in_e = f_.var_expr(CallRangeNames::kInEnd);
    const Expr last_tap = (t1_ - 1) * p_.stride - pad + (p_.kernel - 1) * p_.dilation;
    Stmt s = stmt(body);
    s = Let::make(in_e->var, clamp(last_tap + 1, in_b, length), s);
    s = Let::make(in_b->var, clamp(t0_ * p_.stride - pad, 0, length), s);
    s = Let::make(oc1_->var, clamp(param(CallRangeNames::kOcEndParam), oc0_, p_.filters), s);
    s = Let::make(oc0_->var, clamp(param(CallRangeNames::kOcBeginParam), 0, p_.filters), s);
    s = Let::make(t1_->var, clamp(param(CallRangeNames::kTEndParam), t0_, lout), s);
    return Let::make(t0_->var, clamp(param(CallRangeNames::kTBeginParam), 0, lout), s);
  }

  Expr param(const char* name) { return f_.var_expr(name); }

  Stmt stmt(const Stmt& s) {
    if (const auto* n = ir::as<For>(s)) {
      if (n->tag == ir::tags::kGroups) return groups(*n);
      if (n->tag == "axis activation over channels") return axis_rows(*n, t0_, t1_);
      if (n->tag == "axis activation over time") return axis_rows(*n, oc0_, oc1_);
    }
    if (const auto* n = ir::as<Block>(s); n && !n->stmts.empty()) {
      if (has_tag(n->stmts.front(), ir::tags::kOcBlocks) ||
          has_tag(n->stmts.front(), ir::tags::kChannelBlocks)) {
        return channel_blocks(*n);
      }
    }
    return mutate_children(
        s, [](const Expr& e) { return e; }, [this](const Stmt& c) { return stmt(c); });
  }

  /// Groups that hold output channels of the range.
  Stmt groups(const For& n) {
    const std::int64_t fg = p_.oc_per_group;
    const Expr lo = clamp(floor_div(oc0_, fg), 0, p_.groups);
    const Expr hi = clamp(ceil_div(oc1_, fg), lo, p_.groups);
    const Expr saved = group_;
    group_ = ir::make_var(n.var, f_.vars.at(static_cast<std::size_t>(n.var)));
    Stmt body = stmt(n.body);
    group_ = saved;
    return For::make(n.var, lo, hi - lo, n.kind, n.tag, body);
  }

  /// [begin, end) cut to [lo, hi), as clamps whose limits are the original bounds: a range
  /// LLVM proves empty (valid padding has no edges) stays provably empty.
  static std::pair<Expr, Expr> intersect(const Expr& begin, const Expr& end, const Expr& lo,
                                         const Expr& hi) {
    const Expr b = clamp(lo, begin, end);
    return {b, clamp(hi, b, end)};
  }

  /// The rows of an axis activation stage: For n { For row { AxisActivation } }.
  Stmt axis_rows(const For& n, const Expr& begin, const Expr& end) {
    const auto* row = ir::as<For>(n.body);
    if (row == nullptr) ranges_bug("axis activation stage without a row loop");
    const auto [b, e] = intersect(row->min, row->min + row->extent, begin, end);
    return For::make(n.var, n.min, n.extent, n.kind, n.tag, loop_over(*row, b, e));
  }

  /// Block{For blocks {...}, tail?}: full channel blocks whose first output channel is in
  /// [oc_begin, oc_end), and the narrower tail block under the same condition.
  Stmt channel_blocks(const Block& n) {
    if (n.stmts.size() > 2) ranges_bug("channel blocks followed by more than a tail");
    const For& full = *ir::as<For>(n.stmts.front());
    const bool depthwise = full.tag == ir::tags::kChannelBlocks;
    const std::int64_t bw = f_.weights.block_width;
    const std::int64_t channels = depthwise ? p_.in_channels : p_.oc_per_group;
    const std::int64_t count = channels / bw;
    // Output channels of block b start at base + b*unit.
    const std::int64_t unit = depthwise ? bw * p_.oc_per_group : bw;
    Expr base = 0;
    if (!depthwise) {
      if (!group_.defined()) ranges_bug("oc blocks outside a groups loop");
      base = group_ * p_.oc_per_group;
    }
    const Expr lo = clamp(ceil_div(oc0_ - base, unit), 0, count);
    const Expr hi = clamp(ceil_div(oc1_ - base, unit), lo, count);
    std::vector<Stmt> out;
    out.push_back(For::make(full.var, lo, hi - lo, full.kind, full.tag, stmt(full.body)));
    if (n.stmts.size() == 2) {
      const Expr start = base + count * unit;
      const Expr in_range = min(clamp(oc1_ - start, 0, 1), clamp(start - oc0_ + 1, 0, 1));
      out.push_back(For::make(guard_var_, 0, in_range, ir::ForKind::kSerial, ir::tags::kOcRange,
                              stmt(n.stmts.back())));
    }
    return Block::make(std::move(out));
  }

  ir::Func& f_;
  const Problem& p_;
  Expr t0_, t1_, oc0_, oc1_;
  Expr group_;
  int guard_var_ = -1;
};

}  // namespace

ir::Func restrict_to_call_ranges(const ir::Func& f) {
  ir::Func out = f;
  for (const char* name : {CallRangeNames::kTBeginParam, CallRangeNames::kTEndParam,
                           CallRangeNames::kOcBeginParam, CallRangeNames::kOcEndParam}) {
    out.var(name);
  }
  Restrict r(out);
  out.body = r.run(f.body);
  return out;
}

std::vector<std::pair<int, std::int64_t>> call_range_values(const ir::Func& f,
                                                            const CallRange& range) {
  const std::pair<const char*, std::int64_t> values[] = {
      {CallRangeNames::kTBeginParam, range.t_begin},
      {CallRangeNames::kTEndParam, range.t_end},
      {CallRangeNames::kOcBeginParam, range.oc_begin},
      {CallRangeNames::kOcEndParam, range.oc_end},
      {kSweepDownVar, range.sweep_down}};
  std::vector<std::pair<int, std::int64_t>> out;
  for (const auto& [name, value] : values) {
    for (std::size_t v = 0; v < f.vars.size(); ++v) {
      if (f.vars[v] == name) out.push_back({static_cast<int>(v), value});
    }
  }
  return out;
}

ir::Func bind_call_range(const ir::Func& f, const CallRange& range) {
  ir::Func out = f;
  for (const auto& [var, value] : call_range_values(f, range)) {
    out.body = ir::substitute(out.body, var, value);
  }
  return out;
}

std::int64_t call_oc_split_granularity(const ir::Func& f) {
  return f.plan->oc_granularity;  // the plan's split rule, which the Xbyak driver also follows
}

bool call_can_split_time(const ir::Func& f) {
  return f.plan->split_time;
}

}  // namespace convjit::detail
