// Pass: marks the batch loop parallel when the schedule splits work over threads.
// Work units are (n) iterations; every output is still computed by one instruction
// sequence, so results do not depend on the thread count.
#pragma once

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

Func parallelize(const Func& f, int threads);

}  // namespace convjit::detail::ir
