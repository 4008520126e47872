// Resource limits — hostile sizes refused before anything is allocated or generated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/problem.hpp"

namespace convjit::detail {

/// Largest byte offset generated code may hold in a 32-bit displacement or immediate (the
/// Xbyak backend's own limit: half of INT32_MAX, so sums of two offsets still fit).
inline constexpr std::int64_t kMaxCodeOffset = 0x3fffffff;
/// Largest register tile in time steps any ISA can hold (32 vector registers).
inline constexpr std::int64_t kMaxTileT = 32;
/// Caller buffers larger than this cannot exist on x86-64 (47-bit user address space).
inline constexpr std::int64_t kMaxBufferBytes = std::int64_t{1} << 47;

/// Bytes of physical memory of this machine (sysconf, read once), or kMaxBufferBytes if unknown.
std::int64_t physical_memory_bytes();

/// Refuses, with Error(kResourceLimit) naming the argument, a problem whose generated code
/// would need byte offsets beyond kMaxCodeOffset (rows of C floats, the receptive field,
/// a strided tile, a tile of output rows, a block of packed weights), whose packed weights
/// exceed physical memory, or whose static input or output (in bytes) cannot exist.
/// Exact: computed in 128 bits, so no product wraps before it is compared.
void check_compile_limits(const Problem& p);

/// Refuses a run whose input or output (in bytes) cannot exist: `p` is the problem
/// resolved for the run's batch and length. After it, N*L*C and N*Lout*F are < 2^45.
void check_run_limits(const Problem& p);

/// Refuses, with Error(kResourceLimit, argument), allocating `bytes` bytes (the sum of what
/// one call allocates) when that exceeds this machine's physical memory: before anything is
/// allocated, so the caller gets the library's error and never std::bad_alloc. `what` names
/// the data ("the output of this call, shape (1, 10, 4194304),"). A double, so that sums of
/// huge sizes cannot wrap.
void check_host_memory(double bytes, const char* argument, const std::string& what);

/// Refuses per-thread scratch of `floats` floats that exceeds physical memory.
void check_scratch_limit(const Problem& p, std::size_t floats);

}  // namespace convjit::detail
