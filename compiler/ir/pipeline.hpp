// The pass pipeline: Problem + Schedule -> scheduled IR, one line per pass.
#pragma once

#include "compiler/ir/ir.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail::ir {

/// The IR before scheduling: scalar, 1x1 tiles, every tap clipped, channels_first indexed
/// in place. Interpretable; the baseline the scheduled IR is compared with.
Func lower_unscheduled(const Problem& p);

/// check_legal(s, p), then lowering and every pass. CONVJIT_DEBUG=2 prints the IR after
/// each pass on stderr; debug builds (or CONVJIT_VERIFY=1) verify it after each pass.
Func lower_scheduled(const Problem& p, const Schedule& s);

/// CONVJIT_DEBUG >= 2: pipelines print the IR after each pass.
bool pipeline_debug_print();
/// CONVJIT_VERIFY (default: on in debug builds): pipelines verify the IR after each pass.
bool pipeline_verify_each_pass();

}  // namespace convjit::detail::ir
