#include "compiler/schedule/kernel_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "compiler/activation_description.hpp"
#include "compiler/target/target.hpp"
#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

// The largest divisor of n (>= 1) that is <= limit (>= 1), in O(sqrt(n)).
std::int64_t largest_divisor_at_most(std::int64_t n, std::int64_t limit) {
  std::int64_t best = 1;
  for (std::int64_t i = 1; i <= n / i; ++i) {
    if (n % i != 0) continue;
    if (i <= limit) best = std::max(best, i);
    if (n / i <= limit) best = std::max(best, n / i);
  }
  return best;
}

const char* isa_text(Isa isa) {
  return isa == Isa::kAvx512 ? "avx512" : "avx2";
}

[[noreturn]] void illegal(const char* field, const std::string& why) {
  throw Error(ErrorCode::kIllegalSchedule, field,
              fmt::format("Illegal schedule: {}: {}", field, why));
}

// Vector temporaries the activation's sequence needs in the epilogue (0 for the identity).
int activation_temps(Activation act) {
  if (act == Activation::kLinear || is_axis_activation(act)) return 0;
  return activation_vector_temps(act);
}

// Registers free in the epilogue of a variant: all but the accumulators and `keep`.
std::vector<int> free_registers(int vregs, int accs, int keep_begin, int keep_end) {
  std::vector<int> free;
  for (int r = accs; r < vregs; ++r) {
    if (r >= keep_begin && r < keep_end) continue;
    free.push_back(r);
  }
  return free;
}

void plan_variant(const KernelPlan& plan, ColumnVariant& v, std::int64_t width, int keep_begin,
                  int keep_end) {
  v.present = width > 0;
  if (!v.present) return;
  v.vecs = static_cast<int>(ceil_div(width, plan.lanes));
  v.last_lanes = static_cast<int>(width - static_cast<std::int64_t>(v.vecs - 1) * plan.lanes);
  v.epilogue_free = free_registers(plan.vregs, plan.ur_t * v.vecs, keep_begin, keep_end);
  // Two registers are reserved (AVX2 mask and bias temporary) before the activation's.
  v.epilogue_in_registers =
      !plan.fused_activation || static_cast<int>(v.epilogue_free.size()) >= plan.act_temps + 2;
}

void check_offsets(const KernelPlan& plan) {
  const std::int64_t limit = std::numeric_limits<std::int32_t>::max() / 2;
  const std::int64_t in_span =
      (plan.ur_t * plan.stride + (plan.K - 1) * plan.dilation + 1) * plan.C * 4;
  const std::int64_t out_span = (plan.ur_t + 1) * plan.F * 4;
  const std::int64_t w_span = plan.block_weight_floats * 4;
  if (in_span > limit || out_span > limit || w_span > limit) {
    throw Error(ErrorCode::kResourceLimit, "kernel_size",
                fmt::format("Conv1D too large for 32-bit code offsets: C={}, F={}, K={}, "
                            "dilation_rate={}",
                            plan.C, plan.F, plan.K, plan.dilation));
  }
}

}  // namespace

std::int64_t plan_out_length(const KernelPlan& plan, std::int64_t length) {
  if (plan.padding != Padding::kValid) return ceil_div(length, plan.stride);
  const std::int64_t span = plan.dilation * (plan.K - 1) + 1;
  if (length < span) return 0;
  return (length - span) / plan.stride + 1;
}

KernelPlan plan_kernel(const Problem& p, const Schedule& s) {
  check_schedule_fields(s, p);
  KernelPlan plan;
  plan.problem = p;
  plan.schedule = s;
  plan.isa = s.isa;
  plan.lanes = isa_target(s.isa).lanes;
  plan.vregs = isa_target(s.isa).vector_registers;
  plan.C = p.in_channels;
  plan.F = p.filters;
  plan.K = p.kernel;
  plan.stride = p.stride;
  plan.dilation = p.dilation;
  plan.groups = p.groups;
  plan.icg = p.ic_per_group;
  plan.ocg = p.oc_per_group;
  plan.padding = p.padding;
  plan.channels_first = p.data_format == DataFormat::kChannelsFirst;
  plan.dynamic_length = p.length_is_dynamic;
  plan.use_bias = p.use_bias;
  plan.activation = p.activation;
  plan.axis_activation = is_axis_activation(p.activation);
  plan.axis_over_time = plan.axis_activation && plan.channels_first;
  plan.glu = p.activation == Activation::kGlu;
  plan.act_temps = activation_temps(p.activation);
  plan.fused_activation = !plan.axis_activation && p.activation != Activation::kLinear;

  // check_schedule_fields refuses depthwise on anything but a multiplier of 1.
  plan.kind = s.strategy == Strategy::kDepthwise ? KernelKind::kDepthwise : KernelKind::kDirect;
  // The register tile: accumulators, the weights of one tap (ur_oc vectors) and one input
  // broadcast register, which is also what the IR's tile allocates (acc, w, x). In 64 bits:
  // tile_t and tile_oc_vecs are each up to 2^30 (parse_schedule).
  {
    const std::int64_t accumulators = static_cast<std::int64_t>(s.tile_t) * s.tile_oc_vecs;
    const std::int64_t needed = accumulators + s.tile_oc_vecs + 1;
    if (needed > plan.vregs) {
      illegal("tile_t", fmt::format("a {}x{} register tile needs {} vector registers "
                                    "({} accumulators, {} weights, 1 input); {} has {}",
                                    s.tile_t, s.tile_oc_vecs, needed, accumulators, s.tile_oc_vecs,
                                    isa_text(plan.isa), plan.vregs));
    }
  }
  plan.ur_t = s.tile_t;
  plan.ur_oc = s.tile_oc_vecs;
  plan.block_width = static_cast<std::int64_t>(plan.ur_oc) * plan.lanes;
  const int accs = plan.ur_t * plan.ur_oc;
  plan.wreg_base = accs;

  if (plan.kind == KernelKind::kDirect) {
    plan.col_groups = plan.groups;
    plan.col_channels = plan.ocg;
    plan.block_weight_floats = plan.K * plan.icg * plan.block_width;
    // Each input is broadcast once per tile row into a register that feeds the row's ur_oc
    // FMAs. AVX-512 could fold the broadcast into every FMA ({1to16}), but then a 6x4 tile
    // issues 24 broadcast loads per 24 FMAs and the loads set the pace on CPUs with
    // full-width 512-bit FMA units (Zen 5, in L1: 180-188 against 220-228 GFLOP/s; Zen 4 runs
    // both forms alike). The register tile rule above keeps one register for it; the
    // micro-kernel bench measures the embedded form by clearing bcast_reg.
    plan.bcast_reg = accs + plan.ur_oc;
    plan.unroll_k = s.unroll_k >= plan.K && plan.K <= 16;
    // Tap classes (see KernelPlan::tap_class_size): the weights of one class, the accumulators
    // and one broadcast register must fit.
    // Input-channel blocks (see KernelPlan::ic_block): a divisor of icg not above block_ic,
    // kept only when it is at least half of block_ic (a prime icg is not blocked at all).
    plan.ic_block = plan.icg;
    if (s.block_ic > 0 && s.block_ic < plan.icg) {
      const std::int64_t d = largest_divisor_at_most(plan.icg, s.block_ic);
      if (2 * d >= s.block_ic) plan.ic_block = d;
    }
    plan.ic_blocks = plan.icg / plan.ic_block;
    plan.unroll_ic = static_cast<int>(std::clamp<std::int64_t>(s.unroll_ic, 1, plan.ic_block));
    plan.unroll_ic = std::min(plan.unroll_ic, 16);
    const std::int64_t class_size = (plan.K - 1) / plan.stride + 1;  // no overflow for huge K
    if (plan.icg == 1 && plan.stride >= 2 && plan.dilation == 1 && plan.K > plan.stride &&
        class_size <= plan.vregs && accs + class_size * plan.ur_oc + 1 <= plan.vregs) {
      plan.tap_class_size = static_cast<int>(class_size);
      plan.wreg_base = accs;
      plan.bcast_reg = accs + plan.tap_class_size * plan.ur_oc;
    }
    for (std::int64_t c = 0; c < (plan.tap_class_size > 0 ? plan.stride : 1); ++c) {
      const std::int64_t step = plan.tap_class_size > 0 ? plan.stride : 1;
      for (std::int64_t k = c; k < plan.K; k += step) plan.tap_order.push_back(k);
    }
    // Direct sweep: the whole row of output channels per time tile, in code, when the weights
    // of every block stay in L1 (first layers: K * F floats). Wider weights would be reloaded
    // from L2 on every tile; those keep one block per call.
    const std::int64_t block_weight_bytes = plan.block_weight_floats * 4;
    plan.sweep = s.loop_order == LoopOrder::kBatchTimeChannel && plan.groups == 1 &&
                 plan.ic_blocks == 1 && plan.ocg >= 2 * plan.block_width &&
                 block_weight_bytes * (plan.ocg / plan.block_width) <= kSweepWeightBytes;
    plan.sweep_blocks = std::max<std::int64_t>(1, kSweepWeightBytes / block_weight_bytes);
  } else {
    plan.col_groups = 1;
    plan.col_channels = plan.C;
    plan.block_weight_floats = plan.K * plan.block_width;
    const int wregs = static_cast<int>(plan.K) * plan.ur_oc;
    plan.dw_weights_in_regs = plan.K <= 16 && accs + wregs + 3 <= plan.vregs &&
                              plan.vregs - accs - wregs - 3 >= plan.act_temps + 2;
    plan.sweep =
        !plan.dw_weights_in_regs && s.loop_order == LoopOrder::kBatchTimeChannel && plan.C > 0;
    const int base = accs + (plan.dw_weights_in_regs ? wregs : 0);
    if (base + 3 > plan.vregs) {
      illegal("tile_t",
              fmt::format("a depthwise {}x{} tile needs {} vector registers ({} accumulators{} "
                          "and 3 temporaries); {} has {}",
                          plan.ur_t, plan.ur_oc, base + 3, accs,
                          plan.dw_weights_in_regs ? fmt::format(", {} weights", wregs) : "",
                          isa_text(plan.isa), plan.vregs));
    }
    plan.dw_in_tmp = base;
    plan.dw_mask_tmp = base + 1;
    plan.dw_w_tmp = base + 2;
    // Taps straight: from registers, or (K <= 32) with weights as memory operands.
    plan.unroll_k = plan.dw_weights_in_regs || plan.K <= 32;
    // Tap groups with input reuse: the weights of `dw_tap_block` taps from dw_w_tmp on (the
    // edge's weight temporary is free in the interior); needs rows shared between taps.
    // Held weights: one group of all K taps, read from the held registers (each input row
    // loaded once per tile instead of once per tap that reads it).
    const bool shared_rows = plan.stride == 1 && plan.dilation < plan.ur_t && plan.K > 1;
    if (plan.dw_weights_in_regs && shared_rows) {
      plan.dw_tap_block = static_cast<int>(plan.K);
    } else if (!plan.dw_weights_in_regs && plan.unroll_k && shared_rows) {
      const int tap_block = (plan.vregs - plan.dw_w_tmp) / plan.ur_oc;
      if (tap_block >= 2)
        plan.dw_tap_block = static_cast<int>(std::min<std::int64_t>(tap_block, plan.K));
    }
    // Sweep width: a call sweeps the blocks of 16 KiB of a tile's input rows (a third of
    // L1), so the rows the next tile shares with this one ((K-1)*d of them), and the rows tap
    // groups re-read (conformer_dw: 37 per tile), are still in L1 when read again. Whole
    // rows (AVX2 measurements in session 3) lost this on Zen 5 with zmm blocks: mamba_dw
    // (9 rows of 6 KiB per tile) ran 2650-2950 us against 2030-2120 us with 16 KiB; the
    // 6x2 ymm tile measured the same either way (docs/jit.md, round 7).
    {
      constexpr std::int64_t kSweepInputBytes = 16 * 1024;
      const std::int64_t tile_rows = plan.ur_t * plan.stride + (plan.K - 1) * plan.dilation;
      plan.sweep_blocks =
          std::max<std::int64_t>(1, kSweepInputBytes / (tile_rows * plan.block_width * 4));
    }
  }
  plan.blocks_per_group = ceil_div(plan.col_channels, plan.block_width);
  plan.weights.kind = plan.kind == KernelKind::kDirect ? WeightLayout::Kind::kDirect
                                                       : WeightLayout::Kind::kDepthwise;
  plan.weights.block_width = plan.block_width;
  plan.weights.blocks = plan.blocks_per_group;
  plan.weights.ic_block = plan.kind == KernelKind::kDirect ? plan.ic_block : 0;
  plan.packed_floats = plan.col_groups * plan.blocks_per_group * plan.block_weight_floats;

  // Depthwise keeps its weight registers live through the epilogue.
  const int keep_begin = plan.kind == KernelKind::kDepthwise && plan.dw_weights_in_regs ? accs : 0;
  const int keep_end = plan.kind == KernelKind::kDepthwise && plan.dw_weights_in_regs
                           ? accs + static_cast<int>(plan.K) * plan.ur_oc
                           : 0;
  const std::int64_t full_blocks = plan.col_channels / plan.block_width;
  const std::int64_t tail_width = plan.col_channels % plan.block_width;
  plan_variant(plan, plan.full, full_blocks > 0 ? plan.block_width : 0, keep_begin, keep_end);
  plan_variant(plan, plan.tail, tail_width, keep_begin, keep_end);

  // Software prefetch of the input rows of a later tile (the hardware prefetchers do not
  // follow a column's walk down rows of C*4 bytes when a column reads only part of a row).
  if (s.prefetch_distance > 0) {
    const std::int64_t tile_bytes = plan.ur_t * plan.stride * plan.C * 4;
    plan.prefetch_tiles =
        static_cast<int>(std::clamp<std::int64_t>(ceil_div(s.prefetch_distance, tile_bytes), 1, 4));
    plan.prefetch_bytes =
        plan.kind == KernelKind::kDirect ? plan.ic_block * 4 : plan.block_width * 4;
    const std::int64_t step = static_cast<std::int64_t>(plan.ur_t) * plan.stride;
    const std::int64_t ahead = plan.prefetch_tiles * step;
    // Rows relative to the tile `ahead` (sorted vectors: a set per compile cost 8 us at K=31).
    std::vector<std::int64_t> rows;
    rows.reserve(static_cast<std::size_t>(plan.K * plan.ur_t));
    for (std::int64_t k = 0; k < plan.K; ++k) {
      for (int i = 0; i < plan.ur_t; ++i) rows.push_back(i * plan.stride + k * plan.dilation);
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (const std::int64_t r : rows) {
      // The tile before reads row r too when r + step is one of its rows.
      if (std::binary_search(rows.begin(), rows.end(), r + step)) continue;
      for (std::int64_t byte = 0;
           byte < plan.prefetch_bytes && plan.prefetch_lines.size() < KernelPlan::kMaxPrefetchLines;
           byte += 64) {
        plan.prefetch_lines.push_back({ahead + r, byte});
      }
    }
  }
  // Streaming stores only of whole cache lines: a block narrower than a line (or rows that
  // are not whole lines apart) would stream half lines, each its own slow partial write
  // (tile 3x1 on mamba_dw: 17x slower). Such schedules keep ordinary stores.
  plan.nontemporal =
      s.nontemporal_stores && (plan.block_width * 4) % 64 == 0 && (plan.F * 4) % 64 == 0;
  if (plan.nontemporal) {
    constexpr std::int64_t kPage = 4096;
    // Eight lines of streamed stores are still pending when a later load may alias them.
    // The count is of lines, not of blocks: 8 blocks of 4 zmm (2 KiB, half the page) made
    // every placement of mamba_dw a hazard, so it never streamed (3200 against 2100 us).
    plan.store_alias_window = 8 * 64;
    const std::int64_t in_rows = plan.ur_t * plan.stride + (plan.K - 1) * plan.dilation;
    std::set<std::int64_t> shifts;
    for (std::int64_t t = 0; t < plan.ur_t; ++t) {
      for (std::int64_t r = 0; r < in_rows && static_cast<std::int64_t>(shifts.size()) < kPage / 4;
           ++r) {
        shifts.insert(((t * plan.F * 4 - r * plan.C * 4) % kPage + kPage) % kPage);
      }
    }
    plan.store_alias_shifts.assign(shifts.begin(), shifts.end());
  }

  // Edge groups where an edge can hold a whole group: the left edge's steps (or the right
  // padding's) number about pad/stride, at most (K-1)d/s (causal: left; same: about half
  // each side). Valid padding's right edge is the interior's last steps, fewer than a tile.
  // Elsewhere the group code never runs, and it costs the LLVM backend compile time.
  const std::int64_t reach = (plan.K - 1) * plan.dilation;
  const std::int64_t pad_steps = p.padding == Padding::kValid ? 0
                                 : p.padding == Padding::kCausal
                                     ? ceil_div(reach, plan.stride)
                                     : ceil_div((reach + 1) / 2, plan.stride);
  plan.edge_groups = plan.ur_t > 1 && pad_steps >= plan.ur_t &&
                     (plan.kind == KernelKind::kDepthwise || plan.tap_class_size == 0);
  plan.loop_order = s.loop_order;
  plan.block_t = s.block_t > 0 ? std::max<std::int64_t>(s.block_t, plan.ur_t) : 0;

  // Splitting rules: oc splits must start on a column block; axis stages need their axis.
  if (plan.kind == KernelKind::kDepthwise || plan.col_groups == 1 ||
      plan.col_channels % plan.block_width == 0) {
    plan.oc_granularity = plan.block_width;
  } else {
    plan.oc_granularity = plan.col_channels;
  }
  if (plan.axis_activation && !plan.axis_over_time) plan.oc_granularity = plan.F;
  plan.oc_granularity = std::min(plan.oc_granularity, std::max<std::int64_t>(plan.F, 1));
  plan.split_time = !plan.axis_over_time;
  check_offsets(plan);
  return plan;
}

void check_legal(const Schedule& s, const Problem& p) {
  (void)plan_kernel(p, s);
}

StoreMode store_mode(const KernelPlan& plan, const void* in, const void* out) {
  StoreMode mode;
  const auto out_addr = reinterpret_cast<std::uintptr_t>(out);
  if (!plan.nontemporal ||
      out_addr % static_cast<std::uintptr_t>(KernelPlan::kStreamAlignment) != 0) {
    return mode;
  }
  constexpr std::int64_t kPage = 4096;
  const std::int64_t base =
      static_cast<std::int64_t>((out_addr - reinterpret_cast<std::uintptr_t>(in)) % kPage);
  const std::int64_t window = plan.store_alias_window;
  bool ahead_hazard = false, behind_hazard = false;
  for (const std::int64_t shift : plan.store_alias_shifts) {
    const std::int64_t ahead = (base + shift) % kPage;
    ahead_hazard = ahead_hazard || (ahead > 0 && ahead <= window);
    behind_hazard = behind_hazard || (ahead >= kPage - window);
  }
  if (!ahead_hazard) {
    mode.streaming = true;
  } else if (plan.sweep && !behind_hazard) {
    mode.streaming = true;
    mode.descending = true;
  }
  return mode;
}

std::string candidate_key(const KernelPlan& plan) {
  return to_string(plan) + " threads=" + std::to_string(plan.schedule.threads);
}

std::string to_string(const KernelPlan& plan) {
  std::ostringstream o;
  auto list = [&](const char* key, const std::vector<int>& v) {
    o << ' ' << key << '=';
    for (std::size_t i = 0; i < v.size(); ++i) o << (i ? "," : "") << v[i];
  };
  auto variant = [&](const char* key, const ColumnVariant& v) {
    o << ' ' << key << '=';
    if (!v.present) {
      o << "none";
      return;
    }
    o << v.vecs << "x" << v.last_lanes << (v.epilogue_in_registers ? "/regs" : "/memory");
    list("free", v.epilogue_free);
  };
  o << "isa=" << isa_text(plan.isa)
    << " kind=" << (plan.kind == KernelKind::kDirect ? "direct" : "depthwise")
    << " tile=" << plan.ur_t << "x" << plan.ur_oc << " block_width=" << plan.block_width
    << " blocks=" << plan.col_groups << "x" << plan.blocks_per_group
    << " ic_block=" << plan.ic_block << "x" << plan.ic_blocks << " unroll_ic=" << plan.unroll_ic
    << " unroll_k=" << plan.unroll_k << " tap_class_size=" << plan.tap_class_size << " tap_order=";
  for (std::size_t i = 0; i < plan.tap_order.size(); ++i) o << (i ? "," : "") << plan.tap_order[i];
  o << " act_temps=" << plan.act_temps << " wreg_base=" << plan.wreg_base
    << " bcast_reg=" << plan.bcast_reg << " dw_weights_in_regs=" << plan.dw_weights_in_regs
    << " dw_tmp=" << plan.dw_in_tmp << "," << plan.dw_mask_tmp << "," << plan.dw_w_tmp
    << " dw_tap_block=" << plan.dw_tap_block << " sweep=" << plan.sweep << "/" << plan.sweep_blocks
    << " prefetch=" << plan.prefetch_tiles << "x" << plan.prefetch_bytes << "/"
    << plan.prefetch_lines.size() << " nontemporal=" << plan.nontemporal
    << " loop_order=" << (plan.loop_order == LoopOrder::kBatchTimeChannel ? "btc" : "bct")
    << " block_t=" << plan.block_t << " packed_floats=" << plan.packed_floats
    << " oc_granularity=" << plan.oc_granularity << " split_time=" << plan.split_time;
  variant("full", plan.full);
  variant("tail", plan.tail);
  return o.str();
}

}  // namespace convjit::detail
