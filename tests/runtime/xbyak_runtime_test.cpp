// The runtime with the real Xbyak backend: results against the reference through the public
// API (threads, dynamic lengths), and what the annotated assembly promises.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/asm_text.hpp"
#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/convjit.hpp"
#include "test_util.hpp"

namespace convjit {
namespace {

using test::AsmLine;
using test::AsmLoop;
using test::count_containing;
using test::find_loops;
using test::parse_asm;
using testing::small_ints;
using testing::uniform;

Conv1DSpec make_spec(std::int64_t filters, std::int64_t k, std::int64_t s, std::int64_t d,
                     std::int64_t g, Padding pad, DataFormat df, Activation act, bool bias) {
  Conv1DSpec spec;
  spec.filters = filters;
  spec.kernel_size = k;
  spec.strides = s;
  spec.dilation_rate = d;
  spec.groups = g;
  spec.padding = pad;
  spec.data_format = df;
  spec.activation = act;
  spec.use_bias = bias;
  return spec;
}

Shape3 shape_of(const Conv1DSpec& spec, std::int64_t n, std::int64_t length, std::int64_t c) {
  return spec.data_format == DataFormat::kChannelsFirst ? Shape3{n, c, length}
                                                        : Shape3{n, length, c};
}

std::vector<float> reference(const Conv1DSpec& spec, const Shape3& shape,
                             const std::vector<float>& in, const std::vector<float>& kernel,
                             const std::vector<float>& bias) {
  const detail::Problem p = detail::make_problem(spec, shape);
  std::vector<float> out(static_cast<std::size_t>(p.output_size()));
  detail::reference_conv1d(p, in.data(), kernel.data(), spec.use_bias ? bias.data() : nullptr,
                           out.data());
  return out;
}

/// Compiles (default Jit, AVX2 unless `isa`), runs and compares with the reference: exactly
/// for integer data through linear/relu, within a tolerance otherwise.
void check_against_reference(const Conv1DSpec& spec, std::int64_t n, std::int64_t length,
                             std::int64_t c, int threads, bool dynamic_length = false) {
  const Shape3 shape = shape_of(spec, n, length, c);
  const detail::Problem p = detail::make_problem(spec, shape);
  const bool exact = spec.activation == Activation::kLinear || spec.activation == Activation::kRelu;
  const auto in = exact ? small_ints(p.input_size(), 11) : uniform(p.input_size(), 11);
  const auto w = exact ? small_ints(p.kernel_size_elems(), 12) : uniform(p.kernel_size_elems(), 12);
  const auto b = exact ? small_ints(p.filters, 13) : uniform(p.filters, 13);
  CompileOptions o;
  o.isa = Isa::kAvx2;
  o.threads = threads;
  const Shape3 compiled = dynamic_length ? shape_of(spec, n, kDynamic, c) : shape;
  const Kernel k = compile(spec, compiled, o);
  std::vector<float> out(static_cast<std::size_t>(k.output_size(n, length)), -1234.5f);
  k.run(in.data(), k.pack_weights(w.data(), spec.use_bias ? b.data() : nullptr), out.data(), n,
        length);
  const auto expected = reference(spec, shape, in, w, b);
  ASSERT_EQ(out.size(), expected.size()) << p.to_string();
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (exact) {
      ASSERT_EQ(out[i], expected[i]) << p.to_string() << " element " << i << " " << k.name();
    } else {
      ASSERT_NEAR(out[i], expected[i], 1e-4 + 1e-4 * std::fabs(expected[i]))
          << p.to_string() << " element " << i << " " << k.name();
    }
  }
}

TEST(XbyakRuntime, MatchesTheReferenceOverAGrid) {
  const DataFormat cl = DataFormat::kChannelsLast, cf = DataFormat::kChannelsFirst;
  for (DataFormat df : {cl, cf}) {
    for (Padding pad : {Padding::kValid, Padding::kSame, Padding::kCausal}) {
      for (std::int64_t length : {7, 8, 9, 31, 33}) {
        SCOPED_TRACE(::testing::Message() << "length " << length);
        check_against_reference(make_spec(16, 3, 1, 1, 1, pad, df, Activation::kLinear, true), 2,
                                length, 5, 1);
        check_against_reference(make_spec(9, 2, 2, 1, 1, pad, df, Activation::kRelu, false), 1,
                                length, 8, 2);
        check_against_reference(make_spec(12, 3, 1, 2, 3, pad, df, Activation::kLinear, true), 1,
                                length, 6, 2);
        check_against_reference(make_spec(24, 4, 1, 1, 24, pad, df, Activation::kLinear, true), 2,
                                length, 24, 3);
      }
    }
  }
}

TEST(XbyakRuntime, ActivationsIncludingAxisOnes) {
  for (Activation act : {Activation::kTanh, Activation::kGelu, Activation::kSilu,
                         Activation::kSoftmax, Activation::kGlu, Activation::kSigmoid}) {
    SCOPED_TRACE(activation_name(act));
    for (DataFormat df : {DataFormat::kChannelsLast, DataFormat::kChannelsFirst}) {
      check_against_reference(make_spec(16, 3, 1, 1, 1, Padding::kSame, df, act, true), 2, 40, 8,
                              2);
    }
  }
}

TEST(XbyakRuntime, DynamicLengthKernelServesEveryLength) {
  const Conv1DSpec spec = make_spec(16, 3, 1, 2, 1, Padding::kCausal, DataFormat::kChannelsLast,
                                    Activation::kRelu, true);
  const CacheStats before = Jit::default_jit().stats();
  for (std::int64_t length = 1; length <= 40; length += 3) {
    check_against_reference(spec, 2, length, 8, 2, /*dynamic_length=*/true);
  }
  const CacheStats after = Jit::default_jit().stats();
  EXPECT_EQ(after.misses - before.misses, 1u) << "one kernel serves every length";
}

TEST(XbyakRuntime, AnyThreadCountGivesTheSameBits) {
  struct Case {
    Conv1DSpec spec;
    std::int64_t n, length, c;
  };
  const std::vector<Case> cases = {
      {make_spec(64, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsLast, Activation::kGelu,
                 true),
       3, 257, 32},
      {make_spec(40, 5, 2, 1, 1, Padding::kValid, DataFormat::kChannelsFirst, Activation::kTanh,
                 true),
       2, 300, 16},
      {make_spec(64, 7, 1, 1, 64, Padding::kCausal, DataFormat::kChannelsLast, Activation::kLinear,
                 false),
       1, 500, 64},
      {make_spec(32, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsFirst, Activation::kSoftmax,
                 true),
       2, 200, 16},
  };
  for (const Case& c : cases) {
    const Shape3 shape = shape_of(c.spec, c.n, c.length, c.c);
    const detail::Problem p = detail::make_problem(c.spec, shape);
    const auto in = uniform(p.input_size(), 1);
    const auto w = uniform(p.kernel_size_elems(), 2);
    const auto b = uniform(p.filters, 3);
    std::vector<float> first;
    for (int threads : {1, 2, 3, 5}) {
      CompileOptions o;
      o.isa = Isa::kAvx2;
      o.threads = threads;
      const Kernel k = compile(c.spec, shape, o);
      std::vector<float> out(static_cast<std::size_t>(k.output_size(c.n, c.length)));
      k.run(in.data(), k.pack_weights(w.data(), c.spec.use_bias ? b.data() : nullptr), out.data(),
            c.n, c.length);
      if (threads == 1) {
        first = out;
      } else {
        ASSERT_EQ(0, std::memcmp(out.data(), first.data(), out.size() * sizeof(float)))
            << p.to_string() << " with " << threads << " threads";
      }
    }
  }
}

// ---- assembly ------------------------------------------------------------------------------

Kernel compile_for_asm(const Conv1DSpec& spec, const Shape3& shape, Isa isa,
                       const std::string& schedule = "") {
  CompileOptions o;
  o.isa = isa;
  o.schedule = schedule;
  o.allow_unsupported_isa = true;  // AVX-512 code is read, not run, on hosts without it
  return compile(spec, shape, o);
}

void expect_no_stack_in_interior(const std::vector<AsmLine>& lines, const std::string& name) {
  const auto interiors = find_loops(lines, "loop t (interior");
  EXPECT_FALSE(interiors.empty()) << name << ": no interior loop annotated";
  for (const AsmLoop& loop : interiors) {
    // rbp may serve as a plain register; a stack or frame memory operand may not appear.
    for (const char* bad : {"[rsp", "[rbp", "push", "pop", "call"}) {
      EXPECT_EQ(count_containing(loop.body, bad), 0)
          << name << ": '" << bad << "' in " << loop.note;
    }
  }
}

TEST(XbyakAssembly, Avx2CodeHasNoZmm) {
  const std::vector<std::pair<Conv1DSpec, Shape3>> cases = {
      {make_spec(64, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsLast, Activation::kGelu,
                 true),
       {1, kDynamic, 32}},
      {make_spec(64, 31, 1, 1, 64, Padding::kSame, DataFormat::kChannelsLast, Activation::kLinear,
                 true),
       {8, 512, 64}},
      {make_spec(20, 10, 5, 1, 1, Padding::kValid, DataFormat::kChannelsFirst, Activation::kSoftmax,
                 true),
       {1, 1, 1000}},
  };
  for (const auto& [spec, shape] : cases) {
    const Kernel k = compile_for_asm(spec, shape, Isa::kAvx2);
    const std::string text = k.disassemble();
    EXPECT_EQ(text.find("zmm"), std::string::npos) << k.name();
    EXPECT_NE(text.find("ymm"), std::string::npos) << k.name();
    EXPECT_NE(text.find("vfmadd231ps"), std::string::npos) << k.name();
    expect_no_stack_in_interior(parse_asm(text), k.name());
  }
}

TEST(XbyakAssembly, Avx512CodeUsesZmm) {
  const Conv1DSpec spec =
      make_spec(64, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsLast, Activation::kRelu, true);
  const Kernel k = compile_for_asm(spec, {1, 256, 64}, Isa::kAvx512);
  EXPECT_EQ(k.isa(), Isa::kAvx512);
  const std::string text = k.disassemble();
  EXPECT_NE(text.find("zmm"), std::string::npos) << k.name();
  expect_no_stack_in_interior(parse_asm(text), k.name());
}

TEST(XbyakAssembly, InnermostLoopHoldsTheRegisterTile) {
  struct Case {
    Isa isa;
    std::string schedule;
    int tile_t, tile_oc_vecs, unroll_ic;
    std::int64_t filters;
  };
  const std::vector<Case> cases = {
      {Isa::kAvx2, "tile_t=4 tile_oc_vecs=2 unroll_ic=2 unroll_k=1", 4, 2, 2, 32},
      {Isa::kAvx2, "tile_t=3 tile_oc_vecs=3 unroll_ic=1 unroll_k=1", 3, 3, 1, 48},
      {Isa::kAvx512, "tile_t=6 tile_oc_vecs=4 unroll_ic=1 unroll_k=1", 6, 4, 1, 128},
      {Isa::kAvx512, "tile_t=4 tile_oc_vecs=2 unroll_ic=4 unroll_k=1", 4, 2, 4, 64},
  };
  for (const Case& c : cases) {
    const Conv1DSpec spec = make_spec(c.filters, 3, 1, 1, 1, Padding::kSame,
                                      DataFormat::kChannelsLast, Activation::kLinear, true);
    const Kernel k = compile_for_asm(spec, {1, 512, 64}, c.isa, c.schedule);
    const detail::Schedule s = detail::parse_schedule(k.schedule_text());
    ASSERT_EQ(s.tile_t, c.tile_t) << k.schedule_text();
    ASSERT_EQ(s.tile_oc_vecs, c.tile_oc_vecs) << k.schedule_text();
    ASSERT_EQ(s.unroll_ic, c.unroll_ic) << k.schedule_text();
    const auto lines = parse_asm(k.disassemble());
    const std::string tile = std::to_string(c.tile_t) + "x" + std::to_string(c.tile_oc_vecs);
    int micro_notes = 0;
    for (const auto& l : lines)
      micro_notes += l.note && l.text.rfind("micro-kernel " + tile, 0) == 0;
    EXPECT_GE(micro_notes, 1) << k.name() << ": no micro-kernel " << tile;
    const auto ic_loops = find_loops(lines, "loop ic (x" + std::to_string(c.unroll_ic) + ")");
    ASSERT_FALSE(ic_loops.empty()) << k.name();
    const int expected_fmas = c.tile_t * c.tile_oc_vecs * c.unroll_ic;
    // The first ic loop is the interior's (the F is a whole number of tiles).
    EXPECT_EQ(count_containing(ic_loops.front().body, "vfmadd231ps"), expected_fmas)
        << k.name() << " " << k.schedule_text();
    for (const char* bad : {"[rsp", "[rbp"}) {
      EXPECT_EQ(count_containing(ic_loops.front().body, bad), 0) << k.name();
    }
    expect_no_stack_in_interior(lines, k.name());
    if (c.isa == Isa::kAvx2) {
      EXPECT_EQ(count_containing(ic_loops.front().body, "zmm"), 0);
    } else {
      EXPECT_EQ(count_containing(ic_loops.front().body, "vfmadd231ps zmm"), expected_fmas);
    }
    // Loads per FMA: one broadcast per tile row and one load per weight vector, for each
    // unrolled input channel; the FMAs take registers only (no {1to16} memory operands).
    const auto& body = ic_loops.front().body;
    EXPECT_EQ(count_containing(body, "vbroadcastss"), c.tile_t * c.unroll_ic) << k.name();
    EXPECT_EQ(count_containing(body, "vmovups"), c.tile_oc_vecs * c.unroll_ic) << k.name();
    EXPECT_EQ(count_containing(body, "ptr"), (c.tile_t + c.tile_oc_vecs) * c.unroll_ic)
        << k.name() << ": memory operands beyond the broadcasts and weight loads";
    EXPECT_EQ(count_containing(body, "{1to"), 0) << k.name();
  }
}

TEST(XbyakAssembly, AnnotationsNameTheParts) {
  const Conv1DSpec spec =
      make_spec(32, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsLast, Activation::kGelu, true);
  const Kernel k = compile_for_asm(spec, {1, kDynamic, 16}, Isa::kAvx2);
  const std::string text = k.disassemble();
  for (const char* part :
       {"; entry", "; loop t (left edge)", "; loop t (interior", "; micro-kernel",
        "; loop t (right edge)", "; edge:", "; epilogue", "; constants: gelu"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << " missing in\n" << text;
  }
}

TEST(XbyakRuntime, RealCodeIsNeverWritableAndExecutable) {
  std::vector<Kernel> kernels;
  for (std::int64_t c : {3, 17, 64}) {
    CompileOptions o;
    o.isa = Isa::kAvx2;
    kernels.push_back(compile(make_spec(16, 3, 1, 1, 1, Padding::kSame, DataFormat::kChannelsLast,
                                        Activation::kTanh, true),
                              {1, kDynamic, c}, o));
  }
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream words(line);
    std::string range, perms;
    words >> range >> perms;
    EXPECT_FALSE(perms[1] == 'w' && perms[2] == 'x') << "writable+executable: " << line;
  }
}

}  // namespace
}  // namespace convjit
