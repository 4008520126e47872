// KernelCache: hits, misses, LRU eviction, compile-once under contention, failures.
#include "runtime/kernel_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace convjit::detail {
namespace {

using IntCache = KernelCache<int, std::shared_ptr<const int>>;

std::shared_ptr<const int> make(int v) {
  return std::make_shared<const int>(v);
}

TEST(KernelCache, HitsMissesAndEntries) {
  IntCache cache(8);
  int compiles = 0;
  auto get = [&](int key) {
    return *cache.get_or_compile(key, [&] {
      ++compiles;
      return make(key * 10);
    });
  };
  EXPECT_EQ(get(1), 10);
  EXPECT_EQ(get(2), 20);
  EXPECT_EQ(get(1), 10);
  EXPECT_EQ(get(1), 10);
  EXPECT_EQ(compiles, 2);
  const CacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.entries, 2u);
}

TEST(KernelCache, EvictsTheLeastRecentlyUsed) {
  IntCache cache(3);
  int compiles = 0;
  auto get = [&](int key) {
    return *cache.get_or_compile(key, [&] {
      ++compiles;
      return make(key);
    });
  };
  get(1);
  get(2);
  get(3);
  get(1);  // 2 is now the least recently used
  get(4);  // evicts 2
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_EQ(compiles, 4);
  get(1);
  get(3);
  get(4);
  EXPECT_EQ(compiles, 4) << "1, 3 and 4 must still be cached";
  get(2);
  EXPECT_EQ(compiles, 5) << "2 was evicted";
  EXPECT_EQ(cache.stats().evictions, 2u);
}

TEST(KernelCache, CapacityOne) {
  IntCache cache(1);
  int compiles = 0;
  auto get = [&](int key) {
    return *cache.get_or_compile(key, [&] {
      ++compiles;
      return make(key);
    });
  };
  EXPECT_EQ(get(1), 1);
  EXPECT_EQ(get(1), 1);
  EXPECT_EQ(get(2), 2);
  EXPECT_EQ(get(1), 1);
  EXPECT_EQ(compiles, 3);
  const CacheStats s = cache.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 3u);
}

TEST(KernelCache, EvictedValuesStayAliveForTheirHolders) {
  IntCache cache(1);
  auto a = cache.get_or_compile(1, [] { return make(111); });
  cache.get_or_compile(2, [] { return make(222); });
  EXPECT_EQ(*a, 111);
}

TEST(KernelCache, FailedCompilesAreNotCached) {
  IntCache cache(4);
  int attempts = 0;
  auto compile = [&]() -> std::shared_ptr<const int> {
    if (++attempts == 1) throw std::runtime_error("first attempt fails");
    return make(7);
  };
  EXPECT_THROW(cache.get_or_compile(5, compile), std::runtime_error);
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(*cache.get_or_compile(5, compile), 7);
  EXPECT_EQ(attempts, 2);
}

TEST(KernelCache, ClearKeepsCounters) {
  IntCache cache(4);
  cache.get_or_compile(1, [] { return make(1); });
  cache.get_or_compile(1, [] { return make(1); });
  cache.clear();
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().hits, 1u);
  int compiles = 0;
  cache.get_or_compile(1, [&] {
    ++compiles;
    return make(1);
  });
  EXPECT_EQ(compiles, 1);
}

TEST(KernelCache, CompileTimeIsCounted) {
  IntCache cache(4);
  cache.get_or_compile(1, [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return make(1);
  });
  EXPECT_GE(cache.stats().compile_ns_total, 5'000'000u);
}

TEST(KernelCache, ManyThreadsSameKeyCompileOnce) {
  IntCache cache(16);
  std::atomic<int> compiles{0};
  std::atomic<bool> go{false};
  constexpr int kThreads = 8;
  std::vector<int> got(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      got[static_cast<std::size_t>(t)] = *cache.get_or_compile(42, [&] {
        compiles++;
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        return make(4242);
      });
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(compiles.load(), 1);
  for (int v : got) EXPECT_EQ(v, 4242);
  const CacheStats s = cache.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, static_cast<std::uint64_t>(kThreads - 1));
}

TEST(KernelCache, ManyThreadsManyKeysWithEviction) {
  constexpr int kKeys = 12;
  IntCache cache(5);
  std::atomic<int> compiles{0};
  std::atomic<int> wrong{0};
  constexpr int kThreads = 8;
  constexpr int kRounds = 400;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const int key = (r * 7 + t * 3) % kKeys;
        const int v = *cache.get_or_compile(key, [&] {
          compiles++;
          return make(key * 100);
        });
        if (v != key * 100) wrong++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const CacheStats s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, static_cast<std::uint64_t>(kThreads * kRounds));
  EXPECT_EQ(s.misses, static_cast<std::uint64_t>(compiles.load()));
  EXPECT_LE(s.entries, 5u);
  EXPECT_EQ(s.misses - s.evictions, s.entries);
  EXPECT_GE(s.misses, static_cast<std::uint64_t>(kKeys));
}

TEST(KernelCache, WaitersSeeTheCompileError) {
  IntCache cache(4);
  std::atomic<int> compiles{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      try {
        cache.get_or_compile(9, [&]() -> std::shared_ptr<const int> {
          compiles++;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          throw std::runtime_error("bad spec");
        });
      } catch (const std::runtime_error&) {
        errors++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 4);
  EXPECT_GE(compiles.load(), 1);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(KernelKey, EqualityAndHashCoverEveryField) {
  Conv1DSpec spec;
  spec.filters = 8;
  spec.kernel_size = 3;
  const Shape3 shape{2, 16, 4};
  const KernelKey base = make_kernel_key(spec, shape, Isa::kAvx2, "xbyak", "");
  const KernelKeyHash hash;
  EXPECT_EQ(base, make_kernel_key(spec, shape, Isa::kAvx2, "xbyak", ""));
  EXPECT_EQ(hash(base), hash(make_kernel_key(spec, shape, Isa::kAvx2, "xbyak", "")));

  std::vector<KernelKey> variants;
  auto with = [&](auto change) {
    Conv1DSpec s = spec;
    Shape3 sh = shape;
    Isa isa = Isa::kAvx2;
    std::string backend = "xbyak", schedule;
    change(s, sh, isa, backend, schedule);
    variants.push_back(make_kernel_key(s, sh, isa, backend, schedule));
  };
  with([](Conv1DSpec&, Shape3& sh, Isa&, std::string&, std::string&) { sh[0] = kDynamic; });
  with([](Conv1DSpec&, Shape3& sh, Isa&, std::string&, std::string&) { sh[1] = kDynamic; });
  with([](Conv1DSpec&, Shape3& sh, Isa&, std::string&, std::string&) { sh[2] = 8; });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) { s.filters = 16; });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) { s.kernel_size = 5; });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) { s.strides = 2; });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) { s.dilation_rate = 2; });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) { s.groups = 2; });
  with(
      [](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) { s.padding = Padding::kSame; });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) {
    s.data_format = DataFormat::kChannelsFirst;
  });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) {
    s.activation = Activation::kRelu;
  });
  with([](Conv1DSpec& s, Shape3&, Isa&, std::string&, std::string&) { s.use_bias = false; });
  with([](Conv1DSpec&, Shape3&, Isa& isa, std::string&, std::string&) { isa = Isa::kAvx512; });
  with([](Conv1DSpec&, Shape3&, Isa&, std::string& b, std::string&) { b = "llvm"; });
  with([](Conv1DSpec&, Shape3&, Isa&, std::string&, std::string& s) { s = "tile_t=4"; });
  for (const KernelKey& v : variants) {
    EXPECT_NE(v, base);
    EXPECT_NE(hash(v), hash(base));
  }
  // Fields that do not change the code do not change the key.
  Conv1DSpec renamed = spec;
  renamed.name = "another_name";
  renamed.kernel_initializer.kind = Initializer::Kind::kOnes;
  EXPECT_EQ(make_kernel_key(renamed, shape, Isa::kAvx2, "xbyak", ""), base);
}

}  // namespace
}  // namespace convjit::detail
