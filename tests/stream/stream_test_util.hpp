// Helpers of the streaming tests: random chunkings, canaried buffers, bitwise comparison.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "convjit/stream.hpp"
#include "runtime/test_util.hpp"

namespace convjit::testing_stream {

/// Uniform floats in [-1, 1]: sums of them round, so a changed summation order shows.
using convjit::testing::uniform;

/// Chunk lengths that add up to `length`: mostly single samples and short chunks, some
/// longer than a slot's room (which then run in place), in random order.
inline std::vector<std::int64_t> random_chunks(std::int64_t length, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::int64_t> chunks;
  std::int64_t left = length;
  while (left > 0) {
    std::int64_t c = 0;
    switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
      case 0:
      case 1: c = 1; break;
      case 2: c = std::uniform_int_distribution<std::int64_t>(2, 8)(rng); break;
      case 3: c = std::uniform_int_distribution<std::int64_t>(9, 40)(rng); break;
      default: c = std::uniform_int_distribution<std::int64_t>(41, 300)(rng); break;
    }
    c = std::min(c, left);
    chunks.push_back(c);
    left -= c;
  }
  return chunks;
}

/// A float buffer with a guard of canary values on both sides.
class Canaried {
 public:
  static constexpr std::int64_t kGuard = 64;
  explicit Canaried(std::int64_t count)
      : count_(count), buffer_(static_cast<std::size_t>(count + 2 * kGuard)) {
    for (float& f : buffer_) f = canary();
  }
  float* data() { return buffer_.data() + kGuard; }
  /// True when nothing before data() and nothing from data() + written on changed.
  bool intact(std::int64_t written) const {
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(buffer_.size()); ++i) {
      if (i >= kGuard && i < kGuard + written) continue;
      if (std::memcmp(&buffer_[static_cast<std::size_t>(i)], &kCanaryBits, 4) != 0) return false;
    }
    return true;
  }

 private:
  static constexpr std::uint32_t kCanaryBits = 0x7fc0dead;  // a quiet NaN no kernel makes
  static float canary() {
    float f;
    std::memcpy(&f, &kCanaryBits, 4);
    return f;
  }
  std::int64_t count_;
  std::vector<float> buffer_;
};

/// Empty when `got` and `expected` hold the same bits, else where they first differ.
inline std::string first_difference(const std::vector<float>& got,
                                    const std::vector<float>& expected, std::int64_t channels) {
  for (std::size_t i = 0; i < got.size() && i < expected.size(); ++i) {
    if (std::memcmp(&got[i], &expected[i], 4) != 0) {
      return fmt::format("first difference at t={}, c={}: {} against {}",
                         static_cast<std::int64_t>(i) / channels,
                         static_cast<std::int64_t>(i) % channels, got[i], expected[i]);
    }
  }
  if (got.size() != expected.size()) {
    return fmt::format("{} values against {}", got.size(), expected.size());
  }
  return {};
}

inline bool state_canaries_intact(const StreamState& state) {
  return detail::stream_state_intact(state);
}

}  // namespace convjit::testing_stream
