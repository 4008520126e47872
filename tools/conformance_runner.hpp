// Runs the golden Keras Conv1D cases of shared/conformance/ through an engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/engine.hpp"

namespace convjit::tool {

struct ConformanceOptions {
  std::string engine;  ///< engine name (run_engine)
  detail::EngineOptions engine_options;
  std::string results_path;  ///< when set, one candidate JSON line per id (FORMAT.md)
  double rtol = 1e-4;        ///< FORMAT.md's tolerance: never loosen
  double atol = 1e-5;
  bool verbose = false;  ///< a line per case
};

struct ConformanceSummary {
  std::int64_t passed = 0, failed = 0, skipped = 0;
  double worst_ratio = 0.0;  ///< max error / tolerance over passed forward cases
  std::string worst_id;
};

/// Reads every file, runs every case, prints a line per failure (with a one-line repro)
/// and per skip (with its reason), and returns the counts. Every record is checked before use
/// (tools/conformance_case.hpp): a bad one is a failed case with its line number. A file
/// that is not a regular file, cannot be read or is too large, and a failed write of the
/// results file, throw Error (kIoError, kResourceLimit).
ConformanceSummary run_conformance(const std::vector<std::string>& files,
                                   const ConformanceOptions& options);

}  // namespace convjit::tool
