// restrict_to_call_ranges: the LLVM backend's loop nest computes only the outputs of one
// call's ranges [t_begin, t_end) x [oc_begin, oc_end) (KernelArgs), so that the runtime can
// split a run between threads over time and output channels, not only over the batch.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "compiler/ir/ir.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail {

/// Variable names the pass introduces. The parameters are bound by the LLVM lowering (the
/// call's ranges as given; a whole run passes 0 and kWholeRange); the clamped values are
/// Lets inside the function's length Lets, read by the lowering of Transpose (a
/// channels_first transpose moves only the call's part of the rows).
struct CallRangeNames {
  static constexpr const char* kTBeginParam = "call_t_begin";
  static constexpr const char* kTEndParam = "call_t_end";
  static constexpr const char* kOcBeginParam = "call_oc_begin";
  static constexpr const char* kOcEndParam = "call_oc_end";
  static constexpr const char* kTBegin = "t_begin";    ///< clamp(call_t_begin, 0, Lout)
  static constexpr const char* kTEnd = "t_end";        ///< clamp(call_t_end, t_begin, Lout)
  static constexpr const char* kOcBegin = "oc_begin";  ///< clamp(call_oc_begin, 0, F)
  static constexpr const char* kOcEnd = "oc_end";      ///< clamp(call_oc_end, oc_begin, F)
  static constexpr const char* kInBegin = "in_begin";  ///< first input step the call reads
  static constexpr const char* kInEnd = "in_end";      ///< one past the last
};

/// An end that covers any range (what a whole run passes as call_t_end and call_oc_end).
constexpr std::int64_t kWholeRange = std::int64_t{1} << 40;

/// One call's share of a run (KernelArgs' t and oc ranges; a whole run by default) and the
/// direction of a directional sweep.
struct CallRange {
  std::int64_t t_begin = 0, t_end = kWholeRange;
  std::int64_t oc_begin = 0, oc_end = kWholeRange;
  std::int64_t sweep_down = 0;
};

/// `f` with the call-range parameters bound to `range` (the verifier and the interpreter know
/// only N and L).
ir::Func bind_call_range(const ir::Func& f, const CallRange& range);
/// The variable slots of `f`'s call-range parameters, with their values for `range`.
std::vector<std::pair<int, std::int64_t>> call_range_values(const ir::Func& f,
                                                            const CallRange& range);

/// Rewrites the loop nest of `f`, as ir::lower_conv made it (before simplify and pruning: every
/// region loop is still there, with its tag), so that it computes the outputs of
/// [call_t_begin, call_t_end) x [call_oc_begin, call_oc_end) only:
///   - lower_conv's steps `t_begin = 0`, `t_end = Lout` become the call's [t_begin, t_end): its
///     time blocks and regions (edges, interior tiles) are built from those, as the Xbyak
///     driver builds each call's (the interior tiles start at the call's first interior step);
///   - channel blocks (oc blocks of a group, depthwise channel blocks) run when their first
///     output channel is in [oc_begin, oc_end); groups outside the range are skipped;
///   - the axis-activation stage runs on the call's rows (channels_last: time steps) or
///     columns (channels_first: output channels).
/// Each output element sums its taps (and input channels) in the one order every region
/// keeps, so any split gives bit-identical results. Ranges must follow the kernel's split rules (oc
/// ranges start on multiples of call_oc_split_granularity; no time split when
/// !call_can_split_time).
ir::Func restrict_to_call_ranges(const ir::Func& f);

/// Output channels a call must compute together (KernelPlan::oc_granularity: a channel block
/// when blocks start on multiples of it, else a whole group; all of F for an axis activation
/// over channels).
std::int64_t call_oc_split_granularity(const ir::Func& f);
/// KernelPlan::split_time: false when the axis activation runs over time (channels_first
/// softmax, glu, ...).
bool call_can_split_time(const ir::Func& f);

}  // namespace convjit::detail
