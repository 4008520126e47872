// The pass pipeline: one script, one line per pass. Every backend compiles what
// lower_scheduled returns (docs/design.md, docs/ir.md).
#include "compiler/ir/pipeline.hpp"

#include <cstdio>
#include <memory>
#include <utility>

#include "compiler/environment.hpp"
#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/full_lanes.hpp"
#include "compiler/ir/lower.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/prune_loops.hpp"
#include "compiler/ir/simplify.hpp"
#include "compiler/ir/sweep_channels.hpp"
#include "compiler/ir/unroll_loops.hpp"
#include "compiler/ir/unroll_reduction.hpp"
#include "compiler/ir/verifier.hpp"

namespace convjit::detail::ir {

bool pipeline_debug_print() {
  return environment().debug >= 2;
}

bool pipeline_verify_each_pass() {
  return environment().verify;
}

namespace {

/// Runs after every pass: the debug print and the verifier (a whole run; once the call
/// ranges exist, also one call on the second half of time and channels, on the split
/// granularity, sweeping down).
Func after(const char* pass, Func f, bool unrolled = false) {
  if (pipeline_debug_print())
    std::fprintf(stderr, "// IR after %s\n%s\n", pass, to_string(f).c_str());
  if (pipeline_verify_each_pass()) {
    VerifyOptions o;
    o.lengths = verification_lengths(f, 12);
    o.require_unrolled = unrolled;
    verify_or_die(bind_call_range(f, CallRange{}), o, pass);
    bool ranges = false;
    for (const std::string& v : f.vars) ranges = ranges || v == CallRangeNames::kTBeginParam;
    if (f.plan != nullptr && ranges) {
      CallRange half;
      const std::int64_t g = f.plan->oc_granularity;
      half.oc_begin = f.problem.filters / 2 / g * g;
      half.t_begin = f.plan->split_time ? 5 : 0;
      half.sweep_down = 1;
      verify_or_die(bind_call_range(f, half), o, pass);
    }
  }
  return f;
}

}  // namespace

Func lower_unscheduled(const Problem& p) {
  Func f = after("lower_conv (unscheduled)", lower_conv(p, unscheduled_plan(p)));
  f = after("simplify", simplify(f));
  return after("prune_loops", prune_loops(f));
}

namespace {

/// The loop nest: every loop where it runs, register tiles still as unrolled loops.
Func lower_nest(const Problem& p, const std::shared_ptr<const KernelPlan>& plan) {
  Func f = after("lower_conv", lower_conv(p, lower_plan_of(plan)));
  f = after("fold_full_lanes", fold_full_lanes(f));
  f = after("restrict_to_call_ranges", restrict_to_call_ranges(f));
  return after("sweep_channel_blocks", sweep_channel_blocks(f));
}

/// The rest: the nest simplified, the reduction unrolled, the tiles' registers explicit.
Func lower_tiles(Func f, const KernelPlan& plan) {
  f = after("simplify", simplify(f));
  f = after("unroll_reduction", unroll_reduction(f, plan.schedule.unroll_k, plan.unroll_ic));
  f = after("unroll_loops", unroll_loops(f), true);
  return after("prune_loops", prune_loops(f), true);
}

}  // namespace

Func lower_scheduled(const Problem& p, const Schedule& s) {
  const auto plan = std::make_shared<const KernelPlan>(plan_kernel(p, s));
  return lower_tiles(lower_nest(p, plan), *plan);
}

ScheduledIr::ScheduledIr(const Problem& p, const Schedule& s)
    : plan_(std::make_shared<const KernelPlan>(plan_kernel(p, s))) {}

const Func& ScheduledIr::nest() const {
  std::call_once(nest_lowered_, [this] {
    nest_ = std::make_shared<const Func>(lower_nest(plan_->problem, plan_));
  });
  return *nest_;
}

const LoopNestSummary& ScheduledIr::loop_order() const {
  std::call_once(order_read_, [this] {
    LowerPlan loops = lower_plan_of(plan_);
    loops.loops_only = true;
    // restrict_to_call_ranges changes loop bounds only: the order is lower_conv's and the
    // sweep pass's. Not verified: its tiles are empty (the verifier runs wherever the whole
    // nest is lowered), and a debug build's verifier sized for a hostile length would only
    // fail where the Xbyak compile does not.
    const Func f = sweep_channel_blocks(lower_conv(plan_->problem, loops));
    loop_order_ = summarize_loop_nest(f);
  });
  return loop_order_;
}

const Func& ScheduledIr::func() const {
  std::call_once(lowered_,
                 [this] { func_ = std::make_shared<const Func>(lower_tiles(nest(), *plan_)); });
  return *func_;
}

const RegisterTiles& ScheduledIr::tiles() const {
  std::call_once(tiles_lowered_, [this] {
    auto tiles = std::make_shared<const RegisterTiles>(
        lower_register_tiles(plan_->problem, lower_plan_of(plan_)));
    auto read = [&](const Stmt& interior, const Stmt& edge, const Stmt& group, BlockTiles& out) {
      if (interior) out.interior = match_tile(tiles->func, interior);
      if (edge) out.edge = match_tile(tiles->func, edge);
      if (group) out.edge_group = match_tile(tiles->func, group);
    };
    read(tiles->full, tiles->full_edge, tiles->full_edge_group, full_block_);
    read(tiles->tail, tiles->tail_edge, tiles->tail_edge_group, tail_block_);
    tiles_ = std::move(tiles);
  });
  return *tiles_;
}

const BlockTiles& ScheduledIr::full_block() const {
  tiles();
  return full_block_;
}

const BlockTiles& ScheduledIr::tail_block() const {
  tiles();
  return tail_block_;
}

}  // namespace convjit::detail::ir
