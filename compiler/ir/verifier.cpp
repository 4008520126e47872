#include "compiler/ir/verifier.hpp"

#include "compiler/ir/call_ranges.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "compiler/ir/interpreter.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/printer.hpp"

namespace convjit::detail::ir {
namespace {

class Checker {
 public:
  Checker(const Func& f, const VerifyOptions& o, std::vector<std::string>& errors)
      : f_(f), o_(o), errors_(errors) {
    bound_.assign(f.vars.size(), false);
    unrolled_.assign(f.vars.size(), false);
    bound_[Func::kVarN] = bound_[Func::kVarL] = true;
    live_.assign(f.regs.size(), false);
  }

  void expr(const Expr& e, const Stmt& s) {
    if (!e.defined()) {
      error(s, "undefined expression");
      return;
    }
    switch (e->op) {
      case ExprOp::kConst: return;
      case ExprOp::kVar:
        if (e->var < 0 || e->var >= static_cast<int>(bound_.size()) || !bound_[e->var]) {
          error(s, fmt::format("variable {} used outside its loop or let", e->name));
        }
        return;
      default: expr(e->a, s); expr(e->b, s);
    }
  }

  /// Whether `e` mentions only constants and the variables of enclosing unrolled loops.
  bool unrolled_constant(const Expr& e) const {
    if (!e.defined()) return false;
    switch (e->op) {
      case ExprOp::kConst: return true;
      case ExprOp::kVar:
        return e->var >= 0 && e->var < static_cast<int>(unrolled_.size()) && unrolled_[e->var];
      default: return unrolled_constant(e->a) && unrolled_constant(e->b);
    }
  }

  void reg(const VReg& r, const Stmt& s) {
    if (r.array < 0 || r.array >= static_cast<int>(live_.size())) {
      error(s, "unknown register array");
      return;
    }
    if (!live_[r.array])
      error(s, fmt::format("register {} used outside its Alloc", f_.regs[r.array].name));
    expr(r.index, s);
  }

  void access(const Access& a, const Stmt& s) {
    if (a.buffer < 0 || a.buffer >= static_cast<int>(f_.buffers.size())) error(s, "unknown buffer");
    expr(a.index, s);
  }

  void bind(int var, const Stmt& s, const std::function<void()>& inner) {
    if (var < 0 || var >= static_cast<int>(bound_.size())) {
      error(s, "unknown variable slot");
      return;
    }
    if (bound_[var])
      error(s, fmt::format("variable {} rebound inside its own scope", f_.vars[var]));
    bound_[var] = true;
    inner();
    bound_[var] = false;
  }

  void stmt(const Stmt& s) {
    if (!s) {
      errors_.push_back("null statement");
      return;
    }
    if (const auto* n = as<Block>(s)) {
      for (const Stmt& c : n->stmts) stmt(c);
      return;
    }
    if (const auto* n = as<For>(s)) {
      expr(n->min, s);
      expr(n->extent, s);
      if (n->kind == ForKind::kUnrolled) {
        if (o_.require_unrolled) error(s, "unrolled loop left after unrolling");
        // Constant once the enclosing unrolled loops are unrolled (tap groups' bounds).
        if (!unrolled_constant(n->min) || !unrolled_constant(n->extent)) {
          error(s, "unrolled loop with a non-constant range");
        }
        unrolled_[n->var] = true;
        bind(n->var, s, [&] { stmt(n->body); });
        unrolled_[n->var] = false;
        return;
      }
      bind(n->var, s, [&] { stmt(n->body); });
      return;
    }
    if (const auto* n = as<Let>(s)) {
      expr(n->value, s);
      bind(n->var, s, [&] { stmt(n->body); });
      return;
    }
    if (const auto* n = as<Alloc>(s)) {
      int added = 0;
      for (int a : n->arrays) {
        if (a < 0 || a >= static_cast<int>(live_.size())) {
          error(s, "unknown register array");
          return;
        }
        if (live_[a]) error(s, fmt::format("register array {} allocated twice", f_.regs[a].name));
        live_[a] = true;
        added += f_.regs[a].count;
      }
      in_use_ += added;
      if (in_use_ > f_.vector_registers) {
        error(s, fmt::format("register tile needs {} vector registers, {} has {}", in_use_,
                             isa_name(f_.isa), f_.vector_registers));
      }
      stmt(n->body);
      in_use_ -= added;
      for (int a : n->arrays) live_[a] = false;
      return;
    }
    if (const auto* n = as<Zero>(s)) {
      reg(n->dst, s);
      return;
    }
    if (const auto* n = as<Load>(s)) {
      reg(n->dst, s);
      access(n->src, s);
      expr(n->valid_lanes, s);
      return;
    }
    if (const auto* n = as<Broadcast>(s)) {
      reg(n->dst, s);
      access(n->src, s);
      return;
    }
    if (const auto* n = as<Fma>(s)) {
      reg(n->acc, s);
      reg(n->a, s);
      reg(n->b, s);
      if (n->acc.array >= 0 && n->a.array >= 0 && n->b.array >= 0 &&
          n->acc.array < static_cast<int>(f_.regs.size()) &&
          n->a.array < static_cast<int>(f_.regs.size()) &&
          n->b.array < static_cast<int>(f_.regs.size()) &&
          (f_.regs[n->acc.array].lanes != f_.regs[n->a.array].lanes ||
           f_.regs[n->acc.array].lanes != f_.regs[n->b.array].lanes)) {
        error(s, "fma operands of different widths");
      }
      return;
    }
    if (const auto* n = as<AddFrom>(s)) {
      reg(n->dst, s);
      access(n->src, s);
      expr(n->valid_lanes, s);
      return;
    }
    if (const auto* n = as<Activate>(s)) {
      reg(n->dst, s);
      if (is_axis_activation(n->activation)) error(s, "axis activation in a register epilogue");
      return;
    }
    if (const auto* n = as<Store>(s)) {
      reg(n->src, s);
      access(n->dst, s);
      expr(n->valid_lanes, s);
      return;
    }
    if (const auto* n = as<Prefetch>(s)) {
      access(n->src, s);
      return;
    }
    if (const auto* n = as<Transpose>(s)) {
      access(n->src, s);
      access(n->dst, s);
      expr(n->rows, s);
      expr(n->cols, s);
      return;
    }
    if (const auto* n = as<AxisActivation>(s)) {
      access(n->src, s);
      access(n->dst, s);
      expr(n->src_stride, s);
      expr(n->count, s);
      expr(n->dst_stride, s);
      if (!is_axis_activation(n->activation)) error(s, "element-wise activation in an axis stage");
    }
  }

 private:
  void error(const Stmt& s, const std::string& what) {
    std::string text = to_string(f_, s);
    const auto nl = text.find('\n');
    if (nl != std::string::npos) text.resize(nl);
    errors_.push_back(what + " at: " + text);
  }

  const Func& f_;
  const VerifyOptions& o_;
  std::vector<std::string>& errors_;
  std::vector<bool> bound_, live_;
  std::vector<bool> unrolled_;  ///< variables of the enclosing unrolled loops
  int in_use_ = 0;
};

}  // namespace

std::vector<std::int64_t> verification_lengths(const Func& f, int max_count) {
  const Problem& p = f.problem;
  const std::int64_t field = (p.kernel - 1) * p.dilation + 1;
  std::int64_t rows = 1;
  for (const RegArray& r : f.regs) rows = std::max<std::int64_t>(rows, r.count);
  const std::int64_t span = field + p.stride * (2 * rows + 2) + 2;
  // glu over time needs an even output length: other lengths are rejected before a run.
  auto runnable = [&](std::int64_t l) {
    if (p.activation != Activation::kGlu || p.data_format != DataFormat::kChannelsFirst) {
      return true;
    }
    const std::int64_t lout = p.padding == Padding::kValid
                                  ? std::max<std::int64_t>(0, (l - field) / p.stride + 1)
                                  : (l + p.stride - 1) / p.stride;
    return l >= field || p.padding != Padding::kValid ? lout % 2 == 0 : true;
  };
  std::set<std::int64_t> out;
  if (runnable(p.length)) out.insert(p.length);
  const std::int64_t step = std::max<std::int64_t>(1, span / std::max(1, max_count - 1));
  for (std::int64_t l = 0; l <= span && static_cast<int>(out.size()) < max_count; l += step) {
    if (runnable(l)) out.insert(l);
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> verify(const Func& unbound, const VerifyOptions& options) {
  std::vector<std::string> errors;
  if (unbound.vars.size() < 2 || unbound.vars[Func::kVarN] != "N" ||
      unbound.vars[Func::kVarL] != "L") {
    errors.push_back("variables 0 and 1 must be N and L");
    return errors;
  }
  // Call-range parameters left free are checked for a whole run (the pipeline also checks a
  // split one; see pipeline.cpp).
  const Func f = bind_call_range(unbound, CallRange{});
  Checker(f, options, errors).stmt(f.body);
  if (!errors.empty()) return errors;
  bool first = true;
  for (std::int64_t l : options.lengths) {
    const std::int64_t n = first ? 2 : 1;
    first = false;
    std::vector<std::vector<float>> storage;
    std::vector<BufferBinding> bind;
    for (std::size_t b = 0; b < f.buffers.size(); ++b) {
      const std::int64_t size = buffer_size(f, static_cast<int>(b), n, l);
      if (size < 0) {
        errors.push_back(fmt::format("buffer {} has size {} at L={}", f.buffers[b].name, size, l));
        return errors;
      }
      storage.emplace_back(static_cast<std::size_t>(size), 0.0f);
      bind.push_back(BufferBinding{storage.back().data(), size});
    }
    try {
      interpret(f, n, l, bind);
    } catch (const IrFault& e) {
      errors.push_back(e.what());
      return errors;
    }
  }
  return errors;
}

void verify_or_die(const Func& f, const VerifyOptions& options, const char* after_pass) {
  const std::vector<std::string> errors = verify(f, options);
  if (errors.empty()) return;
  std::fprintf(stderr, "%s:%d: internal error: IR invalid after %s:\n", __FILE__, __LINE__,
               after_pass);
  for (const std::string& e : errors) std::fprintf(stderr, "  %s\n", e.c_str());
  std::fprintf(stderr, "%s", to_string(f).c_str());
  std::abort();
}

}  // namespace convjit::detail::ir
