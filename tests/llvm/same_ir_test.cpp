// Issue 15's contract, per suite shape and ISA: the Xbyak and LLVM backends receive the same
// scheduled IR (one plan, one pipeline), and each backend's inner loop is made of the IR's
// register tile: the Xbyak driver's loop nest is the IR's, its micro-kernel has the IR tile's
// accumulators, both backends' innermost loops issue whole tiles of FMAs, both prefetch
// the plan's lines per interior tile, and the Xbyak interior is the IR tile's leaves, walked.
// Generation only: runs on any host, for both ISAs.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/backend/code_generator.hpp"
#include "compiler/backend/llvm/llvm_code_generator.hpp"
#include "compiler/backend/xbyak/xbyak_driver.hpp"
#include "compiler/ir/loop_nest.hpp"
#include "compiler/ir/lower.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/tile_leaves.hpp"
#include "convjit/jit.hpp"

namespace convjit::detail {
namespace {

struct SuiteShape {
  std::string name, spec;
  Shape3 shape;
};

/// shared/anchors/suite.csv: name,N,L,Cin,F,K,s,d,g,pad,...
std::vector<SuiteShape> suite_shapes() {
  std::ifstream in(std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv");
  std::vector<SuiteShape> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    if (f.size() < 10) continue;
    SuiteShape s;
    s.name = f[0];
    s.spec = "filters=" + f[4] + ",kernel_size=" + f[5] + ",strides=" + f[6] +
             ",dilation_rate=" + f[7] + ",groups=" + f[8] + ",padding=" + f[9];
    s.shape = {std::stoll(f[1]), kDynamic, std::stoll(f[3])};
    out.push_back(s);
  }
  return out;
}

/// FMAs of each innermost loop of an assembly listing (a loop: a label and a later branch
/// back to it; innermost: no other loop's back branch inside). The largest count.
int innermost_loop_fmas(const std::string& listing) {
  std::vector<std::string> lines;
  std::stringstream ss(listing);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  std::vector<std::pair<std::size_t, std::size_t>> loops;  // [label line, branch line]
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const auto j = l.find("\tj");
    if (j == std::string::npos) continue;
    const auto target = l.find(".LBB", j);
    if (target == std::string::npos) continue;
    const std::string label = l.substr(target) + ":";
    for (std::size_t k = 0; k < i; ++k) {
      if (lines[k].rfind(label, 0) == 0) loops.push_back({k, i});
    }
  }
  int best = 0;
  for (const auto& [b, e] : loops) {
    bool nested = false;
    for (const auto& [b2, e2] : loops) nested = nested || (b2 > b && e2 < e);
    if (nested) continue;
    int fmas = 0;
    for (std::size_t k = b; k <= e; ++k) fmas += lines[k].find("vfmadd") != std::string::npos;
    best = std::max(best, fmas);
  }
  return best;
}

TEST(SameIr, BothBackendsCompileTheOneScheduledIrOfEverySuiteShape) {
  const std::vector<SuiteShape> shapes = suite_shapes();
  ASSERT_GE(shapes.size(), 10u) << "suite.csv not found under " << CONVJIT_SHARED_DIR;
  for (const SuiteShape& shape : shapes) {
    const Problem p = make_problem(parse_spec(shape.spec), shape.shape);
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      SCOPED_TRACE(shape.name + (isa == Isa::kAvx2 ? " avx2" : " avx512"));
      const Schedule s = default_schedule(p, isa);
      const auto scheduled = std::make_shared<const ir::ScheduledIr>(p, s);
      // The Jit's two code generators, given the one IR.
      const auto xbyak = xbyak_code_generator()->generate(scheduled);
      const auto llvm = llvm_code_generator(isa)->generate(scheduled);
      ASSERT_TRUE(xbyak && llvm);
      EXPECT_EQ(xbyak->ir().get(), scheduled.get());
      EXPECT_EQ(llvm->ir().get(), scheduled.get());
      // What the LLVM backend translated is the one pipeline's IR: lowering again prints
      // the same text.
      EXPECT_EQ(ir::to_string(ir::lower_scheduled(p, s)), ir::to_string(scheduled->func()));

      const KernelPlan& plan = *scheduled->plan();
      const ir::LoopNestSummary nest = ir::summarize_loop_nest(scheduled->func());
      ASSERT_TRUE(nest.has_interior);
      const int vecs = plan.full.present ? plan.ur_oc : plan.tail.vecs;
      EXPECT_EQ(nest.tile_accumulators, plan.ur_t * vecs);
      EXPECT_GT(nest.innermost_fmas, 0);
      EXPECT_EQ(nest.innermost_fmas % nest.tile_accumulators, 0);

      // Xbyak: the driver's loop order is read from the IR's loop nest (ScheduledIr::nest),
      // and the whole pipeline keeps that order.
      const auto& x = static_cast<const XbyakDriver&>(*xbyak);
      const ir::LoopNestSummary order = ir::summarize_loop_nest(scheduled->nest());
      // (read from the nest's loops without their tiles: the same loops, the same order)
      EXPECT_EQ(scheduled->loop_order().path, order.path);
      EXPECT_EQ(scheduled->loop_order().channels_swept, order.channels_swept);
      EXPECT_EQ(scheduled->loop_order().time_outside_channels, order.time_outside_channels);
      EXPECT_EQ(order.channels_swept, plan.sweep);
      EXPECT_EQ(order.time_outside_channels,
                plan.loop_order == LoopOrder::kBatchTimeChannel && plan.block_t > 0);
      EXPECT_EQ(x.driver_loops().sweep, order.channels_swept);
      EXPECT_EQ(x.driver_loops().time_outer, order.time_outside_channels);
      EXPECT_EQ(order.channels_swept, nest.channels_swept);
      EXPECT_EQ(order.time_outside_channels, nest.time_outside_channels);
      // (The paths differ only by the single-trip loops prune_loops inlines, such as a
      // depth multiplier of 1.)
      // And the emitted interior issues whole tiles of FMAs: the IR's tile.
      EXPECT_GT(x.full_stats().innermost_loop_fmas + x.tail_stats().innermost_loop_fmas, 0);
      const EmitStats& xs = plan.full.present ? x.full_stats() : x.tail_stats();
      EXPECT_EQ(xs.interior_fmas % nest.tile_accumulators, 0)
          << xs.interior_fmas << " FMAs per interior pass";
      EXPECT_EQ(xs.innermost_loop_fmas % nest.tile_accumulators, 0)
          << xs.innermost_loop_fmas << " FMAs in the innermost loop";

      // The Xbyak interior walked the IR's tile: the leaves of the tile it was given are
      // those of the tile lower_conv puts in the nest, and it emitted them in their order.
      ASSERT_TRUE(plan.full.present);
      const ir::Func lowered = ir::lower_conv(p, ir::lower_plan_of(scheduled->plan()));
      const ir::TileLeaves nest_tile = ir::match_tile(lowered, ir::first_interior_tile(lowered));
      const ir::BlockTiles& walked = scheduled->full_block();
      EXPECT_EQ(walked.interior, nest_tile) << walked.interior.to_string() << "\n"
                                            << nest_tile.to_string();
      EXPECT_EQ(x.full_stats().tile_walk, ir::tile_leaf_order(nest_tile.order));
      // And the Xbyak edge's one-step body walked the IR's edge tile (one row, the taps in
      // range), the one lower_conv puts in the nest's edge loops.
      const ir::Stmt edge = ir::first_edge_tile(lowered);
      ASSERT_TRUE(edge != nullptr);
      const ir::TileLeaves nest_edge = ir::match_tile(lowered, edge);
      EXPECT_TRUE(nest_edge.taps_checked);
      EXPECT_EQ(nest_edge.rows, 1);
      EXPECT_EQ(walked.edge, nest_edge) << walked.edge.to_string() << "\n" << nest_edge.to_string();
      EXPECT_EQ(x.full_stats().edge_walk, ir::tile_leaf_order(nest_edge.order));
      // And its groups of edge steps walked the IR's edge group tile (tile_t rows, taps
      // checked per row), where the plan has edge groups.
      const ir::Stmt group = ir::first_edge_group_tile(lowered);
      ASSERT_EQ(group != nullptr, plan.edge_groups);
      if (group != nullptr) {
        const ir::TileLeaves nest_group = ir::match_tile(lowered, group);
        EXPECT_TRUE(nest_group.rows_checked);
        EXPECT_EQ(nest_group.rows, plan.ur_t);
        EXPECT_EQ(walked.edge_group, nest_group) << walked.edge_group.to_string() << "\n"
                                                 << nest_group.to_string();
        EXPECT_EQ(x.full_stats().edge_group_walk, ir::tile_leaf_order(nest_group.order));
      } else {
        EXPECT_EQ(walked.edge_group.rows, 0);
        EXPECT_TRUE(x.full_stats().edge_group_walk.empty());
      }

      // Prefetch: the plan's lines, once per interior tile, in the IR and in Xbyak's code;
      // LLVM translates the IR's.
      const int lines = static_cast<int>(plan.prefetch_lines.size());
      EXPECT_EQ(nest.interior_prefetches, lines);
      EXPECT_EQ(xs.interior_prefetches, lines);
      EXPECT_EQ(llvm->assembly().find("prefetcht0") != std::string::npos, lines > 0);

      // LLVM: its innermost loop with FMAs issues whole tiles of them too.
      const int llvm_fmas = innermost_loop_fmas(llvm->assembly());
      EXPECT_GT(llvm_fmas, 0);
      EXPECT_EQ(llvm_fmas % nest.tile_accumulators, 0) << llvm_fmas << " FMAs";
      // Both unroll the IR's innermost reduction loop the same number of times.
      EXPECT_EQ(xs.innermost_loop_fmas % nest.innermost_fmas, 0);
      EXPECT_EQ(llvm_fmas, xs.innermost_loop_fmas);
      std::printf(
          "%-14s %-6s tile %dx%d  IR innermost %3d FMAs  Xbyak innermost %3d  LLVM %3d  "
          "prefetches/tile %d\n",
          shape.name.c_str(), isa == Isa::kAvx2 ? "avx2" : "avx512", plan.ur_t, vecs,
          nest.innermost_fmas, xs.innermost_loop_fmas, llvm_fmas, lines);
    }
  }
}

// The suite's heuristic schedules prefetch nothing at a dynamic length: the same shapes at
// their own length with 512 bytes of prefetch, so that every strategy's prefetch (direct,
// direct sweep hoisting it out of the channel loop, depthwise sweep, grouped) is compared.
TEST(SameIr, BothBackendsPrefetchThePlansLinesPerInteriorTile) {
  int with_lines = 0;
  for (const SuiteShape& shape : suite_shapes()) {
    Shape3 fixed = shape.shape;
    fixed[1] = 4096;
    const Problem p = make_problem(parse_spec(shape.spec), fixed);
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      SCOPED_TRACE(shape.name + (isa == Isa::kAvx2 ? " avx2" : " avx512"));
      Schedule s = default_schedule(p, isa);
      s.prefetch_distance = 512;
      const auto scheduled = std::make_shared<const ir::ScheduledIr>(p, s);
      const KernelPlan& plan = *scheduled->plan();
      const int lines = static_cast<int>(plan.prefetch_lines.size());
      EXPECT_GT(lines, 0);
      with_lines += lines > 0;
      const auto xbyak = xbyak_code_generator()->generate(scheduled);
      const auto llvm = llvm_code_generator(isa)->generate(scheduled);
      const auto& x = static_cast<const XbyakDriver&>(*xbyak);
      const EmitStats& xs = plan.full.present ? x.full_stats() : x.tail_stats();
      EXPECT_EQ(ir::summarize_loop_nest(scheduled->func()).interior_prefetches, lines);
      EXPECT_EQ(xs.interior_prefetches, lines);
      EXPECT_NE(llvm->assembly().find("prefetcht0"), std::string::npos);
    }
  }
  EXPECT_GE(with_lines, 20);
}

}  // namespace
}  // namespace convjit::detail
