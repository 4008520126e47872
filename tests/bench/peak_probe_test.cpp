// The FMA peak probe: plausible numbers, and errors for bad arguments.
#ifdef CONVJIT_HAVE_BENCH
#include <gtest/gtest.h>

#include "bench/peak_probe.hpp"
#include "convjit/error.hpp"
#include "convjit/isa.hpp"

namespace convjit::bench {
namespace {

TEST(PeakProbe, YmmPeakIsPlausible) {
  ASSERT_TRUE(host_supports(Isa::kAvx2)) << "convjit needs AVX2";
  const double peak = measure_fma_peak(FmaWidth::kYmm, 1, 0.02);
  // At least one FMA per cycle at 1 GHz (16 flop/cycle); at most two FMA ports at 6 GHz.
  EXPECT_GT(peak, 16.0);
  EXPECT_LT(peak, 2 * 16 * 6.0);
  // Fewer chains than the FMA latency cannot reach the peak: 1 chain is latency-bound.
  const double one_chain = measure_fma_peak(FmaWidth::kYmm, 1, 0.02, 1);
  EXPECT_LT(one_chain, 0.6 * peak);
}

TEST(PeakProbe, ZmmNeedsAvx512) {
  if (host_supports(Isa::kAvx512)) {
    const double peak = measure_fma_peak(FmaWidth::kZmm, 1, 0.02, 24);
    EXPECT_GT(peak, 16.0);
    EXPECT_LT(peak, 2 * 32 * 6.0);
    return;
  }
  try {
    measure_fma_peak(FmaWidth::kZmm, 1, 0.01);
    FAIL() << "no error on a host without AVX-512";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
  }
}

TEST(PeakProbe, BadArgumentsThrow) {
  EXPECT_THROW(measure_fma_peak(FmaWidth::kYmm, 0, 0.01), Error);
  EXPECT_THROW(measure_fma_peak(FmaWidth::kYmm, 1, 0.01, 0), Error);
  EXPECT_THROW(measure_fma_peak(FmaWidth::kYmm, 1, 0.01, 15), Error);  // no ymm left for sources
}

TEST(PeakProbe, PeakInfoPicksTheRightNumber) {
  PeakInfo p;
  p.threads = 2;
  p.ymm_1t = 100;
  p.ymm_nt = 190;
  EXPECT_EQ(p.peak(true, 1), 100);  // no zmm measured
  EXPECT_EQ(p.peak(false, 2), 190);
  p.has_zmm = true;
  p.zmm_1t = 120;
  p.zmm_nt = 230;
  EXPECT_EQ(p.peak(true, 1), 120);
  EXPECT_EQ(p.peak(true, 2), 230);
  EXPECT_EQ(p.peak(false, 1), 100);
}

}  // namespace
}  // namespace convjit::bench
#endif
