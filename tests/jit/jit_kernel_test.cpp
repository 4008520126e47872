// The Xbyak backend beyond the grid: every activation (fused in registers, and through
// the store/reload epilogue), axis activations, run-time lengths, empty problems, wide
// causal padding, the recorded facts of the interior loop, W^X, names and annotations.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "compiler/backend/xbyak/generate.hpp"
#include "compiler/backend/xbyak/xbyak_driver.hpp"
#include "jit_harness.hpp"

namespace convjit::detail::jit_test {
namespace {

std::vector<Isa> isas_to_run() {
  std::vector<Isa> isas{Isa::kAvx2};
  if (host_has_avx512()) isas.push_back(Isa::kAvx512);
  return isas;
}

const XbyakDriver& as_xbyak(const GeneratedKernel& k) {
  return dynamic_cast<const XbyakDriver&>(k);
}

TEST(JitKernel, EveryElementwiseActivationFused) {
  for (Isa isa : isas_to_run()) {
    const int v = isa == Isa::kAvx512 ? 16 : 8;
    // Tile A leaves many free registers (activation in registers); tile B fills the
    // register file with accumulators (bias + store, reload, activate, store).
    const int big_t = isa == Isa::kAvx512 ? 14 : 4;
    const int big_oc = isa == Isa::kAvx512 ? 2 : 3;
    for (int a = 0; a < kActivationCount; ++a) {
      const auto act = static_cast<Activation>(a);
      if (is_axis_activation(act)) continue;
      for (int tile = 0; tile < 2; ++tile) {
        for (Strategy strategy : {Strategy::kDirect, Strategy::kDepthwise}) {
          ConvCase c;
          c.batch = 2;
          c.length = 3 * v + 5;
          c.channels = strategy == Strategy::kDepthwise ? v + 5 : 4;
          c.filters = strategy == Strategy::kDepthwise ? v + 5 : 2 * v + 3;
          c.groups = strategy == Strategy::kDepthwise ? v + 5 : 1;
          c.padding = Padding::kSame;
          c.activation = act;
          const Problem p = make_case_problem(c);
          const Schedule s = tile == 0 ? make_schedule(isa, 2, 2, strategy, 2)
                                       : make_schedule(isa, big_t, big_oc, strategy, 2);
          const auto kernel = generate_xbyak(p, s);
          const KernelPlan& plan = as_xbyak(*kernel).plan();
          const ColumnVariant& main = plan.full.present ? plan.full : plan.tail;
          const int free_regs = static_cast<int>(main.epilogue_free.size());
          EXPECT_EQ(main.epilogue_in_registers, free_regs >= plan.act_temps + 2)
              << activation_name(act);
          if (tile == 0 && strategy == Strategy::kDirect) {
            EXPECT_TRUE(main.epilogue_in_registers) << activation_name(act);
          }
          if (tile == 1 && strategy == Strategy::kDirect && plan.act_temps > 2) {
            EXPECT_FALSE(main.epilogue_in_registers) << activation_name(act);
          }
          const CheckResult r = run_and_check(*kernel, p, make_data(p, 7 + a), true);
          EXPECT_TRUE(r.ok) << activation_name(act) << " tile " << tile << ": " << r.message;
        }
      }
    }
  }
}

TEST(JitKernel, AxisActivationsBothFormats) {
  for (Isa isa : isas_to_run()) {
    const int v = isa == Isa::kAvx512 ? 16 : 8;
    for (Activation act : {Activation::kSoftmax, Activation::kLogSoftmax, Activation::kSparsemax,
                           Activation::kGlu}) {
      for (DataFormat fmt : {DataFormat::kChannelsLast, DataFormat::kChannelsFirst}) {
        ConvCase c;
        c.batch = 3;
        c.length = 2 * v + 2;  // even output length for glu over time
        c.channels = 5;
        c.filters = v + 3 + (v + 3) % 2;  // even for glu over channels
        c.padding = Padding::kSame;
        c.format = fmt;
        c.activation = act;
        const Problem p = make_case_problem(c);
        const auto kernel = generate_xbyak(p, make_schedule(isa, 3, 2));
        if (fmt == DataFormat::kChannelsFirst) {
          EXPECT_FALSE(kernel->can_split_time());
        } else {
          EXPECT_TRUE(kernel->can_split_time());
          EXPECT_EQ(kernel->oc_split_granularity(), p.filters);
        }
        const CheckResult r = run_and_check(*kernel, p, make_data(p, 3), true);
        EXPECT_TRUE(r.ok) << activation_name(act) << " " << data_format_name(fmt) << ": "
                          << r.message;
      }
    }
  }
}

TEST(JitKernel, DynamicLengthOneKernelServesEveryLength) {
  for (Isa isa : isas_to_run()) {
    for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
      for (DataFormat fmt : {DataFormat::kChannelsLast, DataFormat::kChannelsFirst}) {
        ConvCase c;
        c.dynamic = true;
        c.channels = 6;
        c.filters = 21;
        c.kernel = 4;
        c.stride = 2;
        c.padding = pad;
        c.format = fmt;
        c.activation = Activation::kRelu;
        const Problem base = make_case_problem(c);
        const auto kernel = generate_xbyak(base, make_schedule(isa, 4, 2, Strategy::kDirect, 2));
        for (std::int64_t len : {1, 3, 4, 5, 17, 40, 101}) {
          const Problem p = with_length(base, 2, len);
          const CheckResult r = run_and_check(*kernel, p, make_data(p, 11), true);
          EXPECT_TRUE(r.ok) << "L=" << len << ": " << r.message;
        }
      }
    }
  }
}

TEST(JitKernel, EmptyProblemsWriteNothing) {
  for (Isa isa : isas_to_run()) {
    // N = 0.
    ConvCase c;
    c.batch = 0;
    c.length = 9;
    Problem p = make_case_problem(c);
    auto kernel = generate_xbyak(p, make_schedule(isa, 2, 1));
    EXPECT_TRUE(run_and_check(*kernel, p, make_data(p, 1), true).ok);
    // valid padding with a kernel longer than the input: zero output steps (dynamic).
    c.batch = 2;
    c.dynamic = true;
    c.kernel = 5;
    c.dilation = 2;
    const Problem base = make_case_problem(c);
    kernel = generate_xbyak(base, make_schedule(isa, 2, 1));
    for (std::int64_t len : {0, 1, 8, 9}) {
      p = with_length(base, 2, len);
      ASSERT_EQ(p.out_length, len == 9 ? 1 : 0);
      const CheckResult r = run_and_check(*kernel, p, make_data(p, 2), true);
      EXPECT_TRUE(r.ok) << "L=" << len << ": " << r.message;
    }
  }
}

TEST(JitKernel, CausalPaddingWiderThanManyTiles) {
  for (Isa isa : isas_to_run()) {
    for (Strategy strategy : {Strategy::kDirect, Strategy::kDepthwise}) {
      ConvCase c;
      c.length = 120;
      c.kernel = 9;
      c.dilation = 6;  // left pad 48, far wider than a tile of 3
      c.channels = strategy == Strategy::kDepthwise ? 12 : 7;
      c.filters = strategy == Strategy::kDepthwise ? 12 : 19;
      c.groups = strategy == Strategy::kDepthwise ? 12 : 1;
      c.padding = Padding::kCausal;
      const Problem p = make_case_problem(c);
      const auto kernel = generate_xbyak(p, make_schedule(isa, 3, 2, strategy, 4));
      const CheckResult r = run_and_check(*kernel, p, make_data(p, 5), true);
      EXPECT_TRUE(r.ok) << r.message;
    }
  }
}

TEST(JitKernel, LargerChannelCountsAndThreadLikeSplits) {
  for (Isa isa : isas_to_run()) {
    const int v = isa == Isa::kAvx512 ? 16 : 8;
    ConvCase c;
    c.batch = 3;
    c.length = 77;
    c.channels = 37;
    c.filters = 4 * v + 5;
    c.kernel = 3;
    c.padding = Padding::kSame;
    c.activation = Activation::kTanh;
    const Problem p = make_case_problem(c);
    const auto kernel =
        generate_xbyak(p, make_schedule(isa, isa == Isa::kAvx512 ? 6 : 4, 2, Strategy::kDirect, 4));
    const CheckResult r = run_and_check(*kernel, p, make_data(p, 9), true);
    EXPECT_TRUE(r.ok) << r.message;
  }
}

// Facts recorded during emission: the interior is an FMA loop with no stack access and
// no branch but the loop back-edges.
TEST(JitKernel, InteriorLoopFacts) {
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const int v = isa == Isa::kAvx512 ? 16 : 8;
    const int tile_t = isa == Isa::kAvx512 ? 6 : 3;
    const int tile_oc = isa == Isa::kAvx512 ? 4 : 3;
    ConvCase c;
    c.length = 100;
    c.channels = 64;
    c.filters = 2 * tile_oc * v;
    c.kernel = 3;
    c.padding = Padding::kSame;
    c.activation = Activation::kRelu;
    const Problem p = make_case_problem(c);
    const auto kernel =
        generate_xbyak(p, make_schedule(isa, tile_t, tile_oc, Strategy::kDirect, 4));
    const auto& xk = as_xbyak(*kernel);
    const EmitStats& st = xk.full_stats();
    EXPECT_EQ(st.column_functions, 1);
    EXPECT_FALSE(xk.plan().tail.present);
    EXPECT_EQ(st.innermost_loop_fmas, 4 * tile_t * tile_oc);  // unroll_ic x tile
    EXPECT_EQ(st.interior_fmas, 4 * tile_t * tile_oc);        // one ic loop body per tap
    EXPECT_EQ(st.interior_stack_refs, 0);
    EXPECT_EQ(st.interior_masked_ops, 0);
    // guard + tile back-edge + k loop + ic loop back-edges, nothing else
    EXPECT_EQ(st.interior_loops, 3);
    EXPECT_EQ(st.interior_cond_branches, st.interior_loops + 1);

    // Fully unrolled taps, small ic: one loop (the tile loop), K*ic*tile FMAs in it.
    Schedule s = make_schedule(isa, tile_t, tile_oc, Strategy::kDirect, 8);
    s.unroll_k = 3;
    ConvCase small = c;
    small.channels = 5;
    const Problem q = make_case_problem(small);
    const auto k2 = generate_xbyak(q, s);
    const EmitStats& st2 = as_xbyak(*k2).full_stats();
    EXPECT_EQ(st2.interior_loops, 1);
    EXPECT_EQ(st2.interior_fmas, 3 * 5 * tile_t * tile_oc);
    EXPECT_EQ(st2.innermost_loop_fmas, st2.interior_fmas);
    EXPECT_EQ(st2.interior_cond_branches, 2);
    if (isa == Isa::kAvx2 || host_has_avx512()) {
      EXPECT_TRUE(run_and_check(*k2, q, make_data(q, 4), true).ok);
    }

    // Depthwise with weights in registers: straight taps, K*tile FMAs.
    ConvCase dw;
    dw.length = 50;
    dw.channels = dw.filters = dw.groups = 2 * v;
    dw.kernel = 3;
    const Problem r = make_case_problem(dw);
    const int dw_t = isa == Isa::kAvx512 ? 4 : 2;  // AVX2: 4 accumulators + 6 weights + 3
    const auto k3 = generate_xbyak(r, make_schedule(isa, dw_t, 2, Strategy::kDepthwise));
    const auto& x3 = as_xbyak(*k3);
    EXPECT_EQ(x3.plan().kind, KernelKind::kDepthwise);
    EXPECT_TRUE(x3.plan().dw_weights_in_regs);
    EXPECT_EQ(x3.full_stats().interior_fmas, 3 * dw_t * 2);
    EXPECT_EQ(x3.full_stats().interior_loops, 1);
    EXPECT_EQ(x3.full_stats().interior_stack_refs, 0);
  }
}

TEST(JitKernel, CodeIsNeverWritableAndExecutable) {
  ConvCase c;
  c.activation = Activation::kGelu;
  const Problem p = make_case_problem(c);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const auto kernel = generate_xbyak(p, make_schedule(isa, 2, 1));
    const auto code = reinterpret_cast<std::uintptr_t>(kernel->code());
    std::ifstream maps("/proc/self/maps");
    std::string line;
    bool found = false;
    while (std::getline(maps, line)) {
      std::uintptr_t lo = 0, hi = 0;
      char perms[5] = {};
      if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
      if (code >= lo && code < hi) {
        found = true;
        EXPECT_EQ(std::string(perms, 3), "r-x") << line;
      }
    }
    EXPECT_TRUE(found);
    EXPECT_GT(kernel->code_size(), 0u);
  }
}

TEST(JitKernel, NameAndAnnotationsSayWhatTheKernelIs) {
  ConvCase c;
  c.channels = 64;
  c.filters = 128;
  c.kernel = 3;
  c.padding = Padding::kSame;
  c.activation = Activation::kRelu;
  const Problem p = make_case_problem(c);
  const auto kernel = generate_xbyak(p, make_schedule(Isa::kAvx512, 6, 4));
  EXPECT_EQ(kernel->name(), "conv1d_avx512_direct_c64_f128_k3_s1_d1_g1_same_relu_t6x4");
  std::string all;
  std::size_t last = 0;
  for (const CodeAnnotation& a : kernel->annotations()) {
    EXPECT_GE(a.offset, last);
    EXPECT_LT(a.offset, kernel->code_size());
    last = a.offset;
    all += a.text + "\n";
  }
  for (const char* want :
       {"entry", "loop t (left edge)", "loop t (interior", "micro-kernel 6x4", "loop k", "loop ic",
        "epilogue: bias + relu", "edge:", "loop t (right edge)"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << " missing in\n" << all;
  }
}

TEST(JitKernel, PackedWeightsAreBlockedAndZeroPadded) {
  ConvCase c;
  c.channels = 2;
  c.filters = 10;
  c.kernel = 2;
  const Problem p = make_case_problem(c);
  const auto kernel = generate_xbyak(p, make_schedule(Isa::kAvx2, 2, 2));
  // One block of 16 channels: [k][ic][16], channels 10..15 zero.
  ASSERT_EQ(kernel->packed_weights_floats(), 2u * 2u * 16u);
  std::vector<float> keras(2 * 2 * 10);
  for (std::size_t i = 0; i < keras.size(); ++i) keras[i] = static_cast<float>(i + 1);
  std::vector<float> packed(kernel->packed_weights_floats(), -1.0f);
  kernel->pack_weights(keras.data(), packed.data());
  for (int k = 0; k < 2; ++k) {
    for (int ic = 0; ic < 2; ++ic) {
      for (int lane = 0; lane < 16; ++lane) {
        const float want = lane < 10 ? keras[(k * 2 + ic) * 10 + lane] : 0.0f;
        EXPECT_EQ(packed[(k * 2 + ic) * 16 + lane], want) << k << " " << ic << " " << lane;
      }
    }
  }
}

// The schedules the heuristic (compiler/schedule) hands the backend are accepted and run.
TEST(JitKernel, DefaultSchedulesGenerateAndMatch) {
  struct Shape {
    std::int64_t c, f, k, g, s, d;
    Padding pad;
    DataFormat fmt;
    Activation act;
  };
  const Shape shapes[] = {
      {64, 128, 2, 1, 1, 1, Padding::kValid, DataFormat::kChannelsLast, Activation::kLinear},
      {32, 48, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsFirst, Activation::kGelu},
      {24, 24, 5, 24, 1, 2, Padding::kCausal, DataFormat::kChannelsLast, Activation::kRelu},
      {8, 16, 3, 8, 2, 1, Padding::kSame, DataFormat::kChannelsLast, Activation::kSilu},
      {1, 40, 9, 1, 4, 1, Padding::kValid, DataFormat::kChannelsLast, Activation::kTanh},
      {40, 20, 1, 1, 1, 1, Padding::kValid, DataFormat::kChannelsFirst, Activation::kSoftmax},
  };
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    for (const Shape& sh : shapes) {
      ConvCase c;
      c.batch = 2;
      c.length = 61;
      c.channels = sh.c;
      c.filters = sh.f;
      c.kernel = sh.k;
      c.groups = sh.g;
      c.stride = sh.s;
      c.dilation = sh.d;
      c.padding = sh.pad;
      c.format = sh.fmt;
      c.activation = sh.act;
      const Problem p = make_case_problem(c);
      const Schedule s = default_schedule(p, isa);
      const auto kernel = generate_xbyak(p, s);
      if (isa == Isa::kAvx512 && !host_has_avx512()) continue;
      const CheckResult r = run_and_check(*kernel, p, make_data(p, 21), true);
      EXPECT_TRUE(r.ok) << r.message;
    }
  }
}

TEST(JitKernel, IllegalTilesAreRejected) {
  ConvCase c;
  const Problem p = make_case_problem(c);
  try {
    generate_xbyak(p, make_schedule(Isa::kAvx2, 8, 2));  // 16 accumulators + 3 > 16
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIllegalSchedule);
    EXPECT_NE(std::string(e.what()).find("registers"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace convjit::detail::jit_test
