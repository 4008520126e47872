#include "compiler/ir/loop_nest.hpp"

#include <functional>

#include "compiler/ir/loop_tags.hpp"
#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {
namespace {

bool is_channel_loop(const std::string& tag) {
  return tags::is_channel_blocks(tag);
}

/// The statements directly in `s` (through Blocks, Lets and Allocs, not into loops).
void direct_children(const Stmt& s, const std::function<void(const Stmt&)>& f) {
  if (!s) return;
  if (const auto* b = as<Block>(s)) {
    for (const Stmt& c : b->stmts) direct_children(c, f);
  } else if (const auto* l = as<Let>(s)) {
    direct_children(l->body, f);
  } else if (const auto* a = as<Alloc>(s)) {
    direct_children(a->body, f);
  } else {
    f(s);
  }
}

/// The innermost loop below `s` whose own body holds FMAs (the reduction's loop), or the
/// tile itself when its reduction is fully unrolled.
void innermost_reduction(const Stmt& s, LoopNestSummary& out) {
  int fmas = 0, loads = 0, broadcasts = 0;
  std::vector<const For*> loops;
  direct_children(s, [&](const Stmt& c) {
    if (as<Fma>(c)) ++fmas;
    if (as<Load>(c)) ++loads;
    if (as<Broadcast>(c)) ++broadcasts;
    if (const auto* loop = as<For>(c)) loops.push_back(loop);
  });
  for (const For* loop : loops) {
    bool has_fma = false;
    visit(loop->body, [&](const Stmt& c) { has_fma = has_fma || as<Fma>(c) != nullptr; });
    if (has_fma) return innermost_reduction(loop->body, out);
  }
  out.innermost_fmas = fmas;
  out.innermost_loads = loads;
  out.innermost_broadcasts = broadcasts;
}

struct Walker {
  LoopNestSummary& out;
  std::vector<std::string> path;
  bool inside_region = false, inside_time_blocks = false, found = false;

  void walk(const Stmt& s) {
    if (!s || found) return;
    if (const auto* b = as<Block>(s)) {
      for (const Stmt& c : b->stmts) walk(c);
    } else if (const auto* l = as<Let>(s)) {
      walk(l->body);
    } else if (const auto* a = as<Alloc>(s)) {
      walk(a->body);
    } else if (const auto* loop = as<For>(s)) {
      const bool region = tags::is_time_region(loop->tag);
      if (is_channel_loop(loop->tag)) {
        if (inside_region) out.channels_swept = true;
        if (inside_time_blocks) out.time_outside_channels = true;
      }
      if (!loop->tag.empty()) path.push_back(loop->tag);
      const bool saved_region = inside_region, saved_blocks = inside_time_blocks;
      inside_region = inside_region || region;
      inside_time_blocks = inside_time_blocks || loop->tag == tags::kTimeBlocks;
      if (loop->tag == tags::kInteriorTiles) {
        interior(*loop);
      } else {
        walk(loop->body);
      }
      inside_region = saved_region;
      inside_time_blocks = saved_blocks;
      if (!found && !loop->tag.empty()) path.pop_back();
    }
  }

  void interior(const For& tiles) {
    // A swept interior holds the channel loop, then the tile.
    bool swept_here = false;
    visit(tiles.body, [&](const Stmt& c) {
      if (const auto* l = as<For>(c)) swept_here = swept_here || is_channel_loop(l->tag);
    });
    if (swept_here) out.channels_swept = true;
    const Alloc* tile = nullptr;
    visit(tiles.body, [&](const Stmt& c) {
      if (tile == nullptr) tile = as<Alloc>(c);
    });
    if (tile == nullptr) return;
    found = true;
    out.path = path;
    out.has_interior = true;
    int zeros = 0, in_tile = 0, hoisted = 0;
    direct_children(tile->body, [&](const Stmt& c) {
      if (as<Zero>(c)) ++zeros;
      if (as<Prefetch>(c)) ++in_tile;
    });
    if (swept_here) {
      direct_children(tiles.body, [&](const Stmt& c) {
        if (as<Prefetch>(c)) ++hoisted;
      });
    }
    out.tile_accumulators = zeros;
    out.interior_prefetches = in_tile + hoisted;
    innermost_reduction(tile->body, out);
  }
};

}  // namespace

LoopNestSummary summarize_loop_nest(const Func& f) {
  LoopNestSummary out;
  Walker w{out, {}};
  w.walk(f.body);
  return out;
}

}  // namespace convjit::detail::ir
