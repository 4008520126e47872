// The pass pipeline: Problem + Schedule -> the scheduled IR that every backend compiles.
#pragma once

#include <memory>
#include <mutex>

#include "compiler/ir/ir.hpp"
#include "compiler/ir/loop_nest.hpp"
#include "compiler/ir/lower.hpp"
#include "compiler/ir/tile_leaves.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail::ir {

/// The IR before scheduling: scalar, 1x1 tiles, every tap clipped, channels_first indexed
/// in place. Interpretable; the baseline the scheduled IR is compared with.
Func lower_unscheduled(const Problem& p);

/// The one pipeline (pipeline.cpp, one line per pass): plan_kernel (throws when the schedule
/// is illegal), lower_conv from the plan, fold_full_lanes, restrict_to_call_ranges,
/// sweep_channel_blocks, simplify, unroll_reduction, unroll_loops, prune_loops. The LLVM
/// backend translates the result; the Xbyak backend emits it (xbyak/generate.cpp) and the
/// interpreter runs it. Its free variables are N, L and the call ranges (CallRangeNames).
/// CONVJIT_DEBUG=2 prints the IR after each pass on stderr; debug builds (or
/// CONVJIT_VERIFY=1) verify it after each pass, for a whole run and for a split one.
Func lower_scheduled(const Problem& p, const Schedule& s);

/// The scheduled IR of one (Problem, Schedule): planned at once (plan_kernel, which throws
/// when the schedule is illegal) and lowered on first use, once, from any thread, in two
/// stages: nest() (the loop nest) and func() (the whole pipeline, from nest()). The Jit hands
/// one to the chosen backend:
/// - the LLVM backend translates func();
/// - the Xbyak backend reads its driver's loop order from the nest's loops (loop_order()),
///   and walks the register tiles, interior, edge step and edge group (tiles(): the same
///   tile code lower_conv runs, without the nest, a few microseconds), mapping each leaf to
///   an emitter call. It does not unroll the
///   IR (it unrolls as it emits): the unrolling passes cost more than its whole compile.
class ScheduledIr {
 public:
  ScheduledIr(const Problem& p, const Schedule& s);
  const std::shared_ptr<const KernelPlan>& plan() const { return plan_; }
  const Problem& problem() const { return plan_->problem; }
  /// The loop nest: the pipeline up to sweep_channel_blocks (lower_conv, fold_full_lanes,
  /// restrict_to_call_ranges, sweep_channel_blocks), every loop where it runs and the
  /// register tiles still unrolled loops.
  const Func& nest() const;
  /// The loop order of nest(), read from nest()'s loops lowered without their register tiles
  /// (LowerPlan::loops_only: lower_conv and sweep_channel_blocks; restrict_to_call_ranges
  /// changes bounds only): 8-15 us, where nest() costs 40-65. The Xbyak driver reads its
  /// loop order here; same_ir_test checks it is summarize_loop_nest(nest())'s.
  const LoopNestSummary& loop_order() const;
  /// The whole pipeline's output: nest() simplified, unrolled and pruned.
  const Func& func() const;
  /// The register tiles (lower_register_tiles), lowered on first use, once.
  const RegisterTiles& tiles() const;
  /// match_tile of the full block's interior and edge tiles, and of the tail block's (empty
  /// where the plan has no such block).
  const BlockTiles& full_block() const;
  const BlockTiles& tail_block() const;

 private:
  std::shared_ptr<const KernelPlan> plan_;
  mutable std::once_flag nest_lowered_, lowered_, tiles_lowered_, order_read_;
  mutable LoopNestSummary loop_order_;
  mutable std::shared_ptr<const Func> nest_, func_;
  mutable std::shared_ptr<const RegisterTiles> tiles_;
  mutable BlockTiles full_block_, tail_block_;
};

/// CONVJIT_DEBUG >= 2: pipelines print the IR after each pass.
bool pipeline_debug_print();
/// CONVJIT_VERIFY (default: on in debug builds): pipelines verify the IR after each pass.
bool pipeline_verify_each_pass();

}  // namespace convjit::detail::ir
