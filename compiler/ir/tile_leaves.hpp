// The leaves of one register tile of the scheduled IR, read statement by statement: what the
// Xbyak backend maps to its emitter's calls (zero, prefetch, reduction, epilogue), and what
// tests compare between the tile the emitter walked and the tile lower_conv put in the nest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

/// One statement group of a register tile, in the tile's order.
enum class TileLeafKind {
  kZero,             ///< accumulators = 0
  kLoadPartialSums,  ///< accumulators = the partial sums of the previous ic block
  kPrefetch,         ///< software prefetches of later input rows
  kReduction,        ///< the tap (and input-channel) loops of loads and FMAs
  kEpilogue,         ///< bias, element-wise activation, stores
};

const char* tile_leaf_name(TileLeafKind kind);
/// The names of `order`, comma-separated ("zero, reduction, epilogue").
std::string tile_leaf_order(const std::vector<TileLeafKind>& order);

/// What a register tile (an Alloc as lowering builds it) holds.
struct TileLeaves {
  std::vector<TileLeafKind> order;  ///< the leaves, in statement order
  int rows = 0;                     ///< accumulator rows (output steps)
  int cols = 0;                     ///< accumulator vectors per row
  int last_col_lanes = 0;           ///< lanes the last column stores (masked tail below lanes)
  bool broadcast_input = false;     ///< direct: one broadcast input per row; else vector loads
  std::int64_t taps = 0;            ///< the tap loop's extent (K when taps_checked)
  bool taps_checked = false;        ///< edge tiles: only the taps in range run (run-time bounds)
  /// Edge groups: every tap runs, each row's input checked against [0, L) (guard loops;
  /// "taps checked per row"); taps_checked too.
  bool rows_checked = false;
  /// Depthwise: taps in groups of this many, their weights in registers, each input row
  /// loaded once per group (the "tap groups" form); 0: a tap loop.
  int tap_group = 0;
  /// Direct first layers: taps in this many classes k mod stride, summed class by class
  /// (the "tap classes" form; edges: "tap classes in range"); 0: taps in ascending order.
  int tap_classes = 0;
  /// Depthwise: the taps' weights are held in registers (w_held, loaded once per channel
  /// block around the time loops); the reduction loads only the input.
  bool weights_held = false;
  std::int64_t channels = 0;  ///< the input-channel loop's extent (1 without one)
  int fmas_per_step = 0;      ///< FMAs per (tap, channel) step: rows * cols
  int prefetches = 0;
  bool bias = false;
  Activation activation = Activation::kLinear;  ///< element-wise, in registers
  bool nontemporal = false;                     ///< streaming stores

  bool operator==(const TileLeaves& o) const;
  std::string to_string() const;
};

/// Reads `tile` (an Alloc of a register tile of `f`: lower_conv's, lower_register_tiles').
/// Throws std::logic_error (an internal bug, never the caller's) when its statements are not
/// such a tile.
TileLeaves match_tile(const Func& f, const Stmt& tile);

/// The first interior tile ("interior tiles" loop) of `f`, or nullptr.
Stmt first_interior_tile(const Func& f);
/// The first edge tile ("left edge" or "right edge" loop) of `f`, or nullptr.
Stmt first_edge_tile(const Func& f);
/// The first edge group's tile ("left edge groups" or "right edge groups"), or nullptr.
Stmt first_edge_group_tile(const Func& f);

/// The register tiles of one channel block (the plan's full block of columns, or the tail
/// block): the interior tile (tile_t rows, every tap), the edge tile (one row, the taps
/// in range) and the edge group's tile (tile_t rows, taps checked per row; rows 0 without
/// KernelPlan::edge_groups). Empty (rows 0) where the plan has no such block.
struct BlockTiles {
  TileLeaves interior, edge, edge_group;
};

}  // namespace convjit::detail::ir
