// convjit_compile_bench — what compiling costs: the full compile of every suite shape (a
// cache miss: validation, schedule, code generation, W^X mapping), the cost of a cache hit,
// and the call overhead of a one-thread run of a tiny kernel.
//
//   convjit_compile_bench [--benchmark_filter=...]    (suite: $CONVJIT_SUITE or
//                                                      shared/anchors/suite.csv)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compiler/ir/pipeline.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/convjit.hpp"
#include "harness/suite.hpp"

namespace {

using convjit::CompileOptions;
using convjit::Jit;
using convjit::JitOptions;
using convjit::Kernel;

/// A full compile per iteration: the cache is emptied first, so every compile is a miss.
void compile_miss(benchmark::State& state, const convjit::harness::SuiteShape& shape,
                  bool dynamic_length) {
  JitOptions options;
  options.capacity = 4;
  Jit jit(options);
  const convjit::Conv1DSpec spec = shape.spec();
  convjit::Shape3 input = shape.input_shape();
  if (dynamic_length) input[1] = convjit::kDynamic;
  std::size_t code_bytes = 0;
  for (auto _ : state) {
    jit.clear();
    const Kernel k = jit.compile(spec, input, CompileOptions{});
    code_bytes = k.code_size();
    benchmark::DoNotOptimize(code_bytes);
  }
  const convjit::CacheStats s = jit.stats();
  state.counters["code_bytes"] = static_cast<double>(code_bytes);
  state.counters["compile_us"] =
      s.misses == 0 ? 0.0 : static_cast<double>(s.compile_ns_total) / 1e3 / s.misses;
}

/// The whole pass pipeline (plan_kernel, lower_conv and every pass to prune_loops) of one
/// suite shape at its default schedule for `isa`: what lowering the one scheduled IR costs.
void lower_scheduled(benchmark::State& state, const convjit::harness::SuiteShape& shape,
                     convjit::Isa isa) {
  namespace detail = convjit::detail;
  const detail::Problem p = detail::make_problem(shape.spec(), shape.input_shape());
  const detail::Schedule s = detail::default_schedule(p, isa);
  std::size_t variables = 0;  // kept live so the lowering is not optimized away
  for (auto _ : state) {
    const detail::ir::Func f = detail::ir::lower_scheduled(p, s);
    variables += f.vars.size();
    benchmark::DoNotOptimize(variables);
  }
}

/// What the Xbyak backend lowers on each compile: the register tiles it walks
/// (ScheduledIr::tiles) and the loop order its driver reads (ScheduledIr::loop_order); and the
/// first stage alone (ScheduledIr::nest: lower_conv to sweep_channel_blocks).
/// kPlan: plan_kernel alone, which every stage includes.
enum class Stage { kPlan, kNest, kTiles, kLoopOrder };
const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::kPlan: return "plan_kernel/";
    case Stage::kNest: return "lower_nest/";
    case Stage::kTiles: return "lower_tiles/";
    case Stage::kLoopOrder: return "lower_loop_order/";
  }
  return "";
}

void lower_stage(benchmark::State& state, const convjit::harness::SuiteShape& shape,
                 convjit::Isa isa, Stage stage) {
  namespace detail = convjit::detail;
  const detail::Problem p = detail::make_problem(shape.spec(), shape.input_shape());
  const detail::Schedule s = detail::default_schedule(p, isa);
  std::size_t variables = 0;  // kept live so the lowering is not optimized away
  for (auto _ : state) {
    const detail::ir::ScheduledIr scheduled(p, s);
    switch (stage) {
      case Stage::kPlan: variables += scheduled.plan()->prefetch_lines.size(); break;
      case Stage::kNest: variables += scheduled.nest().vars.size(); break;
      case Stage::kTiles: variables += scheduled.tiles().func.vars.size(); break;
      case Stage::kLoopOrder: variables += scheduled.loop_order().path.size(); break;
    }
    benchmark::DoNotOptimize(variables);
  }
}

/// Jit::compile of a cached key: the lookup a layer pays on every call.
void cache_hit(benchmark::State& state) {
  static Jit jit = [] {
    JitOptions options;
    options.capacity = 256;
    return Jit(options);
  }();
  const convjit::Conv1DSpec spec = convjit::parse_spec("filters=64,kernel_size=3,padding=same");
  const convjit::Shape3 input{1, convjit::kDynamic, 64};
  jit.compile(spec, input);  // warm
  for (auto _ : state) {
    Kernel k = jit.compile(spec, input);
    benchmark::DoNotOptimize(k);
  }
  state.counters["hits"] = static_cast<double>(jit.stats().hits);
}

/// Kernel::run on a one-step, 8-channel problem with one thread: the fixed cost of a call.
void run_overhead(benchmark::State& state) {
  const convjit::Conv1DSpec spec = convjit::parse_spec("filters=8,kernel_size=1");
  CompileOptions o;
  o.threads = 1;
  const Kernel k = convjit::compile(spec, {1, convjit::kDynamic, 8}, o);
  std::vector<float> w(64, 0.5f), b(8, 0.25f), in(8, 1.0f), out(8);
  const convjit::PackedWeights packed = k.pack_weights(w.data(), b.data());
  for (auto _ : state) {
    k.run(in.data(), packed, out.data(), 1, 1);
    benchmark::DoNotOptimize(out.data());
  }
}

std::string suite_path() {
  if (const char* env = std::getenv("CONVJIT_SUITE")) return env;
  return std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv";
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  try {
    for (const auto& shape : convjit::harness::read_suite(suite_path())) {
      benchmark::RegisterBenchmark(("compile/" + shape.name).c_str(), [shape](
                                                                          benchmark::State& st) {
        compile_miss(st, shape, false);
      })->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("compile_dynamic_length/" + shape.name).c_str(),
                                   [shape](benchmark::State& st) { compile_miss(st, shape, true); })
          ->Unit(benchmark::kMicrosecond);
      for (const convjit::Isa isa : {convjit::Isa::kAvx2, convjit::Isa::kAvx512})
        benchmark::RegisterBenchmark(
            ("lower_scheduled/" + std::string(convjit::isa_name(isa)) + "/" + shape.name).c_str(),
            [shape, isa](benchmark::State& st) { lower_scheduled(st, shape, isa); })
            ->Unit(benchmark::kMicrosecond);
      for (const convjit::Isa isa : {convjit::Isa::kAvx2, convjit::Isa::kAvx512}) {
        for (const Stage stage : {Stage::kPlan, Stage::kNest, Stage::kTiles, Stage::kLoopOrder}) {
          benchmark::RegisterBenchmark(
              (stage_name(stage) + std::string(convjit::isa_name(isa)) + "/" + shape.name).c_str(),
              [shape, isa, stage](benchmark::State& st) { lower_stage(st, shape, isa, stage); })
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convjit_compile_bench: %s\n", e.what());
    return 1;
  }
  benchmark::RegisterBenchmark("cache_hit", cache_hit)->Unit(benchmark::kNanosecond);
  benchmark::RegisterBenchmark("cache_hit", cache_hit)->Threads(2)->Unit(benchmark::kNanosecond);
  benchmark::RegisterBenchmark("run_overhead_1_thread", run_overhead)->Unit(benchmark::kNanosecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
