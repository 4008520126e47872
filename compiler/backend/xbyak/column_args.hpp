// ColumnArgs — the arguments of one emitted column function (SysV: pointer in rdi): the ABI
// between the Xbyak driver (xbyak_driver.cpp) and the code ColumnEmitter writes.
#pragma once

#include <cstdint>

namespace convjit::detail {

/// Arguments of one emitted column function (SysV: pointer in rdi). Not public.
struct ColumnArgs {
  const float* in = nullptr;    ///< row 0 of the input (channels_last), first channel used
  const float* w = nullptr;     ///< the column's packed weights
  const float* bias = nullptr;  ///< the column's first bias (ignored without bias)
  float* out = nullptr;         ///< row 0 of the (channels_last) output, first channel
  std::int64_t length = 0;      ///< input rows L
  std::int64_t pad_left = 0;
  std::int64_t t_begin = 0;      ///< left edge [t_begin, t_int_begin)
  std::int64_t t_int_begin = 0;  ///< interior tiles [t_int_begin, t_int_end), whole tiles
  std::int64_t t_int_end = 0;    ///< right edge [t_int_end, t_end)
  std::int64_t t_end = 0;
  std::int64_t blocks = 1;  ///< depthwise sweep: consecutive full blocks computed per tile
  /// Nonzero: interior stores may stream (KernelPlan::nontemporal; set by the driver when the
  /// output is line-aligned and streaming is safe for these buffers, see
  /// store_mode in compiler/schedule/kernel_plan.hpp).
  std::int64_t streaming = 0;
  /// Nonzero (sweeps with streaming stores): the interior sweeps the blocks from the last
  /// down, so that pending streamed stores lie behind the input the next block loads.
  std::int64_t descending = 0;
  /// Nonzero (KernelPlan::ic_blocks > 1, every block but the first): accumulators start from
  /// the partial sums in the output instead of zero.
  std::int64_t accumulate = 0;
  /// Nonzero (every ic block but the last): store the raw sums, without bias or activation.
  std::int64_t partial = 0;
};

}  // namespace convjit::detail
