// Pass: removes loops that never run (constant extent <= 0), replaces loops that run
// once by their body, and flattens nested blocks.
#pragma once

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

Func prune_loops(const Func& f);

}  // namespace convjit::detail::ir
