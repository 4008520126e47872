// Kernel — a compiled Conv1D: machine code for one spec and input shape class.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "convjit/isa.hpp"
#include "convjit/spec.hpp"

namespace convjit {

namespace detail {
class CompiledKernel;
struct PackedBuffer;
}  // namespace detail

/// Weights packed once into a kernel's blocked layout (an owning, 64-byte aligned buffer
/// of the kernel and the bias). Made by Kernel::pack_weights; immutable, so a copy is
/// cheap (it shares the buffer) and one PackedWeights may serve many threads at once.
/// It fits every kernel with the same weight layout (same spec, shape class, ISA and
/// schedule), whichever Jit compiled it.
class PackedWeights {
 public:
  /// An empty object: run() rejects it.
  PackedWeights() = default;

  bool empty() const { return buffer_ == nullptr; }
  /// Floats of packed kernel data (0 when empty).
  std::size_t size() const;

 private:
  friend class Kernel;
  friend class StreamKernel;
  std::shared_ptr<const detail::PackedBuffer> buffer_;
};

/// A compiled Conv1D. A cheap handle (it shares an immutable compiled object): copy it
/// freely, and call run() from any number of threads at once.
///
/// Made by Jit::compile for a spec and an input shape in the spec's data_format order,
/// (N, L, C) or (N, C, L). N and/or L may be kDynamic: such a kernel serves every batch
/// size and/or length at run time without recompiling.
///
///   convjit::Kernel k = convjit::Jit::default_jit().compile(spec, {1, convjit::kDynamic, 64});
///   convjit::PackedWeights w = k.pack_weights(kernel, bias);   // Keras layout, once
///   std::vector<float> out(k.output_size(1, 1000));
///   k.run(input, w, out.data(), 1, 1000);
class Kernel {
 public:
  /// An empty handle: every call but empty() throws Error(kInvalidValue, "kernel").
  Kernel() = default;

  bool empty() const { return impl_ == nullptr; }

  /// Packs Keras-layout weights: `kernel` holds (kernel_size, in_channels / groups,
  /// filters) floats row-major, `bias` holds `filters` floats. `bias` must be nullptr
  /// exactly when the spec has use_bias=false. Throws Error(kInvalidValue) for a null
  /// `kernel`, a missing or unexpected `bias`.
  PackedWeights pack_weights(const float* kernel, const float* bias) const;

  /// Computes the layer (convolution, bias, activation) for `batch` samples of input
  /// length `length`. `input` holds input_size(batch, length) floats in the data_format
  /// layout; `output` receives output_size(batch, length) floats in the layout of
  /// output_shape(batch, length). Input and output must not overlap.
  /// Throws Error: kShapeMismatch when batch or length differs from a static compiled
  /// one or `weights` were packed for another layout; kInvalidShape for a length the
  /// layer cannot take (as Keras and a static compile: a `valid` conv whose output would
  /// have no step, e.g. length 9 with kernel_size 10); kInvalidValue for null pointers (allowed
  /// only when the buffer has no elements) or empty weights; kUnsupported when the kernel was
  /// compiled for an ISA this CPU lacks (CompileOptions::allow_unsupported_isa).
  void run(const float* input, const PackedWeights& weights, float* output, std::int64_t batch,
           std::int64_t length) const;

  /// The input shape the kernel was compiled for, kDynamic where dynamic.
  Shape3 input_shape() const;
  bool dynamic_batch() const;
  bool dynamic_length() const;
  /// Shape of the output for a run, in data_format order (glu halves the last axis).
  Shape3 output_shape(std::int64_t batch, std::int64_t length) const;
  /// Elements of the input and of the output of a run.
  std::int64_t input_size(std::int64_t batch, std::int64_t length) const;
  std::int64_t output_size(std::int64_t batch, std::int64_t length) const;

  /// The generated code as Intel-syntax assembly, one instruction per line with its byte
  /// offset, annotated with what the compiler put where (loop heads, micro-kernel, edges,
  /// epilogue). Starts with `;` comment lines naming the kernel, problem and schedule.
  std::string disassemble() const;
  /// A name that says what the kernel is, e.g. "conv1d_avx2_direct_c64_f128_k3_s1_d1_g1_same_relu".
  std::string name() const;
  /// The schedule in parse_schedule text form (threads= is this handle's thread count).
  std::string schedule_text() const;
  /// The ISA the code uses (never kAuto).
  Isa isa() const;
  /// The code generator that made it ("xbyak", ...).
  std::string backend() const;
  /// Bytes of machine code.
  std::size_t code_size() const;
  /// Threads a run splits over (the caller's thread included).
  int threads() const { return threads_; }

 private:
  friend class Jit;
  friend class StreamKernel;
  Kernel(std::shared_ptr<const detail::CompiledKernel> impl, int threads)
      : impl_(std::move(impl)), threads_(threads) {}
  const detail::CompiledKernel& impl() const;
  /// The buffer of `weights` after checking that it fits this kernel's layout.
  const detail::PackedBuffer& checked_weights(const PackedWeights& weights) const;

  std::shared_ptr<const detail::CompiledKernel> impl_;
  int threads_ = 1;
};

}  // namespace convjit
