#include "compiler/ir/interpreter.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "compiler/activation_math.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/sweep_channels.hpp"

namespace convjit::detail::ir {
namespace {

class Interpreter {
 public:
  Interpreter(const Func& f, std::int64_t n, std::int64_t l,
              const std::vector<BufferBinding>& buffers, const CallRange& range)
      : f_(f), env_(f.vars.size() + 1, 0) {
    env_[Func::kVarN] = n;
    env_[Func::kVarL] = l;
    // The call's ranges (restrict_to_call_ranges' parameters; a whole run by default).
    for (const auto& [var, value] : call_range_values(f, range)) {
      env_[static_cast<std::size_t>(var)] = value;
    }
    if (buffers.size() != f.buffers.size()) {
      throw IrFault(fmt::format("{} buffers bound, {} declared", buffers.size(), f.buffers.size()));
    }
    for (std::size_t b = 0; b < f.buffers.size(); ++b) {
      const std::int64_t size = eval(f.buffers[b].size, env_.data());
      if (size < 0) throw IrFault(fmt::format("buffer {} has size {}", f.buffers[b].name, size));
      BufferBinding bind = buffers[b];
      if (bind.data == nullptr && f.buffers[b].kind == BufferKind::kScratch) {
        scratch_.emplace_back(static_cast<std::size_t>(size), 0.0f);
        bind = BufferBinding{scratch_.back().data(), size};
      } else if (bind.data == nullptr && size > 0) {
        throw IrFault(fmt::format("buffer {} is not bound", f.buffers[b].name));
      }
      if (bind.size < size) {
        throw IrFault(
            fmt::format("buffer {} holds {} floats, needs {}", f.buffers[b].name, bind.size, size));
      }
      bind.size = size;  // accesses must stay inside the declared size
      bufs_.push_back(bind);
    }
    for (const RegArray& r : f.regs) {
      regs_.emplace_back(static_cast<std::size_t>(r.count) * r.lanes, 0.0f);
    }
  }

  void run(const Stmt& s) {
    if (const auto* n = as<Block>(s)) {
      for (const Stmt& c : n->stmts) run(c);
      return;
    }
    if (const auto* n = as<For>(s)) {
      const std::int64_t lo = ev(n->min), extent = ev(n->extent);
      for (std::int64_t i = 0; i < extent; ++i) {
        env_[n->var] = lo + i;
        run(n->body);
      }
      return;
    }
    if (const auto* n = as<Let>(s)) {
      env_[n->var] = ev(n->value);
      run(n->body);
      return;
    }
    if (const auto* n = as<Alloc>(s)) {
      run(n->body);
      return;
    }
    if (const auto* n = as<Zero>(s)) {
      float* r = reg(n->dst, s);
      std::fill(r, r + lanes(n->dst), 0.0f);
      return;
    }
    if (const auto* n = as<Load>(s)) {
      float* r = reg(n->dst, s);
      const int v = valid(n->valid_lanes, n->dst, s);
      const float* src = mem(n->src, v, n->lane_stride, s);
      for (int i = 0; i < lanes(n->dst); ++i) r[i] = i < v ? src[i * n->lane_stride] : 0.0f;
      return;
    }
    if (const auto* n = as<Broadcast>(s)) {
      float* r = reg(n->dst, s);
      const float x = *mem(n->src, 1, 1, s);
      std::fill(r, r + lanes(n->dst), x);
      return;
    }
    if (const auto* n = as<Fma>(s)) {
      float* acc = reg(n->acc, s);
      const float* a = reg(n->a, s);
      const float* b = reg(n->b, s);
      for (int i = 0, e = lanes(n->acc); i < e; ++i) acc[i] = std::fma(a[i], b[i], acc[i]);
      return;
    }
    if (const auto* n = as<AddFrom>(s)) {
      float* r = reg(n->dst, s);
      const int v = valid(n->valid_lanes, n->dst, s);
      const float* src = mem(n->src, v, n->lane_stride, s);
      for (int i = 0; i < v; ++i) r[i] += src[i * n->lane_stride];
      return;
    }
    if (const auto* n = as<Activate>(s)) {
      float* r = reg(n->dst, s);
      for (int i = 0, e = lanes(n->dst); i < e; ++i) {
        r[i] = static_cast<float>(activate(n->activation, static_cast<double>(r[i])));
      }
      return;
    }
    if (const auto* n = as<Store>(s)) {
      const float* r = reg(n->src, s);
      const int v = valid(n->valid_lanes, n->src, s);
      float* dst = mem(n->dst, v, n->lane_stride, s);
      for (int i = 0; i < v; ++i) dst[i * n->lane_stride] = r[i];
      return;
    }
    if (as<Prefetch>(s)) {
      // A hint: no effect on values, never faults.
      return;
    }
    if (const auto* n = as<Transpose>(s)) {
      const std::int64_t rows = ev(n->rows), cols = ev(n->cols);
      const float* src = mem(n->src, rows * cols, 1, s);
      float* dst = mem(n->dst, rows * cols, 1, s);
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
      return;
    }
    if (const auto* n = as<AxisActivation>(s)) {
      axis(*n, s);
      return;
    }
    throw IrFault("unknown statement");
  }

 private:
  std::int64_t ev(const Expr& e) { return eval(e, env_.data()); }
  int lanes(const VReg& r) const { return f_.regs[static_cast<std::size_t>(r.array)].lanes; }

  [[noreturn]] void fault(const Stmt& s, const std::string& what) const {
    throw IrFault(fmt::format("{} in: {}", what, to_string(f_, s)));
  }

  float* reg(const VReg& r, const Stmt& s) {
    if (r.array < 0 || r.array >= static_cast<int>(regs_.size())) fault(s, "bad register array");
    const std::int64_t i = ev(r.index);
    const RegArray& a = f_.regs[static_cast<std::size_t>(r.array)];
    if (i < 0 || i >= a.count)
      fault(s, fmt::format("register {}[{}] outside [0, {})", a.name, i, a.count));
    return regs_[static_cast<std::size_t>(r.array)].data() + i * a.lanes;
  }

  int valid(const Expr& e, const VReg& r, const Stmt& s) {
    const std::int64_t v = ev(e);
    if (v < 0 || v > lanes(r)) fault(s, fmt::format("valid lanes {} outside [0, {}]", v, lanes(r)));
    return static_cast<int>(v);
  }

  /// Pointer to element `index` of the access, after checking that `count` elements
  /// spaced `stride` apart are inside the buffer.
  float* mem(const Access& a, std::int64_t count, std::int64_t stride, const Stmt& s) {
    if (a.buffer < 0 || a.buffer >= static_cast<int>(bufs_.size())) fault(s, "bad buffer");
    const BufferBinding& b = bufs_[static_cast<std::size_t>(a.buffer)];
    const std::int64_t i = ev(a.index);
    if (count <= 0) return b.data;
    const std::int64_t last = i + (count - 1) * stride;
    if (i < 0 || last >= b.size || i >= b.size || last < 0) {
      fault(s, fmt::format("access {}[{}..{}] outside [0, {}) at N={} L={}",
                           f_.buffers[static_cast<std::size_t>(a.buffer)].name, i, last, b.size,
                           env_[Func::kVarN], env_[Func::kVarL]));
    }
    return b.data + i;
  }

  void axis(const AxisActivation& n, const Stmt& s) {
    const std::int64_t count = ev(n.count), ss = ev(n.src_stride), ds = ev(n.dst_stride);
    if (count <= 0) return;
    const float* src = mem(n.src, count, ss, s);
    const bool glu = n.activation == Activation::kGlu;
    if (glu && count % 2 != 0) fault(s, "glu over an odd axis");
    float* dst = mem(n.dst, glu ? count / 2 : count, ds, s);
    activate_axis_row(n.activation, src, count, ss, dst, ds);
  }

  const Func& f_;
  std::vector<std::int64_t> env_;
  std::vector<BufferBinding> bufs_;
  std::vector<std::vector<float>> scratch_;
  std::vector<std::vector<float>> regs_;
};

}  // namespace

void interpret(const Func& f, std::int64_t n, std::int64_t l,
               const std::vector<BufferBinding>& buffers, const CallRange& range) {
  Interpreter in(f, n, l, buffers, range);
  in.run(f.body);
}

std::int64_t buffer_size(const Func& f, int buffer, std::int64_t n, std::int64_t l) {
  std::vector<std::int64_t> env(f.vars.size() + 1, 0);
  env[Func::kVarN] = n;
  env[Func::kVarL] = l;
  return eval(f.buffers.at(static_cast<std::size_t>(buffer)).size, env.data());
}

}  // namespace convjit::detail::ir
