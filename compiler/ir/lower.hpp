// Lowering: Problem + plan -> loop-nest IR (register tiles still as unrolled loops).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "compiler/ir/ir.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail::ir {

/// The decisions lowering reads, taken from a Schedule (lower_plan_of) or the plain
/// unscheduled form (unscheduled_plan). Lowering itself never chooses anything.
struct LowerPlan {
  Isa isa = Isa::kAvx512;
  int vector_registers = 32;
  bool depthwise = false;                ///< vectorize over channels (groups == C) instead of oc
  int lanes = 16;                        ///< 1 in the unscheduled form
  int tile_t = 1;                        ///< register tile rows (output time steps)
  int tile_oc_vecs = 1;                  ///< register tile columns (vectors of oc or channels)
  bool split_regions = true;             ///< left edge / branch-free interior / right edge
  bool transpose_channels_first = true;  ///< false: index the channels_first layout directly
  LoopOrder loop_order = LoopOrder::kBatchChannelTime;
  std::int64_t block_ic = 0;  ///< 0: whole group; else a divisor of it (KernelPlan::ic_block)
  std::int64_t block_t = 0;   ///< 0: whole length
  /// Lines each interior tile prefetches (KernelPlan::prefetch_lines); empty: none.
  std::vector<KernelPlan::PrefetchLine> prefetch_lines;
  bool nontemporal_stores = false;
  /// Depthwise interior tiles, stride 1: taps in groups of this many, the group's weights in
  /// registers and each input vector loaded once per group (KernelPlan::dw_tap_block); 0:
  /// a tap loop that loads each input vector once per tap.
  int tap_group = 0;
  /// Direct first layers (one input channel per group, stride > 1, dilation 1): taps in
  /// classes k mod stride, each input row broadcast once per class and the class's weights in
  /// registers; every element, the edges' too, sums its taps class by class
  /// (KernelPlan::tap_class_size, tap_order). 0: taps in ascending order.
  int tap_class_size = 0;
  /// Depthwise: each channel block's K x cols weight vectors are loaded once, into the
  /// register array w_held around the block's time loops, and the interior tiles read them
  /// there (KernelPlan::dw_weights_in_regs); the edges load one weight vector at a time.
  bool hold_weights = false;
  /// The edges run whole groups of tile_t steps first, every (step, tap) checked
  /// (KernelPlan::edge_groups; the tags "left edge groups", "right edge groups").
  bool edge_groups = false;
  /// The loop nest alone: every loop, Let and region as lower_conv builds it, each register
  /// tile an empty allocation (ScheduledIr::loop_order: what the Xbyak driver reads).
  bool loops_only = false;
  /// The KernelPlan this view was taken from (null: unscheduled). Sets the Func's plan and
  /// weight layout.
  std::shared_ptr<const KernelPlan> kernel_plan;
};

/// What lowering reads of a KernelPlan: its tile, blocks, loop order and store mode.
LowerPlan lower_plan_of(std::shared_ptr<const KernelPlan> plan);
/// Scalar (1 lane), 1x1 tiles, every tap bounds-clipped, channels_first indexed natively:
/// the "IR before scheduling".
LowerPlan unscheduled_plan(const Problem& p);

/// Lowers `p` under `plan`. Lengths stay symbolic: N and L are parameters.
Func lower_conv(const Problem& p, const LowerPlan& plan);

/// The register tiles of `p` under a scheduled `plan`, as lower_conv builds them (the same
/// code), without the loop nest around them: for the first full channel block and the tail
/// block of group 0 at output step `t` (undefined where the plan has none), the interior tile
/// (tile_t rows, every tap) and the edge tile (one row, the taps in range).
/// Direct tiles reduce one ic block (KernelPlan::ic_block) and apply the whole epilogue: in
/// the Xbyak column the first block's zeroing and the last block's epilogue are run-time
/// choices (ColumnArgs::accumulate, ::partial), where lower_conv writes a tile per ic block.
/// Cheap (tens of nodes): the Xbyak backend walks these on every compile.
struct RegisterTiles {
  Func func;                  ///< buffers, registers and variables the tiles refer to; body unset
  Stmt full, tail;            ///< interior tiles (Alloc statements)
  Stmt full_edge, tail_edge;  ///< edge tiles (Alloc statements)
  /// Edge groups: tile_t rows, taps checked per row (undefined without LowerPlan::edge_groups).
  Stmt full_edge_group, tail_edge_group;
};
RegisterTiles lower_register_tiles(const Problem& p, const LowerPlan& plan);

}  // namespace convjit::detail::ir
