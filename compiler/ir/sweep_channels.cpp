#include "compiler/ir/sweep_channels.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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
    if (loop == nullptr || loop->tag == "channel blocks" || loop->tag == "oc blocks" ||
        loop->tag == "time blocks") {
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

/// Prefetches of a swept interior tile: lowering prefetches a line `distance` bytes along
/// the first row of the next tile (for a walk down one column); a sweep instead needs, for its
/// block, the input rows the tile `tiles_ahead` tiles later reads and no tile before it has
/// (rows*stride rows, each the block's lines), as the Xbyak sweep prefetches.
struct SweepPrefetch {
  std::int64_t distance_floats = 0;
  std::int64_t first_row = 0;  ///< rows after the prefetch's row, for the first new row
  std::int64_t rows = 0;       ///< new rows per tile
  std::int64_t row_floats = 0;
  std::int64_t lines = 1;  ///< cache lines of a block's row

  Stmt rewrite(const Stmt& s) const {
    if (const auto* n = ir::as<ir::Prefetch>(s)) {
      std::vector<Stmt> out;
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t l = 0; l < lines; ++l) {
          const Expr index =
              n->src.index - distance_floats + ((first_row + r) * row_floats + l * 16);
          out.push_back(ir::Prefetch::make(ir::Access{n->src.buffer, index}));
        }
      }
      return Block::make(std::move(out));
    }
    return mutate_children(
        s, [](const Expr& e) { return e; }, [this](const Stmt& c) { return rewrite(c); });
  }
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

/// How many blocks one sweep takes (KernelPlan::sweep_blocks), and the variables of the
/// chunk loop when the blocks do not all fit in one.
struct Chunking {
  std::int64_t blocks = 0;  ///< 0: every block in one sweep
  int chunk_var = -1, begin_var = -1, count_var = -1;
};

/// Block{For cb {regions}, [tail regions | For guard {tail regions}]} swept, or nullptr.
/// Chunked: for chunk { regions { for cb in the chunk's blocks {tile} } }, then the tail
/// block's own regions (as the Xbyak driver calls a column per chunk, then the tail).
Stmt sweep_blocks(const Block& n, const std::string& tag, const Direction& d,
                  const SweepPrefetch& pf, const Chunking& chunking) {
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
      if (guard->tag != "oc range") return nullptr;
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
    for (const For* r : regions) {
      const Stmt body = r->tag == "interior tiles" && pf.rows > 0 ? pf.rewrite(r->body) : r->body;
      swept.push_back(For::make(r->var, r->min, r->extent, r->kind, r->tag,
                                channel_loop(chunk_blocks, body, d)));
    }
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
    const Stmt body = r.tag == "interior tiles" && pf.rows > 0 ? pf.rewrite(r.body) : r.body;
    std::vector<Stmt> row{channel_loop(*blocks, body, d)};
    if (!tail.empty()) {
      row.push_back(guard == nullptr ? tail[i]->body
                                     : For::make(guard->var, guard->min, guard->extent, guard->kind,
                                                 guard->tag, tail[i]->body));
    }
    out.push_back(For::make(r.var, r.min, r.extent, r.kind, r.tag, Block::make(std::move(row))));
  }
  return Block::make(std::move(out));
}

Stmt sweep(const Stmt& s, const std::string& tag, const Direction& d, const SweepPrefetch& pf,
           const Chunking& chunking) {
  if (const auto* n = ir::as<Block>(s)) {
    if (Stmt swept = sweep_blocks(*n, tag, d, pf, chunking)) return swept;
  }
  return mutate_children(
      s, [](const Expr& e) { return e; },
      [&](const Stmt& c) { return sweep(c, tag, d, pf, chunking); });
}

}  // namespace

ir::Func sweep_channel_blocks(const ir::Func& f) {
  if (f.plan == nullptr || !f.plan->sweep) return f;  // the plan decides, for both backends
  const KernelPlan& plan = *f.plan;
  const Problem& p = f.problem;
  const std::int64_t bw = f.weights.block_width;
  const bool depthwise = plan.kind == KernelKind::kDepthwise;
  ir::Func out = f;
  Direction d;
  if (plan.nontemporal) {
    d.down = out.var_expr(kSweepDownVar);
    d.step = out.var("channel_step");
  }
  SweepPrefetch pf;
  if (depthwise && plan.prefetch_tiles > 0) {  // direct blocks share the tile's input rows
    // Lowering's prefetch row is (t0 + tile_t)*stride - pad; the next tile's first new row
    // is (t0 + tile_t)*stride - pad + (K-1)*dilation - stride + 1.
    pf.distance_floats = plan.schedule.prefetch_distance / 4;
    pf.rows = plan.ur_t * p.stride;
    pf.first_row = (p.kernel - 1) * p.dilation - p.stride + 1 + (plan.prefetch_tiles - 1) * pf.rows;
    pf.row_floats = p.in_channels;
    pf.lines = (bw * 4 + 63) / 64;
  }
  Chunking chunking;
  if (plan.sweep_blocks < plan.col_channels / plan.block_width) {
    chunking.blocks = plan.sweep_blocks;
    chunking.chunk_var = out.var("sweep_chunk");
    chunking.begin_var = out.var("sweep_chunk_begin");
    chunking.count_var = out.var("sweep_chunk_count");
  }
  out.body = sweep(f.body, depthwise ? "channel blocks" : "oc blocks", d, pf, chunking);
  return out;
}

}  // namespace convjit::detail
