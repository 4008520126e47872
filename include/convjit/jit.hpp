// Jit — compiles Conv1D specs into Kernels, through a thread-safe kernel cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "convjit/isa.hpp"
#include "convjit/kernel.hpp"
#include "convjit/spec.hpp"

namespace convjit {

namespace detail {
struct Backend;
}  // namespace detail

/// How to compile one kernel.
struct CompileOptions {
  /// kAuto: the best ISA of this CPU, or CONVJIT_ISA=avx2|avx512 when set (the variable is
  /// read once per process, at first use). An explicit ISA wins over CONVJIT_ISA. An ISA the CPU
  /// lacks throws Error(kUnsupported, "isa").
  Isa isa = Isa::kAuto;
  /// Empty: the default heuristic schedule. Otherwise schedule text, `key=value` words as
  /// Kernel::schedule_text() prints them ("tile_t=4 tile_oc_vecs=2"); keys it leaves out
  /// keep the heuristic's values. An isa= word picks the ISA when `isa` is kAuto and must
  /// agree with it otherwise. Throws Error(kParseError) for malformed text and
  /// Error(kIllegalSchedule) for a schedule the problem or the ISA cannot take.
  std::string schedule;
  /// Threads a run splits over, the caller's included. 0: every hardware thread.
  /// Results are bit-identical for any thread count.
  int threads = 0;
  /// Generate code for an ISA this CPU lacks, to disassemble it (`convjit asm --isa`);
  /// run() on such a kernel throws Error(kUnsupported, "isa").
  bool allow_unsupported_isa = false;
};

/// Options of a Jit.
struct JitOptions {
  /// Most kernels the cache keeps; the least recently used goes first. >= 1.
  std::size_t capacity = 256;
};

/// Counters of a Jit's kernel cache. A compile() served from the cache (or by waiting on
/// another thread compiling the same key) is a hit; one that compiles is a miss.
struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;
  std::uint64_t entries = 0;           ///< kernels in the cache now
  std::uint64_t compile_ns_total = 0;  ///< wall time spent compiling (misses), nanoseconds
};

/// Compiles specs into Kernels and caches them, keyed by everything that changes the code:
/// the spec's computation (filters, kernel_size, strides, padding, data_format, dilation,
/// groups, activation, use_bias), the input shape (a dynamic length or batch keys as
/// dynamic), the resolved ISA, the backend and the schedule text. Thread-safe: concurrent
/// compiles of one key compile once; a hit is a hash lookup under a shared lock.
/// Kernels stay valid after they leave the cache or the Jit is destroyed.
class Jit {
 public:
  explicit Jit(JitOptions options = {});
  /// A Jit generating code with another backend (detail API: tests, alternative backends).
  Jit(JitOptions options, std::shared_ptr<const detail::Backend> backend);
  ~Jit();
  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;

  /// Validates `spec` against `input_shape` (Keras's rules, Error on failure) and returns
  /// the kernel, compiling it on a cache miss. `input_shape` is in data_format order; its
  /// batch and length may be kDynamic, its channel count may not.
  Kernel compile(const Conv1DSpec& spec, const Shape3& input_shape,
                 const CompileOptions& options = {});

  CacheStats stats() const;
  /// Drops every cached kernel (Kernels in use stay valid). Counters are kept.
  void clear();
  std::size_t capacity() const;

  /// The process-wide Jit (capacity 256), used by Conv1D layers and convjit::compile.
  static Jit& default_jit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Jit::default_jit().compile(spec, input_shape, options).
Kernel compile(const Conv1DSpec& spec, const Shape3& input_shape,
               const CompileOptions& options = {});

}  // namespace convjit
