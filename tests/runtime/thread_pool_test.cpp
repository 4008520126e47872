// ThreadPool: every index exactly once, concurrent callers, thread limits, exceptions.
#include "runtime/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace convjit::detail {
namespace {

TEST(ThreadPool, RunsEveryIndexExactlyOnce) {
  ThreadPool pool(3);
  for (std::int64_t count : {0, 1, 2, 7, 100, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
    pool.parallel_for(count, 4, [&](std::int64_t i) { hits[static_cast<std::size_t>(i)]++; });
    for (std::int64_t i = 0; i < count; ++i) {
      ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << "count " << count << " i " << i;
    }
  }
}

TEST(ThreadPool, OneThreadStaysOnTheCaller) {
  ThreadPool pool(3);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  pool.parallel_for(50, 1, [&](std::int64_t) {
    if (std::this_thread::get_id() != caller) elsewhere++;
  });
  EXPECT_EQ(elsewhere.load(), 0);
}

TEST(ThreadPool, RespectsMaxThreads) {
  ThreadPool pool(3);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  pool.parallel_for(400, 2, [&](std::int64_t) {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_GE(seen.size(), 1u);
  EXPECT_LE(seen.size(), 2u);
}

TEST(ThreadPool, WorkersReallyHelp) {
  ThreadPool pool(2);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  // Items that wait for each other: only completes (quickly) if a second thread joins.
  std::atomic<int> started{0};
  pool.parallel_for(2, 3, [&](std::int64_t) {
    started++;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(ThreadPool, ConcurrentCallersEachGetTheirOwnResults) {
  ThreadPool pool(2);
  constexpr int kCallers = 6;
  std::vector<std::int64_t> sums(kCallers, 0);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 30; ++round) {
        std::vector<std::int64_t> out(200, 0);
        pool.parallel_for(200, 3,
                          [&](std::int64_t i) { out[static_cast<std::size_t>(i)] = i * (c + 1); });
        std::int64_t s = 0;
        for (auto v : out) s += v;
        sums[static_cast<std::size_t>(c)] = s;
      }
    });
  }
  for (auto& t : callers) t.join();
  for (int c = 0; c < kCallers; ++c) EXPECT_EQ(sums[static_cast<std::size_t>(c)], 19900 * (c + 1));
}

TEST(ThreadPool, RethrowsTheFirstExceptionAfterFinishing) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.parallel_for(64, 3,
                                 [&](std::int64_t i) {
                                   ran++;
                                   if (i == 5) throw std::runtime_error("item 5");
                                 }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 64);
  // The pool still works afterwards.
  std::atomic<int> again{0};
  pool.parallel_for(10, 3, [&](std::int64_t) { again++; });
  EXPECT_EQ(again.load(), 10);
}

TEST(ThreadPool, ZeroWorkersRunsOnTheCaller) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.workers(), 0);
  std::int64_t sum = 0;
  pool.parallel_for(10, 8, [&](std::int64_t i) { sum += i; });
  EXPECT_EQ(sum, 45);
}

TEST(ThreadPool, GlobalPoolMatchesHardware) {
  EXPECT_EQ(ThreadPool::global().workers(), ThreadPool::hardware_threads() - 1);
}

}  // namespace
}  // namespace convjit::detail
