#include "tools/call_timer.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "tools/cli_util.hpp"

namespace convjit::tool {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

CallTimes time_calls(const std::function<void()>& call, int min_calls) {
  constexpr double kWarmupSeconds = 0.02;
  constexpr int kWarmupCalls = 2;
  constexpr int kMaxCalls = 1000000;
  CallTimes t;
  Clock::time_point t0 = Clock::now();
  call();
  t.first_seconds = seconds(t0, Clock::now());

  const Clock::time_point warmup = Clock::now();
  for (int i = 0; i < kWarmupCalls || seconds(warmup, Clock::now()) < kWarmupSeconds; ++i) {
    call();
  }

  std::vector<double> samples;
  const Clock::time_point start = Clock::now();
  t0 = start;
  while (static_cast<int>(samples.size()) < std::max(min_calls, 1) ||
         (seconds(start, t0) < kMinTimedSeconds && static_cast<int>(samples.size()) < kMaxCalls)) {
    call();
    const Clock::time_point t1 = Clock::now();
    samples.push_back(seconds(t0, t1));
    t0 = t1;
  }
  t.calls = static_cast<int>(samples.size());
  t.median_seconds = median(std::move(samples));
  return t;
}

}  // namespace convjit::tool
