// The tuner's search space: legal candidate schedules of a Problem, their neighbours, and a
// simple cost model that ranks them so that the tuner measures the promising ones first.
#pragma once

#include <vector>

#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/isa.hpp"

namespace convjit::detail {

/// What to enumerate.
struct EnumerateOptions {
  std::vector<Isa> isas{Isa::kAvx2};  ///< ISAs to search (the tuner passes those the host has)
  int threads = 1;                    ///< Schedule::threads of every candidate
};

/// The search space of `p`: for every ISA, first default_schedule (with `threads`), then the
/// grid of strategy x register tile (tile_t x tile_oc_vecs) x input-channel block x loop
/// order x time block, with the other fields at the heuristic's choice, then the
/// neighbours of each default. Every schedule passes check_legal; no two resolve to the same
/// KernelPlan (to_string(plan_kernel(p, s)) is the key).
std::vector<Schedule> enumerate_schedules(const Problem& p, const EnumerateOptions& options);

/// Legal schedules that differ from `s` in one field: unroll_ic, unroll_k, prefetch_distance,
/// nontemporal_stores, block_t, block_ic, loop_order, tile_t +-1, tile_oc_vecs +-1.
/// `s` itself is not included.
std::vector<Schedule> schedule_neighbors(const Schedule& s, const Problem& p);

/// Estimated cycles of one single-threaded run of `p` with `s`: FMA and load throughput of
/// the register tile (2 FMAs and 2 loads per cycle, 4-cycle FMA latency), the tail tiles
/// of time and channels, loop overhead against unrolling, and the traffic of weights,
/// inputs and partial sums from L2 or memory for the cache blocks and loop order. Only
/// its order matters: the tuner measures what it ranks first.
double estimate_cost(const Schedule& s, const Problem& p);

/// `candidates` sorted by estimate_cost (cheapest first, stable on ties).
std::vector<Schedule> rank_by_cost(std::vector<Schedule> candidates, const Problem& p);

}  // namespace convjit::detail
