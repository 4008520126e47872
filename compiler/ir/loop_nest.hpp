// What the scheduled IR says about the loop nest and the register tile, read by the Xbyak
// backend (its driver's loop order comes from here) and by the tests that compare each
// backend's inner loop with the IR's tile (tests/jit/same_ir_test.cpp).
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

struct LoopNestSummary {
  /// Tags of the loops from the root down to the first interior tile loop ("batch",
  /// "groups", "oc blocks", "time blocks", "interior tiles", ...), outermost first.
  std::vector<std::string> path;
  /// A channel-block loop inside a time-region loop: the channel blocks are swept per
  /// time tile (KernelPlan::sweep).
  bool channels_swept = false;
  /// The time-block loop encloses the channel blocks (loop order btc).
  bool time_outside_channels = false;
  /// The first interior tile: its accumulators (rows x vectors), and in the innermost loop
  /// of its reduction the FMAs, vector loads and broadcasts per iteration.
  int tile_accumulators = 0;
  int innermost_fmas = 0;
  int innermost_loads = 0;
  int innermost_broadcasts = 0;
  /// Prefetches run per interior tile: in the tile, or (direct sweeps) once before its
  /// channel-block loop.
  int interior_prefetches = 0;
  bool has_interior = false;
};

/// Walks `f`: the loop order (path, channels_swept, time_outside_channels) from the loop nest
/// (ScheduledIr::nest) on; the tile's counts need the whole pipeline's unrolled registers
/// (ScheduledIr::func).
LoopNestSummary summarize_loop_nest(const Func& f);

}  // namespace convjit::detail::ir
