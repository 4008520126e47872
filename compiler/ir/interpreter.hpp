// The IR interpreter: executes any Func (scheduled or not) on concrete N and L, with the
// vector semantics the machine code has (lanes, masked tails, float32 FMA accumulation).
// Every memory access is bounds-checked; the verifier reuses that to prove bounds.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

/// An access outside its buffer, a register outside its array, or malformed IR met while
/// interpreting. Always a bug in lowering or a pass, never a user error.
class IrFault : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A buffer the caller provides: `size` floats at `data`. Scratch buffers may be left
/// null: the interpreter allocates them.
struct BufferBinding {
  float* data = nullptr;
  std::int64_t size = 0;
};

/// Runs `f` for batch `n` and length `l`, as the call `range` of a run (the scheduled IR's
/// call-range parameters; a whole run by default). `buffers` is indexed like f.buffers.
/// Throws IrFault on any out-of-bounds access (checked before it happens).
void interpret(const Func& f, std::int64_t n, std::int64_t l,
               const std::vector<BufferBinding>& buffers, const CallRange& range = {});

/// Evaluates a buffer's size for batch n and length l.
std::int64_t buffer_size(const Func& f, int buffer, std::int64_t n, std::int64_t l);

}  // namespace convjit::detail::ir
