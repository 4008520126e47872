// The FMA peak probe: plausible numbers, and errors for bad arguments.
#include <gtest/gtest.h>

#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "harness/peak_probe.hpp"

namespace convjit::harness {
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

// Generation never needs the ISA: every chain count of both widths generates on any host,
// and the loop holds exactly `chains` FMAs (a short jump over 24 zmm FMAs once failed to
// generate on AVX-512 hosts only, where nothing had generated it before).
TEST(PeakProbe, GeneratesEveryWidthOnAnyHost) {
  for (const FmaWidth width : {FmaWidth::kYmm, FmaWidth::kZmm}) {
    const int max_chains = width == FmaWidth::kZmm ? 30 : 14;
    std::size_t previous = 0;
    for (int chains = 1; chains <= max_chains; ++chains) {
      const std::vector<std::uint8_t> code = fma_probe_code(width, chains);
      EXPECT_GT(code.size(), previous) << "chains=" << chains;
      previous = code.size();
      EXPECT_EQ(code.back(), 0xC3) << "ends in ret";
    }
    EXPECT_THROW(fma_probe_code(width, max_chains + 1), Error);
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
}  // namespace convjit::harness
