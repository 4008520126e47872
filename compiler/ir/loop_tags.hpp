// The tags of the loops lower_conv builds that passes and backends read: the one spelling of
// each loop's role. A loop's tag is also what `convjit asm --ir` prints.
#pragma once

#include <string_view>

namespace convjit::detail::ir::tags {

// The loop nest, outermost first.
inline constexpr const char* kBatch = "batch";
inline constexpr const char* kGroups = "groups";
inline constexpr const char* kDepthMultiplier = "depth multiplier";
inline constexpr const char* kOcBlocks = "oc blocks";            ///< direct channel blocks
inline constexpr const char* kChannelBlocks = "channel blocks";  ///< depthwise channel blocks
inline constexpr const char* kInputChannelBlocks = "input-channel blocks";
inline constexpr const char* kTimeBlocks = "time blocks";
/// restrict_to_call_ranges: the tail channel block runs when its first channel is in range.
inline constexpr const char* kOcRange = "oc range";
/// sweep_channel_blocks: chunks of KernelPlan::sweep_blocks channel blocks.
inline constexpr const char* kSweepChunks = "sweep chunks";

// Time regions of a call's (or a time block's) output steps [b, e), in order.
/// Groups of tile_t steps left of the interior, taps checked per step and row.
inline constexpr const char* kLeftEdgeGroups = "left edge groups";
/// The left edge's remaining steps, one at a time, its taps in range.
inline constexpr const char* kLeftEdge = "left edge";
/// Whole tiles of tile_t steps whose taps are all inside [0, L).
inline constexpr const char* kInteriorTiles = "interior tiles";
/// Groups of tile_t steps after the last whole interior tile (the interior's last steps and
/// the right edge), taps checked per step and row.
inline constexpr const char* kRightEdgeGroups = "right edge groups";
/// The remaining steps, one at a time, its taps in range.
inline constexpr const char* kRightEdge = "right edge";
/// The unscheduled form: every step with its taps clipped.
inline constexpr const char* kAllSteps = "all steps, taps clipped";

// The reduction forms of a register tile (docs/ir.md).
/// An edge step's taps in range (run-time bounds).
inline constexpr const char* kTapsInRange = "taps in range";
/// An edge group's taps: every tap, each row's input checked against [0, L) (kTapInRange).
inline constexpr const char* kTapsCheckedPerRow = "taps checked per row";
/// A guard: a loop of one iteration when the row's tap reads inside [0, L), else none.
inline constexpr const char* kTapInRange = "if tap in range";
inline constexpr const char* kTapGroups = "tap groups";
inline constexpr const char* kTapClasses = "tap classes";
inline constexpr const char* kTapClassesInRange = "tap classes in range";
inline constexpr const char* kTapsWeightsHeld = "taps, weights held";
/// Held depthwise weights with input reuse: one group of all K taps reading w_held.
inline constexpr const char* kTapGroupWeightsHeld = "tap group, weights held";

/// A loop over a region of the time range: edges, edge groups, interior tiles.
inline bool is_time_region(std::string_view tag) {
  return tag == kLeftEdgeGroups || tag == kLeftEdge || tag == kInteriorTiles ||
         tag == kRightEdgeGroups || tag == kRightEdge;
}
/// An edge region: its steps' taps are checked (one step or a group of steps at a time).
inline bool is_edge_region(std::string_view tag) {
  return tag == kLeftEdgeGroups || tag == kLeftEdge || tag == kRightEdgeGroups || tag == kRightEdge;
}
/// A loop over channel blocks (direct oc blocks, depthwise channel blocks).
inline bool is_channel_blocks(std::string_view tag) {
  return tag == kOcBlocks || tag == kChannelBlocks;
}

}  // namespace convjit::detail::ir::tags
