// KernelCache — a bounded, thread-safe compile-once cache with LRU eviction, and the key
// Jit uses with it.
//
// Design: an unordered_map under a std::shared_mutex. A hit takes the lock shared, finds
// the entry, stamps it with a global recency counter (skipped when it already holds the
// latest stamp) and returns a copy of the value: no writer lock, no list splicing. A miss inserts a
// pending entry under the exclusive lock, releases the lock and compiles; threads asking for the
// same key meanwhile wait on the entry's shared_future, so a key compiles once. When the map
// exceeds its capacity the ready entry with the smallest stamp is evicted (a linear scan,
// paid only on misses). A failed compile removes its entry and rethrows to every waiter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "convjit/jit.hpp"
#include "convjit/spec.hpp"

namespace convjit::detail {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class KernelCache {
 public:
  /// capacity >= 1 (0 is taken as 1).
  explicit KernelCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  KernelCache(const KernelCache&) = delete;
  KernelCache& operator=(const KernelCache&) = delete;

  /// The cached value of `key`, or the result of `compile()` (called at most once per key
  /// while the key stays cached, never under the lock). Rethrows compile's exception.
  template <typename Compile>
  Value get_or_compile(const Key& key, Compile&& compile) {
    std::shared_ptr<Entry> pending;
    {
      std::shared_lock<std::shared_mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end()) {
        Entry& entry = *it->second;
        if (entry.ready.load(std::memory_order_acquire)) {
          touch(entry);
          hits_.fetch_add(1, std::memory_order_relaxed);
          return entry.value;
        }
        pending = it->second;
      }
    }
    if (pending) return wait(*pending);

    std::shared_ptr<Entry> mine;
    {
      std::unique_lock<std::shared_mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end()) {
        pending = it->second;
      } else {
        mine = std::make_shared<Entry>();
        mine->done = mine->promise.get_future().share();
        mine->last_used.store(tick(), std::memory_order_relaxed);
        map_.emplace(key, mine);
        misses_.fetch_add(1, std::memory_order_relaxed);
        evict_locked(mine.get());
      }
    }
    if (pending) return wait(*pending);

    const auto start = std::chrono::steady_clock::now();
    try {
      mine->value = compile();
    } catch (...) {
      {
        std::unique_lock<std::shared_mutex> lock(mutex_);
        auto it = map_.find(key);
        if (it != map_.end() && it->second == mine) map_.erase(it);
      }
      mine->promise.set_exception(std::current_exception());
      throw;
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    compile_ns_.fetch_add(
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()),
        std::memory_order_relaxed);
    mine->ready.store(true, std::memory_order_release);
    mine->promise.set_value();
    {
      // Misses evict only compiled entries: with others still compiling, the map may have
      // grown past capacity. Trim it now that this entry is ready (found by the concurrency
      // stress test under ASan: 4-6 entries left with capacity 3).
      std::unique_lock<std::shared_mutex> lock(mutex_);
      if (map_.size() > capacity_) evict_locked(mine.get());
    }
    return mine->value;
  }

  CacheStats stats() const {
    CacheStats s;
    s.hits = hits_.load(std::memory_order_relaxed);
    s.misses = misses_.load(std::memory_order_relaxed);
    s.evictions = evictions_.load(std::memory_order_relaxed);
    s.compile_ns_total = compile_ns_.load(std::memory_order_relaxed);
    std::shared_lock<std::shared_mutex> lock(mutex_);
    s.entries = map_.size();
    return s;
  }

  /// Drops every ready entry (pending compiles finish and stay). Counters are kept.
  void clear() {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    for (auto it = map_.begin(); it != map_.end();) {
      if (it->second->ready.load(std::memory_order_acquire)) {
        it = map_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::atomic<std::uint64_t> last_used{0};
    std::atomic<bool> ready{false};
    Value value{};  // written by the compiling thread before `ready` (release)
    std::promise<void> promise;
    std::shared_future<void> done;
  };

  std::uint64_t tick() { return clock_.fetch_add(1, std::memory_order_relaxed); }

  /// Marks `entry` most recently used. An entry that already holds the latest stamp is left
  /// alone, so repeated hits on a hot key write no shared cache line.
  void touch(Entry& entry) {
    if (entry.last_used.load(std::memory_order_relaxed) + 1 ==
        clock_.load(std::memory_order_relaxed)) {
      return;
    }
    entry.last_used.store(tick(), std::memory_order_relaxed);
  }

  Value wait(const Entry& entry) {
    entry.done.get();  // rethrows the compile's exception
    hits_.fetch_add(1, std::memory_order_relaxed);
    return entry.value;
  }

  /// Evicts least recently used ready entries (never `keep`) down to the capacity.
  void evict_locked(const Entry* keep) {
    while (map_.size() > capacity_) {
      auto victim = map_.end();
      std::uint64_t oldest = UINT64_MAX;
      for (auto it = map_.begin(); it != map_.end(); ++it) {
        const Entry* e = it->second.get();
        if (e == keep || !e->ready.load(std::memory_order_acquire)) continue;
        const std::uint64_t used = e->last_used.load(std::memory_order_relaxed);
        if (used < oldest) {
          oldest = used;
          victim = it;
        }
      }
      if (victim == map_.end()) return;  // only pending compiles: over capacity for now
      map_.erase(victim);
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  const std::size_t capacity_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<Key, std::shared_ptr<Entry>, Hash> map_;
  std::atomic<std::uint64_t> clock_{1};
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> evictions_{0};
  std::atomic<std::uint64_t> compile_ns_{0};
};

/// What makes two compiles give the same code: the spec's computation, the input shape
/// (kDynamic kept), the resolved ISA, the backend and the schedule text. These fields
/// determine the normalized Problem, so equal keys mean equal Problems.
struct KernelKey {
  std::int64_t batch = 0;   ///< kDynamic when dynamic
  std::int64_t length = 0;  ///< kDynamic when dynamic
  std::int64_t channels = 0;
  std::int64_t filters = 0;
  std::int64_t kernel_size = 0;
  std::int64_t strides = 0;
  std::int64_t dilation_rate = 0;
  std::int64_t groups = 0;
  Padding padding = Padding::kValid;
  DataFormat data_format = DataFormat::kChannelsLast;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  Isa isa = Isa::kAuto;
  std::string backend;
  std::string schedule;  ///< as the caller gave it; empty for the heuristic

  bool operator==(const KernelKey& o) const;
  bool operator!=(const KernelKey& o) const { return !(*this == o); }
};

struct KernelKeyHash {
  std::size_t operator()(const KernelKey& k) const;
};

/// The key of compiling `spec` for `input_shape` (data_format order) on `isa` (resolved).
KernelKey make_kernel_key(const Conv1DSpec& spec, const Shape3& input_shape, Isa isa,
                          const std::string& backend, const std::string& schedule);

}  // namespace convjit::detail
