// Every code generator, for every ISA, on any host: generation never needs the ISA, only
// execution does. Each kernel strategy (direct, pointwise, first-layer tap classes, grouped,
// depthwise with weights in registers and with tap groups, depth multiplier > 1, masked
// tails, edges, ic blocks, sweeps with streaming stores, channels_first) and every
// activation is generated for AVX2 and AVX-512, and the interior loops are checked for what
// the plan promises: no stack traffic, no embedded broadcasts where inputs are broadcast
// once per tile row, and the loads per FMA of each micro-kernel (docs/jit.md, "loads per
// FMA"). Short jumps over long code used to fail only on the host that first generated it.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "common/asm_text.hpp"
#include "convjit/convjit.hpp"

namespace convjit {
namespace {

using test::count_containing;
using test::count_loads;
using test::find_loops;
using test::parse_asm;

struct Case {
  const char* name;
  const char* spec;
  Shape3 shape;
  const char* schedule = "";  ///< fields over the heuristic's (empty: the heuristic's)
  /// Most loads per FMA the innermost interior loop may issue, per ISA (0: not checked).
  double max_loads_per_fma_avx2 = 0, max_loads_per_fma_avx512 = 0;
  bool broadcast_once = false;  ///< inputs broadcast into a register, never {1toN}
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // 6x2 ymm: 6 broadcasts + 2 weight loads per 12 FMAs; 6x4 zmm: 6 + 4 per 24.
      {"direct", "filters=128,kernel_size=3,padding=same", {8, 1024, 128}, "", 0.67, 0.42, true},
      {"pointwise", "filters=256,kernel_size=1", {8, 1024, 256}, "", 0.59, 0.42, true},
      {"grouped",
       "filters=256,kernel_size=5,groups=8,padding=same",
       {4, 1024, 256},
       "",
       0.67,
       0.63,
       true},
      // Tap classes: one broadcast per input row for every tap that reads it; each class's
      // weights are loaded once per tile (5x4 zmm: 70 loads per 200 FMAs, with the bias).
      {"first_layer", "filters=512,kernel_size=10,strides=5", {1, 16000, 1}, "", 0.6, 0.4, true},
      {"depthwise",
       "filters=1536,kernel_size=4,groups=1536,padding=causal",
       {4, 2048, 1536},
       "",
       1.3,
       1.3},
      {"depthwise_long",
       "filters=256,kernel_size=31,groups=256,padding=same",
       {8, 512, 256},
       "",
       1.0,
       1.0},
      {"depth_multiplier", "filters=64,kernel_size=3,groups=32,padding=same", {2, 300, 32}},
      {"masked_tails",
       "filters=20,kernel_size=3,padding=causal,dilation_rate=2,activation=gelu",
       {2, kDynamic, 7}},
      {"edges", "filters=48,kernel_size=9,padding=same,dilation_rate=3", {1, 40, 24}},
      {"strided", "filters=40,kernel_size=4,strides=3,padding=same,activation=tanh", {3, 101, 10}},
      {"ic_blocks", "filters=128,kernel_size=3,padding=same", {1, 256, 128}, "block_ic=32"},
      {"sweep_streaming",
       "filters=512,kernel_size=10,strides=5",
       {1, 16000, 1},
       "nontemporal_stores=1"},
      {"channels_first",
       "filters=20,kernel_size=10,strides=5,data_format=channels_first,"
       "activation=softmax",
       {1, 1, 1000}},
      {"glu", "filters=32,kernel_size=3,padding=causal,activation=glu", {1, kDynamic, 16}},
  };
  return all;
}

Kernel generate(const Conv1DSpec& spec, const Shape3& shape, Isa isa, const std::string& fields) {
  CompileOptions o;
  o.isa = isa;
  o.allow_unsupported_isa = true;  // generated and read, not run, where the host lacks it
  o.use_tuning_db = false;
  o.schedule = fields;  // keys it leaves out keep the heuristic's values
  return compile(spec, shape, o);
}

/// The innermost loop of the interior that holds FMAs (the smallest such loop body), or the
/// interior tile loop itself when the reduction is straight code.
std::vector<std::string> innermost_interior_loop(const std::vector<test::AsmLine>& lines) {
  std::vector<test::AsmLine> interior;
  bool inside = false;
  for (const auto& l : lines) {
    if (l.note && l.text.rfind("loop t (interior", 0) == 0) inside = true;
    if (l.note && l.text.rfind("loop t (right edge)", 0) == 0) break;
    if (inside) interior.push_back(l);
  }
  std::vector<std::string> best;
  for (const char* prefix : {"loop ic", "loop k", "loop t (interior"}) {
    for (const auto& loop : find_loops(interior, prefix)) {
      if (count_containing(loop.body, "vfmadd") == 0) continue;
      if (best.empty() || loop.body.size() < best.size()) best = loop.body;
    }
  }
  return best;
}

TEST(GenerateEverywhere, EveryStrategyForEveryIsa) {
  for (const Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const std::string vreg = isa == Isa::kAvx512 ? "zmm" : "ymm";
    for (const Case& c : cases()) {
      SCOPED_TRACE(fmt::format("{} on {}", c.name, isa_name(isa)));
      const Kernel k = generate(parse_spec(c.spec), c.shape, isa, c.schedule);
      EXPECT_EQ(k.isa(), isa);
      const std::string text = k.disassemble();
      EXPECT_EQ(text.find("(bad)"), std::string::npos) << text;
      EXPECT_NE(text.find("vfmadd231ps " + vreg), std::string::npos) << k.name();
      if (isa == Isa::kAvx2) {
        EXPECT_EQ(text.find("zmm"), std::string::npos) << k.name();
      }
      const auto lines = parse_asm(text);
      for (const auto& loop : find_loops(lines, "loop t (interior")) {
        for (const char* bad : {"[rsp", "[rbp", "push", "pop", "call"}) {
          EXPECT_EQ(count_containing(loop.body, bad), 0) << k.name() << ": " << bad;
        }
      }
      const std::vector<std::string> inner = innermost_interior_loop(lines);
      ASSERT_FALSE(inner.empty()) << k.name() << ": no interior loop with FMAs\n" << text;
      const int fmas = count_containing(inner, "vfmadd");
      const int loads = count_loads(inner);
      const double per_fma = static_cast<double>(loads) / fmas;
      std::printf("%-16s %-6s %-44s %4d FMAs %4d loads  %.2f loads/FMA\n", c.name, isa_name(isa),
                  k.name().c_str(), fmas, loads, per_fma);
      const double limit =
          isa == Isa::kAvx512 ? c.max_loads_per_fma_avx512 : c.max_loads_per_fma_avx2;
      if (limit > 0) {
        EXPECT_LE(per_fma, limit) << k.name();
      }
      if (c.broadcast_once) {
        EXPECT_EQ(count_containing(inner, "{1to"), 0) << k.name() << ": embedded broadcasts";
        EXPECT_GT(count_containing(inner, "vbroadcastss " + vreg), 0) << k.name();
      }
    }
  }
}

TEST(GenerateEverywhere, EveryActivationForEveryIsa) {
  for (const Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    for (int a = 0; a < kActivationCount; ++a) {
      const auto act = static_cast<Activation>(a);
      Conv1DSpec spec = parse_spec("filters=24,kernel_size=3,padding=causal");
      spec.activation = act;
      SCOPED_TRACE(fmt::format("{} on {}", activation_name(act), isa_name(isa)));
      const Kernel k = generate(spec, {1, kDynamic, 5}, isa, "");
      EXPECT_GT(k.disassemble().size(), 0u);
    }
  }
}

}  // namespace
}  // namespace convjit
