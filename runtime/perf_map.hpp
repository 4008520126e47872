// Perf maps: CONVJIT_PERF_MAP=1 tells `perf report` which JIT kernel a sample fell in.
#pragma once

#include <cstddef>
#include <string>

namespace convjit::detail {

class CompiledKernel;

/// True when CONVJIT_PERF_MAP is set to something other than "" or "0" (read once with the
/// other CONVJIT_* variables: compiler/environment.hpp).
bool perf_map_enabled();

/// /tmp/perf-<pid>.map: where perf looks for the symbols of JIT code of process <pid>.
std::string perf_map_path();

/// Appends the line "<start hex> <size hex> <name>\n" to `path` with one write(2) on an
/// O_APPEND descriptor, so lines from threads or processes never interleave. Never throws:
/// the first failure is reported on stderr (once per process) and the line is dropped.
/// Returns whether the line was written.
bool perf_map_append(const std::string& path, const void* start, std::size_t size,
                     const std::string& name);

/// When perf_map_enabled(): appends the kernel's code range under its dump name (the
/// kernel's name plus its shape class, e.g. conv1d_avx2_..._relu_n1_ldyn) to
/// perf_map_path(). Called once per compiled kernel, where the Jit creates it.
void perf_map_record(const CompiledKernel& kernel);

}  // namespace convjit::detail
