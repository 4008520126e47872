#include "runtime/debug_output.hpp"

#include <cstdio>

namespace convjit::detail {

void report_write_failure_once(std::atomic<bool>& reported, const char* variable, const char* kind,
                               const std::string& path, const char* what) {
  if (reported.exchange(true)) return;
  std::fprintf(stderr, "convjit: %s: cannot write %s: %s (further %s errors are not reported)\n",
               variable, path.c_str(), what, kind);
}

}  // namespace convjit::detail
