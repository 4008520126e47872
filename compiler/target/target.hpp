// The target description every planner and code generator reads: vector lanes and
// registers per ISA, and the fixed cache model that plans are made for (the same problem
// gets the same schedule on any host; the tuner measures the host instead). The FMA width
// of this CPU is in fma_units.hpp.
#pragma once

#include <cstdint>

#include "convjit/isa.hpp"

namespace convjit::detail {

/// What an ISA offers a register tile.
struct IsaTarget {
  int lanes;             ///< floats per vector: 8 (ymm) or 16 (zmm)
  int vector_registers;  ///< 16 (AVX2) or 32 (AVX-512)
};

/// kAvx2 and kAvx512 (kAuto must be resolved before: it is taken as AVX-512).
constexpr IsaTarget isa_target(Isa isa) {
  return isa == Isa::kAvx2 ? IsaTarget{8, 16} : IsaTarget{16, 32};
}

/// The cache model of every plan.
inline constexpr std::int64_t kL1Bytes =
    32 * 1024;  ///< per-core L1d of every AVX2/AVX-512 x86 core
inline constexpr std::int64_t kL2Bytes = 1024 * 1024;       ///< a typical per-core L2 (1-2 MiB)
inline constexpr std::int64_t kL3Bytes = 32 * 1024 * 1024;  ///< a typical last-level cache
/// A channel sweep (several output blocks per time tile, in code) keeps the swept blocks'
/// weights within this many bytes, three quarters of L1: the Xbyak plan and the LLVM
/// lowering both read it.
inline constexpr std::int64_t kSweepWeightBytes = 24 * 1024;

}  // namespace convjit::detail
