// The convjit side of the bench: the Kernel API and the run_engine engines against the
// reference, compile times, option errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "harness/convjit_runner.hpp"
#include "harness/output_check.hpp"

namespace convjit::harness {
namespace {

const char* kShapes =
    "name,N,L,Cin,F,K,s,d,g,pad\n"
    "same,2,13,5,7,3,1,1,1,same\n"
    "strided,1,20,4,16,4,3,1,1,valid\n"
    "dilated,1,19,3,9,3,1,4,1,causal\n"
    "depthwise,2,14,8,8,5,1,1,8,same\n";

struct Data {
  std::vector<float> x, w, b;
  explicit Data(const SuiteShape& s) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    x.resize(static_cast<std::size_t>(s.input_elems()));
    w.resize(static_cast<std::size_t>(s.kernel_elems()));
    b.resize(static_cast<std::size_t>(s.filters));
    for (auto* v : {&x, &w, &b}) {
      for (float& e : *v) e = u(rng);
    }
  }
};

std::vector<float> reference(const SuiteShape& s, Activation a, const Data& d) {
  const detail::Problem p = detail::make_problem(s.spec(a), s.input_shape());
  std::vector<float> out(static_cast<std::size_t>(p.output_size()));
  detail::reference_conv1d(p, d.x.data(), d.w.data(), d.b.data(), out.data());
  return out;
}

TEST(ConvjitRunner, EveryEngineMatchesTheReference) {
  const auto engines = convjit_engine_names();
  ASSERT_EQ(engines.front(), "jit");
  for (const SuiteShape& s : parse_suite(kShapes, "t")) {
    const Data d(s);
    const std::vector<float> want = reference(s, Activation::kRelu, d);
    for (const std::string& engine : engines) {
      for (const int threads : {1, 2}) {
        SCOPED_TRACE(s.name + " " + engine + " threads=" + std::to_string(threads));
        ConvjitOptions o;
        o.engine = engine;
        o.threads = threads;
        ConvjitRunner r(s, Activation::kRelu, o, d.x.data(), d.w.data(), d.b.data());
        r.run();
        const CheckResult c =
            compare_outputs(r.output(), want, acc_scale(s, d.x.data(), d.w.data(), d.b.data()));
        EXPECT_TRUE(c.ok()) << c.describe(r.output(), want) << " " << r.describe();
        if (engine == "jit") {
          EXPECT_GT(r.compile_us(), 0.0);
          EXPECT_GT(r.fresh_compile_us(2), 0.0);
          EXPECT_EQ(r.describe().rfind("jit ", 0), 0u) << r.describe();
        } else {
          EXPECT_TRUE(std::isnan(r.compile_us()));
          EXPECT_TRUE(std::isnan(r.fresh_compile_us(2)));
          EXPECT_EQ(r.describe(), engine);
        }
      }
    }
  }
}

TEST(ConvjitRunner, RejectsUnknownOptions) {
  const SuiteShape s = parse_suite(kShapes, "t")[0];
  const Data d(s);
  struct Case {
    ConvjitOptions options;
    ErrorCode code;
    const char* argument;
  };
  ConvjitOptions engine, isa, backend, threads;
  engine.engine = "turbo";
  isa.isa = "sse2";
  backend.backend = "asmjit";
  threads.threads = 0;
  const Case cases[] = {{engine, ErrorCode::kUnknownName, "engine"},
                        {isa, ErrorCode::kUnknownName, "isa"},
                        {backend, ErrorCode::kUnknownName, "backend"},
                        {threads, ErrorCode::kInvalidValue, "threads"}};
  for (const auto& c : cases) {
    try {
      ConvjitRunner r(s, Activation::kLinear, c.options, d.x.data(), d.w.data(), d.b.data());
      FAIL() << "no error for " << c.argument;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.code) << e.what();
      EXPECT_EQ(e.argument(), c.argument) << e.what();
    }
  }
}

}  // namespace
}  // namespace convjit::harness
