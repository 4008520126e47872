// ThreadPool — persistent worker threads that run index ranges; the caller participates.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace convjit::detail {

/// A fixed set of worker threads. parallel_for() posts a job that idle workers join while
/// the calling thread works on it too, so a job always progresses even when every worker
/// is busy with other callers' jobs; any number of threads may call parallel_for at once.
class ThreadPool {
 public:
  /// `workers` threads besides the callers (0 is allowed: everything runs on the caller).
  explicit ThreadPool(int workers);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int workers() const { return static_cast<int>(threads_.size()); }

  /// Calls body(i) once for every i in [0, count), on at most `max_threads` threads (the
  /// caller's included; <= 1 runs everything on the caller without touching the pool).
  /// Returns when all calls have returned; rethrows the first exception a call threw
  /// (the remaining indices still run).
  void parallel_for(std::int64_t count, int max_threads,
                    const std::function<void(std::int64_t)>& body);

  /// std::thread::hardware_concurrency(), at least 1.
  static int hardware_threads();
  /// The process-wide pool of hardware_threads() - 1 workers, started on first use.
  static ThreadPool& global();

 private:
  struct Job {
    const std::function<void(std::int64_t)>* body = nullptr;
    std::int64_t count = 0;
    int max_helpers = 0;  // workers that may join (max_threads - 1)
    int helpers = 0;      // workers inside the job now (guarded by mutex_)
    std::atomic<std::int64_t> next{0};
    std::exception_ptr error;  // guarded by error_mutex
    std::mutex error_mutex;
  };

  void worker_loop();
  static void run_items(Job& job);
  /// A queued job a worker may join, or nullptr. Caller holds mutex_.
  Job* find_job_locked();

  std::mutex mutex_;
  std::condition_variable work_cv_;  // workers wait for jobs
  std::condition_variable done_cv_;  // callers wait for helpers to leave
  std::deque<Job*> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace convjit::detail
