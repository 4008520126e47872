#include "harness/micro_kernel.hpp"

#include "harness/bench_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <vector>

#include "compiler/backend/xbyak/conv_generator.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/kernel_plan.hpp"
#include "compiler/schedule/schedule.hpp"
#include "compiler/schedule/weight_layout.hpp"
#include "convjit/spec.hpp"

namespace convjit::harness {
namespace {

using detail::ColumnArgs;
using detail::ConvCodeGenerator;
using detail::KernelPlan;

// A layer cut down so that one column's input, weights and output stay in L1 (about 32 KiB
// on the widest ISA), with a dynamic length so that the heuristic picks its usual tile.
struct Case {
  const char* name;
  const char* spec;
  std::int64_t channels;
};

constexpr Case kCases[] = {
    {"direct", "filters=64,kernel_size=2", 32},
    {"pointwise", "filters=64,kernel_size=1", 64},
    {"grouped", "filters=64,kernel_size=5,groups=2", 64},
    {"first_layer", "filters=64,kernel_size=10,strides=5", 1},
    {"depthwise", "filters=64,kernel_size=4,groups=64", 64},
    {"depthwise_long", "filters=16,kernel_size=31,groups=16", 16},
};

constexpr std::int64_t kTiles = 8;  // interior tiles per call

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct AlignedFloats {
  explicit AlignedFloats(std::size_t n, float value) {
    const std::size_t bytes = std::max<std::size_t>(64, (n * 4 + 63) / 64 * 64);
    data = static_cast<float*>(std::aligned_alloc(64, bytes));
    std::fill(data, data + bytes / 4, value);
  }
  ~AlignedFloats() { std::free(data); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  float* data = nullptr;
};

void no_driver(const void*, const detail::KernelArgs*) {}

// Times the full-width column function of `plan` over kTiles interior tiles.
// `scheduled`: the IR whose interior tiles the column functions walk (`plan` is its plan,
// or a variant of it that only changes registers).
MicroKernelResult time_case(const Case& c, const detail::ir::ScheduledIr& scheduled,
                            const KernelPlan& plan, const std::string& broadcast, double peak,
                            double seconds) {
  const ConvCodeGenerator code(plan, scheduled.full_block(), scheduled.tail_block(), nullptr,
                               &no_driver);
  const std::int64_t steps = kTiles * plan.ur_t;
  const std::int64_t length = (steps - 1) * plan.stride + (plan.K - 1) * plan.dilation + 1;
  AlignedFloats in(static_cast<std::size_t>(length * plan.C), 0.5f);
  AlignedFloats out(static_cast<std::size_t>(steps * plan.F), 0.0f);
  AlignedFloats bias(static_cast<std::size_t>(plan.F + plan.block_width), 0.25f);
  AlignedFloats packed(static_cast<std::size_t>(plan.packed_floats), 0.0f);
  std::vector<float> keras(static_cast<std::size_t>(plan.K * plan.icg * plan.F), 0.01f);
  detail::pack_weights(plan.problem, plan.weights, keras.data(), packed.data);

  ColumnArgs args;
  args.in = in.data;
  args.w = packed.data;
  args.bias = bias.data;
  args.out = out.data;
  args.length = length;
  args.t_int_end = args.t_end = steps;
  const detail::ColumnFn fn = code.full_fn();
  // Flops of the one column the call computes.
  const double taps = plan.kind == detail::KernelKind::kDirect
                          ? static_cast<double>(plan.K * plan.icg)
                          : static_cast<double>(plan.K);
  const double flops =
      2.0 * static_cast<double>(steps) * static_cast<double>(plan.full.vecs * plan.lanes) * taps;

  std::int64_t reps = 16;
  for (;;) {  // calibrate: a round of at least 2 ms
    const double t0 = thread_cpu_seconds();
    for (std::int64_t r = 0; r < reps; ++r) fn(&args);
    if (thread_cpu_seconds() - t0 >= 0.002 || reps >= (std::int64_t{1} << 30)) break;
    reps *= 2;
  }
  const int rounds = std::max(3, static_cast<int>(seconds / 0.002 / 4));
  std::vector<double> rates;
  for (int round = 0; round < rounds; ++round) {
    const double t0 = thread_cpu_seconds();
    for (std::int64_t r = 0; r < reps; ++r) fn(&args);
    const double t = thread_cpu_seconds() - t0;
    if (t > 0) rates.push_back(flops * static_cast<double>(reps) / t * 1e-9);
  }
  std::sort(rates.begin(), rates.end());

  MicroKernelResult r;
  r.name = c.name;
  r.spec = fmt::format("{} on (1, L, {})", c.spec, c.channels);
  r.isa = plan.isa;
  r.tile = fmt::format("{}x{}", plan.ur_t, plan.full.vecs);
  r.broadcast = broadcast;
  r.inner_loop_fmas = code.full_stats().innermost_loop_fmas;
  r.gflops = rates.empty() ? 0.0 : rates[rates.size() / 2];
  r.peak = peak;
  return r;
}

}  // namespace

std::vector<MicroKernelResult> run_micro_kernels(const PeakInfo& peaks, double seconds) {
  std::vector<MicroKernelResult> results;
  std::vector<Isa> isas;
  if (host_supports(Isa::kAvx2)) isas.push_back(Isa::kAvx2);
  if (host_supports(Isa::kAvx512)) isas.push_back(Isa::kAvx512);
  for (const Isa isa : isas) {
    const double peak = isa == Isa::kAvx512 ? peaks.zmm_1t : peaks.ymm_1t;
    for (const Case& c : kCases) {
      const detail::Problem p =
          detail::make_problem(parse_spec_keywords(c.spec), {1, kDynamic, c.channels});
      detail::Schedule s = detail::default_schedule(p, isa);
      s.loop_order = detail::LoopOrder::kBatchChannelTime;  // one block per call: no sweep
      s.prefetch_distance = 0;
      s.nontemporal_stores = false;
      const detail::ir::ScheduledIr scheduled(p, s);
      const KernelPlan& plan = *scheduled.plan();
      const bool direct = plan.kind == detail::KernelKind::kDirect;
      const std::string how = !direct ? "vector" : plan.bcast_reg >= 0 ? "register" : "embedded";
      results.push_back(time_case(c, scheduled, plan, how, peak, seconds));
      // The alternative on AVX-512: the broadcast folded into every FMA.
      if (direct && isa == Isa::kAvx512 && plan.bcast_reg >= 0 && plan.tap_class_size == 0) {
        KernelPlan embedded = plan;
        embedded.bcast_reg = -1;
        results.push_back(time_case(c, scheduled, embedded, "embedded", peak, seconds));
      }
    }
  }
  return results;
}

std::string format_micro_kernels(const std::vector<MicroKernelResult>& results,
                                 const PeakInfo& peaks) {
  std::string out = fmt::format(
      "micro-kernels: the interior loop alone, data in L1, 1 thread (thread CPU time)\n"
      "fp32 FMA peak (measured): ymm {:.1f} GFLOP/s{}\n",
      peaks.ymm_1t, peaks.has_zmm ? fmt::format(", zmm {:.1f} GFLOP/s", peaks.zmm_1t) : "");
  out += fma_units_line(peaks) + "\n";
  out += fmt::format("{:<15} {:<7} {:<5} {:<9} {:>10} {:>8} {:>6}  {}\n", "case", "isa", "tile",
                     "broadcast", "fmas/loop", "GFLOP/s", "%peak", "cut from");
  for (const MicroKernelResult& r : results) {
    out += fmt::format("{:<15} {:<7} {:<5} {:<9} {:>10} {:>8.1f} {:>5.1f}%  {}\n", r.name,
                       isa_name(r.isa), r.tile, r.broadcast, r.inner_loop_fmas, r.gflops,
                       r.peak > 0 ? 100.0 * r.gflops / r.peak : 0.0, r.spec);
  }
  return out;
}

}  // namespace convjit::harness
