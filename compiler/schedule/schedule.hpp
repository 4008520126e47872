// Schedule — how a Problem is computed: data, printable, parseable, checked for legality.
//
// What a user or the tuner chooses. plan_kernel (kernel_plan.hpp) resolves it against a
// Problem into the KernelPlan that the lowering, the IR passes and both backends read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/problem.hpp"
#include "convjit/isa.hpp"

namespace convjit::detail {

/// Which micro-kernel family computes the problem. (Pointwise and first-layer problems are
/// direct ones: the plan turns K = 1 and one input channel with strides > 1 into their own
/// tiles and tap classes, so they need no label; docs/design.md.)
enum class Strategy {
  kDirect,     ///< oc vectorized, inputs broadcast, weights packed per oc block
  kDepthwise,  ///< groups == C == F: vectorized over channels
};

/// How channels_first input/output is handled. Transposing is the only mode: a kernel
/// vectorized over time is open work (docs/status.md).
enum class ChannelsFirstMode {
  kTranspose,  ///< transpose to channels_last, run the channels_last kernel, transpose back
};

/// Order of the three outer loops over output tiles.
enum class LoopOrder {
  kBatchTimeChannel,  ///< n, t_blk, oc_blk (oc innermost: input row reused across oc blocks)
  kBatchChannelTime,  ///< n, oc_blk, t_blk (weights of one oc block reused across time)
};

struct Schedule {
  Isa isa = Isa::kAvx512;  ///< resolved ISA (never kAuto)
  Strategy strategy = Strategy::kDirect;
  ChannelsFirstMode channels_first = ChannelsFirstMode::kTranspose;
  LoopOrder loop_order = LoopOrder::kBatchChannelTime;
  int vector_lanes = 16;            ///< 8 (AVX2) or 16 (AVX-512)
  int tile_t = 6;                   ///< register tile: output time steps
  int tile_oc_vecs = 4;             ///< register tile: output-channel vectors
  std::int64_t block_ic = 0;        ///< input-channel cache block (0: whole group)
  std::int64_t block_t = 0;         ///< output-time cache block in steps (0: whole length)
  int unroll_k = 1;                 ///< kernel taps unrolled in the emitted reduction
  int unroll_ic = 1;                ///< input channels unrolled in the emitted reduction
  int prefetch_distance = 0;        ///< bytes ahead to prefetch input rows (0: none)
  bool nontemporal_stores = false;  ///< streaming stores for outputs that skip the cache
  int threads = 1;                  ///< worker threads the run splits over

  bool operator==(const Schedule& o) const;
  bool operator!=(const Schedule& o) const { return !(*this == o); }
};

/// Stable one-line text, e.g. "isa=avx512 strategy=direct tile_t=6 tile_oc_vecs=4 ...".
std::string to_string(const Schedule& s);
/// Inverse of to_string; missing keys keep their defaults. Throws Error(kParseError), also for
/// a key given twice.
Schedule parse_schedule(std::string_view text);
/// `base` with the key=value words of `text` replacing its own (a partial schedule such as
/// "tile_t=3" over the heuristic's). `text` is checked on its own first, so it gets the
/// errors of parse_schedule (a key given twice, an unknown key, a bad value).
Schedule merge_schedule(const Schedule& base, std::string_view text);

/// Throws Error(kIllegalSchedule) naming the field and the reason when `s` cannot compute
/// `p` (register tile beyond the ISA's registers, depthwise strategy on a non-depthwise
/// problem, lanes not matching the ISA, ...): plan_kernel(p, s) succeeds.
void check_legal(const Schedule& s, const Problem& p);

/// The checks of each field on its own (ranges, strategy against the problem); plan_kernel
/// runs them first, then the ones that need the plan (registers, encodings).
void check_schedule_fields(const Schedule& s, const Problem& p);

/// The default heuristic: a good schedule for `p` on `isa` from the register count and
/// cache sizes. Always legal.
Schedule default_schedule(const Problem& p, Isa isa);

/// Why default_schedule chose what it chose, one line per decision.
std::string explain_default_schedule(const Problem& p, Isa isa);

}  // namespace convjit::detail
