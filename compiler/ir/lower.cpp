#include "compiler/ir/lower.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <utility>

#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/loop_tags.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail::ir {
namespace {

/// Strides of a [n][t][c] tensor, as expressions.
struct Layout {
  Expr n, t, c;
  Expr at(const Expr& n_, const Expr& t_, const Expr& c_) const { return n_ * n + t_ * t + c_ * c; }
};

/// Output channels handled by one register tile: [oc0, oc0 + cols*V) of a group, packed
/// weights block `wblock`.
struct OcBlock {
  Expr oc0;
  Expr wblock;
  int cols = 1;
};

/// Input channels reduced by one pass over the tile: [ic0, ic0 + count), block `index` of the
/// weight layout's ic blocks.
struct IcBlock {
  Expr ic0, count, index;
  bool first = true, last = true;
};

class Lowering {
 public:
  Lowering(const Problem& p, const LowerPlan& plan) : p_(p), plan_(plan) {}

  Func run() {
    if (p_.data_format == DataFormat::kChannelsFirst && !plan_.transpose_channels_first &&
        plan_.lanes != 1) {
      // Vectors over oc would be strided in a channels_first tensor: only the scalar
      // unscheduled form indexes channels_first natively.
      std::fprintf(stderr, "%s:%d: internal error: native channels_first needs lanes=1\n", __FILE__,
                   __LINE__);
      std::abort();
    }
    begin_func(fmt::format("conv1d_{}_{}", plan_.depthwise ? "depthwise" : "direct",
                           plan_.lanes == 1 ? "scalar" : isa_name(plan_.isa)));

    const Expr lout = f_.var_expr("Lout");
    const Expr pad = f_.var_expr("pad_left");
    lout_ = lout;
    pad_ = pad;
    if (plan_.split_regions) {
      range_begin_ = f_.var_expr(CallRangeNames::kTBegin);
      range_end_ = f_.var_expr(CallRangeNames::kTEnd);
    } else {
      range_begin_ = 0;
      range_end_ = lout;
    }
    std::vector<Stmt> stages;
    const bool cf = p_.data_format == DataFormat::kChannelsFirst;
    // The loop nest alone (LowerPlan::loops_only) is the convolution's: no layout or
    // axis-activation stages.
    const bool stages_around = !plan_.loops_only;
    if (cf && plan_.transpose_channels_first && stages_around) {
      stages.push_back(
          For::make(f_.var("n"), 0, n_param_, ForKind::kSerial, "transpose input",
                    Transpose::make(Access{input_, n() * C() * l_param_},
                                    Access{conv_src_, n() * l_param_ * C()}, C(), l_param_)));
    }
    stages.push_back(conv_nest());
    if (!stages_around) {
      // the convolution's nest only
    } else if (is_axis_activation(p_.activation)) {
      stages.push_back(axis_stage());
    } else if (conv_dst_ != output_) {
      stages.push_back(For::make(f_.var("n"), 0, n_param_, ForKind::kSerial, "transpose output",
                                 Transpose::make(Access{conv_dst_, n() * lout * F()},
                                                 Access{output_, n() * F() * lout}, lout, F())));
    }
    Stmt body = Block::make(std::move(stages));
    if (plan_.split_regions) {
      // The steps this call computes (restrict_to_call_ranges binds them to the call's
      // range), and the interior: the output steps whose taps are all inside [0, L).
      body = Let::make(range_end_->var, lout, body);
      body = Let::make(range_begin_->var, 0, body);
      const Expr t_lo = f_.var_expr("t_lo");
      const Expr t_hi = f_.var_expr("t_hi");
      body = Let::make(t_hi->var,
                       clamp(floor_div(l_param_ - 1 + pad - (K() - 1) * D(), S()) + 1, t_lo, lout),
                       body);
      body = Let::make(t_lo->var, min(ceil_div(pad, p_.stride), lout), body);
    }
    body = Let::make(pad->var, pad_left_expr(lout), body);
    body = Let::make(lout->var, lout_expr(), body);
    f_.body = body;
    return f_;
  }

  /// The register tiles alone (lower_register_tiles): the same tile code as run(), for the
  /// first full block and the tail block of group 0, at output step `t`: interior and edge.
  RegisterTiles register_tiles() {
    begin_func("register_tiles");
    lout_ = f_.var_expr("Lout");
    pad_ = f_.var_expr("pad_left");
    const Expr t0 = f_.var_expr("t");
    const int rows = plan_.tile_t, cols = plan_.tile_oc_vecs;
    const std::int64_t bw = f_.weights.block_width;
    const std::int64_t channels = plan_.depthwise ? p_.in_channels : p_.oc_per_group;
    const std::int64_t full = channels / bw, rest = channels % bw;
    const std::int64_t bic = layout_ic_block(p_, f_.weights);
    auto tile = [&](const OcBlock& ob, int tile_rows, bool clipped) {
      return plan_.depthwise
                 ? depthwise_tile(0, ob, t0, tile_rows, clipped)
                 : direct_tile(0, ob, IcBlock{0, bic, 0, true, true}, t0, tile_rows, clipped);
    };
    RegisterTiles out;
    const bool groups = plan_.edge_groups;
    if (full > 0) {
      out.full = tile(OcBlock{0, 0, cols}, rows, false);
      out.full_edge = tile(OcBlock{0, 0, cols}, 1, true);
      if (groups) out.full_edge_group = tile(OcBlock{0, 0, cols}, rows, true);
    }
    if (rest > 0) {
      const OcBlock tail{full * bw, full, static_cast<int>((rest + plan_.lanes - 1) / plan_.lanes)};
      out.tail = tile(tail, rows, false);
      out.tail_edge = tile(tail, 1, true);
      if (groups) out.tail_edge_group = tile(tail, rows, true);
    }
    out.func = f_;
    return out;
  }

 private:
  /// The Func's header: problem, target, the parameters N and L, buffers and registers.
  void begin_func(std::string name) {
    f_.problem = p_;
    f_.isa = plan_.isa;
    f_.vector_registers = plan_.vector_registers;
    f_.var("N");
    f_.var("L");
    n_param_ = make_var(Func::kVarN, "N");
    l_param_ = make_var(Func::kVarL, "L");
    f_.name = std::move(name);
    declare_buffers();
  }

  Expr C() const { return p_.in_channels; }
  Expr F() const { return p_.filters; }
  Expr K() const { return p_.kernel; }
  Expr S() const { return p_.stride; }
  Expr D() const { return p_.dilation; }
  Expr n() { return f_.var_expr("n"); }

  Expr lout_expr() const {
    if (p_.padding == Padding::kValid) {
      return max(floor_div(l_param_ - (p_.kernel - 1) * p_.dilation - 1, S()) + 1, 0);
    }
    return ceil_div(l_param_, p_.stride);
  }
  Expr pad_left_expr(const Expr& lout) const {
    switch (p_.padding) {
      case Padding::kValid: return 0;
      case Padding::kCausal: return (p_.kernel - 1) * p_.dilation;
      case Padding::kSame:
        return floor_div(max((lout - 1) * S() + ((p_.kernel - 1) * p_.dilation + 1) - l_param_, 0),
                         2);
    }
    return 0;
  }

  void declare_buffers() {
    const bool cf = p_.data_format == DataFormat::kChannelsFirst;
    const bool axis = is_axis_activation(p_.activation);
    const Expr lout = lout_expr();
    const std::int64_t lanes = plan_.lanes;
    const std::int64_t bw = lanes * plan_.tile_oc_vecs;
    if (plan_.kernel_plan != nullptr) {
      f_.weights = plan_.kernel_plan->weights;  // the layout the plan chose, for every backend
      f_.plan = plan_.kernel_plan;
    } else {
      f_.weights.block_width = bw;
      f_.weights.kind =
          plan_.depthwise ? WeightLayout::Kind::kDepthwise : WeightLayout::Kind::kDirect;
      f_.weights.blocks = ((plan_.depthwise ? p_.in_channels : p_.oc_per_group) + bw - 1) / bw;
    }
    auto add = [&](const std::string& name, BufferKind kind, Expr size) {
      f_.buffers.push_back(BufferDecl{name, kind, std::move(size)});
      return static_cast<int>(f_.buffers.size() - 1);
    };
    input_ = add("input", BufferKind::kInput, n_param_ * l_param_ * C());
    weights_ = add("weights", BufferKind::kWeights, packed_weights_size(p_, f_.weights));
    if (p_.use_bias) bias_ = add("bias", BufferKind::kBias, F());
    Expr out_size = n_param_ * lout * F();
    if (p_.activation == Activation::kGlu) {
      out_size = cf ? n_param_ * F() * floor_div(lout, 2) : n_param_ * lout * (p_.filters / 2);
    }
    output_ = add("output", BufferKind::kOutput, out_size);
    const Expr cl_in_n = l_param_ * C();
    if (cf && plan_.transpose_channels_first) {
      conv_src_ = add("input_t", BufferKind::kScratch, n_param_ * l_param_ * C());
      src_ = Layout{cl_in_n, C(), 1};
    } else if (cf) {
      conv_src_ = input_;
      src_ = Layout{C() * l_param_, 1, l_param_};
    } else {
      conv_src_ = input_;
      src_ = Layout{cl_in_n, C(), 1};
    }
    const Expr lout_v = f_.var_expr("Lout");
    if (axis || (cf && plan_.transpose_channels_first)) {
      conv_dst_ = add(axis ? "preact" : "output_t", BufferKind::kScratch, n_param_ * lout * F());
      dst_ = Layout{lout_v * F(), F(), 1};
    } else if (cf) {
      conv_dst_ = output_;
      dst_ = Layout{F() * lout_v, 1, lout_v};
    } else {
      conv_dst_ = output_;
      dst_ = Layout{lout_v * F(), F(), 1};
    }
    const int cols = plan_.tile_oc_vecs;
    acc_ = add_regs("acc", plan_.tile_t * cols);
    // Held weights: the edges' one weight vector at a time beside w_held (the plan's budget:
    // accumulators, K*cols weights and 3 temporaries).
    w_ = add_regs(
        "w", plan_.hold_weights ? 1 : std::max({plan_.tap_group, plan_.tap_class_size, 1}) * cols);
    x_ = add_regs("x", 1);
    if (plan_.hold_weights) w_held_ = add_regs("w_held", static_cast<int>(p_.kernel) * cols);
  }

  int add_regs(const std::string& name, int count) {
    f_.regs.push_back(RegArray{name, count, plan_.lanes});
    return static_cast<int>(f_.regs.size() - 1);
  }

  // ----- the register tile ------------------------------------------------------------

  /// Lanes of column j that hold real channels when `remaining` channels start at column 0.
  Expr valid_lanes(const Expr& remaining, const Expr& j) const {
    return clamp(remaining - j * plan_.lanes, 0, plan_.lanes);
  }

  /// The k loop of a tile at time t0: all taps (interior) or the in-range ones (edges).
  Stmt k_loop(const Expr& t0, bool clipped, Stmt body) {
    const int k = f_.var("k");
    if (!clipped) return For::make(k, 0, K(), ForKind::kSerial, "", std::move(body));
    const auto [kb, ke] = taps_in_range(t0);
    return For::make(k, kb, ke - kb, ForKind::kSerial, tags::kTapsInRange, std::move(body));
  }

  /// An edge group's tap loop (LowerPlan::edge_groups): every tap, ascending. `row` is one
  /// row's work for the tap (`pos`: the row's input position, an expression of the row and
  /// tap variables), guarded to run only when pos is in [0, L); `per_tap` places the
  /// guarded row in the tap's body (inside the unrolled row loop). Each row sums its taps in
  /// range in ascending order, as a single edge step does.
  Stmt taps_checked_per_row(const Expr& pos, const std::function<Stmt(Stmt guarded)>& per_tap,
                            Stmt row) {
    const Expr in_range = clamp(min(pos + 1, l_param_ - pos), 0, 1);
    Stmt guarded = For::make(f_.var("tap_ok"), 0, in_range, ForKind::kSerial, tags::kTapInRange,
                             std::move(row));
    return For::make(f_.var("k"), 0, K(), ForKind::kSerial, tags::kTapsCheckedPerRow,
                     per_tap(std::move(guarded)));
  }

  /// The taps [kb, ke) of output step t0 whose input position is in [0, L).
  std::pair<Expr, Expr> taps_in_range(const Expr& t0) const {
    const Expr kb = clamp(ceil_div(pad_ - t0 * S(), p_.dilation), 0, K());
    const Expr ke = clamp(floor_div(l_param_ - 1 + pad_ - t0 * S(), D()) + 1, kb, K());
    return {kb, ke};
  }

  /// An edge step's taps in range in the tap classes' order (LowerPlan::tap_class_size):
  /// class c = k mod stride, ascending, then k ascending within the class, k bound by a let.
  Stmt taps_in_range_by_class(const Expr& t0, Stmt body) {
    const auto [kb, ke] = taps_in_range(t0);
    const Expr c = f_.var_expr("tap_class"), jk = f_.var_expr("class_tap");
    const Expr first = ceil_div(kb - c, p_.stride), end = ceil_div(ke - c, p_.stride);
    return For::make(c->var, 0, std::min(p_.stride, p_.kernel), ForKind::kSerial,
                     tags::kTapClassesInRange,
                     For::make(jk->var, first, end - first, ForKind::kSerial, "",
                               Let::make(f_.var("k"), c + jk * p_.stride, std::move(body))));
  }

  /// The interior reduction of a direct first layer in tap classes (LowerPlan::tap_class_size;
  /// one input channel, stride s, dilation 1): class c holds taps c, c + s, ...; its input
  /// row r (t0*s - pad + r*s + c) is broadcast once and feeds accumulator row r - kk through
  /// the class's tap kk. Each element sums its taps class by class, kk ascending: the edges'
  /// order (taps_in_range_by_class).
  Stmt tap_classes(const Expr& g, const OcBlock& oc, const IcBlock& icb, const Expr& t0, int rows) {
    const std::int64_t s = p_.stride, bic = layout_ic_block(p_, f_.weights);
    const Expr c = f_.var_expr("tap_class"), kk = f_.var_expr("kk"), r = f_.var_expr("r"),
               j = f_.var_expr("j");
    const Expr w_index =
        (((g * f_.weights.blocks + oc.wblock) * (p_.ic_per_group / bic) + icb.index) * K() + c +
         kk * s) *
            bic * f_.weights.block_width +
        j * plan_.lanes;
    const Access input{conv_src_,
                       src_.at(n(), t0 * S() - pad_ + r * s + c, g * p_.ic_per_group + icb.ic0)};
    return shared_input_taps(tags::kTapClasses, c, std::min(s, p_.kernel),
                             floor_div(K() - c + (s - 1), s), 1, rows, oc.cols, w_index, input,
                             Expr());
  }

  /// Sets of taps whose inputs are `spacing` rows apart (tap groups, tap classes): a loop
  /// `tag` over the `sets` sets (variable `set`), each of `taps` taps (an expression of `set`):
  /// the set's weights into registers w[kk*cols + j] (from weights[w_index], an expression of
  /// kk and j), then each input row r of the set's window, ascending, read once (`input`, an
  /// expression of r and, for vector loads, j; broadcast once per row when `valid` is
  /// undefined, else loaded per column with `valid` lanes) and multiplied into every
  /// accumulator row r - kk*spacing whose tap kk reads it. Every accumulator sees the set's
  /// taps in ascending kk. The inner loops' bounds depend on the enclosing unrolled variables
  /// (constants once unrolled).
  Stmt shared_input_taps(const char* tag, const Expr& set, std::int64_t sets, const Expr& taps,
                         std::int64_t spacing, int rows, int cols, const Expr& w_index,
                         const Access& input, const Expr& valid, bool held = false) {
    const Expr kk = f_.var_expr("kk"), r = f_.var_expr("r"), j = f_.var_expr("j");
    // Held weights (one set of all K taps): w_held[kk*cols + j], loaded around the time loops.
    const VReg weight = held ? VReg{w_held_, kk * cols + j} : VReg{w_, kk * cols + j};
    Stmt weights =
        For::make(kk->var, 0, taps, ForKind::kUnrolled, "",
                  unrolled("j", cols, Load::make(weight, Access{weights_, w_index}, plan_.lanes)));
    // Row r of the window: the taps kk with 0 <= r - kk*spacing < rows.
    const Expr first_tap = max(ceil_div(r - (rows - 1), spacing), 0);
    const Expr end_tap = min(floor_div(r, spacing) + 1, taps);
    auto uses = [&](Stmt fma) {
      return For::make(kk->var, first_tap, end_tap - first_tap, ForKind::kUnrolled, "",
                       std::move(fma));
    };
    const Stmt fma = Fma::make(VReg{acc_, (r - kk * spacing) * cols + j}, VReg{x_, 0}, weight);
    Stmt row =
        valid.defined()
            ? unrolled("j", cols,
                       Block::make({Load::make(VReg{x_, 0}, input, valid, 1), uses(fma)}))
            : Block::make({Broadcast::make(VReg{x_, 0}, input), uses(unrolled("j", cols, fma))});
    Stmt rows_loop =
        For::make(r->var, 0, rows + (taps - 1) * spacing, ForKind::kUnrolled, "", std::move(row));
    if (held) return For::make(set->var, 0, sets, ForKind::kUnrolled, tag, std::move(rows_loop));
    return For::make(set->var, 0, sets, ForKind::kUnrolled, tag, Block::make({weights, rows_loop}));
  }

  Stmt unrolled(const std::string& var, int extent, Stmt body) {
    return For::make(f_.var(var), 0, extent, ForKind::kUnrolled, "", std::move(body));
  }

  /// The plan's prefetches (KernelPlan::prefetch_lines) of an interior tile at output step
  /// t0 whose column reads input channels from `channel` on.
  void prefetch_lines(const Expr& t0, int rows, bool clipped, const Expr& channel,
                      std::vector<Stmt>& tile) {
    if (clipped || rows != plan_.tile_t) return;
    for (const KernelPlan::PrefetchLine& line : plan_.prefetch_lines) {
      tile.push_back(Prefetch::make(
          Access{conv_src_, src_.at(n(), t0 * S() - pad_ + line.row, channel) + line.byte / 4}));
    }
  }

  /// LowerPlan::loops_only: a tile's place in the nest, without its statements.
  Stmt empty_tile() const { return Alloc::make({acc_}, Block::make({})); }

  /// One register tile of `rows` x oc.cols at output step t0 (direct strategy).
  Stmt direct_tile(const Expr& g, const OcBlock& oc, const IcBlock& icb, const Expr& t0, int rows,
                   bool clipped) {
    if (plan_.loops_only) return empty_tile();
    const int cols = oc.cols;
    const Expr i = f_.var_expr("i"), j = f_.var_expr("j"), k = f_.var_expr("k"),
               ic = f_.var_expr("ic");
    const std::int64_t lanes = plan_.lanes, bw = f_.weights.block_width;
    const Expr fg = p_.oc_per_group;
    const VReg acc{acc_, i * cols + j};
    const Expr out_c = g * fg + oc.oc0 + j * lanes;
    const Access out{conv_dst_, dst_.at(n(), t0 + i, out_c)};
    const Expr valid = valid_lanes(fg - oc.oc0, j);
    const std::int64_t lane_stride = 1;  // channels_last destination (see run())

    std::vector<Stmt> tile;
    tile.push_back(
        unrolled("i", rows,
                 unrolled("j", cols,
                          icb.first ? Zero::make(acc) : Load::make(acc, out, valid, lane_stride))));
    prefetch_lines(t0, rows, clipped, g * p_.ic_per_group + icb.ic0, tile);
    // packed_weights_offset (weight_layout.cpp): [g][oc_blk][ic_blk][k][ic in block][bw].
    const std::int64_t bic = layout_ic_block(p_, f_.weights);
    const Expr w_index =
        ((((g * f_.weights.blocks + oc.wblock) * (p_.ic_per_group / bic) + icb.index) * K() + k) *
             bic +
         (ic - icb.ic0)) *
            bw +
        j * lanes;
    const Expr pos = (t0 + i) * S() + k * D() - pad_;
    Stmt reduce = Block::make({
        unrolled("j", cols, Load::make(VReg{w_, j}, Access{weights_, w_index}, lanes)),
        unrolled("i", rows,
                 Block::make({Broadcast::make(
                                  VReg{x_, 0},
                                  Access{conv_src_, src_.at(n(), pos, g * p_.ic_per_group + ic)}),
                              unrolled("j", cols, Fma::make(acc, VReg{x_, 0}, VReg{w_, j}))})),
    });
    reduce = For::make(f_.var("ic"), icb.ic0, icb.count, ForKind::kSerial, "", reduce);
    if (clipped && rows > 1) {
      // An edge group: per tap, each row in range reduces its input channels (Xbyak: the
      // rows in range are found per tap, a prefix or a suffix, and the ic reduction emitted
      // for them runs). Each accumulator sums taps, then channels, in ascending order. The
      // guard stays outside the channel loop: inside it, LLVM unswitched the loop on every
      // row's guard (wavenet_d256: +0.25 s per compile).
      const Stmt row_channels = For::make(
          f_.var("ic"), icb.ic0, icb.count, ForKind::kSerial, "",
          Block::make(
              {unrolled("j", cols, Load::make(VReg{w_, j}, Access{weights_, w_index}, lanes)),
               Broadcast::make(VReg{x_, 0},
                               Access{conv_src_, src_.at(n(), pos, g * p_.ic_per_group + ic)}),
               unrolled("j", cols, Fma::make(acc, VReg{x_, 0}, VReg{w_, j}))}));
      tile.push_back(taps_checked_per_row(
          pos, [&](Stmt guarded) { return unrolled("i", rows, std::move(guarded)); },
          row_channels));
    } else if (plan_.tap_class_size > 0 && !clipped) {
      tile.push_back(tap_classes(g, oc, icb, t0, rows));
    } else if (plan_.tap_class_size > 0) {
      tile.push_back(taps_in_range_by_class(t0, reduce));
    } else {
      tile.push_back(k_loop(t0, clipped, reduce));
    }
    tile.push_back(unrolled(
        "i", rows,
        unrolled("j", cols,
                 epilogue(acc, icb.last, Access{bias_, out_c}, 1, out, valid, lane_stride))));
    return Alloc::make({acc_, w_, x_}, Block::make(std::move(tile)));
  }

  /// One register tile of `rows` x cols channel vectors starting at channel c0, multiplier
  /// index jm (depthwise strategy: filter = c * multiplier + jm).
  Stmt depthwise_tile(const Expr& jm, const OcBlock& cb, const Expr& t0, int rows, bool clipped) {
    if (plan_.loops_only) return empty_tile();
    const int cols = cb.cols;
    const Expr i = f_.var_expr("i"), j = f_.var_expr("j"), k = f_.var_expr("k");
    const std::int64_t lanes = plan_.lanes, bw = f_.weights.block_width;
    const std::int64_t m = p_.oc_per_group;
    const VReg acc{acc_, i * cols + j};
    const Expr c = cb.oc0 + j * lanes;
    const Expr valid = valid_lanes(C() - cb.oc0, j);
    const Expr out_c = c * m + jm;
    const Access out{conv_dst_, dst_.at(n(), t0 + i, out_c)};
    const std::int64_t out_stride = lanes == 1 ? 1 : m;  // channels_last destination
    const std::int64_t in_stride = 1;                    // channels_last source

    std::vector<Stmt> tile;
    tile.push_back(unrolled("i", rows, unrolled("j", cols, Zero::make(acc))));
    prefetch_lines(t0, rows, clipped, cb.oc0, tile);
    const Expr w_index = ((jm * f_.weights.blocks + cb.wblock) * K() + k) * bw + j * lanes;
    const Expr pos = (t0 + i) * S() + k * D() - pad_;
    if (!clipped && plan_.tap_group > 0) {
      tile.push_back(tap_groups(jm, cb, t0, rows, c, valid));
      tile.push_back(unrolled(
          "i", rows,
          unrolled("j", cols,
                   epilogue(acc, true, Access{bias_, out_c}, out_stride, out, valid, out_stride))));
      return Alloc::make(
          plan_.hold_weights ? std::vector<int>{acc_, x_} : std::vector<int>{acc_, w_, x_},
          Block::make(std::move(tile)));
    }
    const Stmt load_x =
        Load::make(VReg{x_, 0}, Access{conv_src_, src_.at(n(), pos, c)}, valid, in_stride);
    const Stmt tile_epilogue = unrolled(
        "i", rows,
        unrolled("j", cols,
                 epilogue(acc, true, Access{bias_, out_c}, out_stride, out, valid, out_stride)));
    if (clipped && rows > 1) {
      // An edge group: per tap, each row in range loads its weight vectors one at a time
      // (w[0], as the held-weights edge and the Xbyak edge do) beside its input.
      tile.push_back(taps_checked_per_row(
          pos, [&](Stmt guarded) { return unrolled("i", rows, std::move(guarded)); },
          unrolled("j", cols,
                   Block::make({Load::make(VReg{w_, 0}, Access{weights_, w_index}, lanes), load_x,
                                Fma::make(acc, VReg{x_, 0}, VReg{w_, 0})}))));
      tile.push_back(tile_epilogue);
      return Alloc::make({acc_, w_, x_}, Block::make(std::move(tile)));
    }
    if (plan_.hold_weights) {
      if (!clipped) {
        // Every tap's weights are in w_held: the taps unrolled, no weight loads.
        tile.push_back(For::make(
            k->var, 0, K(), ForKind::kUnrolled, tags::kTapsWeightsHeld,
            unrolled("i", rows,
                     unrolled("j", cols,
                              Block::make({load_x, Fma::make(acc, VReg{x_, 0},
                                                             VReg{w_held_, k * cols + j})})))));
      } else {
        // One weight vector at a time (w[0]), column by column: the plan's register budget.
        tile.push_back(k_loop(
            t0, true,
            unrolled("j", cols,
                     Block::make({Load::make(VReg{w_, 0}, Access{weights_, w_index}, lanes),
                                  unrolled("i", rows,
                                           Block::make({load_x, Fma::make(acc, VReg{x_, 0},
                                                                          VReg{w_, 0})}))}))));
      }
      tile.push_back(unrolled(
          "i", rows,
          unrolled("j", cols,
                   epilogue(acc, true, Access{bias_, out_c}, out_stride, out, valid, out_stride))));
      return Alloc::make(clipped ? std::vector<int>{acc_, w_, x_} : std::vector<int>{acc_, x_},
                         Block::make(std::move(tile)));
    }
    Stmt reduce = Block::make({
        unrolled("j", cols, Load::make(VReg{w_, j}, Access{weights_, w_index}, lanes)),
        unrolled(
            "i", rows,
            unrolled("j", cols, Block::make({load_x, Fma::make(acc, VReg{x_, 0}, VReg{w_, j})}))),
    });
    tile.push_back(k_loop(t0, clipped, reduce));
    tile.push_back(unrolled(
        "i", rows,
        unrolled("j", cols,
                 epilogue(acc, true, Access{bias_, out_c}, out_stride, out, valid, out_stride))));
    return Alloc::make({acc_, w_, x_}, Block::make(std::move(tile)));
  }

  /// LowerPlan::hold_weights: `body` (a channel block's time loops) inside the register array
  /// w_held, after loading the block's K x cols weight vectors into it (w_held[k*cols + j]).
  Stmt hold_weights(const Expr& jm, const OcBlock& cb, Stmt body) {
    if (!plan_.hold_weights || plan_.loops_only) return body;
    const Expr k = f_.var_expr("k"), j = f_.var_expr("j");
    const Expr w_index =
        ((jm * f_.weights.blocks + cb.wblock) * K() + k) * f_.weights.block_width + j * plan_.lanes;
    Stmt load = For::make(k->var, 0, K(), ForKind::kUnrolled, "",
                          unrolled("j", cb.cols,
                                   Load::make(VReg{w_held_, k * cb.cols + j},
                                              Access{weights_, w_index}, plan_.lanes)));
    return Alloc::make({w_held_}, Block::make({load, std::move(body)}));
  }

  /// The depthwise reduction in tap groups (LowerPlan::tap_group; stride 1, dilation d below
  /// the tile's rows): group g holds taps g*G .. g*G + G - 1; its input row r
  /// (t0 - pad + g*G*d + r) is loaded once per column and feeds accumulator row r - kk*d
  /// through the group's tap kk. Each accumulator still sees taps 0..K-1 in order, as the
  /// edge's tap loop does.
  Stmt tap_groups(const Expr& jm, const OcBlock& cb, const Expr& t0, int rows, const Expr& c,
                  const Expr& valid) {
    const std::int64_t group = plan_.tap_group, d = p_.dilation;
    const Expr g = f_.var_expr("tap_group"), kk = f_.var_expr("kk"), r = f_.var_expr("r"),
               j = f_.var_expr("j");
    const Expr w_index =
        ((jm * f_.weights.blocks + cb.wblock) * K() + g * group + kk) * f_.weights.block_width +
        j * plan_.lanes;
    const Access input{conv_src_, src_.at(n(), t0 - pad_ + g * (group * d) + r, c)};
    if (plan_.hold_weights) {  // one group of all K taps, their weights in w_held
      return shared_input_taps(tags::kTapGroupWeightsHeld, g, 1, K(), d, rows, cb.cols, w_index,
                               input, valid, true);
    }
    return shared_input_taps(tags::kTapGroups, g, (p_.kernel + group - 1) / group,
                             min(group, K() - g * group), d, rows, cb.cols, w_index, input, valid);
  }

  /// Bias, element-wise activation and the (masked) store of one accumulator; without
  /// `last`, the partial sum is stored raw for the next input-channel block.
  Stmt epilogue(const VReg& acc, bool last, const Access& bias, std::int64_t bias_stride,
                const Access& out, const Expr& valid, std::int64_t out_stride) {
    std::vector<Stmt> ops;
    if (last && p_.use_bias) ops.push_back(AddFrom::make(acc, bias, valid, bias_stride));
    if (last && !is_axis_activation(p_.activation) && p_.activation != Activation::kLinear) {
      ops.push_back(Activate::make(acc, p_.activation));
    }
    ops.push_back(Store::make(acc, out, valid, out_stride, plan_.nontemporal_stores && last));
    return Block::make(std::move(ops));
  }

  // ----- time regions -----------------------------------------------------------------

  using TileFn = std::function<Stmt(const Expr& t0, int rows, bool clipped)>;

  /// Output steps [b, e) in regions (loop_tags.hpp): the left edge (groups of tile_t steps,
  /// then single steps), whole interior tiles from the first step whose taps are all in
  /// [0, L), then the right edge (groups, then single steps) from the end of the last whole
  /// tile: the interior's last steps run with the right edge, as in the Xbyak column.
  Stmt time_regions(const Expr& b, const Expr& e, const TileFn& tile) {
    const int t = f_.var("t");
    const Expr tv = f_.var_expr("t");
    if (!plan_.split_regions) {
      return For::make(t, b, e - b, ForKind::kSerial, tags::kAllSteps, tile(tv, 1, true));
    }
    const int rows = plan_.tile_t;
    const Expr le = clamp(f_.var_expr("t_lo"), b, e);
    const Expr tiles = floor_div(clamp(f_.var_expr("t_hi"), le, e) - le, rows);
    const Expr ie = le + tiles * rows;
    // A direct left-edge group stops where a group would touch the right edge too: a group at
    // step t ends inside [0, L) when t + rows <= (L - 1 + pad - (K-1)d) / s + 1.
    Expr left_cap;
    if (!plan_.depthwise) {
      left_cap = floor_div(floor_div(l_param_ - 1 + pad_ - (K() - 1) * D(), S()) + 1 - b, rows);
    }
    const Expr tt = f_.var_expr("tt");
    std::vector<Stmt> out;
    edge(tags::kLeftEdgeGroups, tags::kLeftEdge, b, le, left_cap, plan_.edge_groups, tile, out);
    out.push_back(For::make(tt->var, 0, tiles, ForKind::kSerial, tags::kInteriorTiles,
                            tile(le + tt * rows, rows, false)));
    // A causal right edge is the interior's last steps, fewer than a tile (no right padding):
    // it never holds a group (the Xbyak group loop runs zero times there), so none is built.
    edge(tags::kRightEdgeGroups, tags::kRightEdge, ie, e, Expr(),
         plan_.edge_groups && p_.padding != Padding::kCausal, tile, out);
    return Block::make(std::move(out));
  }

  /// An edge region [b, e): whole groups of tile_t steps (LowerPlan::edge_groups; at most
  /// `cap` of them when defined), then single steps.
  void edge(const char* groups_tag, const char* tag, const Expr& b, const Expr& e, const Expr& cap,
            bool groups_here, const TileFn& tile, std::vector<Stmt>& out) {
    const int t = f_.var("t");
    const Expr tv = f_.var_expr("t");
    Expr first = b;
    if (groups_here) {
      const int rows = plan_.tile_t;
      const Expr eg = f_.var_expr("edge_group");
      Expr groups = floor_div(e - b, rows);
      if (cap.defined()) groups = clamp(cap, 0, groups);
      out.push_back(For::make(eg->var, 0, groups, ForKind::kSerial, groups_tag,
                              Let::make(t, b + eg * rows, tile(tv, rows, true))));
      first = b + groups * rows;
    }
    out.push_back(For::make(t, first, e - first, ForKind::kSerial, tag, tile(tv, 1, true)));
  }

  /// The time range, in cache blocks of block_t steps or whole.
  Stmt time_blocks(const TileFn& tile) {
    return time_blocks_around(
        [&](const std::function<Stmt(const TileFn&)>& regions) { return regions(tile); });
  }

  /// Full blocks of cols vectors in a loop, then the tail block with fewer columns.
  Stmt channel_blocks(std::int64_t channels, const std::string& var, const std::string& tag,
                      const std::function<Stmt(const OcBlock&)>& fn) {
    const int cols = plan_.tile_oc_vecs;
    const std::int64_t bw = f_.weights.block_width;
    const std::int64_t full = channels / bw, rest = channels % bw;
    const Expr ob = f_.var_expr(var);
    std::vector<Stmt> out;
    out.push_back(
        For::make(ob->var, 0, full, ForKind::kSerial, tag, fn(OcBlock{ob * bw, ob, cols})));
    if (rest > 0) {
      const int tail_cols = static_cast<int>((rest + plan_.lanes - 1) / plan_.lanes);
      out.push_back(fn(OcBlock{full * bw, full, tail_cols}));
    }
    return Block::make(std::move(out));
  }

  /// The input channels of a group, whole or in cache blocks (partial sums in memory).
  Stmt ic_blocks(const std::function<Stmt(const IcBlock&)>& fn) {
    // Blocks of the weight layout's ic_block channels, a divisor of the group's: one
    // compile-time reduction serves every block, as in the Xbyak column functions.
    const std::int64_t cg = p_.ic_per_group;
    const std::int64_t bic = layout_ic_block(p_, f_.weights);
    const std::int64_t nb = cg / bic;
    if (nb <= 1) return fn(IcBlock{0, cg, 0, true, true});
    std::vector<Stmt> out;
    out.push_back(fn(IcBlock{0, bic, 0, true, false}));
    if (nb > 2) {
      const Expr icb = f_.var_expr("icb");
      out.push_back(For::make(icb->var, 1, nb - 2, ForKind::kSerial, tags::kInputChannelBlocks,
                              fn(IcBlock{icb * bic, bic, icb, false, false})));
    }
    out.push_back(fn(IcBlock{(nb - 1) * bic, bic, nb - 1, false, true}));
    return Block::make(std::move(out));
  }

  Stmt conv_nest() {
    const bool time_outer = plan_.loop_order == LoopOrder::kBatchTimeChannel;
    Stmt per_n;
    if (plan_.depthwise) {
      const Expr jm = f_.var_expr("jm");
      auto blocks_then_time = [&](const std::function<Stmt(const OcBlock&)>& inner) {
        return For::make(jm->var, 0, p_.oc_per_group, ForKind::kSerial, tags::kDepthMultiplier,
                         channel_blocks(p_.in_channels, "cb", tags::kChannelBlocks, inner));
      };
      if (time_outer) {
        // The block_t loop must enclose the channel loops: build it around them.
        per_n = time_blocks_around([&](const std::function<Stmt(const TileFn&)>& regions) {
          return blocks_then_time([&](const OcBlock& cb) {
            return hold_weights(jm, cb, regions([&, cb](const Expr& t0, int rows, bool clipped) {
                                  return depthwise_tile(jm, cb, t0, rows, clipped);
                                }));
          });
        });
      } else {
        per_n = blocks_then_time([&](const OcBlock& cb) {
          return hold_weights(jm, cb, time_blocks([&, cb](const Expr& t0, int rows, bool clipped) {
                                return depthwise_tile(jm, cb, t0, rows, clipped);
                              }));
        });
      }
    } else {
      const Expr g = f_.var_expr("g");
      Stmt per_g;
      if (time_outer) {
        per_g = time_blocks_around([&](const std::function<Stmt(const TileFn&)>& regions) {
          return ic_blocks([&](const IcBlock& icb) {
            return channel_blocks(
                p_.oc_per_group, "ob", tags::kOcBlocks, [&, icb](const OcBlock& ob) {
                  return regions([&, icb, ob](const Expr& t0, int rows, bool clipped) {
                    return direct_tile(g, ob, icb, t0, rows, clipped);
                  });
                });
          });
        });
      } else {
        per_g = channel_blocks(p_.oc_per_group, "ob", tags::kOcBlocks, [&](const OcBlock& ob) {
          return time_blocks_around([&, ob](const std::function<Stmt(const TileFn&)>& regions) {
            return ic_blocks([&, ob](const IcBlock& icb) {
              return regions([&, ob, icb](const Expr& t0, int rows, bool clipped) {
                return direct_tile(g, ob, icb, t0, rows, clipped);
              });
            });
          });
        });
      }
      per_n = For::make(g->var, 0, p_.groups, ForKind::kSerial, tags::kGroups, per_g);
    }
    return For::make(f_.var("n"), 0, n_param_, ForKind::kSerial, tags::kBatch, per_n);
  }

  /// Builds the time-block loop around `inner`, which receives a function that emits the
  /// regions of the current time block for a tile function.
  Stmt time_blocks_around(
      const std::function<Stmt(const std::function<Stmt(const TileFn&)>&)>& inner) {
    if (plan_.block_t <= 0) {
      return inner(
          [&](const TileFn& tile) { return time_regions(range_begin_, range_end_, tile); });
    }
    // Blocks of block_t steps from the first step of the range (the Xbyak driver's chunks).
    const Expr tb = f_.var_expr("tb");
    const Expr b = f_.var_expr("tb_begin"), e = f_.var_expr("tb_end");
    Stmt body = inner([&](const TileFn& tile) { return time_regions(b, e, tile); });
    body = Let::make(e->var, min(b + plan_.block_t, range_end_), body);
    body = Let::make(b->var, range_begin_ + tb * plan_.block_t, body);
    return For::make(tb->var, 0, ceil_div(range_end_ - range_begin_, plan_.block_t),
                     ForKind::kSerial, tags::kTimeBlocks, body);
  }

  /// The axis-wise activation (softmax, log_softmax, sparsemax, glu) over the last axis of
  /// the output in its own layout, reading the channels_last pre-activation scratch.
  Stmt axis_stage() {
    const Activation a = p_.activation;
    const bool glu = a == Activation::kGlu;
    if (p_.data_format == DataFormat::kChannelsLast) {
      const Expr t = f_.var_expr("t");
      const std::int64_t fo = glu ? p_.filters / 2 : p_.filters;
      return For::make(
          f_.var("n"), 0, n_param_, ForKind::kSerial, "axis activation over channels",
          For::make(t->var, 0, lout_, ForKind::kSerial, "",
                    AxisActivation::make(a, Access{conv_dst_, (n() * lout_ + t) * F()}, 1, F(),
                                         Access{output_, (n() * lout_ + t) * fo}, 1)));
    }
    const Expr oc = f_.var_expr("oc");
    const Expr lo = glu ? floor_div(lout_, 2) : lout_;
    return For::make(
        f_.var("n"), 0, n_param_, ForKind::kSerial, "axis activation over time",
        For::make(oc->var, 0, F(), ForKind::kSerial, "",
                  AxisActivation::make(a, Access{conv_dst_, n() * lout_ * F() + oc}, F(), lout_,
                                       Access{output_, (n() * F() + oc) * lo}, 1)));
  }

  const Problem& p_;
  const LowerPlan& plan_;
  Func f_;
  Expr n_param_, l_param_, lout_, pad_;
  Expr range_begin_, range_end_;  ///< the steps computed: the call's range (split_regions)
  int input_ = -1, weights_ = -1, bias_ = -1, output_ = -1, conv_src_ = -1, conv_dst_ = -1;
  Layout src_, dst_;
  int acc_ = -1, w_ = -1, x_ = -1, w_held_ = -1;
};

}  // namespace

LowerPlan lower_plan_of(std::shared_ptr<const KernelPlan> kp) {
  LowerPlan plan;
  plan.isa = kp->isa;
  plan.vector_registers = kp->vregs;
  plan.depthwise = kp->kind == KernelKind::kDepthwise;
  plan.lanes = kp->lanes;
  plan.tile_t = kp->ur_t;
  plan.tile_oc_vecs = kp->ur_oc;
  plan.split_regions = true;
  plan.transpose_channels_first = true;
  plan.loop_order = kp->loop_order;
  plan.block_ic = kp->ic_blocks > 1 ? kp->ic_block : 0;
  plan.block_t = kp->block_t;
  plan.prefetch_lines = kp->prefetch_lines;
  plan.nontemporal_stores = kp->nontemporal;
  plan.tap_group = kp->kind == KernelKind::kDepthwise ? kp->dw_tap_block : 0;
  plan.tap_class_size = kp->kind == KernelKind::kDirect ? kp->tap_class_size : 0;
  plan.hold_weights = kp->kind == KernelKind::kDepthwise && kp->dw_weights_in_regs;
  plan.edge_groups = kp->edge_groups;
  plan.kernel_plan = std::move(kp);
  return plan;
}

LowerPlan unscheduled_plan(const Problem& p) {
  (void)p;
  LowerPlan plan;
  plan.lanes = 1;
  plan.tile_t = 1;
  plan.tile_oc_vecs = 1;
  plan.split_regions = false;
  plan.transpose_channels_first = false;
  return plan;
}

Func lower_conv(const Problem& p, const LowerPlan& plan) {
  return Lowering(p, plan).run();
}

RegisterTiles lower_register_tiles(const Problem& p, const LowerPlan& plan) {
  return Lowering(p, plan).register_tiles();
}

}  // namespace convjit::detail::ir
