// GeneratedKernel — what a machine-code backend hands the runtime: executable code with
// one calling convention, its packed-weight layout, and annotations for the assembly dump.
//
// Contract between compiler/backend/xbyak (code generation) and runtime/ (Kernel, Jit,
// cache, threads). The runtime never looks inside the code; backends never allocate
// threads or caches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/pipeline.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"

namespace convjit::detail {

/// Arguments of one call of generated code. A call computes the outputs
/// [n_begin, n_end) x [t_begin, t_end) x [oc_begin, oc_end) of the problem for a run-time
/// `length`; ranges from different calls never overlap, so threads may run calls
/// concurrently, and each output element is computed by the same instruction sequence
/// whatever the ranges are (bit-identical results for any thread count).
/// t ranges are in output steps; oc ranges in output channels, multiples of the
/// kernel's oc_split_granularity except the last.
struct KernelArgs {
  const float* input = nullptr;    ///< N x L x C (channels_last) or N x C x L (channels_first)
  const float* weights = nullptr;  ///< packed with GeneratedKernel::pack_weights
  const float* bias = nullptr;     ///< F floats, or nullptr without bias
  float* output = nullptr;         ///< the final output layout of the Problem
  float* scratch = nullptr;        ///< per-call scratch of scratch_floats(length) floats
  std::int64_t length = 0;         ///< input length L of this call
  std::int64_t out_length = 0;     ///< Lout for L
  std::int64_t pad_left = 0;       ///< left padding for L
  std::int64_t n_begin = 0, n_end = 0;
  std::int64_t t_begin = 0, t_end = 0;
  std::int64_t oc_begin = 0, oc_end = 0;
};

using KernelEntry = void (*)(const KernelArgs*);

/// A named position in the generated code, for the annotated assembly dump.
struct CodeAnnotation {
  std::size_t offset = 0;  ///< byte offset from the start of the code
  std::string text;        ///< e.g. "loop t (interior)", "micro-kernel 6x4", "epilogue: gelu"
};

/// Executable code (W^X: never writable and executable at once) plus its metadata.
class GeneratedKernel {
 public:
  virtual ~GeneratedKernel() = default;

  virtual KernelEntry entry() const = 0;
  virtual const std::uint8_t* code() const = 0;
  virtual std::size_t code_size() const = 0;
  virtual const std::vector<CodeAnnotation>& annotations() const = 0;
  /// Short name that says what the kernel is, e.g.
  /// "conv1d_avx512_direct_c64_f128_k3_s1_d1_g1_same_relu".
  virtual std::string name() const = 0;

  const Problem& problem() const { return problem_; }
  const Schedule& schedule() const { return schedule_; }
  /// The scheduled IR this kernel was compiled from (its plan, and ir::lower_scheduled's
  /// loop nest, lowered on first use): every backend receives one. Null only for test fakes.
  const std::shared_ptr<const ir::ScheduledIr>& ir() const { return ir_; }

  /// Floats of the packed weights buffer.
  virtual std::size_t packed_weights_floats() const = 0;
  /// Packs Keras-layout weights (K, C/g, F) into `packed` (packed_weights_floats() floats).
  virtual void pack_weights(const float* keras_kernel, float* packed) const = 0;
  /// Floats of per-call scratch a call with input length L needs (0 if none).
  virtual std::size_t scratch_floats(std::int64_t length) const = 0;
  /// Outputs that must be computed by one call along each axis: oc splits must be
  /// multiples of this (the whole F for channels_first glu/softmax, ...).
  virtual std::int64_t oc_split_granularity() const = 0;
  /// False when t may not be split between calls (axis activations over time).
  virtual bool can_split_time() const = 0;

  /// The backend's own assembly listing, when it has one (the LLVM backend: LLVM's asm
  /// printer, Intel syntax, blocks named after the IR's loops). Empty: the runtime
  /// disassembles code() with annotations().
  virtual std::string assembly() const { return {}; }
  /// Extra CONVJIT_DUMP files as {extension, contents} (the LLVM backend: {".ll", IR}).
  virtual std::vector<std::pair<std::string, std::string>> dump_files() const { return {}; }
  /// Whether this CPU can run the code (the LLVM backend's target may be any x86-64 CPU).
  virtual bool runs_on_host() const { return host_supports(schedule().isa); }

 protected:
  explicit GeneratedKernel(std::shared_ptr<const ir::ScheduledIr> scheduled)
      : problem_(scheduled->problem()),
        schedule_(scheduled->plan()->schedule),
        ir_(std::move(scheduled)) {}
  /// A kernel without IR (test fakes).
  GeneratedKernel(Problem p, Schedule s) : problem_(std::move(p)), schedule_(std::move(s)) {}

 private:
  Problem problem_;
  Schedule schedule_;
  std::shared_ptr<const ir::ScheduledIr> ir_;
};

}  // namespace convjit::detail
