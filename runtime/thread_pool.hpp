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
///
/// Hand-off latency: an idle worker polls for new jobs for kSpinMicros before it sleeps on
/// the condition variable, and a caller polls for its helpers to leave before it sleeps, so
/// back-to-back calls (the layers of a model) cost no futex wake-up (tens of microseconds
/// on a busy machine); the wake-up is paid only after a pause longer than the spin.
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

  /// How long an idle worker (and a caller waiting for its helpers) polls before sleeping.
  static constexpr int kSpinMicros = 200;

 private:
  struct Job {
    const std::function<void(std::int64_t)>* body = nullptr;
    std::int64_t count = 0;
    int max_helpers = 0;          // workers that may join (max_threads - 1)
    std::atomic<int> helpers{0};  // workers inside the job now (changed under mutex_)
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
  bool stop_ = false;                     // guarded by mutex_
  int sleeping_ = 0;                      // workers waiting on work_cv_ (guarded by mutex_)
  std::atomic<std::uint64_t> posted_{0};  // jobs posted so far: spinning workers watch it
  std::atomic<bool> stopping_{false};     // stop_, readable while spinning
  std::vector<std::thread> threads_;
};

}  // namespace convjit::detail
