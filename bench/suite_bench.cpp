// convjit_bench — Google Benchmark over the shape suite: one benchmark per shape for convjit
// and, when built with oneDNN, one for oneDNN, each with a GFLOP/s counter.
//
// Environment: CONVJIT_SUITE (suite CSV; default shared/anchors/suite.csv),
// CONVJIT_BENCH_THREADS (default 1), CONVJIT_BENCH_ENGINE (default jit),
// CONVJIT_BENCH_ISA (auto), CONVJIT_BENCH_QUICK=1 (shrink the big shapes as --quick does),
// CONVJIT_ONEDNN_FORMULATION (1d_nwc, 1d_any (default), 1d_blocked, 2d_nhwc, 2d_any).
// Benchmark flags (--benchmark_filter=..., --benchmark_format=json) work as usual.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "harness/bench_suite.hpp"
#include "harness/convjit_runner.hpp"
#include "harness/onednn_runner.hpp"

namespace {

using convjit::harness::SuiteShape;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int threads() {
  return std::max(1, std::atoi(env_or("CONVJIT_BENCH_THREADS", "1").c_str()));
}

// Seeded data of one shape, alive for the benchmark's whole run.
struct Data {
  std::vector<float> input, kernel, bias;
  explicit Data(const SuiteShape& s) {
    std::mt19937_64 rng(1);
    auto fill = [&rng](std::vector<float>& v, std::int64_t n, float scale) {
      v.resize(static_cast<std::size_t>(n));
      for (float& x : v) {
        x = scale * static_cast<float>(static_cast<double>(rng() >> 40) / 8388608.0 - 1.0);
      }
    };
    fill(input, s.input_elems(), 1.0f);
    fill(kernel, s.kernel_elems(),
         1.0f / std::sqrt(static_cast<float>(s.kernel * (s.in_channels / s.groups))));
    fill(bias, s.filters, 0.5f);
  }
};

void set_counters(benchmark::State& state, const SuiteShape& s) {
  state.counters["GFLOP"] =
      benchmark::Counter(s.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MFLOP"] = s.flops * 1e-6;
}

void bench_convjit(benchmark::State& state, SuiteShape s) {
  const Data d(s);
  convjit::harness::ConvjitOptions o;
  o.engine = env_or("CONVJIT_BENCH_ENGINE", "jit");
  o.isa = env_or("CONVJIT_BENCH_ISA", "auto");
  o.threads = threads();
  try {
    convjit::harness::ConvjitRunner runner(s, convjit::Activation::kLinear, o, d.input.data(),
                                           d.kernel.data(), d.bias.data());
    runner.run();
    for (auto _ : state) runner.run();
    set_counters(state, s);
    if (std::isfinite(runner.compile_us())) state.counters["compile_us"] = runner.compile_us();
    state.SetLabel(runner.describe());
  } catch (const convjit::Error& e) {
    state.SkipWithError(e.what());
  }
}

void bench_onednn(benchmark::State& state, SuiteShape s,
                  convjit::harness::OnednnFormulation formulation) {
  const Data d(s);
  convjit::harness::onednn_set_threads(threads());
  try {
    convjit::harness::OnednnRunner runner(s, convjit::Activation::kLinear, formulation,
                                          d.input.data(), d.kernel.data(), d.bias.data());
    runner.run();
    for (auto _ : state) runner.run();
    set_counters(state, s);
    state.counters["creation_us"] = runner.creation_us();
    state.SetLabel(runner.describe());
  } catch (const convjit::Error& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const std::string suite_path =
      env_or("CONVJIT_SUITE", std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv");
  const bool quick = env_or("CONVJIT_BENCH_QUICK", "0") == "1";
  std::vector<SuiteShape> suite;
  try {
    suite = convjit::harness::read_suite(suite_path);
  } catch (const convjit::Error& e) {
    std::fprintf(stderr, "convjit_bench: %s\n", e.what());
    return 1;
  }
  auto formulation = convjit::harness::OnednnFormulation::k1dAny;
  const std::string fname = env_or("CONVJIT_ONEDNN_FORMULATION", "1d_any");
  bool known = false;
  for (const auto f : convjit::harness::all_onednn_formulations()) {
    if (fname == convjit::harness::onednn_formulation_name(f)) {
      formulation = f;
      known = true;
    }
  }
  if (!known) {
    std::fprintf(stderr, "convjit_bench: unknown CONVJIT_ONEDNN_FORMULATION=%s\n", fname.c_str());
    return 2;
  }
  for (const SuiteShape& full : suite) {
    const SuiteShape s =
        quick ? convjit::harness::shrink_to_flops(full, convjit::harness::kQuickMaxFlops) : full;
    benchmark::RegisterBenchmark(("convjit/" + s.name).c_str(), bench_convjit, s)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    if (convjit::harness::onednn_available()) {
      benchmark::RegisterBenchmark(("onednn/" + s.name).c_str(), bench_onednn, s, formulation)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::AddCustomContext("threads", std::to_string(threads()));
  benchmark::AddCustomContext("onednn", convjit::harness::onednn_description());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
