// Times a call the way a host loop sees it: the first call on its own, then the median of
// calls after a warm-up, on the same buffers.
#pragma once

#include <functional>

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

}  // namespace convjit::tool
