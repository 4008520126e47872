// CONVJIT_ISA, read once: a cache hit must not pay for getenv (tens of nanoseconds).
#pragma once

#include <string>

namespace convjit::detail {

/// The value of CONVJIT_ISA ("" when unset) as read at the first call (or the last
/// reload_isa_environment()). Thread-safe.
std::string isa_environment();

/// Reads CONVJIT_ISA again (for tests that change it with setenv). Not meant to race with
/// compiles: call it while no other thread compiles.
void reload_isa_environment();

}  // namespace convjit::detail
