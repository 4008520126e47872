// Schedules: text round trip, parse errors, the legality table, the default heuristic.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "compiler/ir/pipeline.hpp"
#include "compiler/target/fma_units.hpp"
#include "ir/ir_test_util.hpp"

namespace convjit::detail::ir::test {
namespace {

Problem problem(const std::string& spec, Shape3 shape) {
  return make_problem(parse_spec(spec), shape);
}

TEST(Schedule, ToStringParsesBackToAnEqualSchedule) {
  std::mt19937_64 rng(7);
  const Problem p = problem("filters=40,kernel_size=5,groups=2", {2, 30, 16});
  for (int i = 0; i < 300; ++i) {
    const Schedule s = random_schedule(rng, p);
    const std::string text = to_string(s);
    const Schedule back = parse_schedule(text);
    EXPECT_EQ(back, s) << text << " -> " << to_string(back);
    EXPECT_EQ(to_string(back), text);
  }
}

TEST(Schedule, EqualityComparesEveryField) {
  Schedule a, b;
  EXPECT_EQ(a, b);
  b.prefetch_distance = 64;
  EXPECT_NE(a, b);
  b = a;
  b.nontemporal_stores = true;
  EXPECT_NE(a, b);
  b = a;
  b.threads = 2;
  EXPECT_NE(a, b);
}

TEST(Schedule, MissingKeysKeepDefaultsAndLanesFollowTheIsa) {
  const Schedule s = parse_schedule("isa=avx2, tile_t=3");
  EXPECT_EQ(s.isa, Isa::kAvx2);
  EXPECT_EQ(s.vector_lanes, 8);
  EXPECT_EQ(s.tile_t, 3);
  EXPECT_EQ(s.tile_oc_vecs, Schedule{}.tile_oc_vecs);
  EXPECT_EQ(parse_schedule("").vector_lanes, 16);
}

TEST(Schedule, ParseErrorsNameTheKey) {
  struct Row {
    const char* text;
    const char* argument;
    const char* message;
  };
  const Row rows[] = {
      {"tile_t=six", "tile_t", "tile_t=six"},
      {"isa=sse2", "isa", "avx2 or avx512"},
      {"colour=blue", "colour", "Unknown schedule key: colour"},
      {"tile_t", "schedule", "key=value"},
      {"tile_t=2 tile_t=3", "tile_t", "given twice"},
      {"strategy=winograd", "strategy", "direct or depthwise"},
      // Labels that changed no code are gone; the message says what to write instead.
      {"strategy=pointwise", "strategy", "use strategy=direct"},
      {"strategy=first_layer", "strategy", "use strategy=direct"},
      {"channels_first=native", "channels_first", "native is not implemented"},
      {"nontemporal_stores=maybe", "nontemporal_stores", "0 or 1"},
      {"block_t=1e3", "block_t", "an integer"},
  };
  for (const Row& r : rows) {
    try {
      parse_schedule(r.text);
      ADD_FAILURE() << r.text << " parsed";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kParseError) << r.text;
      EXPECT_EQ(e.argument(), r.argument) << r.text;
      EXPECT_NE(std::string(e.what()).find(r.message), std::string::npos) << e.what();
    }
  }
}

TEST(Legality, IllegalSchedulesAreRefusedWithAReason) {
  struct Row {
    const char* spec;
    Shape3 shape;
    const char* schedule;
    const char* field;
    const char* reason;
  };
  const Row rows[] = {
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "isa=avx2 vector_lanes=16",
       "vector_lanes",
       "avx2 has 8 float lanes"},
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "isa=avx2 tile_t=7 tile_oc_vecs=2",
       "tile_t",
       "needs 17 vector registers"},
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "isa=avx512 tile_t=7 tile_oc_vecs=4",
       "tile_t",
       "avx512 has 32"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "tile_t=0", "tile_t", "must be >= 1"},
      // Products of fields up to 2^30 in 64 bits: this was "-294967296 accumulators".
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "isa=avx2 tile_t=1000000000 tile_oc_vecs=4",
       "tile_t",
       "needs 4000000005 vector registers (4000000000 accumulators, 4 weights"},
      {"filters=4,kernel_size=3,groups=4",
       {1, 10, 4},
       "isa=avx512 strategy=depthwise tile_t=1073741824 tile_oc_vecs=1073741824",
       "tile_t",
       "(1152921504606846976 accumulators"},
      {"filters=16,kernel_size=31,groups=16,padding=same",
       {1, 64, 16},
       "isa=avx2 strategy=depthwise tile_t=14 tile_oc_vecs=1",
       "tile_t",
       "needs 17 vector registers (14 accumulators and 3 temporaries)"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "tile_oc_vecs=0", "tile_oc_vecs", ">= 1"},
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "strategy=depthwise",
       "strategy",
       "groups == in_channels"},
      {"filters=8,kernel_size=4,groups=4",
       {1, 10, 4},
       "strategy=depthwise",
       "strategy",
       "filters=8; use strategy=direct"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "block_ic=5", "block_ic", "exceeds the 4"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "block_ic=-1", "block_ic", ">= 0"},
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "tile_t=4 block_t=6",
       "block_t",
       "multiple of tile_t=4"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "block_t=-4", "block_t", ">= 0"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "unroll_k=4", "unroll_k", "kernel_size=3"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "unroll_ic=0", "unroll_ic", "[1, 16]"},
      {"filters=4,kernel_size=3,groups=4",
       {1, 10, 4},
       "strategy=depthwise unroll_ic=2",
       "unroll_ic",
       "no input-channel reduction"},
      {"filters=4,kernel_size=3,groups=4",
       {1, 10, 4},
       "strategy=depthwise block_ic=1",
       "block_ic",
       "one input channel"},
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "prefetch_distance=100",
       "prefetch_distance",
       "multiple of 64"},
      {"filters=8,kernel_size=3",
       {1, 10, 4},
       "block_ic=2 nontemporal_stores=1",
       "nontemporal_stores",
       "re-read"},
      {"filters=8,kernel_size=3", {1, 10, 4}, "threads=0", "threads", "[1, 256]"},
  };
  for (const Row& r : rows) {
    const Problem p = problem(r.spec, r.shape);
    const Schedule s = parse_schedule(r.schedule);
    try {
      check_legal(s, p);
      ADD_FAILURE() << r.schedule << " accepted for " << r.spec;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIllegalSchedule) << r.schedule;
      EXPECT_EQ(e.argument(), r.field) << r.schedule << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(r.reason), std::string::npos)
          << r.schedule << ": " << e.what();
    }
  }
}

TEST(Legality, TheSameFieldsAtTheirLimitAreAccepted) {
  const Problem p = problem("filters=8,kernel_size=3", {1, 10, 4});
  for (const char* text : {"isa=avx2 tile_t=14 tile_oc_vecs=1", "isa=avx2 tile_t=6 tile_oc_vecs=2",
                           "isa=avx512 tile_t=6 tile_oc_vecs=4", "block_ic=4", "unroll_k=3",
                           "tile_t=4 block_t=8", "prefetch_distance=4096", "threads=256"}) {
    EXPECT_NO_THROW(check_legal(parse_schedule(text), p)) << text;
  }
}

TEST(Legality, TheLoweringRefusesIllegalSchedulesToo) {
  const Problem p = problem("filters=8,kernel_size=3", {1, 10, 4});
  try {
    lower_scheduled(p, parse_schedule("isa=avx2 tile_t=8 tile_oc_vecs=2"));
    ADD_FAILURE() << "lowered an illegal schedule";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIllegalSchedule);
  }
}

TEST(DefaultSchedule, IsLegalAndUsesTheRegisters) {
  const Problem big = problem("filters=128,kernel_size=3,padding=same", {1, 64, 64});
  const Schedule s512 = default_schedule(big, Isa::kAvx512);
  EXPECT_EQ(s512.vector_lanes, 16);
  EXPECT_EQ(s512.tile_oc_vecs, 4);
  EXPECT_EQ(s512.tile_t, 6);  // 6*4 + 4 + 1 = 29 <= 32
  const Schedule s2 = default_schedule(big, Isa::kAvx2);
  EXPECT_EQ(s2.vector_lanes, 8);
  EXPECT_EQ(s2.tile_t * s2.tile_oc_vecs + s2.tile_oc_vecs + 1 <= 16, true);
  EXPECT_NO_THROW(check_legal(s512, big));
  EXPECT_NO_THROW(check_legal(s2, big));
}

TEST(DefaultSchedule, PicksTheStrategyPerCase) {
  EXPECT_EQ(
      default_schedule(problem("filters=16,kernel_size=3,groups=16", {1, 20, 16}), Isa::kAvx512)
          .strategy,
      Strategy::kDepthwise);
  // Pointwise and first layers are direct: the plan gives them their tiles and tap classes.
  EXPECT_EQ(
      default_schedule(problem("filters=16,kernel_size=1", {1, 20, 16}), Isa::kAvx512).strategy,
      Strategy::kDirect);
  EXPECT_EQ(
      default_schedule(problem("filters=16,kernel_size=9,strides=4", {1, 200, 1}), Isa::kAvx512)
          .strategy,
      Strategy::kDirect);
  // A depth multiplier above 1 is grouped direct: depthwise would be refused.
  EXPECT_EQ(
      default_schedule(problem("filters=32,kernel_size=3,groups=16", {1, 20, 16}), Isa::kAvx512)
          .strategy,
      Strategy::kDirect);
  EXPECT_EQ(
      default_schedule(problem("filters=16,kernel_size=3", {1, 20, 16}), Isa::kAvx512).strategy,
      Strategy::kDirect);
}

// AVX2 pointwise takes the 4x3 tile (fewer broadcasts per FMA); narrow outputs keep what
// fits; AVX-512 keeps 6x4.
TEST(DefaultSchedule, PointwiseTileOnAvx2) {
  const Problem pw = problem("filters=256,kernel_size=1", {8, 1024, 256});
  const Schedule s2 = default_schedule(pw, Isa::kAvx2);
  EXPECT_EQ(s2.strategy, Strategy::kDirect);
  EXPECT_EQ(s2.tile_t, 4);
  EXPECT_EQ(s2.tile_oc_vecs, 3);
  EXPECT_NO_THROW(check_legal(s2, pw));
  const Schedule narrow =
      default_schedule(problem("filters=16,kernel_size=1", {1, 20, 16}), Isa::kAvx2);
  EXPECT_EQ(narrow.tile_oc_vecs, 2);
  const Schedule s512 = default_schedule(pw, Isa::kAvx512);
  EXPECT_EQ(s512.tile_t, 6);
  EXPECT_EQ(s512.tile_oc_vecs, 4);
}

// Short depthwise kernels (stride 1, 2 <= K < 8): the tile leaves registers for two taps'
// weights, so the plan loads each input row once per tap group (docs/jit.md, round 7).
TEST(DefaultSchedule, ShortDepthwiseTilesLeaveRoomForTapGroups) {
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    for (int k : {2, 3, 4, 5, 7}) {
      const Problem p = problem(
          fmt::format("filters=512,kernel_size={},groups=512,padding=causal", k), {2, 1024, 512});
      const Schedule s = default_schedule(p, isa);
      SCOPED_TRACE(to_string(s));
      const KernelPlan plan = plan_kernel(p, s);
      EXPECT_EQ(s.tile_t, 5);
      EXPECT_EQ(s.tile_oc_vecs, isa == Isa::kAvx512 ? 4 : 2);
      EXPECT_GE(plan.dw_tap_block, 2);
      EXPECT_TRUE(plan.sweep);
      // Sweeps of 16 KiB of a tile's input rows.
      const std::int64_t rows = plan.ur_t + (plan.K - 1);
      EXPECT_EQ(plan.sweep_blocks,
                std::max<std::int64_t>(1, 16384 / (rows * plan.block_width * 4)));
    }
  }
  // Long kernels keep the tall one-vector tile.
  const Schedule long_k = default_schedule(
      problem("filters=256,kernel_size=31,groups=256,padding=same", {1, 512, 256}), Isa::kAvx512);
  EXPECT_EQ(long_k.tile_oc_vecs, 1);
  EXPECT_EQ(long_k.tile_t, 14);
}

// Streaming stores: an output beyond L3, or a depthwise layer whose input and output pass
// half of it; the aliasing window is 8 lines whatever the block width.
TEST(DefaultSchedule, StreamsMemoryBoundOutputs) {
  const Problem dw = problem("filters=512,kernel_size=7,groups=512,padding=same", {8, 1024, 512});
  const Problem dw_small =
      problem("filters=512,kernel_size=7,groups=512,padding=same", {2, 1024, 512});
  const Problem direct = problem("filters=512,kernel_size=3,padding=same", {8, 1024, 512});
  const Problem direct_big = problem("filters=2048,kernel_size=3", {8, 1024, 512});
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    EXPECT_TRUE(default_schedule(dw, isa).nontemporal_stores);          // 16 + 16 MiB
    EXPECT_FALSE(default_schedule(dw_small, isa).nontemporal_stores);   // 4 + 4 MiB
    EXPECT_FALSE(default_schedule(direct, isa).nontemporal_stores);     // compute-bound, 16 MiB out
    EXPECT_TRUE(default_schedule(direct_big, isa).nontemporal_stores);  // 64 MiB out
    const KernelPlan plan = plan_kernel(dw, default_schedule(dw, isa));
    ASSERT_TRUE(plan.nontemporal);
    EXPECT_EQ(plan.store_alias_window, 512);
  }
  // Dynamic lengths never stream (the size is unknown).
  EXPECT_FALSE(default_schedule(problem("filters=512,kernel_size=7,groups=512,padding=causal",
                                        {8, kDynamic, 512}),
                                Isa::kAvx512)
                   .nontemporal_stores);
}

// Direct layers: the columns whose blocks cost least per output row (a one-vector tail tile
// is latency- and load-bound), the default width on ties.
TEST(DefaultSchedule, ColumnsAvoidOneVectorTailBlocks) {
  auto tile = [](std::int64_t filters, Isa isa) {
    const Schedule s = default_schedule(
        problem(fmt::format("filters={},kernel_size=3,padding=same", filters), {4, 1000, 64}), isa);
    EXPECT_NO_THROW(check_legal(
        s, problem(fmt::format("filters={},kernel_size=3,padding=same", filters), {4, 1000, 64})));
    return std::make_pair(s.tile_t, s.tile_oc_vecs);
  };
  using Tile = std::pair<int, int>;
  EXPECT_EQ(tile(128, Isa::kAvx512), Tile(6, 4));  // 8 vectors: two whole blocks
  EXPECT_EQ(tile(80, Isa::kAvx512), Tile(6, 3));   // 5 vectors: 3 + 2, not 4 + 1
  EXPECT_EQ(tile(144, Isa::kAvx512), Tile(6, 3));  // 9 vectors: 3 + 3 + 3
  EXPECT_EQ(tile(112, Isa::kAvx512), Tile(6, 4));  // 7 vectors: 4 + 3
  EXPECT_EQ(tile(128, Isa::kAvx2), Tile(6, 2));
  EXPECT_EQ(tile(24, Isa::kAvx2), Tile(4, 3));  // 3 vectors: one block
  EXPECT_EQ(tile(56, Isa::kAvx2), Tile(6, 2));  // 7 vectors: 3 + 3 + 1 would cost more
  EXPECT_EQ(tile(80, Isa::kAvx2), Tile(6, 2));  // 10 vectors: five whole blocks
}

TEST(DefaultSchedule, BlocksLongInputsAndDynamicLengths) {
  const Problem wide = problem("filters=256,kernel_size=9", {1, 100, 512});
  const Schedule s = default_schedule(wide, Isa::kAvx512);
  // No ic blocks (measured slower on Zen 4, docs/jit.md round 4); a long input gets time
  // blocks that keep the rows of a block in L2.
  EXPECT_EQ(s.block_ic, 0);
  EXPECT_NO_THROW(check_legal(s, wide));
  const Problem long_wide = problem("filters=256,kernel_size=9", {1, 4000, 512});
  const Schedule lw = default_schedule(long_wide, Isa::kAvx512);
  EXPECT_GT(lw.block_t, 0);
  EXPECT_LT(lw.block_t, 4000);
  EXPECT_NO_THROW(check_legal(lw, long_wide));
  const Problem dynamic = problem("filters=8,kernel_size=3,padding=causal", {1, kDynamic, 4});
  const Schedule d = default_schedule(dynamic, Isa::kAvx2);
  EXPECT_GT(d.block_t, 0);
  EXPECT_EQ(d.block_t % d.tile_t, 0);
  EXPECT_NO_THROW(check_legal(d, dynamic));
}

TEST(DefaultSchedule, ExplainsEachChoiceOnALine) {
  const Problem p = problem("filters=64,kernel_size=3", {1, 50, 32});
  const std::string why = explain_default_schedule(p, Isa::kAvx512);
  const Schedule s = default_schedule(p, Isa::kAvx512);
  for (const std::string key : {"strategy=", "tile_t=", "tile_oc_vecs=", "block_ic=", "block_t=",
                                "loop_order=", "unroll_ic=", "prefetch_distance="}) {
    EXPECT_NE(why.find(key), std::string::npos) << key << " not explained:\n" << why;
  }
  EXPECT_NE(why.find("tile_t=" + std::to_string(s.tile_t)), std::string::npos) << why;
}

}  // namespace
}  // namespace convjit::detail::ir::test

namespace convjit::detail {
namespace {

// The FMA width comes from a CPUID table: Zen 4 splits 512-bit FMAs, Zen 5 and Intel do not.
TEST(FmaUnits, ClassifiesTheCpusSeenSoFar) {
  std::string why;
  EXPECT_EQ(classify_fma_units({"AuthenticAMD", 25, 17}, true, &why), FmaUnits::kAvx512Split);
  EXPECT_NE(why.find("Zen 4"), std::string::npos) << why;
  EXPECT_EQ(classify_fma_units({"AuthenticAMD", 26, 2}, true, &why), FmaUnits::kAvx512Full);
  EXPECT_NE(why.find("family 26"), std::string::npos) << why;
  EXPECT_EQ(classify_fma_units({"GenuineIntel", 6, 85}, true), FmaUnits::kAvx512Full);
  EXPECT_EQ(classify_fma_units({"AuthenticAMD", 25, 1}, false), FmaUnits::kAvx2Only);
  EXPECT_EQ(classify_fma_units({"AuthenticAMD", 23, 49}, false), FmaUnits::kAvx2Only);
  EXPECT_EQ(classify_fma_units({"SomeVendor", 1, 1}, true, &why), FmaUnits::kAvx512Full);
  EXPECT_NE(why.find("assumed"), std::string::npos) << why;
}

TEST(FmaUnits, HostAgreesWithIsaDetectionAndExplainSaysIt) {
  std::string why;
  const FmaUnits units = host_fma_units(&why);
  EXPECT_EQ(units == FmaUnits::kAvx2Only, !host_supports(Isa::kAvx512));
  const Problem p = make_problem(parse_spec("filters=64,kernel_size=3"), {1, 100, 32});
  EXPECT_NE(explain_default_schedule(p, Isa::kAvx512).find("fma units: " + why), std::string::npos);
}

}  // namespace
}  // namespace convjit::detail
