// fold_full_lanes: lane counts that are always the full vector become that constant, so the
// LLVM lowering emits plain loads and stores instead of run-time masks. Lowering writes every
// tile's lanes as clamp(channels - block*width - j*lanes, 0, lanes); inside the loop over full
// blocks that is `lanes`, which LLVM proves by itself only while the loop bounds are constants
// (restrict_to_call_ranges makes them run-time values).
#pragma once

#include "compiler/ir/ir.hpp"

namespace convjit::detail {

/// Replaces each valid_lanes expression (Load, AddFrom, Store) by a constant when interval
/// arithmetic over the enclosing constant-range loops bounds it to a single value.
ir::Func fold_full_lanes(const ir::Func& f);

}  // namespace convjit::detail
