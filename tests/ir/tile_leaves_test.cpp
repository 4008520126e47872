// match_tile: the leaves of a register tile, as the Xbyak backend walks them
// (compiler/ir/tile_leaves.hpp), read from lower_conv's nest and from lower_register_tiles.
#include <gtest/gtest.h>

#include <stdexcept>

#include "compiler/ir/lower.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/tile_leaves.hpp"
#include "ir/ir_test_util.hpp"

namespace convjit::detail::ir::test {
namespace {

Problem problem(const std::string& spec, Shape3 shape) {
  return make_problem(parse_spec(spec), shape);
}

using K = TileLeafKind;

TEST(TileLeaves, DirectTileWithBiasActivationPrefetchAndAMaskedTail) {
  // F = 40 on AVX-512 with 2-vector columns: one full block of 32, a tail of 8 lanes.
  const Problem p =
      problem("filters=40,kernel_size=3,padding=causal,activation=relu", {1, 4096, 24});
  Schedule s = default_schedule(p, Isa::kAvx512);
  s.tile_t = 6;
  s.tile_oc_vecs = 2;
  s.block_t = 0;
  s.prefetch_distance = 512;
  const ScheduledIr ir(p, s);
  const TileLeaves& full = ir.full_block().interior;
  EXPECT_EQ(full.order, (std::vector<K>{K::kZero, K::kPrefetch, K::kReduction, K::kEpilogue}));
  EXPECT_EQ(full.rows, 6);
  EXPECT_EQ(full.cols, 2);
  EXPECT_EQ(full.last_col_lanes, 16);
  EXPECT_TRUE(full.broadcast_input);
  EXPECT_EQ(full.taps, 3);
  EXPECT_EQ(full.channels, 24);
  EXPECT_EQ(full.fmas_per_step, 12);
  EXPECT_EQ(full.prefetches, static_cast<int>(ir.plan()->prefetch_lines.size()));
  EXPECT_GT(full.prefetches, 0);
  EXPECT_TRUE(full.bias);
  EXPECT_EQ(full.activation, Activation::kRelu);
  EXPECT_FALSE(full.taps_checked);
  const TileLeaves& tail = ir.tail_block().interior;
  EXPECT_EQ(tail.cols, 1);
  EXPECT_EQ(tail.last_col_lanes, 8);
  // The edge tile: one row, the taps in range (at most 3), no prefetch, the same epilogue.
  const TileLeaves& edge = ir.full_block().edge;
  EXPECT_EQ(edge.order, (std::vector<K>{K::kZero, K::kReduction, K::kEpilogue}));
  EXPECT_EQ(edge.rows, 1);
  EXPECT_EQ(edge.cols, 2);
  EXPECT_TRUE(edge.taps_checked);
  EXPECT_EQ(edge.taps, 3);
  EXPECT_EQ(edge.channels, 24);
  EXPECT_EQ(edge.prefetches, 0);
  EXPECT_TRUE(edge.bias);
  EXPECT_EQ(edge.activation, Activation::kRelu);
  EXPECT_EQ(ir.tail_block().edge.last_col_lanes, 8);
  // The tiles the Xbyak backend walks are lower_conv's.
  const Func lowered = lower_conv(p, lower_plan_of(ir.plan()));
  EXPECT_EQ(match_tile(lowered, first_interior_tile(lowered)), full) << full.to_string();
  EXPECT_EQ(match_tile(lowered, first_edge_tile(lowered)), edge) << edge.to_string();
}

TEST(TileLeaves, DepthwiseTileLoadsVectorsAndStreams) {
  const Problem p = problem("filters=512,kernel_size=7,groups=512,padding=same", {8, 1024, 512});
  const ScheduledIr ir(p, default_schedule(p, Isa::kAvx2));
  const TileLeaves& t = ir.full_block().interior;
  EXPECT_FALSE(t.broadcast_input);
  EXPECT_EQ(t.taps, 7);
  EXPECT_EQ(t.channels, 1);
  EXPECT_TRUE(t.nontemporal);
  EXPECT_TRUE(t.bias);
  EXPECT_EQ(t.rows * t.cols, t.fmas_per_step);
  const TileLeaves& edge = ir.full_block().edge;
  EXPECT_TRUE(edge.taps_checked);
  EXPECT_EQ(edge.taps, 7);
  EXPECT_FALSE(edge.broadcast_input);
  EXPECT_TRUE(edge.nontemporal);
}

// Short depthwise kernels reduce in tap groups: the group's weights in registers, each input
// row loaded once per group. The IR says so, and the Xbyak emitter reads it from the IR.
TEST(TileLeaves, ShortDepthwiseTilesReduceInTapGroups) {
  const Problem p =
      problem("filters=1536,kernel_size=4,groups=1536,padding=causal", {4, 2048, 1536});
  const ScheduledIr ir(p, default_schedule(p, Isa::kAvx512));
  ASSERT_GT(ir.plan()->dw_tap_block, 1);
  const TileLeaves& t = ir.full_block().interior;
  EXPECT_EQ(t.tap_group, ir.plan()->dw_tap_block);
  EXPECT_EQ(t.taps, 4);
  EXPECT_FALSE(t.broadcast_input);
  EXPECT_EQ(t.order.back(), K::kEpilogue);
  EXPECT_EQ(t.order[t.order.size() - 2], K::kReduction);
  EXPECT_NE(t.to_string().find("in groups of"), std::string::npos) << t.to_string();
  // The edge keeps the tap loop (taps checked against [0, L)).
  EXPECT_EQ(ir.full_block().edge.tap_group, 0);
  const Func lowered = lower_conv(p, lower_plan_of(ir.plan()));
  EXPECT_EQ(match_tile(lowered, first_interior_tile(lowered)), t) << t.to_string();
}

// Direct first layers (one input channel, stride > 1) sum their taps in classes k mod
// stride, interior and edge alike; the Xbyak emitter reads both from the IR tiles.
TEST(TileLeaves, FirstLayersSumTheirTapsInClassesInEveryTile) {
  const Problem p = problem("filters=512,kernel_size=10,strides=5,use_bias=false", {1, 16000, 1});
  const ScheduledIr ir(p, default_schedule(p, Isa::kAvx512));
  ASSERT_GT(ir.plan()->tap_class_size, 0);
  const TileLeaves& t = ir.full_block().interior;
  EXPECT_EQ(t.tap_classes, 5);
  EXPECT_EQ(t.taps, 10);
  EXPECT_FALSE(t.taps_checked);
  EXPECT_TRUE(t.broadcast_input);
  EXPECT_EQ(t.channels, 1);
  EXPECT_NE(t.to_string().find("in 5 classes"), std::string::npos) << t.to_string();
  const TileLeaves& edge = ir.full_block().edge;
  EXPECT_EQ(edge.tap_classes, 5);
  EXPECT_TRUE(edge.taps_checked);
  EXPECT_EQ(edge.taps, 10);
  EXPECT_EQ(edge.channels, 1);
  const Func lowered = lower_conv(p, lower_plan_of(ir.plan()));
  EXPECT_EQ(match_tile(lowered, first_interior_tile(lowered)), t) << t.to_string();
  EXPECT_EQ(match_tile(lowered, first_edge_tile(lowered)), edge) << edge.to_string();
}

// Depthwise kernels whose weights fit beside the tile hold them in registers: the IR loads
// them once per channel block (w_held) and the interior tile reads them; the edge does not.
TEST(TileLeaves, SmallDepthwiseKernelsHoldTheirWeights) {
  const Problem p = problem("filters=32,kernel_size=3,groups=32,padding=same", {1, 4096, 32});
  const ScheduledIr ir(p, default_schedule(p, Isa::kAvx512));
  ASSERT_TRUE(ir.plan()->dw_weights_in_regs);
  const TileLeaves& t = ir.full_block().interior;
  EXPECT_TRUE(t.weights_held);
  EXPECT_EQ(t.taps, 3);
  EXPECT_EQ(t.tap_group, ir.plan()->ur_t > 1 ? 3 : 0);  // rows shared between taps
  EXPECT_NE(t.to_string().find("weights held"), std::string::npos) << t.to_string();
  EXPECT_FALSE(ir.full_block().edge.weights_held);
  const Func lowered = lower_conv(p, lower_plan_of(ir.plan()));
  EXPECT_EQ(match_tile(lowered, first_interior_tile(lowered)), t) << t.to_string();
  EXPECT_EQ(match_tile(lowered, first_edge_tile(lowered)), ir.full_block().edge);
  EXPECT_NE(to_string(lowered).find("registers w_held[6]"), std::string::npos);
}

// Held weights with rows shared between taps (stride 1, dilation below the tile's rows):
// one group of every tap reads the held registers, each input row loaded once per tile.
// Stride 2 shares no rows: the taps stay a loop over held weights.
TEST(TileLeaves, HeldWeightsShareInputRowsBetweenTaps) {
  const Problem p =
      problem("filters=20,kernel_size=5,groups=20,padding=causal,dilation_rate=3", {1, 4096, 20});
  const ScheduledIr ir(p, default_schedule(p, Isa::kAvx512));
  ASSERT_TRUE(ir.plan()->dw_weights_in_regs);
  ASSERT_GT(ir.plan()->ur_t, 3);
  ASSERT_FALSE(ir.plan()->full.present);  // 20 channels: one tail block of 2 vectors
  const TileLeaves& t = ir.tail_block().interior;
  EXPECT_TRUE(t.weights_held);
  EXPECT_EQ(t.tap_group, 5);
  EXPECT_NE(t.to_string().find("in one group (weights held)"), std::string::npos) << t.to_string();
  const Func lowered = lower_conv(p, lower_plan_of(ir.plan()));
  EXPECT_EQ(match_tile(lowered, first_interior_tile(lowered)), t) << t.to_string();
  EXPECT_NE(to_string(lowered).find("# tap group, weights held"), std::string::npos);

  const Problem strided =
      problem("filters=12,kernel_size=2,groups=12,strides=2,padding=valid", {1, 4096, 12});
  const ScheduledIr s(strided, default_schedule(strided, Isa::kAvx512));
  ASSERT_TRUE(s.plan()->dw_weights_in_regs);
  EXPECT_TRUE(s.full_block().interior.weights_held || s.tail_block().interior.weights_held);
  EXPECT_EQ(s.full_block().interior.tap_group + s.tail_block().interior.tap_group, 0);
}

// lower_conv writes one tile per ic block: the middle ones start from the partial sums and
// store them raw. The Xbyak column makes both run-time choices in its one tile.
// Edge groups (KernelPlan::edge_groups): tile_t rows whose every tap is checked per row,
// the tile the Xbyak edge walks for its groups of steps, lower_conv's "edge groups" tile.
// First layers with tap classes keep single edge steps.
TEST(TileLeaves, EdgeGroupsCheckEveryTapOfEveryRow) {
  struct Case {
    const char* spec;
    Shape3 shape;
    Isa isa;
    bool groups;
  };
  const Case cases[] = {
      {"filters=64,kernel_size=3,padding=same,dilation_rate=8", {1, 512, 64}, Isa::kAvx512, true},
      {"filters=24,kernel_size=9,groups=24,padding=causal,dilation_rate=2",
       {1, 512, 24},
       Isa::kAvx2,
       true},
      {"filters=32,kernel_size=7,groups=32,padding=same,dilation_rate=4",
       {1, 4096, 32},
       Isa::kAvx512,
       true},
      // Edges shorter than a tile (pad 1 each side), valid padding, tap classes: no groups.
      {"filters=64,kernel_size=3,padding=same", {1, 512, 64}, Isa::kAvx512, false},
      {"filters=64,kernel_size=5", {1, 512, 64}, Isa::kAvx512, false},
      {"filters=512,kernel_size=10,strides=5", {1, 16000, 1}, Isa::kAvx512, false},
  };
  for (const Case& c : cases) {
    const Problem p = problem(c.spec, c.shape);
    const ScheduledIr ir(p, default_schedule(p, c.isa));
    ASSERT_EQ(ir.plan()->edge_groups, c.groups) << c.spec;
    const Func lowered = lower_conv(p, lower_plan_of(ir.plan()));
    const TileLeaves& group = ir.full_block().edge_group;
    if (!c.groups) {
      EXPECT_EQ(group.rows, 0) << c.spec;
      EXPECT_EQ(first_edge_group_tile(lowered), nullptr) << c.spec;
      continue;
    }
    EXPECT_EQ(group.rows, ir.plan()->ur_t) << c.spec;
    EXPECT_GT(group.rows, 1) << c.spec;
    EXPECT_TRUE(group.rows_checked && group.taps_checked) << c.spec;
    EXPECT_EQ(group.taps, p.kernel) << c.spec;
    EXPECT_EQ(group.cols, ir.full_block().edge.cols) << c.spec;
    EXPECT_FALSE(group.weights_held) << c.spec;
    EXPECT_EQ(group.tap_group, 0) << c.spec;
    EXPECT_NE(group.to_string().find("checked per row"), std::string::npos) << group.to_string();
    const Stmt nest_group = first_edge_group_tile(lowered);
    ASSERT_NE(nest_group, nullptr) << c.spec;
    EXPECT_EQ(match_tile(lowered, nest_group), group) << group.to_string();
    EXPECT_NE(to_string(lowered).find("# if tap in range"), std::string::npos) << c.spec;
  }
}

TEST(TileLeaves, InputChannelBlocksReadAndWritePartialSums) {
  const Problem p = problem("filters=64,kernel_size=3,padding=same,activation=relu", {1, 64, 96});
  Schedule s = default_schedule(p, Isa::kAvx2);
  s.block_ic = 32;
  s.loop_order = LoopOrder::kBatchChannelTime;
  const ScheduledIr ir(p, s);
  ASSERT_EQ(ir.plan()->ic_blocks, 3);
  EXPECT_EQ(ir.full_block().interior.channels, 32);
  EXPECT_EQ(ir.full_block().edge.channels, 32);
  const Func lowered = lower_conv(p, lower_plan_of(ir.plan()));
  std::vector<TileLeaves> tiles;
  ir::visit(lowered.body, [&](const Stmt& st) {
    if (const auto* loop = as<For>(st); loop != nullptr && loop->tag == "interior tiles") {
      ir::visit(loop->body, [&](const Stmt& c) {
        if (as<Alloc>(c) != nullptr) tiles.push_back(match_tile(lowered, c));
      });
    }
  });
  ASSERT_GE(tiles.size(), 3u);
  EXPECT_EQ(tiles[0].order.front(), K::kZero);
  EXPECT_FALSE(tiles[0].bias);  // raw partial sums
  EXPECT_EQ(tiles[1].order.front(), K::kLoadPartialSums);
  EXPECT_EQ(tiles[2].order.front(), K::kLoadPartialSums);
  EXPECT_TRUE(tiles[2].bias);
  EXPECT_EQ(tiles[2].activation, Activation::kRelu);
}

TEST(TileLeaves, RefusesStatementsThatAreNotATile) {
  const Problem p = problem("filters=16,kernel_size=3", {1, 32, 16});
  const Func f = lower_conv(p, lower_plan_of(std::make_shared<const KernelPlan>(
                                   plan_kernel(p, default_schedule(p, Isa::kAvx2)))));
  EXPECT_THROW(match_tile(f, f.body), std::logic_error);
  EXPECT_THROW(match_tile(f, Block::make({})), std::logic_error);
}

// A tap loop of run-time extent is a tile's only if it is the edge's "taps in range".
TEST(TileLeaves, RefusesARunTimeTapLoopThatIsNotTheEdgesTapsInRange) {
  const Problem p = problem("filters=16,kernel_size=3,padding=same", {1, 32, 16});
  const ScheduledIr ir(p, default_schedule(p, Isa::kAvx2));
  const RegisterTiles& tiles = ir.tiles();
  const auto* alloc = as<Alloc>(tiles.full_edge);
  ASSERT_NE(alloc, nullptr);
  std::vector<Stmt> stmts = as<Block>(alloc->body)->stmts;
  bool renamed = false;
  for (Stmt& st : stmts) {
    if (const auto* loop = as<For>(st); loop != nullptr && loop->tag == "taps in range") {
      st = For::make(loop->var, loop->min, loop->extent, loop->kind, "some loop", loop->body);
      renamed = true;
    }
  }
  ASSERT_TRUE(renamed);
  EXPECT_NO_THROW(match_tile(tiles.func, tiles.full_edge));
  EXPECT_THROW(match_tile(tiles.func, Alloc::make(alloc->arrays, Block::make(stmts))),
               std::logic_error);
}

}  // namespace
}  // namespace convjit::detail::ir::test
