// Times a call the way a host loop sees it: the first call on its own, then the median of
// calls after a warm-up, on the same buffers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "tools/cli_util.hpp"

namespace convjit::tool {

struct CallTimes {
  double first_seconds = 0.0;   ///< the first call: fresh buffers (page faults), cold caches
  double median_seconds = 0.0;  ///< median of `calls` timed calls after the warm-up
  int calls = 0;
};

/// The least time the timed calls take together: enough for a stable median.
inline constexpr double kMinTimedSeconds = 0.2;

/// Times `call`: once alone, then a warm-up (at least 2 calls and 20 ms), then calls until
/// there have been at least `min_calls` (>= 1) of them and kMinTimedSeconds have passed
/// (or a million calls).
CallTimes time_calls(const std::function<void()>& call, int min_calls);

/// Median seconds of one call of `call`, for calls too short for a clock read each (a
/// streaming step of one sample takes tenths of a microsecond): after a 20 ms warm-up, calls
/// run in groups of a calibrated size (a group takes at least 20 us), the time of each group
/// divided by its size is a sample, and samples are taken for at least `min_seconds` and 11
/// groups. The median of the samples is returned.
template <class Call>
double median_seconds_per_call(Call&& call, double min_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  constexpr double kWarmupSeconds = 0.02, kMinGroupSeconds = 20e-6;
  constexpr std::int64_t kMaxGroup = std::int64_t{1} << 24;
  constexpr int kMinGroups = 11;
  const Clock::time_point warmup = Clock::now();
  std::int64_t group = 1;
  while (since(warmup) < kWarmupSeconds) {
    const Clock::time_point t0 = Clock::now();
    for (std::int64_t i = 0; i < group; ++i) call();
    if (since(t0) < kMinGroupSeconds && group < kMaxGroup) group *= 2;
  }
  std::vector<double> samples;
  const Clock::time_point start = Clock::now();
  while (static_cast<int>(samples.size()) < kMinGroups || since(start) < min_seconds) {
    const Clock::time_point t0 = Clock::now();
    for (std::int64_t i = 0; i < group; ++i) call();
    samples.push_back(since(t0) / static_cast<double>(group));
  }
  return median(std::move(samples));
}

}  // namespace convjit::tool
