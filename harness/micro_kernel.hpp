// The micro-kernel microbenchmark: the generated interior loop of each kernel strategy, alone,
// on data that stays in L1, against the FMA peak of the same register width. The first thing
// to run on a new CPU (`convjit bench --micro`): it shows what the inner loops reach before
// memory, edges, the driver or threads come into it.
#pragma once

#include <string>
#include <vector>

#include "convjit/isa.hpp"
#include "harness/peak_probe.hpp"

namespace convjit::harness {

/// One timed micro-kernel.
struct MicroKernelResult {
  std::string name;      ///< the case: "direct", "pointwise", "first_layer", ...
  std::string spec;      ///< the Keras spec and input shape it is cut from
  Isa isa = Isa::kAvx2;  ///< the ISA of the generated code
  std::string tile;      ///< "6x4": time steps x vectors of channels
  /// How inputs reach the FMAs: "register" (one vbroadcastss per tile row), "embedded"
  /// ({1to16} on every FMA), or "vector" (depthwise: whole vectors of channels).
  std::string broadcast;
  int inner_loop_fmas = 0;  ///< FMAs in the innermost loop body of the interior
  double gflops = 0.0;      ///< median over the timed rounds
  double peak = 0.0;        ///< the probe's 1-thread peak of the same register width
};

/// Times every micro-kernel case for every ISA the host can run (AVX2 always, AVX-512 when
/// present), about `seconds` each, on the calling thread (thread CPU time). `peaks` gives
/// the probe's figures (measure_peaks). AVX-512 cases are timed with register and with
/// embedded broadcasts where the tile allows both, so the choice is measured on this CPU.
std::vector<MicroKernelResult> run_micro_kernels(const PeakInfo& peaks, double seconds = 0.2);

/// The table `convjit bench --micro` prints.
std::string format_micro_kernels(const std::vector<MicroKernelResult>& results,
                                 const PeakInfo& peaks);

}  // namespace convjit::harness
