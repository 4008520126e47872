// Small statistics and timing helpers of the bench.
#pragma once

#include <chrono>
#include <vector>

namespace convjit::bench {

/// The median of `samples`: the middle value, or the mean of the two middle values for an
/// even count. 0 for no samples.
double median(std::vector<double> samples);

/// Seconds since an arbitrary fixed point, from a monotonic clock.
inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// How many timed repetitions fit in `budget_seconds` when one takes `one_run_seconds`,
/// clamped to [min_reps, max_reps].
int repetitions_for(double budget_seconds, double one_run_seconds, int min_reps, int max_reps);

}  // namespace convjit::bench
