#include "harness/stats.hpp"

#include <algorithm>
#include <cmath>

namespace convjit::harness {

double median(std::vector<double> samples) {
  if (samples.empty()) return 0.0;
  const std::size_t n = samples.size();
  const std::size_t mid = n / 2;
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(mid),
                   samples.end());
  const double upper = samples[mid];
  if (n % 2 == 1) return upper;
  const double lower =
      *std::max_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

int repetitions_for(double budget_seconds, double one_run_seconds, int min_reps, int max_reps) {
  if (!(one_run_seconds > 0.0)) return max_reps;
  const double fit = std::floor(budget_seconds / one_run_seconds);
  if (fit <= min_reps) return min_reps;
  if (fit >= max_reps) return max_reps;
  return static_cast<int>(fit);
}

}  // namespace convjit::harness
