// sweep_channel_blocks: the "sweep" of the Xbyak backend as an IR rewrite — channel blocks
// innermost, inside each time region loop, so that every time tile reads and writes whole rows
// in address order (the hardware prefetchers follow them; a block's weights are reloaded per
// tile from L1 instead of being held in registers across time).
#pragma once

#include "compiler/ir/ir.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail {

/// The run-time variable of a directional sweep (bound by the LLVM lowering): 0 takes the
/// channel blocks of each row from the first up, 1 from the last down.
constexpr const char* kSweepDownVar = "sweep_down";

/// Under loop order btc, interchanges each channel-block loop (depthwise `channel blocks`;
/// direct `oc blocks` when there is one group whose blocks' weights fit in 24 KiB of L1, as
/// the Xbyak direct sweep) and the tail block after it (possibly under its `oc range` guard)
/// with the time region loops directly inside it:
///   for cb { for t in region_i { tile(cb, t) } ... }  ->  for t in region_i { for cb { tile } }
/// Legal because the tiles of one input-channel block write disjoint outputs and read only the
/// input, the weights and their own partial sums. Applied where the region bounds do not
/// depend on the block (always, as lowering makes them); a nest of another shape is left as
/// it is. With s.nontemporal_stores the blocks are taken in the order kSweepDownVar says
/// (streaming stores pick the direction in which input loads do not alias pending stores; see
/// lower_llvm.cpp). Depthwise with s.prefetch_distance: a swept interior tile prefetches, for
/// its block, the input rows new to the tile one or more tiles later (as the Xbyak sweep).
ir::Func sweep_channel_blocks(const ir::Func& f, const Schedule& s);

}  // namespace convjit::detail
