// The default schedule: planning only (oneDNN's init_conf), from the register count and a
// fixed cache model, so that the same problem always gets the same schedule on any host.
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "compiler/schedule/schedule.hpp"
#include "compiler/target/fma_units.hpp"
#include "compiler/target/target.hpp"

namespace convjit::detail {
namespace {

/// Cycles (in FMA-port half cycles) of one (tap, channel) step of a direct rows x cols tile,
/// per output row: the larger of its FMAs (two per cycle), its loads (cols weight vectors and
/// rows broadcasts, two per cycle) and the FMA latency (8 chains keep two 4-cycle units
/// busy).
double direct_step_cost(int rows, int cols) {
  return std::max({rows * cols, rows + cols, 8}) / static_cast<double>(rows);
}

/// A direct layer's output-channel vectors covered by blocks of `cols` (and the tail block):
/// the summed step cost per output row.
double direct_columns_cost(std::int64_t vectors, int cols, int rows) {
  const std::int64_t full = vectors / cols, tail = vectors % cols;
  return static_cast<double>(full) * direct_step_cost(rows, cols) +
         (tail > 0 ? direct_step_cost(rows, static_cast<int>(tail)) : 0.0);
}

Schedule plan(const Problem& p, Isa isa, std::vector<std::string>* why) {
  auto note = [&](std::string line) {
    if (why) why->push_back(std::move(line));
  };
  Schedule s;
  s.isa = isa == Isa::kAvx2 ? Isa::kAvx2 : Isa::kAvx512;
  s.vector_lanes = isa_target(s.isa).lanes;
  const int registers = isa_target(s.isa).vector_registers;
  note(fmt::format("isa={} vector_lanes={}: {} float lanes and {} vector registers",
                   isa_name(s.isa), s.vector_lanes, s.vector_lanes, registers));
  // The FMA width of this CPU (CPUID). On full-width 512-bit units the loads of a
  // micro-kernel bound it before its FMAs do, so every input is broadcast once per tile row
  // into a register (KernelPlan::bcast_reg); split units run both forms alike, and zmm code
  // there keeps its 32 registers: a 6x4 tile loads 0.42 values per FMA, ymm's 6x2 0.67.
  std::string units_why;
  const FmaUnits units = host_fma_units(&units_why);
  note("fma units: " + units_why);
  if (s.isa == Isa::kAvx512) {
    note(units == FmaUnits::kAvx512Split
             ? "broadcast: once per tile row into a register (split units run embedded {1to16} "
               "broadcasts as fast; zmm and ymm peaks are equal here, and zmm has twice the "
               "registers for the tile)"
             : "broadcast: once per tile row into a register; embedded {1to16} broadcasts on "
               "every FMA would make the loads the bottleneck (Zen 5, data in L1: 163 against "
               "212 GFLOP/s, `convjit bench --micro`)");
  }

  // Tile rows: at most the output length when it is known, at least one.
  auto fit_rows = [&](int rows) {
    if (!p.length_is_dynamic && p.out_length > 0) {
      rows = static_cast<int>(std::min<std::int64_t>(rows, p.out_length));
    }
    return std::max(rows, 1);
  };
  const bool pointwise = p.is_pointwise() && p.groups == 1;
  const bool first_layer = p.groups == 1 && p.in_channels <= 4 && p.stride >= 2;
  if (p.is_depthwise() && p.oc_per_group == 1) {
    s.strategy = Strategy::kDepthwise;
    note("strategy=depthwise: groups == in_channels with multiplier 1, vectorize over channels");
  } else {
    s.strategy = Strategy::kDirect;
    note("strategy=direct: oc vectorized, inputs broadcast, weights packed per oc block");
  }
  s.channels_first = ChannelsFirstMode::kTranspose;
  if (p.data_format == DataFormat::kChannelsFirst) {
    note("channels_first=transpose: the only mode the lowering implements");
  }

  const std::int64_t vec_channels =
      s.strategy == Strategy::kDepthwise ? p.in_channels : p.oc_per_group;
  const std::int64_t vectors = (vec_channels + s.vector_lanes - 1) / s.vector_lanes;
  const int max_cols = registers == 32 ? 4 : 2;
  s.tile_oc_vecs = static_cast<int>(std::min<std::int64_t>(vectors, max_cols));
  const int max_rows = (registers - s.tile_oc_vecs - 1) / s.tile_oc_vecs;
  const int row_cap = first_layer ? 14 : 8;
  s.tile_t = std::min(max_rows, row_cap);
  s.tile_t = fit_rows(s.tile_t);
  // Direct layers whose channel vectors leave a narrow tail block: a 6x1 tail tile is bound
  // by FMA latency (6 chains for two 4-cycle units) and by its loads. The columns whose blocks
  // cost the least per output row (direct_columns_cost) win; the widest that fits wins ties.
  // Zen 5, convjit_kernel_speed: F=80 (5 zmm vectors) 6x3 206 against 6x4 190 GFLOP/s,
  // F=144 206 against 194; ymm F=24 4x3 104-110 against 86-91, while F=56 and F=80 keep
  // 6x2 (the model agrees on all five; docs/jit.md, round 7).
  if (s.strategy == Strategy::kDirect && !first_layer && vectors > 1) {
    const int default_cols = s.tile_oc_vecs;
    // No taller than the default tile: the edge code grows with the rows (8x3 ran as fast as
    // 6x3 on F=80 and took 1666 lines of code against 1044).
    const int default_rows = s.tile_t;
    auto rows_for = [&](int cols) {
      return fit_rows(std::min((registers - cols - 1) / cols, default_rows));
    };
    int best_cols = default_cols;
    double best = direct_columns_cost(vectors, default_cols, s.tile_t);
    for (int cols = default_cols - 1; cols <= default_cols + 1; ++cols) {
      if (cols < 1 || cols > vectors || cols == default_cols) continue;
      if (rows_for(cols) * cols + cols + 1 > registers) continue;
      const double cost = direct_columns_cost(vectors, cols, rows_for(cols));
      if (cost < best - 1e-9) {
        best = cost;
        best_cols = cols;
      }
    }
    if (best_cols != default_cols) {
      s.tile_oc_vecs = best_cols;
      s.tile_t = rows_for(best_cols);
      note(
          fmt::format("tile_oc_vecs={} tile_t={}: {} vectors of output channels take blocks of "
                      "{} with less tail cost than blocks of {}",
                      best_cols, s.tile_t, vectors, best_cols, default_cols));
    }
  }
  // Pointwise on AVX2: a 4x3 tile (12 accumulators, 3 weight vectors, 1 broadcast) takes 4
  // broadcasts per 12 FMAs instead of the 6x2 tile's 6; on Zen 4 the broadcasts bound the
  // ic loop (docs/jit.md, round 3). Measured on the suite's pointwise shape: 86 against 83
  // GFLOP/s (medians of 4 alternating runs); the tuner found the same tile. Kept to
  // pointwise: on kernels with taps the 6x2 tile measured as fast or faster (grouped: 4x3
  // was 20% slower).
  if (pointwise && s.isa == Isa::kAvx2 && vectors >= 3) {
    s.tile_oc_vecs = 3;
    s.tile_t = 4;
    s.tile_t = fit_rows(s.tile_t);
    note("tile_t=4 tile_oc_vecs=3: pointwise on AVX2, fewer broadcasts per FMA than 6x2");
  }
  // First layers with one input channel: the Xbyak kernel broadcasts each input row once for
  // all taps that read it (taps in classes k mod stride, a class's weights in registers), so
  // the tile leaves room for the largest class's weights (docs/jit.md, "tap classes").
  const std::int64_t class_taps = std::min<std::int64_t>((p.kernel - 1) / p.stride + 1, 64);
  if (first_layer && p.ic_per_group == 1 && p.dilation == 1 && p.kernel > p.stride) {
    const int rows = static_cast<int>((registers - 1 - class_taps * s.tile_oc_vecs) /
                                      std::max(s.tile_oc_vecs, 1));
    if (rows >= 2) {
      s.tile_t = std::min(rows, 8);
      s.tile_t = fit_rows(s.tile_t);
      note(
          fmt::format("tile_t={}: one input channel, stride {} < kernel_size {}: taps in {} "
                      "classes of up to {}, whose weights stay in registers while each input "
                      "row is broadcast once for every tap that reads it",
                      s.tile_t, p.stride, p.kernel, p.stride, class_taps));
    }
  }
  // Long depthwise kernels (weights cannot stay in registers): one vector of channels and a
  // tall tile, so that the generator holds a group of taps' weights in registers and loads
  // each input row once per group (docs/jit.md, "input reuse across taps").
  const bool dw_long = s.strategy == Strategy::kDepthwise && p.stride == 1 && p.kernel >= 8;
  if (dw_long) {
    s.tile_oc_vecs = 1;
    s.tile_t = registers == 32 ? 14 : 10;
    s.tile_t = fit_rows(s.tile_t);
    note(
        fmt::format("tile_t={} tile_oc_vecs=1: depthwise kernel_size={} >= 8, a tall tile reuses "
                    "each input row across a group of taps held in registers",
                    s.tile_t, p.kernel));
  }
  // Short depthwise kernels: rows leave room for tap groups of at least two (two taps'
  // weights in registers, each input row loaded once for both, KernelPlan::dw_tap_block).
  // Without them every FMA loads its input row, which doubles when the input is not
  // 64-byte aligned (a std::vector's). Zen 5, 5x4 against 6x4 zmm: mamba_dw 2290 against
  // 3680 us with the input 16 bytes into a line, 2100 against 2090-2280 aligned; in-cache
  // K=3..5 shapes equal or +10% (ymm 5x2: +12..14%) (docs/jit.md, round 7).
  const bool dw_short = s.strategy == Strategy::kDepthwise && p.stride == 1 && p.kernel >= 2 &&
                        !dw_long && p.dilation < 5;
  if (dw_short) {
    const int rows_for_groups = (registers - 2 - 2 * s.tile_oc_vecs) / s.tile_oc_vecs;
    if (s.tile_t > rows_for_groups && rows_for_groups >= 2) {
      s.tile_t = rows_for_groups;
      note(
          fmt::format("tile_t={}: depthwise kernel_size={}, rows that leave registers for two "
                      "taps' weights, so each input row is loaded once per two taps",
                      s.tile_t, p.kernel));
    }
  }
  note(fmt::format("tile_oc_vecs={}: {} vector(s) of channels, at most {} columns so that rows fit",
                   s.tile_oc_vecs, vectors, dw_long ? 1 : max_cols));
  note(
      fmt::format("tile_t={}: {}x{} accumulators + {} weight vectors + 1 broadcast <= {} "
                  "registers (rows capped at {}{})",
                  s.tile_t, s.tile_t, s.tile_oc_vecs, s.tile_oc_vecs, registers, row_cap,
                  p.length_is_dynamic ? "" : " and at the output length"));

  const std::int64_t block_width = static_cast<std::int64_t>(s.tile_oc_vecs) * s.vector_lanes;
  // Byte counts as doubles: a compile may name sizes whose products overflow 64 bits (the
  // run-time limits refuse such buffers; here they are only compared with cache sizes).
  const double weight_row_bytes =
      4.0 * static_cast<double>(p.kernel) * static_cast<double>(block_width);  // one ic
  const double block_weight_bytes = static_cast<double>(p.ic_per_group) * weight_row_bytes;
  // No input-channel blocks: they cost a store and a reload of the partial sums per block,
  // and an oc block's weights stream from L2 fast enough (2 vectors per tile row of FMAs,
  // about 11 bytes a cycle). Measured on Zen 4 (docs/jit.md, round 4): w2v2_l1 (96 KiB of
  // weights per block), tcn, pointwise and C=2048..4096 shapes with 1-2.3 MiB per block
  // were all as fast or faster without them. block_ic stays a tuning dimension.
  s.block_ic = 0;
  note(
      fmt::format("block_ic=0: an oc block's weights ({:.0f} KiB) stream from L2 or beyond "
                  "faster than partial sums of ic blocks go through memory",
                  block_weight_bytes / 1024));
  // Time blocks keep the rows that later channel blocks read again in L2. A grouped layer
  // whose groups hold one block each shares no input channels between its blocks: only the
  // group's own slice of each row is reused (by the next tile's taps), so the block counts
  // that slice (Zen 5, 2x2048x512 -> 512 K3 g16: block_t 256 -> 1024 gave 157 -> 181 GFLOP/s).
  const bool disjoint_blocks =
      s.strategy != Strategy::kDepthwise && p.groups > 1 && p.oc_per_group <= block_width;
  const double row_bytes = 4.0 * static_cast<double>(p.stride) *
                           static_cast<double>(disjoint_blocks ? p.ic_per_group : p.in_channels);
  const std::int64_t rows_in_l2 =
      static_cast<std::int64_t>(static_cast<double>(kL2Bytes / 2) / std::max(row_bytes, 1.0));
  if (p.length_is_dynamic || p.out_length > rows_in_l2) {
    s.block_t = std::max<std::int64_t>(s.tile_t, rows_in_l2 / s.tile_t * s.tile_t);
    note(fmt::format("block_t={}: keeps the input rows of a time block in half of L2", s.block_t));
  } else {
    s.block_t = 0;
    note("block_t=0: the whole input fits in half of L2");
  }
  auto bytes = [](std::int64_t a, std::int64_t b, std::int64_t c) {
    return 4.0 * static_cast<double>(a) * static_cast<double>(b) * static_cast<double>(c);
  };
  const double weight_bytes = bytes(p.kernel, p.ic_per_group, p.filters);
  if (weight_bytes > static_cast<double>(kL2Bytes / 2)) {
    s.loop_order = LoopOrder::kBatchChannelTime;
    note("loop_order=bct: weights exceed half of L2, reuse an oc block across time");
  } else {
    s.loop_order = LoopOrder::kBatchTimeChannel;
    note("loop_order=btc: weights stay in L2, reuse each input row across oc blocks");
  }
  s.unroll_k = 1;
  s.unroll_ic = (s.strategy != Strategy::kDepthwise && p.ic_per_group >= 4) ? 4 : 1;
  note(fmt::format("unroll_ic={} unroll_k=1: {}", s.unroll_ic,
                   s.unroll_ic > 1 ? "4 input channels per loop trip hide the loop overhead"
                                   : "too few input channels to unroll"));
  // Software prefetch of the input rows a few tiles ahead, when the input does not fit in
  // L2 and the hardware prefetchers would not follow: a column that reads only its group's
  // channels of each row (groups > 1, depthwise) walks down the rows with gaps, and narrow
  // rows (under 512 bytes) leave the streams short. A column that reads whole wide rows is a
  // plain stream, and there each prefetch only takes a load slot from the FMAs (one per
  // line: 48 per tile on tcn). Measured on Zen 5, prefetch off against 512 bytes ahead,
  // 5 interleaved runs: zmm pointwise +8%, tcn +3%, w2v2_l1 +3%; ymm w2v2_l1 +9%, tcn and
  // pointwise +3%; grouped -45% and wavenet (256-byte rows) -1..2% (docs/jit.md, round 5).
  const bool input_beyond_l2 =
      bytes(p.batch, p.length, p.in_channels) > static_cast<double>(kL2Bytes);
  const bool whole_wide_rows = p.groups == 1 && p.in_channels * 4 >= 512;
  // A depthwise column whose one block holds every channel reads whole rows too, one after
  // the other: a plain stream, however narrow. Measured on Zen 5 (session 9), 4x16384x32 K3
  // (128-byte rows, weights held): 252-281 us with prefetch, 193-205 without; 8x4096x20 K5
  // d3: 93-101 either way.
  const bool whole_depthwise_rows =
      s.strategy == Strategy::kDepthwise &&
      p.in_channels <= static_cast<std::int64_t>(s.tile_oc_vecs) * s.vector_lanes;
  s.prefetch_distance = input_beyond_l2 && !whole_wide_rows && !whole_depthwise_rows ? 512 : 0;
  note(fmt::format("prefetch_distance={}: {}", s.prefetch_distance,
                   !input_beyond_l2       ? "the input fits in L2"
                   : whole_wide_rows      ? "every column reads whole input rows of 512 bytes or "
                                            "more: a stream the hardware prefetchers follow"
                   : whole_depthwise_rows ? "one depthwise block holds every channel: the "
                                            "column reads whole rows, a plain stream"
                                          : "the input does not fit in L2, and columns read parts "
                                            "of rows or narrow rows"));
  // Streaming stores skip the read-for-ownership of output lines that would leave the last
  // level cache anyway; they need whole cache lines per row of a block.
  const double out_bytes = bytes(p.batch, p.out_channels(), p.final_out_length());
  const bool beyond_l3 = out_bytes > static_cast<double>(kL3Bytes);
  // A depthwise layer is memory-bound (K FMAs per input and output vector): once its input
  // and output together pass half of the last-level cache (shared with the other cores),
  // the output's read-for-ownership is a third of its traffic. Zen 5, streaming against
  // normal stores, 4 interleaved runs: 8x1024x512 K7 (16+16 MiB) 645-707 against 977-1128
  // us, 8x2048x256 K3 s2 (16+8 MiB) 311-365 against 411-460 us. Compute-bound direct
  // layers measured flat or 1-2% slower with them, so they keep the output-size rule.
  const double in_bytes = bytes(p.batch, p.length, p.in_channels);
  const bool dw_streams = s.strategy == Strategy::kDepthwise &&
                          in_bytes + out_bytes > static_cast<double>(kL3Bytes / 2);
  s.nontemporal_stores =
      !p.length_is_dynamic && (beyond_l3 || dw_streams) && (block_width * 4) % 64 == 0;
  note(fmt::format(
      "nontemporal_stores={}: the output ({:.0f} MiB) {} the last-level cache (32 MiB){}",
      s.nontemporal_stores ? 1 : 0, out_bytes / (1024.0 * 1024.0),
      beyond_l3 ? "exceeds" : "fits in",
      dw_streams && !beyond_l3
          ? fmt::format("; a depthwise layer's input and output ({:.0f} MiB) exceed half of it",
                        (in_bytes + out_bytes) / (1024.0 * 1024.0))
          : ""));
  s.threads = 1;
  note("threads=1: the runtime splits work across threads itself");
  return s;
}

}  // namespace

Schedule default_schedule(const Problem& p, Isa isa) {
  return plan(p, isa, nullptr);
}

std::string explain_default_schedule(const Problem& p, Isa isa) {
  std::vector<std::string> why;
  plan(p, isa, &why);
  std::string out;
  for (const std::string& line : why) out += line + "\n";
  return out;
}

}  // namespace convjit::detail
