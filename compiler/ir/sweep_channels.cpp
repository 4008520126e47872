#include "compiler/ir/sweep_channels.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/loop_tags.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/target/target.hpp"

namespace convjit::detail {
namespace {

using ir::Block;
using ir::Expr;
using ir::For;
using ir::Stmt;

bool same_expr(const Expr& a, const Expr& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (a->op != b->op) return false;
  switch (a->op) {
    case ir::ExprOp::kConst: return a->value == b->value;
    case ir::ExprOp::kVar: return a->var == b->var;
    default: return same_expr(a->a, b->a) && same_expr(a->b, b->b);
  }
}

/// The loops of a Block of time region loops (every statement a For), else empty.
std::vector<const For*> region_loops(const Stmt& s) {
  std::vector<const For*> out;
  const auto* block = ir::as<Block>(s);
  if (block == nullptr) return out;
  for (const Stmt& c : block->stmts) {
    const auto* loop = ir::as<For>(c);
    if (loop == nullptr || ir::tags::is_channel_blocks(loop->tag) ||
        loop->tag == ir::tags::kTimeBlocks) {
      return {};
    }
    out.push_back(loop);
  }
  return out;
}

/// The channel-block loop of a swept region: ascending, or (directional) in the order the
/// run-time variable `down` says: cb = min + i, or min + extent - 1 - i when down is 1.
struct Direction {
  Expr down;  ///< undefined: always ascending
  int step = -1;
};

Stmt channel_loop(const For& blocks, const Stmt& body, const Direction& d) {
  if (!d.down.defined()) {
    return For::make(blocks.var, blocks.min, blocks.extent, blocks.kind, blocks.tag, body);
  }
  const Expr i = ir::make_var(d.step, "channel_step");
  // Affine in i with a loop-invariant step (+1 or -1), so LLVM strength-reduces addresses.
  const Expr cb = blocks.min + d.down * (blocks.extent - 1) + i * (1 - d.down * 2);
  return For::make(d.step, 0, blocks.extent, blocks.kind, blocks.tag,
                   ir::Let::make(blocks.var, cb, body));
}

/// Direct sweeps: every block of a tile reads the same input rows, so the tile's prefetches
/// (KernelPlan::prefetch_lines, lowered inside each tile) move out of the channel-block loop
/// and run once per tile, as the Xbyak sweep emits them. Depthwise blocks read their own
/// channels: their prefetches stay in the tile.
struct HoistedPrefetches {
  std::vector<Stmt> prefetches;
  Stmt rest;
};

Stmt without_prefetches(const Stmt& s, int block_var, std::vector<Stmt>& out) {
  if (const auto* n = ir::as<ir::Prefetch>(s)) {
    if (!ir::uses_var(n->src.index, block_var)) {
      out.push_back(s);
      return Block::make({});
    }
    return s;
  }
  return mutate_children(
      s, [](const Expr& e) { return e; },
      [&](const Stmt& c) { return without_prefetches(c, block_var, out); });
}

HoistedPrefetches hoist_prefetches(const Stmt& tile, int block_var, bool hoist) {
  HoistedPrefetches h;
  h.rest = hoist ? without_prefetches(tile, block_var, h.prefetches) : tile;
  return h;
}

/// The body of a swept region: [the hoisted prefetches,] the channel-block loop.
Stmt swept_body(const For& region, const For& blocks, const Direction& d, bool hoist) {
  const HoistedPrefetches h =
      hoist_prefetches(region.body, blocks.var, hoist && region.tag == ir::tags::kInteriorTiles);
  Stmt loop = channel_loop(blocks, h.rest, d);
  if (h.prefetches.empty()) return loop;
  std::vector<Stmt> stmts = h.prefetches;
  stmts.push_back(std::move(loop));
  return Block::make(std::move(stmts));
}

Stmt loop_of(const For& loop) {
  return For::make(loop.var, loop.min, loop.extent, loop.kind, loop.tag, loop.body);
}

/// A region swept: the interior's channel-block loop inside each tile step; an edge's
/// (single steps or groups) around the whole region, as the Xbyak sweep calls its edge
/// subroutine once per block.
Stmt swept_region(const For& region, const For& blocks, const Direction& d, bool hoist) {
  if (ir::tags::is_edge_region(region.tag)) return channel_loop(blocks, loop_of(region), d);
  return For::make(region.var, region.min, region.extent, region.kind, region.tag,
                   swept_body(region, blocks, d, hoist));
}

/// How many blocks one sweep takes (KernelPlan::sweep_blocks), and the variables of the
/// chunk loop when the blocks do not all fit in one.
struct Chunking {
  std::int64_t blocks = 0;  ///< 0: every block in one sweep
  int chunk_var = -1, begin_var = -1, count_var = -1;
};

/// Block{For cb {regions}, [tail regions | For guard {tail regions}]} swept, or nullptr.
/// Chunked: for chunk { regions { for cb in the chunk's blocks {tile} } }, then the tail
/// block's own regions (as the Xbyak driver calls a column per chunk, then the tail).
Stmt sweep_blocks(const Block& n, const std::string& tag, const Direction& d, bool hoist,
                  const Chunking& chunking) {
  if (n.stmts.empty() || n.stmts.size() > 2) return nullptr;
  const auto* blocks = ir::as<For>(n.stmts.front());
  if (blocks == nullptr || blocks->tag != tag) return nullptr;
  const std::vector<const For*> regions = region_loops(blocks->body);
  if (regions.empty()) return nullptr;
  for (const For* r : regions) {
    if (ir::uses_var(r->min, blocks->var) || ir::uses_var(r->extent, blocks->var)) return nullptr;
  }
  const For* guard = nullptr;
  std::vector<const For*> tail;
  if (n.stmts.size() == 2) {
    Stmt tail_regions = n.stmts.back();
    guard = ir::as<For>(tail_regions);
    if (guard != nullptr) {
      if (guard->tag != ir::tags::kOcRange) return nullptr;
      tail_regions = guard->body;
    }
    tail = region_loops(tail_regions);
    if (tail.size() != regions.size()) return nullptr;
    for (std::size_t i = 0; i < tail.size(); ++i) {
      if (tail[i]->var != regions[i]->var || !same_expr(tail[i]->min, regions[i]->min) ||
          !same_expr(tail[i]->extent, regions[i]->extent)) {
        return nullptr;
      }
    }
  }
  std::vector<Stmt> out;
  if (chunking.blocks > 0) {
    const Expr chunk = ir::make_var(chunking.chunk_var, "sweep_chunk");
    const Expr begin = ir::make_var(chunking.begin_var, "sweep_chunk_begin");
    const Expr count = ir::make_var(chunking.count_var, "sweep_chunk_count");
    const For chunk_blocks{blocks->var, begin, count, blocks->kind, blocks->tag, blocks->body};
    std::vector<Stmt> swept;
    for (const For* r : regions) swept.push_back(swept_region(*r, chunk_blocks, d, hoist));
    Stmt per_chunk = Block::make(std::move(swept));
    per_chunk = ir::Let::make(
        chunking.count_var,
        ir::min(blocks->extent - chunk * chunking.blocks, Expr(chunking.blocks)), per_chunk);
    per_chunk = ir::Let::make(chunking.begin_var, blocks->min + chunk * chunking.blocks, per_chunk);
    out.push_back(For::make(chunking.chunk_var, 0, ir::ceil_div(blocks->extent, chunking.blocks),
                            ir::ForKind::kSerial, "sweep chunks", per_chunk));
    if (n.stmts.size() == 2) out.push_back(n.stmts.back());
    return Block::make(std::move(out));
  }
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const For& r = *regions[i];
    if (ir::tags::is_edge_region(r.tag)) {
      out.push_back(swept_region(r, *blocks, d, hoist));
      if (!tail.empty()) {
        out.push_back(guard == nullptr ? loop_of(*tail[i])
                                       : For::make(guard->var, guard->min, guard->extent,
                                                   guard->kind, guard->tag, loop_of(*tail[i])));
      }
      continue;
    }
    std::vector<Stmt> row{swept_body(r, *blocks, d, hoist)};
    if (!tail.empty()) {
      row.push_back(guard == nullptr ? tail[i]->body
                                     : For::make(guard->var, guard->min, guard->extent, guard->kind,
                                                 guard->tag, tail[i]->body));
    }
    out.push_back(For::make(r.var, r.min, r.extent, r.kind, r.tag, Block::make(std::move(row))));
  }
  return Block::make(std::move(out));
}

Stmt sweep(const Stmt& s, const std::string& tag, const Direction& d, bool hoist,
           const Chunking& chunking) {
  if (const auto* n = ir::as<Block>(s)) {
    if (Stmt swept = sweep_blocks(*n, tag, d, hoist, chunking)) return swept;
  }
  return mutate_children(
      s, [](const Expr& e) { return e; },
      [&](const Stmt& c) { return sweep(c, tag, d, hoist, chunking); });
}

}  // namespace

ir::Func sweep_channel_blocks(const ir::Func& f) {
  if (f.plan == nullptr || !f.plan->sweep) return f;  // the plan decides, for both backends
  const KernelPlan& plan = *f.plan;
  const bool depthwise = plan.kind == KernelKind::kDepthwise;
  ir::Func out = f;
  Direction d;
  if (plan.nontemporal) {
    d.down = out.var_expr(kSweepDownVar);
    d.step = out.var("channel_step");
  }
  Chunking chunking;
  if (plan.sweep_blocks < plan.col_channels / plan.block_width) {
    chunking.blocks = plan.sweep_blocks;
    chunking.chunk_var = out.var("sweep_chunk");
    chunking.begin_var = out.var("sweep_chunk_begin");
    chunking.count_var = out.var("sweep_chunk_count");
  }
  out.body = sweep(f.body, depthwise ? ir::tags::kChannelBlocks : ir::tags::kOcBlocks, d,
                   !depthwise, chunking);
  return out;
}

}  // namespace convjit::detail
