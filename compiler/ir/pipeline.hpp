// The pass pipeline: Problem + Schedule -> the scheduled IR that every backend compiles.
#pragma once

#include "compiler/ir/ir.hpp"
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

/// CONVJIT_DEBUG >= 2: pipelines print the IR after each pass.
bool pipeline_debug_print();
/// CONVJIT_VERIFY (default: on in debug builds): pipelines verify the IR after each pass.
bool pipeline_verify_each_pass();

}  // namespace convjit::detail::ir
