// The machine's fp32 FMA peak, measured with a generated loop of independent FMA chains.
#pragma once

#include <cstdint>
#include <vector>

namespace convjit::harness {

/// Vector register width the probe's FMAs use.
enum class FmaWidth { kYmm, kZmm };

/// GFLOP/s of `threads` threads each running a loop of `chains` (>= 10) independent
/// accumulator chains of vfmadd231ps on ymm or zmm registers (Xbyak-generated, W^X), for
/// about `seconds` in 8 rounds; the best round counts. 2 flops per lane per FMA. Rates are
/// per thread CPU second (CLOCK_THREAD_CPUTIME_ID), summed over the threads, so time a
/// thread spends preempted on a loaded machine does not lower the peak. Throws
/// Error(kUnsupported) for zmm on a host without AVX-512F and for ymm without AVX2+FMA.
double measure_fma_peak(FmaWidth width, int threads, double seconds = 0.1, int chains = 12);

/// The machine code of the probe loop for `chains` chains (1-14 ymm, 1-30 zmm), generated
/// without running it: generation never needs the ISA, so any host can check it.
std::vector<std::uint8_t> fma_probe_code(FmaWidth width, int chains);

/// The peaks the bench reports: 1 thread and N threads, ymm and (when the host has
/// AVX-512) zmm.
struct PeakInfo {
  int threads = 1;
  double ymm_1t = 0.0, ymm_nt = 0.0;
  bool has_zmm = false;
  double zmm_1t = 0.0, zmm_nt = 0.0;

  /// The peak of the widest of the allowed registers: zmm when `zmm_allowed` and present.
  double peak(bool zmm_allowed, int thread_count) const;
};

/// Measures every peak of PeakInfo (about 8 * `seconds` in total with AVX-512).
PeakInfo measure_peaks(int threads, double seconds = 0.1);

}  // namespace convjit::harness
