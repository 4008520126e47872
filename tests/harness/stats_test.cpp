// median and the repetition policy of the bench.
#include <gtest/gtest.h>

#include "harness/stats.hpp"

namespace convjit::harness {
namespace {

TEST(Stats, MedianOfOddEvenAndEmpty) {
  EXPECT_EQ(median({}), 0.0);
  EXPECT_EQ(median({7.0}), 7.0);
  EXPECT_EQ(median({5.0, 1.0, 3.0}), 3.0);
  EXPECT_EQ(median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_EQ(median({10.0, 1.0, 1.0, 1.0, 100.0, 2.0}), 1.5);
  EXPECT_EQ(median({2.0, 2.0, 9.0, 9.0}), 5.5);
  // An outlier does not move it.
  EXPECT_EQ(median({1.0, 1.1, 1.2, 1.3, 1e9}), 1.2);
}

TEST(Stats, RepetitionsFitTheBudgetWithinTheClamp) {
  EXPECT_EQ(repetitions_for(0.3, 0.001, 5, 1000), 300);
  EXPECT_EQ(repetitions_for(0.3, 0.1, 5, 1000), 5);      // below the minimum
  EXPECT_EQ(repetitions_for(0.3, 1e-7, 5, 1000), 1000);  // above the maximum
  EXPECT_EQ(repetitions_for(0.3, 0.0, 5, 1000), 1000);   // an unmeasurably fast run
  EXPECT_EQ(repetitions_for(1.0, 0.3, 1, 10), 3);
}

TEST(Stats, ClockMovesForward) {
  const double a = now_seconds();
  volatile double sink = 0;
  for (int i = 0; i < 100000; ++i) sink = sink + i;
  EXPECT_GT(now_seconds(), a);
}

}  // namespace
}  // namespace convjit::harness
