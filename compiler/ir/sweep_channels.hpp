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

/// Where the KernelPlan sweeps (KernelPlan::sweep: loop order btc, depthwise with weights
/// not in registers, or one direct group whose blocks' weights fit in L1), interchanges each
/// channel-block loop (depthwise `channel blocks`, direct `oc blocks`) and the tail block
/// after it (possibly under its `oc range` guard)
/// with the time region loops directly inside it:
///   for cb { for t in region_i { tile(cb, t) } ... }  ->  for t in region_i { for cb { tile } }
/// Legal because the tiles of one input-channel block write disjoint outputs and read only the
/// input, the weights and their own partial sums. Applied where the region bounds do not
/// depend on the block (always, as lowering makes them); a nest of another shape is left as
/// it is. When KernelPlan::sweep_blocks is below the number of full blocks, the sweep runs
/// in chunks of that many blocks and the tail block after them. With plan.nontemporal the blocks
/// are taken in the order kSweepDownVar says (streaming stores pick the direction in which input
/// loads do not alias pending stores; see lower_llvm.cpp). Direct sweeps move the interior
/// tile's prefetches (KernelPlan::prefetch_lines) out of the channel-block loop, once per tile,
/// as the Xbyak sweep emits them; depthwise blocks keep their own.
ir::Func sweep_channel_blocks(const ir::Func& f);

}  // namespace convjit::detail
