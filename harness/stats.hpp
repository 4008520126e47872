// Small statistics and timing helpers of the bench.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace convjit::harness {

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

/// Median seconds of one call of `call`, for calls too short for a clock read each (a
/// streaming step of one sample takes tenths of a microsecond): after a warm-up of
/// `min_seconds` / 10 (at least 5 ms), calls run in groups of a calibrated size (a group
/// takes at least 20 us), each group's time divided by its size is a sample, and samples
/// are taken for at least `min_seconds` and 11 groups. Returns the median sample.
template <class Call>
double median_seconds_per_call(Call&& call, double min_seconds) {
  const double warmup_seconds = std::max(0.005, min_seconds / 10);
  constexpr double kMinGroupSeconds = 20e-6;
  constexpr std::int64_t kMaxGroup = std::int64_t{1} << 24;
  constexpr int kMinGroups = 11;
  const double warmup = now_seconds();
  std::int64_t group = 1;
  while (now_seconds() - warmup < warmup_seconds) {
    const double t0 = now_seconds();
    for (std::int64_t i = 0; i < group; ++i) call();
    if (now_seconds() - t0 < kMinGroupSeconds && group < kMaxGroup) group *= 2;
  }
  std::vector<double> samples;
  const double start = now_seconds();
  while (static_cast<int>(samples.size()) < kMinGroups || now_seconds() - start < min_seconds) {
    const double t0 = now_seconds();
    for (std::int64_t i = 0; i < group; ++i) call();
    samples.push_back((now_seconds() - t0) / static_cast<double>(group));
  }
  return median(std::move(samples));
}

}  // namespace convjit::harness
