// The IR verifier: well-formedness (every variable bound before use, no shadowing,
// registers declared by an enclosing Alloc, the register tile within the ISA's vector
// registers, unrolled loops of constant extent) and bounds of every access, proved by
// running the interpreter's checked addressing over a set of lengths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/ir.hpp"

namespace convjit::detail::ir {

struct VerifyOptions {
  /// Lengths L checked for bounds (batch 2 for the first, 1 for the rest); empty: none.
  std::vector<std::int64_t> lengths;
  /// Require that no unrolled loop is left (after the unroll pass).
  bool require_unrolled = false;
};

/// Lengths that exercise every region split for `f`'s problem: 0 up to a few tiles past
/// the receptive field, plus the problem's own length. At most `max_count` of them.
std::vector<std::int64_t> verification_lengths(const Func& f, int max_count = 48);

/// Empty when `f` is well-formed and in bounds, else one line per problem found.
std::vector<std::string> verify(const Func& f, const VerifyOptions& options);

/// verify() that aborts with the problems and the IR (file:line) when any is found:
/// run after each pass in debug builds.
void verify_or_die(const Func& f, const VerifyOptions& options, const char* after_pass);

}  // namespace convjit::detail::ir
