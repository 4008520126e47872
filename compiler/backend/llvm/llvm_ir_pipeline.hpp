// lower_for_llvm: Problem + Schedule -> the scheduled IR the LLVM backend lowers, one line per
// pass. ir::lower_scheduled's pipeline plus three passes of this backend that run on the IR as
// lowering made it (every region loop still there, with its tag):
//   fold_full_lanes          lane counts that are always full become constants (no masks)
//   restrict_to_call_ranges  a call computes its KernelArgs t and oc ranges (thread splits)
//   sweep_channel_blocks     depthwise under loop order btc: channel blocks inside time tiles
#pragma once

#include "compiler/ir/ir.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail {

/// check_legal(s, p), lowering, the three passes above, then simplify, unroll_reduction,
/// unroll_loops and prune_loops. The result has the free variables of the call ranges
/// (CallRangeNames) besides N and L. CONVJIT_DEBUG=2 prints the IR after each pass; debug
/// builds (or CONVJIT_VERIFY=1) verify it for a whole run and for a split run.
ir::Func lower_for_llvm(const Problem& p, const Schedule& s);

}  // namespace convjit::detail
