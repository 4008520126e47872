#include "compiler/ir/tile_leaves.hpp"

#include <fmt/format.h>

#include <initializer_list>
#include <stdexcept>

#include "compiler/ir/loop_tags.hpp"
#include "compiler/ir/mutate.hpp"

namespace convjit::detail::ir {
namespace {

[[noreturn]] void not_a_tile(const std::string& why) {
  throw std::logic_error("match_tile: not a register tile: " + why);
}

/// The constant extent of an unrolled loop, or -1.
std::int64_t unrolled_extent(const For& loop) {
  std::int64_t v = -1;
  if (loop.kind != ForKind::kUnrolled || !loop.extent.is_const(&v)) return -1;
  return v;
}

/// The accumulator nest `unrolled i { unrolled j { leaf } }`: rows, cols and the leaf body.
struct Nest {
  int rows = 0, cols = 0;
  int j_var = -1;
  Stmt leaf;
};

bool as_nest(const Stmt& s, Nest& out) {
  const auto* outer = as<For>(s);
  if (outer == nullptr || !outer->tag.empty()) return false;  // tagged: a reduction loop
  const auto* inner = as<For>(outer->body);
  if (inner == nullptr) return false;
  const std::int64_t rows = unrolled_extent(*outer), cols = unrolled_extent(*inner);
  if (rows <= 0 || cols <= 0) return false;
  out.rows = static_cast<int>(rows);
  out.cols = static_cast<int>(cols);
  out.j_var = inner->var;
  out.leaf = inner->body;
  return true;
}

}  // namespace

const char* tile_leaf_name(TileLeafKind kind) {
  switch (kind) {
    case TileLeafKind::kZero: return "zero";
    case TileLeafKind::kLoadPartialSums: return "load partial sums";
    case TileLeafKind::kPrefetch: return "prefetch";
    case TileLeafKind::kReduction: return "reduction";
    case TileLeafKind::kEpilogue: return "epilogue";
  }
  return "?";
}

std::string tile_leaf_order(const std::vector<TileLeafKind>& order) {
  std::string text;
  for (const TileLeafKind k : order)
    text += std::string(text.empty() ? "" : ", ") + tile_leaf_name(k);
  return text;
}

bool TileLeaves::operator==(const TileLeaves& o) const {
  return order == o.order && rows == o.rows && cols == o.cols &&
         last_col_lanes == o.last_col_lanes && broadcast_input == o.broadcast_input &&
         taps == o.taps && taps_checked == o.taps_checked && rows_checked == o.rows_checked &&
         tap_group == o.tap_group && tap_classes == o.tap_classes &&
         weights_held == o.weights_held && channels == o.channels &&
         fmas_per_step == o.fmas_per_step && prefetches == o.prefetches && bias == o.bias &&
         activation == o.activation && nontemporal == o.nontemporal;
}

std::string TileLeaves::to_string() const {
  return fmt::format(
      "{}x{} tile (last column {} lanes): {}; {}{} taps{}{} x {} channels, {} FMAs each, {} input; "
      "{} prefetches; epilogue{}{}{}",
      rows, cols, last_col_lanes, tile_leaf_order(order), taps_checked ? "at most " : "", taps,
      tap_group > 0 && weights_held ? fmt::format(" in one group (weights held)")
      : tap_group > 0               ? fmt::format(" in groups of {}", tap_group)
      : tap_classes > 0             ? fmt::format(" in {} classes", tap_classes)
      : weights_held                ? std::string(" (weights held)")
                                    : std::string(),
      rows_checked ? " checked per row" : "", channels, fmas_per_step,
      broadcast_input ? "broadcast" : "vector", prefetches, bias ? " bias" : "",
      activation != Activation::kLinear ? std::string(" ") + activation_name(activation) : "",
      nontemporal ? " streaming" : "");
}

TileLeaves match_tile(const Func& f, const Stmt& tile) {
  const auto* alloc = as<Alloc>(tile);
  if (alloc == nullptr) not_a_tile("no register allocation");
  const auto* body = as<Block>(alloc->body);
  if (body == nullptr) not_a_tile("the allocation holds no statement list");
  TileLeaves t;
  auto add = [&](TileLeafKind kind) {
    if (t.order.empty() || t.order.back() != kind) t.order.push_back(kind);
  };
  for (const Stmt& s : body->stmts) {
    if (as<Prefetch>(s) != nullptr) {
      ++t.prefetches;
      add(TileLeafKind::kPrefetch);
      continue;
    }
    Nest nest;
    if (as_nest(s, nest)) {
      if (as<Zero>(nest.leaf) != nullptr || as<Load>(nest.leaf) != nullptr) {
        t.rows = nest.rows;
        t.cols = nest.cols;
        add(as<Zero>(nest.leaf) != nullptr ? TileLeafKind::kZero : TileLeafKind::kLoadPartialSums);
        continue;
      }
      // The epilogue: [bias] [activation] store, per accumulator.
      const Store* store = nullptr;
      visit(nest.leaf, [&](const Stmt& c) {
        if (as<AddFrom>(c) != nullptr) t.bias = true;
        if (const auto* a = as<Activate>(c)) t.activation = a->activation;
        if (const auto* st = as<Store>(c)) store = st;
      });
      if (store == nullptr) not_a_tile("an accumulator nest with neither zeroing nor stores");
      if (nest.rows != t.rows || nest.cols != t.cols) not_a_tile("epilogue and zeroing disagree");
      t.nontemporal = store->nontemporal;
      std::vector<std::int64_t> env(f.vars.size(), 0);
      env[static_cast<std::size_t>(nest.j_var)] = nest.cols - 1;
      t.last_col_lanes = static_cast<int>(eval(store->valid_lanes, env.data()));
      add(TileLeafKind::kEpilogue);
      continue;
    }
    // The reduction: the tap loop, an input-channel loop inside it (direct), loads and FMAs.
    const auto* taps = as<For>(s);
    const bool regrouped =
        taps != nullptr &&
        (taps->tag == tags::kTapGroups || taps->tag == tags::kTapGroupWeightsHeld ||
         taps->tag == tags::kTapClasses || taps->tag == tags::kTapClassesInRange ||
         taps->tag == tags::kTapsWeightsHeld);
    if (taps == nullptr || (taps->kind == ForKind::kUnrolled && !regrouped)) {
      not_a_tile("an unknown statement");
    }
    // Edge tiles run the taps in range: run-time bounds, at most K of them.
    t.taps_checked = !taps->extent.is_const(&t.taps);
    if (t.taps_checked) {
      if (taps->tag != tags::kTapsInRange) not_a_tile("a tap loop of run-time extent");
      t.taps = f.problem.kernel;
    }
    // Edge groups: every tap, each row's input position checked (a guard loop per row).
    if (taps->tag == tags::kTapsCheckedPerRow) {
      int guards = 0;
      visit(taps->body, [&](const Stmt& c) {
        if (const auto* g = as<For>(c); g != nullptr && g->tag == tags::kTapInRange) ++guards;
      });
      if (guards == 0) not_a_tile("taps checked per row without a guard");
      t.taps_checked = t.rows_checked = true;
    }
    t.weights_held = taps->tag == tags::kTapsWeightsHeld || taps->tag == tags::kTapGroupWeightsHeld;
    if (taps->tag == tags::kTapGroupWeightsHeld) {  // one group of every tap, no weight loads
      t.taps = f.problem.kernel;
      t.tap_group = static_cast<int>(f.problem.kernel);
    }
    // Tap classes: a loop over the classes k mod stride, unrolled (interior) or with each
    // class's taps in range (edges).
    if (taps->tag == tags::kTapClasses || taps->tag == tags::kTapClassesInRange) {
      t.tap_classes = static_cast<int>(t.taps);
      t.taps = f.problem.kernel;
      t.taps_checked = taps->tag == tags::kTapClassesInRange;
    }
    // Tap groups: an unrolled group loop; its first loop loads the group's weights, as many
    // taps as the group holds (the first group is a whole one).
    if (taps->tag == tags::kTapGroups) {
      t.taps = f.problem.kernel;
      const auto* group = as<Block>(taps->body);
      const auto* weights =
          group != nullptr && !group->stmts.empty() ? as<For>(group->stmts.front()) : nullptr;
      if (weights == nullptr) not_a_tile("tap groups without a weight loop");
      std::vector<std::int64_t> env(f.vars.size(), 0);
      t.tap_group = static_cast<int>(eval(weights->extent, env.data()));
    }
    t.channels = 1;
    int fmas = 0, broadcasts = 0;
    visit(taps->body, [&](const Stmt& c) {
      const auto* ic = as<For>(c);
      if (ic != nullptr && ic->kind != ForKind::kUnrolled &&
          f.vars[static_cast<std::size_t>(ic->var)] == "ic") {
        if (!ic->extent.is_const(&t.channels)) not_a_tile("a channel loop of run-time extent");
      }
      if (as<Broadcast>(c) != nullptr) ++broadcasts;
      if (as<Fma>(c) != nullptr) ++fmas;
    });
    if (fmas == 0) not_a_tile("a loop without FMAs");
    t.broadcast_input = broadcasts > 0;
    t.fmas_per_step = t.rows * t.cols;
    add(TileLeafKind::kReduction);
  }
  if (t.rows == 0 || t.taps == 0) not_a_tile("no accumulators or no reduction");
  return t;
}

namespace {

/// The first register tile (Alloc) inside a loop whose tag is one of `tags`.
Stmt first_tile_in(const Func& f, std::initializer_list<const char*> loop_tags) {
  Stmt found;
  visit(f.body, [&](const Stmt& s) {
    if (found) return;
    const auto* loop = as<For>(s);
    if (loop == nullptr) return;
    bool tagged = false;
    for (const char* tag : loop_tags) tagged = tagged || loop->tag == tag;
    if (!tagged) return;
    visit(loop->body, [&](const Stmt& c) {
      if (!found && as<Alloc>(c) != nullptr) found = c;
    });
  });
  return found;
}

}  // namespace

Stmt first_interior_tile(const Func& f) {
  return first_tile_in(f, {tags::kInteriorTiles});
}

Stmt first_edge_tile(const Func& f) {
  return first_tile_in(f, {tags::kLeftEdge, tags::kRightEdge});
}

Stmt first_edge_group_tile(const Func& f) {
  return first_tile_in(f, {tags::kLeftEdgeGroups, tags::kRightEdgeGroups});
}

}  // namespace convjit::detail::ir
