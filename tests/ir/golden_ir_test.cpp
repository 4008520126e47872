// Golden IR text for representative specs (tests/golden/ir/*.txt), before and after
// scheduling. CONVJIT_BLESS=1 rewrites the expectations so that a reviewer reads the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "compiler/ir/mutate.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/ir/verifier.hpp"
#include "ir/ir_test_util.hpp"

namespace convjit::detail::ir::test {
namespace {

struct GoldenSpec {
  const char* name;
  const char* spec;
  Shape3 shape;
  const char* schedule;
};

const GoldenSpec kGolden[] = {
    {"causal_wide_pad",
     "filters=20,kernel_size=5,dilation_rate=4,padding=causal,activation=relu",
     {1, kDynamic, 3},
     "isa=avx2 tile_t=4 tile_oc_vecs=2 unroll_k=1"},
    {"same_stride2",
     "filters=8,kernel_size=4,strides=2,padding=same",
     {2, 17, 2},
     "isa=avx512 tile_t=3 tile_oc_vecs=1"},
    {"depthwise",
     "filters=24,kernel_size=3,groups=24,padding=same,activation=tanh",
     {1, 9, 24},
     "isa=avx512 strategy=depthwise tile_t=2 tile_oc_vecs=2"},
    {"pointwise_blocked",
     "filters=16,kernel_size=1,use_bias=false",
     {1, 12, 12},
     "isa=avx2 strategy=direct tile_t=3 tile_oc_vecs=2 block_ic=5 block_t=6 unroll_ic=2 "
     "loop_order=btc threads=2"},
    {"channels_first_softmax",
     "filters=6,kernel_size=3,padding=valid,data_format=channels_first,activation=softmax",
     {1, 3, 8},
     "isa=avx512 tile_t=2 tile_oc_vecs=1"},
    {"glu_grouped",
     "filters=12,kernel_size=2,groups=3,padding=same,activation=glu",
     {1, 5, 6},
     "isa=avx2 tile_t=2 tile_oc_vecs=1 block_t=4 loop_order=bct prefetch_distance=128"},
};

std::string golden_path(const std::string& name) {
  return std::string(CONVJIT_TEST_DIR) + "/golden/ir/" + name + ".txt";
}

std::string render(const GoldenSpec& g) {
  const Problem p = make_problem(parse_spec(g.spec), g.shape);
  const Schedule s = parse_schedule(g.schedule);
  return "# " + std::string(g.spec) + "\n# schedule: " + to_string(s) + "\n\n" +
         "# before scheduling\n" + to_string(lower_unscheduled(p)) + "\n# after scheduling\n" +
         to_string(lower_scheduled(p, s));
}

TEST(GoldenIr, MatchesTheBlessedText) {
  const bool bless = std::getenv("CONVJIT_BLESS") != nullptr;
  for (const GoldenSpec& g : kGolden) {
    const std::string got = render(g);
    if (bless) {
      std::ofstream out(golden_path(g.name));
      out << got;
      ASSERT_TRUE(out.good()) << "cannot write " << golden_path(g.name);
      continue;
    }
    std::ifstream in(golden_path(g.name));
    ASSERT_TRUE(in.good()) << golden_path(g.name) << " missing: run with CONVJIT_BLESS=1";
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(got, want.str()) << g.name
                               << " changed; if intended, rerun with CONVJIT_BLESS=1 "
                                  "and review the diff of tests/golden/ir/";
  }
}

/// Invariants of the scheduled IR that the backends rely on, for every golden spec.
TEST(GoldenIr, ScheduledIrInvariants) {
  for (const GoldenSpec& g : kGolden) {
    const Problem p = make_problem(parse_spec(g.spec), g.shape);
    const Func f = lower_scheduled(p, parse_schedule(g.schedule));
    VerifyOptions o;
    o.lengths = verification_lengths(f, 64);
    o.require_unrolled = true;
    const auto errors = verify(f, o);
    EXPECT_TRUE(errors.empty()) << g.name << ": " << errors.front();
    // The interior is branch-free: no clipped tap range below an interior loop.
    int interiors = 0;
    visit(f.body, [&](const Stmt& s) {
      const auto* loop = as<For>(s);
      if (!loop || loop->tag.rfind("interior", 0) != 0) return;
      ++interiors;
      visit(loop->body, [&](const Stmt& inner) {
        const auto* k = as<For>(inner);
        EXPECT_FALSE(k && k->tag == "taps in range") << g.name << ": clipped taps in the interior";
      });
    });
    EXPECT_GT(interiors, 0) << g.name;
  }
}

}  // namespace
}  // namespace convjit::detail::ir::test
