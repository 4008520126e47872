#include "compiler/ir/pipeline.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "compiler/environment.hpp"
#include "compiler/ir/lower.hpp"
#include "compiler/ir/parallelize.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/prune_loops.hpp"
#include "compiler/ir/simplify.hpp"
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

/// Runs after every pass: the debug print and the verifier.
Func after(const char* pass, Func f, bool unrolled = false) {
  if (pipeline_debug_print())
    std::fprintf(stderr, "// IR after %s\n%s\n", pass, to_string(f).c_str());
  if (pipeline_verify_each_pass()) {
    VerifyOptions o;
    o.lengths = verification_lengths(f, 12);
    o.require_unrolled = unrolled;
    verify_or_die(f, o, pass);
  }
  return f;
}

}  // namespace

Func lower_unscheduled(const Problem& p) {
  Func f = after("lower_conv (unscheduled)", lower_conv(p, unscheduled_plan(p)));
  f = after("simplify", simplify(f));
  return after("prune_loops", prune_loops(f));
}

Func lower_scheduled(const Problem& p, const Schedule& s) {
  auto plan = std::make_shared<const KernelPlan>(plan_kernel(p, s));  // throws when illegal
  Func f = after("lower_conv", lower_conv(p, lower_plan_of(plan)));
  f = after("simplify", simplify(f));
  f = after("unroll_reduction", unroll_reduction(f, s.unroll_k, s.unroll_ic));
  f = after("unroll_loops", unroll_loops(f), true);
  f = after("prune_loops", prune_loops(f), true);
  return after("parallelize", parallelize(f, s.threads), true);
}

}  // namespace convjit::detail::ir
