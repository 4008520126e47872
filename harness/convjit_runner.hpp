// ConvjitRunner — convjit's side of the bench: prepare once (compile + pack), then time run().
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "convjit/jit.hpp"
#include "convjit/kernel.hpp"
#include "harness/suite.hpp"

namespace convjit::harness {

/// How convjit runs a suite layer.
struct ConvjitOptions {
  /// "jit": the public Kernel API (Jit::compile, Kernel::pack_weights, Kernel::run).
  /// Any other engine of detail::engine_names() ("reference", "interpreter") goes through
  /// detail::run_engine, which has no separate compile step.
  std::string engine = "jit";
  std::string isa = "auto";       ///< "auto", "avx2", "avx512"
  std::string backend = "xbyak";  ///< the code generator: "xbyak" or "llvm"
  int threads = 1;
  /// A tuning database (`convjit tune`) for Jit::compile (CompileOptions::tuning_db).
  std::string tuning_db;
  /// false: the heuristic schedule, whatever tuning_db and CONVJIT_TUNING_DB say.
  bool use_tuning_db = true;
};

/// 64-byte aligned storage, as a host that cares about speed allocates its activations (and
/// as oneDNN's memory objects are): aligned output rows let kernels take streaming stores.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) {
    const std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const {
    return false;
  }
};

/// The engines the bench can time ("jit" first when the library has it).
std::vector<std::string> convjit_engine_names();

/// One suite layer, ready to run. The data pointers must stay valid while the runner lives.
class ConvjitRunner {
 public:
  /// Validates the options (Error kUnknownName naming "engine", "isa" or "backend"), then
  /// compiles the kernel and packs the weights (engine jit): everything but run().
  ConvjitRunner(const SuiteShape& shape, Activation activation, ConvjitOptions options,
                const float* input, const float* kernel, const float* bias);

  /// One run of the layer on the input into the output buffer (the timed part).
  void run();
  /// The last run's output, (N, Lout, F) channels_last (a copy).
  std::vector<float> output() const { return {output_.begin(), output_.end()}; }

  /// Microseconds of the compile in the constructor (a cache miss in a fresh Jit), or NaN
  /// for an engine without a compile step.
  double compile_us() const { return compile_us_; }
  /// Median microseconds of `repeats` compiles of the same layer, each with a fresh Jit
  /// (no cache), or NaN for an engine without a compile step.
  double fresh_compile_us(int repeats) const;
  /// "jit avx2 xbyak conv1d_avx2_direct_..." or "reference".
  std::string describe() const;
  /// The compiled kernel's schedule text (engine jit), else "".
  std::string schedule_text() const;

 private:
  CompileOptions compile_options() const;

  SuiteShape shape_;
  Conv1DSpec spec_;
  ConvjitOptions options_;
  const float* input_;
  const float* kernel_;
  const float* bias_;
  Kernel compiled_;
  PackedWeights packed_;
  std::vector<float, CacheLineAllocator<float>> output_;  ///< 64-byte aligned
  double compile_us_;
};

}  // namespace convjit::harness
