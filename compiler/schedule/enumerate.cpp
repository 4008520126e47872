#include "compiler/schedule/enumerate.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "compiler/schedule/kernel_plan.hpp"
#include "compiler/target/target.hpp"
#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

int register_count(Isa isa) {
  return isa_target(isa).vector_registers;
}

/// Collects legal schedules once per resolved plan, in insertion order: two schedules whose
/// KernelPlans print alike (a block_ic that resolves to no block, unroll_k on a one-tap
/// kernel, prefetch rounded to the same tiles, ...) compile to the same code, so the tuner
/// measures only the first.
class Collector {
 public:
  explicit Collector(const Problem& p) : p_(p) {}
  void add(Schedule s) {
    // A block as large as the group is no block: keep one spelling of it.
    if (s.block_ic >= p_.ic_per_group) s.block_ic = 0;
    if (!p_.length_is_dynamic && s.block_t >= p_.out_length) s.block_t = 0;
    std::string key;
    try {
      key = candidate_key(plan_kernel(p_, s));
    } catch (const Error&) {
      return;  // illegal
    }
    if (seen_.insert(key).second) out_.push_back(s);
  }
  std::vector<Schedule> take() { return std::move(out_); }

 private:
  const Problem& p_;
  std::set<std::string> seen_;
  std::vector<Schedule> out_;
};

std::vector<Strategy> strategies_for(const Problem& p) {
  std::vector<Strategy> out{Strategy::kDirect};
  if (p.is_depthwise() && p.oc_per_group == 1) out.push_back(Strategy::kDepthwise);
  return out;
}

/// block_t for a new tile_t: the same number of steps, rounded to a multiple of tile_t.
std::int64_t rounded_block_t(std::int64_t block_t, int tile_t) {
  if (block_t <= 0) return 0;
  return std::max<std::int64_t>(tile_t, block_t / tile_t * tile_t);
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

/// Cycles of one (k, ic) step of an R x C register tile.
double step_cycles(const Schedule& s, int rows, int cols) {
  const double fmas = static_cast<double>(rows) * cols;
  const double loads = s.strategy == Strategy::kDepthwise ? fmas : static_cast<double>(rows + cols);
  const double latency_bound = 4.0;  // each accumulator once per step, 4-cycle FMA latency
  const double overhead =
      1.0 / (s.strategy == Strategy::kDepthwise ? s.unroll_k : s.unroll_ic * s.unroll_k);
  return std::max({fmas / 2.0, loads / 2.0, latency_bound}) + overhead;
}

}  // namespace

std::vector<Schedule> schedule_neighbors(const Schedule& s, const Problem& p) {
  Collector c(p);
  auto with = [&](auto change) {
    Schedule n = s;
    change(n);
    if (n != s) c.add(n);
  };
  for (int u : {1, 2, 4, 8}) {
    if (u <= std::max<std::int64_t>(p.ic_per_group, 1)) with([u](Schedule& n) { n.unroll_ic = u; });
  }
  for (int u : {1, 2, 3, 4}) with([u](Schedule& n) { n.unroll_k = u; });
  for (int d : {0, 256, 512, 1024}) with([d](Schedule& n) { n.prefetch_distance = d; });
  for (bool nt : {false, true}) with([nt](Schedule& n) { n.nontemporal_stores = nt; });
  // Streaming stores need whole reductions: also try them without an input-channel block.
  with([](Schedule& n) {
    n.nontemporal_stores = true;
    n.block_ic = 0;
  });
  for (std::int64_t steps : {0, 32, 128, 512, 2048}) {
    with([steps](Schedule& n) { n.block_t = steps * n.tile_t; });
  }
  for (std::int64_t b : {0, 16, 32, 64, 128, 256}) with([b](Schedule& n) { n.block_ic = b; });
  with([](Schedule& n) {
    n.loop_order = n.loop_order == LoopOrder::kBatchTimeChannel ? LoopOrder::kBatchChannelTime
                                                                : LoopOrder::kBatchTimeChannel;
  });
  for (int d : {-1, 1}) {
    with([&](Schedule& n) {
      n.tile_t = std::max(1, n.tile_t + d);
      n.block_t = rounded_block_t(s.block_t, n.tile_t);
    });
    with([d](Schedule& n) { n.tile_oc_vecs = std::max(1, n.tile_oc_vecs + d); });
  }
  // A change the Collector normalizes away (a block as large as the whole) is no neighbour.
  Collector center(p);
  center.add(s);
  const std::vector<Schedule> self = center.take();
  std::vector<Schedule> out = c.take();
  if (!self.empty()) out.erase(std::remove(out.begin(), out.end(), self[0]), out.end());
  out.erase(std::remove(out.begin(), out.end(), s), out.end());
  return out;
}

std::vector<Schedule> enumerate_schedules(const Problem& p, const EnumerateOptions& options) {
  Collector c(p);
  std::vector<Schedule> defaults;
  for (Isa isa : options.isas) {
    Schedule d = default_schedule(p, isa);
    d.threads = options.threads;
    c.add(d);
    defaults.push_back(d);
  }
  for (const Schedule& d : defaults) {
    const int registers = register_count(d.isa);
    for (Strategy strategy : strategies_for(p)) {
      const std::int64_t channels =
          strategy == Strategy::kDepthwise ? p.in_channels : p.oc_per_group;
      const std::int64_t vectors = ceil_div(channels, d.vector_lanes);
      const int max_cols =
          static_cast<int>(std::min<std::int64_t>({vectors, (registers - 1) / 2, 8}));
      for (int cols = 1; cols <= max_cols; ++cols) {
        const int max_rows = (registers - cols - 1) / cols;
        for (int rows : {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28}) {
          if (rows > max_rows) break;
          if (!p.length_is_dynamic && p.out_length > 0 && rows > p.out_length) break;
          for (std::int64_t block_ic : {std::int64_t{0}, d.block_ic, std::int64_t{32},
                                        std::int64_t{64}, std::int64_t{128}}) {
            if (strategy == Strategy::kDepthwise && block_ic != 0) continue;
            for (LoopOrder order : {LoopOrder::kBatchTimeChannel, LoopOrder::kBatchChannelTime}) {
              for (std::int64_t block_t : {std::int64_t{0}, d.block_t}) {
                Schedule s = d;
                s.strategy = strategy;
                s.tile_oc_vecs = cols;
                s.tile_t = rows;
                s.block_ic = block_ic;
                s.loop_order = order;
                s.block_t = rounded_block_t(block_t, rows);
                if (strategy == Strategy::kDepthwise) s.unroll_ic = 1;
                if (s.nontemporal_stores && s.block_ic > 0) s.nontemporal_stores = false;
                c.add(s);
              }
            }
          }
        }
      }
    }
  }
  for (const Schedule& d : defaults) {
    for (const Schedule& n : schedule_neighbors(d, p)) c.add(n);
  }
  return c.take();
}

double estimate_cost(const Schedule& s, const Problem& p) {
  const std::int64_t batch = std::max<std::int64_t>(p.batch, 1);
  const std::int64_t lout =
      p.length_is_dynamic || p.out_length <= 0 ? 1024 : p.out_length;  // dynamic: a typical L
  const std::int64_t length = p.length_is_dynamic || p.length <= 0 ? lout * p.stride : p.length;
  const bool depthwise = s.strategy == Strategy::kDepthwise;
  const std::int64_t channels = depthwise ? p.in_channels : p.oc_per_group;
  const std::int64_t vectors = ceil_div(channels, s.vector_lanes);
  const std::int64_t full_blocks = vectors / s.tile_oc_vecs;
  const int tail_cols = static_cast<int>(vectors % s.tile_oc_vecs);
  const std::int64_t full_tiles = lout / s.tile_t;
  const std::int64_t tail_rows = lout % s.tile_t;
  // Reduction steps per output tile: K taps x input channels (depthwise: K taps, one channel).
  const double steps_per_tile =
      static_cast<double>(p.kernel) * (depthwise ? 1.0 : static_cast<double>(p.ic_per_group));
  auto block_cycles = [&](int cols) {
    return steps_per_tile *
           (full_tiles * step_cycles(s, s.tile_t, cols) + tail_rows * step_cycles(s, 1, cols));
  };
  double compute = full_blocks * block_cycles(s.tile_oc_vecs);
  if (tail_cols > 0) compute += block_cycles(tail_cols);
  const double groups = depthwise ? 1.0 : static_cast<double>(p.groups);
  compute *= groups * static_cast<double>(batch);

  // Memory traffic (bytes), priced at 32 B/cycle from L2 and 8 B/cycle from memory.
  const double input_bytes = 4.0 * static_cast<double>(batch * length * p.in_channels);
  const double output_bytes = 4.0 * static_cast<double>(batch * lout * p.filters);
  const double weight_bytes = 4.0 * static_cast<double>(p.kernel_size_elems());
  const std::int64_t oc_blocks = full_blocks + (tail_cols > 0 ? 1 : 0);
  const std::int64_t block_t = s.block_t > 0 ? s.block_t : lout;
  const double time_blocks = static_cast<double>(ceil_div(lout, block_t));
  const double block_input_bytes =
      4.0 * static_cast<double>(std::min(block_t * p.stride, length) * p.in_channels);
  double l2 = 0.0, mem = input_bytes + output_bytes + weight_bytes;
  const double tile_weight_bytes = 4.0 * p.kernel * (s.block_ic > 0 ? s.block_ic : p.ic_per_group) *
                                   s.tile_oc_vecs * s.vector_lanes;
  if (!depthwise && tile_weight_bytes > kL1Bytes) {
    // The tile's weights do not stay in L1: they stream from L2 for every time tile.
    l2 += tile_weight_bytes * static_cast<double>(full_tiles + tail_rows) * oc_blocks * groups *
          batch / std::max(1, s.tile_t);
  }
  if (s.loop_order == LoopOrder::kBatchTimeChannel) {
    // Each time block walks every oc block's weights.
    const double w = weight_bytes * time_blocks * batch;
    (weight_bytes > kL2Bytes / 2 ? mem : l2) += w;
  } else {
    // Each oc block walks the time block's input rows.
    const double in = input_bytes * static_cast<double>(oc_blocks);
    (block_input_bytes > kL2Bytes / 2 ? mem : l2) += in;
  }
  if (!depthwise && s.block_ic > 0 && s.block_ic < p.ic_per_group) {
    const double passes = static_cast<double>(ceil_div(p.ic_per_group, s.block_ic));
    l2 += 2.0 * output_bytes * (passes - 1.0);
  }
  double cycles = std::max(compute, l2 / 32.0 + mem / 8.0) + 0.1 * (l2 / 32.0 + mem / 8.0);
  const bool input_beyond_l2 = input_bytes > kL2Bytes;
  if (s.prefetch_distance > 0) cycles *= input_beyond_l2 ? 0.98 : 1.01;
  if (s.nontemporal_stores) cycles *= output_bytes > kL2Bytes ? 0.97 : 1.05;
  return cycles;
}

std::vector<Schedule> rank_by_cost(std::vector<Schedule> candidates, const Problem& p) {
  std::vector<std::pair<double, std::size_t>> order;
  order.reserve(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    order.emplace_back(estimate_cost(candidates[i], p), i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Schedule> out;
  out.reserve(candidates.size());
  for (const auto& [cost, i] : order) out.push_back(std::move(candidates[i]));
  return out;
}

}  // namespace convjit::detail
