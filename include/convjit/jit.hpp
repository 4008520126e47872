// Jit — compiles Conv1D specs into Kernels, through a thread-safe kernel cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "convjit/isa.hpp"
#include "convjit/kernel.hpp"
#include "convjit/spec.hpp"

namespace convjit {

namespace detail {
struct CodeGenerator;
}  // namespace detail

class StreamKernel;
struct StreamOptions;

/// Which code generator compiles a kernel.
enum class Backend {
  kAuto,   ///< CONVJIT_BACKEND=xbyak|llvm when set, else Xbyak, or LLVM when the CPU lacks AVX2+FMA
  kXbyak,  ///< convjit's own AVX2 / AVX-512 generator: compiles in tens of microseconds
  kLlvm,   ///< LLVM 16 (ORC LLJIT): any x86-64 CPU (see CompileOptions::cpu); milliseconds
};

const char* backend_name(Backend backend);                   ///< "auto", "xbyak", "llvm"
std::optional<Backend> find_backend(std::string_view name);  ///< inverse of backend_name

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
  /// A tuning database written by `convjit tune` (JSON lines). When `schedule` is empty, a
  /// compile that misses the cache looks up the best valid record for the spec, the input
  /// shape class, the thread count, this CPU and this convjit version, and compiles its
  /// schedule instead of the heuristic (none found: the heuristic). Empty: the Jit's
  /// JitOptions::tuning_db, else the CONVJIT_TUNING_DB variable (read once per process).
  /// A database is read once per Jit and path; a corrupt, truncated or foreign-version one
  /// is reported once on stderr and its bad lines are ignored (see docs/tuning.md).
  std::string tuning_db;
  /// false: never consult a tuning database (the heuristic schedule, whatever tuning_db,
  /// JitOptions::tuning_db and CONVJIT_TUNING_DB say).
  bool use_tuning_db = true;
  /// The code generator. kAuto: CONVJIT_BACKEND=xbyak|llvm when set (read once per process),
  /// else Xbyak, or LLVM with cpu "x86-64" when this CPU lacks AVX2+FMA. A Jit made with its
  /// own detail::CodeGenerator ignores it. The backend is part of the cache key.
  Backend backend = Backend::kAuto;
  /// LLVM backend only: the CPU to generate code for, as LLVM names it: "x86-64" (SSE2: runs on
  /// every x86-64 CPU; the avx2 schedule's 8-float vectors become pairs of SSE registers),
  /// "x86-64-v3", "haswell", "skylake-avx512", "znver4", ... or "host". Empty: the CPU `isa`
  /// implies (x86-64-v3 for avx2, x86-64-v4 for avx512), tuned for this CPU. Throws
  /// Error(kUnknownName, "cpu") for a name LLVM does not know, Error(kUnsupported, "cpu") for a
  /// CPU whose code this machine cannot run (unless allow_unsupported_isa), and
  /// Error(kIncompatibleArguments, "cpu") with the Xbyak backend.
  std::string cpu;
};

/// Options of a Jit.
struct JitOptions {
  /// Most kernels the cache keeps; the least recently used goes first. >= 1.
  std::size_t capacity = 256;
  /// The tuning database of compiles whose CompileOptions::tuning_db is empty (empty here:
  /// CONVJIT_TUNING_DB).
  std::string tuning_db;
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
  Jit(JitOptions options, std::shared_ptr<const detail::CodeGenerator> backend);
  ~Jit();
  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;

  /// Validates `spec` against `input_shape` (Keras's rules, Error on failure) and returns
  /// the kernel, compiling it on a cache miss. `input_shape` is in data_format order; its
  /// batch and length may be kDynamic, its channel count may not.
  Kernel compile(const Conv1DSpec& spec, const Shape3& input_shape,
                 const CompileOptions& options = {});
  /// A streaming kernel for chunks of `channels` input channels (convjit/stream.hpp): the
  /// spec's kernel compiled for any batch and length (through this Jit's cache), plus what a
  /// stream needs. Throws as compile() does, Error(kUnsupported, "activation") for an
  /// activation over the time axis (softmax, log_softmax, sparsemax, glu with
  /// channels_first), and Error(kIncompatibleArguments, "sequence_length") for
  /// padding="same" with strides > 1 whose left padding depends on the length, without
  /// StreamOptions::sequence_length.
  StreamKernel compile_stream(const Conv1DSpec& spec, std::int64_t channels,
                              const CompileOptions& options, const StreamOptions& stream_options);

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
