// KernelPlan — every decision taken to compute one Problem under one Schedule.
//
// plan_kernel() is the one place where a Schedule is resolved against a Problem (oneDNN's
// init_conf() filling its jcp): the micro-kernel family, the register tile and its register
// allocation, input-channel and time blocks, channel sweeps, tap classes, prefetch, the
// store mode and its aliasing rule, the weight layout, and how a run may be split. Everything
// downstream reads it and decides nothing of its own:
//   check_legal (compiler/schedule/legality.cpp)   asks plan_kernel;
//   the IR lowering (compiler/ir/lower.cpp)        builds the loop nest from it;
//   the IR passes (compiler/ir/sweep_channels.cpp)  sweep where it says;
//   the Xbyak backend                               emits its tile and drives its loops;
//   the LLVM backend                                takes its store-aliasing rule.
// See docs/design.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {

/// Micro-kernel family the generator emits.
enum class KernelKind {
  kDirect,     ///< oc vectorized, inputs broadcast, weights [g][oc_blk][k][ic][W]
  kDepthwise,  ///< groups == C == F: channels vectorized, weights [c_blk][k][W]
};

/// One emitted column function: a block of `vecs` vectors of output channels over a
/// range of time steps (left edge, register-tiled interior, right edge).
struct ColumnVariant {
  bool present = false;
  int vecs = 0;                       ///< vectors in the block (<= ur_oc)
  int last_lanes = 0;                 ///< valid lanes of the last vector (== lanes: no mask)
  bool epilogue_in_registers = true;  ///< false: bias+store, then reload/activate/store
  std::vector<int> epilogue_free;     ///< vector registers free during the epilogue
};

struct KernelPlan {
  Problem problem;    ///< what is planned
  Schedule schedule;  ///< the schedule it was planned from (resolved: see the fields below)

  // --- target ---
  Isa isa = Isa::kAvx512;
  int lanes = 16;  ///< floats per vector
  int vregs = 32;  ///< vector registers
  KernelKind kind = KernelKind::kDirect;

  // --- problem, normalized ---
  std::int64_t C = 1, F = 1, K = 1, stride = 1, dilation = 1, groups = 1, icg = 1, ocg = 1;
  Padding padding = Padding::kValid;
  bool channels_first = false;
  bool dynamic_length = false;
  bool use_bias = true;
  Activation activation = Activation::kLinear;
  bool fused_activation = false;  ///< element-wise, non-identity: applied in registers
  bool axis_activation = false;   ///< softmax/log_softmax/sparsemax/glu: C++ stage after the conv
  bool axis_over_time = false;    ///< the axis is time (channels_first), else channels
  bool glu = false;

  // --- blocking ---
  int ur_t = 1;                          ///< register tile: time steps
  int ur_oc = 1;                         ///< register tile: vectors of output channels
  std::int64_t block_width = 0;          ///< ur_oc * lanes channels
  std::int64_t col_groups = 1;           ///< groups of columns (direct: groups; depthwise: 1)
  std::int64_t col_channels = 1;         ///< output channels per column group (ocg; depthwise: C)
  std::int64_t blocks_per_group = 0;     ///< ceil(col_channels / block_width)
  std::int64_t block_weight_floats = 0;  ///< packed floats of one block
  ColumnVariant full;                    ///< blocks of block_width channels
  ColumnVariant tail;                    ///< the last, narrower block of a group (if any)
  int unroll_ic = 1;                     ///< direct: input channels per emitted reduction step
  /// Direct: the reduction over a group's icg input channels runs in ic_blocks blocks of
  /// ic_block channels (Schedule::block_ic: the largest divisor of icg not above it, so that
  /// one compile-time reduction serves every block). The driver calls a column once per
  /// block; every block but the first adds to the partial sums in the output
  /// (ColumnArgs::accumulate), every block but the last stores them raw (::partial).
  /// Weights are packed [g][oc_blk][ic_blk][k][ic][W]. Unblocked: ic_block = icg.
  std::int64_t ic_block = 1;
  std::int64_t ic_blocks = 1;
  /// The packed weights' layout (pack_weights in weight_layout.hpp writes it).
  WeightLayout weights;
  /// Direct, one input channel per group, stride > 1, dilation 1 (first layers): taps are
  /// taken in classes k mod stride, and one broadcast of input row q*stride + c feeds every
  /// row of the tile whose tap in class c reads it (rows q, q-1, ... with taps c, c+s, ...).
  /// Each accumulator still sums its taps in one fixed order (tap_order), the edge's too.
  /// 0: off; else the most taps in one class (their weights are held in registers).
  int tap_class_size = 0;
  /// The order in which every output element sums its taps (direct kernels).
  std::vector<std::int64_t> tap_order;
  bool unroll_k = false;  ///< taps emitted straight (no k loop) in the interior
  /// The edges run whole groups of ur_t steps before their single steps (ur_t > 1, an edge
  /// of at least ur_t padded steps, depthwise or direct without tap classes): ur_t
  /// independent accumulator chains, every (step, tap) checked against [0, L). A single step is one
  /// chain of K (depthwise) or K*icg (direct) dependent FMAs per vector. Direct left-edge groups
  /// stop at the first group that would also touch the right edge (its taps' rows are found as a
  /// prefix or a suffix).
  bool edge_groups = false;

  // --- registers ---
  int act_temps = 0;   ///< temporaries the activation emitter needs
  int wreg_base = 0;   ///< direct: ur_oc weight registers; depthwise: K*ur_oc
  int bcast_reg = -1;  ///< direct AVX2: broadcast register
  bool dw_weights_in_regs = false;
  /// Channel blocks innermost inside the generated code (loop_order btc): a column call sweeps
  /// ColumnArgs::blocks full blocks per time tile, so output rows (and depthwise input rows)
  /// are written and read in address order, which the hardware prefetchers follow.
  /// Depthwise: when the weights are not in registers. Direct: one column group
  /// (groups == 1) whose weights for the whole sweep fit in L1 (the first layer: C = 1).
  bool sweep = false;
  /// Sweep: at most this many blocks per column call. Depthwise: the input rows one tile
  /// reads (ur_t*stride + (K-1)*dilation rows of the swept channels) fit in 16 KiB of L1.
  /// Direct: the swept blocks' weights stay in three quarters of L1.
  std::int64_t sweep_blocks = 1;
  int dw_in_tmp = -1, dw_w_tmp = -1, dw_mask_tmp = -1;  ///< depthwise temporaries
  /// Depthwise, straight taps, stride 1, dilation below ur_t: the interior holds the weights
  /// of this many consecutive taps in registers (from dw_w_tmp on; with dw_weights_in_regs,
  /// all K of them, already held) and loads each input vector once per tap group, feeding
  /// every accumulator that needs it (input reuse across taps). 0: one weight load per tap
  /// (none when held) and the input as the FMA's memory operand.
  int dw_tap_block = 0;

  // --- memory ---
  int prefetch_tiles = 0;           ///< interior: prefetch the input rows this many tiles ahead
  std::int64_t prefetch_bytes = 0;  ///< bytes of each input row a column reads (lines prefetched)
  /// One prefetched line: input row `row`, counted from the tile's first input row
  /// (t0*stride - pad_left), at byte `byte` of the channels the column reads.
  struct PrefetchLine {
    std::int64_t row = 0, byte = 0;
  };
  /// The lines an interior tile prefetches: the rows the tile `prefetch_tiles` ahead reads
  /// and the tile before it does not (so a walk down a column prefetches each row once),
  /// `prefetch_bytes` of each, at most kMaxPrefetchLines. The Xbyak emitter and the
  /// lowering (hence LLVM) both emit exactly these. Direct sweeps prefetch once per tile,
  /// before the sweep (the blocks share the tile's input rows); depthwise ones per block.
  std::vector<PrefetchLine> prefetch_lines;
  static constexpr int kMaxPrefetchLines = 128;
  bool nontemporal = false;  ///< interior stores of unmasked vectors with vmovntps
  /// The store-aliasing rule of streaming stores. A load whose address equals a pending
  /// streamed store's modulo 4 KiB waits for that store to reach memory. For output row t
  /// and input row r of one tile, the output runs (out - in) + shift bytes ahead of the
  /// input in the 4 KiB space, for every shift in this list (t*F*4 - r*C*4 mod 4096, sorted,
  /// unique). A call streams when no such distance lies in (0, store_alias_window]; a sweep
  /// may instead take its blocks from the last down when none lies in
  /// [4096 - store_alias_window, 4096). Empty unless `nontemporal`.
  std::vector<std::int64_t> store_alias_shifts;
  std::int64_t store_alias_window = 0;  ///< bytes of pending streamed stores (8 lines)
  /// A call streams only when its output starts on a cache line: blocks are whole lines,
  /// so every streamed line is then written whole (a block straddling two lines would
  /// stream two half lines, the slow case above).
  static constexpr std::int64_t kStreamAlignment = 64;

  // --- driver ---
  LoopOrder loop_order = LoopOrder::kBatchChannelTime;
  std::int64_t block_t = 0;  ///< time cache block (0: whole range)
  std::int64_t packed_floats = 0;
  std::int64_t oc_granularity = 1;
  bool split_time = true;
};

/// Plans `p` under `s`. Throws Error(kIllegalSchedule) when the register tile cannot be
/// allocated, Error(kResourceLimit) when offsets overflow the encodings.
KernelPlan plan_kernel(const Problem& p, const Schedule& s);

/// Output length for input length `length` (may be 0; never negative).
std::int64_t plan_out_length(const KernelPlan& plan, std::int64_t length);

/// Stable text of every decision (one `key=value` per field, threads excluded): two
/// schedules whose plans print alike compute the same code. The tuner de-duplicates its
/// candidates on it; `convjit asm --plan` prints it.
std::string to_string(const KernelPlan& plan);

/// to_string(plan) and the thread count: what makes two schedules the same candidate for
/// the tuner (enumerate_schedules and runtime/tuner.cpp de-duplicate on it).
std::string candidate_key(const KernelPlan& plan);

/// How one call of the interior stores (see KernelPlan::store_alias_shifts).
struct StoreMode {
  bool streaming = false;   ///< streaming (non-temporal) stores
  bool descending = false;  ///< a sweep takes its blocks from the last down
};

/// The store mode of a call whose input rows start at `in` and output rows at `out` (its
/// first channel): streaming needs plan.nontemporal and a line-aligned output
/// (KernelPlan::kStreamAlignment, as the LLVM code checks).
StoreMode store_mode(const KernelPlan& plan, const void* in, const void* out);

}  // namespace convjit::detail
