// Debugging output switched on by an environment variable (CONVJIT_DUMP, CONVJIT_PERF_MAP):
// the report of its first failed write.
#pragma once

#include <atomic>
#include <string>

namespace convjit::detail {

/// Unless `reported` is already set (it is set now), prints on stderr
/// "convjit: <variable>: cannot write <path>: <what> (further <kind> errors are not reported)".
/// One flag per switch: its first failure is reported, later ones are not.
void report_write_failure_once(std::atomic<bool>& reported, const char* variable, const char* kind,
                               const std::string& path, const char* what);

}  // namespace convjit::detail
