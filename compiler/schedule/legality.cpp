#include <fmt/format.h>

#include "compiler/schedule/schedule.hpp"
#include "compiler/target/target.hpp"
#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

[[noreturn]] void refuse(const char* field, const std::string& reason) {
  throw Error(ErrorCode::kIllegalSchedule, field,
              fmt::format("Illegal schedule: {}: {}", field, reason));
}

}  // namespace

void check_schedule_fields(const Schedule& s, const Problem& p) {
  if (s.isa != Isa::kAvx2 && s.isa != Isa::kAvx512) {
    refuse("isa", "must be avx2 or avx512 (auto is resolved before scheduling)");
  }
  const int lanes = isa_target(s.isa).lanes;
  if (s.vector_lanes != lanes) {
    refuse("vector_lanes", fmt::format("{} has {} float lanes, got vector_lanes={}",
                                       isa_name(s.isa), lanes, s.vector_lanes));
  }
  if (s.tile_t < 1) refuse("tile_t", fmt::format("must be >= 1, got {}", s.tile_t));
  if (s.tile_oc_vecs < 1) {
    refuse("tile_oc_vecs", fmt::format("must be >= 1, got {}", s.tile_oc_vecs));
  }
  if (s.strategy == Strategy::kDepthwise) {
    if (!p.is_depthwise() || p.filters != p.groups) {
      refuse("strategy", fmt::format("depthwise computes one filter per input channel "
                                     "(groups == in_channels == filters > 1), got groups={}, "
                                     "in_channels={}, filters={}; use strategy=direct",
                                     p.groups, p.in_channels, p.filters));
    }
    if (s.block_ic != 0) refuse("block_ic", "depthwise has one input channel per group");
  }
  if (s.block_ic < 0) refuse("block_ic", fmt::format("must be >= 0, got {}", s.block_ic));
  if (s.block_ic > p.ic_per_group) {
    refuse("block_ic", fmt::format("exceeds the {} input channels per group, got {}",
                                   p.ic_per_group, s.block_ic));
  }
  if (s.block_t < 0) refuse("block_t", fmt::format("must be >= 0, got {}", s.block_t));
  if (s.block_t > 0 && s.block_t % s.tile_t != 0) {
    refuse("block_t", fmt::format("must be a multiple of tile_t={}, got {}", s.tile_t, s.block_t));
  }
  if (s.unroll_k < 1 || s.unroll_k > 16) {
    refuse("unroll_k", fmt::format("must be in [1, 16], got {}", s.unroll_k));
  }
  if (s.unroll_k > p.kernel) {
    refuse("unroll_k", fmt::format("exceeds kernel_size={}, got {}", p.kernel, s.unroll_k));
  }
  if (s.unroll_ic < 1 || s.unroll_ic > 16) {
    refuse("unroll_ic", fmt::format("must be in [1, 16], got {}", s.unroll_ic));
  }
  if (s.unroll_ic > 1 && s.strategy == Strategy::kDepthwise) {
    refuse("unroll_ic", "depthwise has no input-channel reduction");
  }
  if (s.prefetch_distance < 0 || s.prefetch_distance > 4096 || s.prefetch_distance % 64 != 0) {
    refuse("prefetch_distance",
           fmt::format("must be a multiple of 64 bytes in [0, 4096], got {}", s.prefetch_distance));
  }
  if (s.nontemporal_stores && s.block_ic > 0 && s.block_ic < p.ic_per_group) {
    refuse("nontemporal_stores",
           "partial sums of input-channel blocks are re-read from the "
           "output: streaming stores would evict them");
  }
  if (s.threads < 1 || s.threads > 256) {
    refuse("threads", fmt::format("must be in [1, 256], got {}", s.threads));
  }
}

}  // namespace convjit::detail
