#include "compiler/backend/llvm/llvm_ir_pipeline.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "compiler/backend/llvm/call_ranges.hpp"
#include "compiler/backend/llvm/full_lanes.hpp"
#include "compiler/backend/llvm/sweep_channels.hpp"
#include "compiler/ir/lower.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/prune_loops.hpp"
#include "compiler/ir/simplify.hpp"
#include "compiler/ir/unroll_loops.hpp"
#include "compiler/ir/unroll_reduction.hpp"
#include "compiler/ir/verifier.hpp"

namespace convjit::detail {
namespace {

/// `f` with the call-range parameters bound to constants (the verifier and the interpreter
/// know only N and L).
ir::Func with_ranges(const ir::Func& f, std::int64_t t0, std::int64_t t1, std::int64_t oc0,
                     std::int64_t oc1, std::int64_t down) {
  ir::Func out = f;
  const std::pair<const char*, std::int64_t> values[] = {{CallRangeNames::kTBeginParam, t0},
                                                         {CallRangeNames::kTEndParam, t1},
                                                         {CallRangeNames::kOcBeginParam, oc0},
                                                         {CallRangeNames::kOcEndParam, oc1},
                                                         {kSweepDownVar, down}};
  for (const auto& [name, value] : values) {
    for (std::size_t v = 0; v < f.vars.size(); ++v) {
      if (f.vars[v] == name) out.body = ir::substitute(out.body, static_cast<int>(v), value);
    }
  }
  return out;
}

/// The debug print and, in debug builds, the verifier (a whole run, then one call on the
/// second half of time and channels, on the split granularity, sweeping down).
ir::Func after(const char* pass, ir::Func f, bool unrolled = false) {
  if (ir::pipeline_debug_print()) {
    std::fprintf(stderr, "// LLVM IR pipeline: after %s\n%s\n", pass, ir::to_string(f).c_str());
  }
  if (ir::pipeline_verify_each_pass()) {
    ir::VerifyOptions o;
    o.lengths = ir::verification_lengths(f, 12);
    o.require_unrolled = unrolled;
    ir::verify_or_die(with_ranges(f, 0, kWholeRange, 0, kWholeRange, 0), o, pass);
    const std::int64_t g = call_oc_split_granularity(f);
    const std::int64_t oc_mid = f.problem.filters / 2 / g * g;
    const std::int64_t t_mid = call_can_split_time(f) ? 5 : 0;
    ir::verify_or_die(with_ranges(f, t_mid, kWholeRange, oc_mid, kWholeRange, 1), o, pass);
  }
  return f;
}

}  // namespace

ir::Func lower_for_llvm(const Problem& p, const Schedule& s) {
  auto plan = std::make_shared<const KernelPlan>(plan_kernel(p, s));  // throws when illegal
  ir::Func f = ir::lower_conv(p, ir::lower_plan_of(plan));
  f = after("fold_full_lanes", fold_full_lanes(f));
  f = after("restrict_to_call_ranges", restrict_to_call_ranges(f));
  if (s.loop_order == LoopOrder::kBatchTimeChannel) {
    f = after("sweep_channel_blocks", sweep_channel_blocks(f));
  }
  f = after("simplify", ir::simplify(f));
  f = after("unroll_reduction", ir::unroll_reduction(f, s.unroll_k, s.unroll_ic));
  f = after("unroll_loops", ir::unroll_loops(f), true);
  return after("prune_loops", ir::prune_loops(f), true);
}

}  // namespace convjit::detail
