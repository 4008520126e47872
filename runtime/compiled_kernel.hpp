// CompiledKernel — the immutable object behind a convjit::Kernel handle, and the packed
// weights buffer behind PackedWeights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "compiler/backend/code_generator.hpp"
#include "compiler/backend/generated_kernel.hpp"
#include "compiler/problem.hpp"
#include "convjit/isa.hpp"
#include "convjit/spec.hpp"

namespace convjit::detail {

/// An owning float buffer aligned to 64 bytes (a cache line, a zmm register).
class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(std::size_t count);  ///< zero-filled
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> data_;
  std::size_t size_ = 0;
};

/// Everything a Kernel handle needs, made once per compile and never changed after.
class CompiledKernel {
 public:
  std::unique_ptr<GeneratedKernel> code;
  Shape3 input_shape{};   ///< as compiled, kDynamic kept
  Problem problem;        ///< make_problem(spec, input_shape)
  std::string backend;    ///< CodeGenerator::name
  std::string name;       ///< code->name()
  std::string dump_name;  ///< file name stem of CONVJIT_DUMP files
  std::string layout;     ///< identifies the packed-weights layout (see weight_layout_id)
  bool runnable = true;   ///< false when compiled for an ISA the host lacks

  const Schedule& schedule() const { return code->schedule(); }
  /// The annotated assembly with its header comment lines.
  std::string disassemble() const;
};

/// Scratch of at least `floats` floats for the calling thread: allocated on its first use
/// and grown when a larger one is asked for, so steady-state runs allocate nothing.
float* thread_scratch(std::size_t floats);

/// The buffer behind PackedWeights.
struct PackedBuffer {
  /// Fast path of the layout check. A weak_ptr, not a raw pointer: a kernel freed after
  /// packing and another one allocated at the same address must not look like the owner.
  std::weak_ptr<const CompiledKernel> owner;
  std::string layout;  ///< CompiledKernel::layout it was packed for
  AlignedFloats weights;
  AlignedFloats bias;  ///< filters floats (padded with zeros), empty without bias
};

/// A string that is equal for two compiled kernels exactly when their packed weights are
/// interchangeable: backend, the problem's weight-relevant numbers and the schedule.
std::string weight_layout_id(const std::string& backend, const Problem& p, const Schedule& s);

}  // namespace convjit::detail
