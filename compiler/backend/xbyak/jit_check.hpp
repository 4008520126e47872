// JIT_CHECK — internal-invariant check of the Xbyak backend: aborts with file:line.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace convjit::detail {

[[noreturn]] inline void jit_check_failed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: internal error in the Xbyak backend: %s\n", file, line, cond);
  std::abort();
}

}  // namespace convjit::detail

#define CONVJIT_JIT_CHECK(cond) \
  ((cond) ? (void)0 : ::convjit::detail::jit_check_failed(#cond, __FILE__, __LINE__))
