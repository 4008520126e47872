// ThreadPool: a job queue of index ranges claimed with an atomic counter.
#include "runtime/thread_pool.hpp"

#include <algorithm>
#include <chrono>

namespace convjit::detail {

ThreadPool::ThreadPool(int workers) {
  threads_.reserve(static_cast<std::size_t>(std::max(workers, 0)));
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    stopping_.store(true, std::memory_order_release);
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

int ThreadPool::hardware_threads() {
  // hardware_concurrency() reads /sys on glibc (microseconds): ask once.
  static const int threads = [] {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
  }();
  return threads;
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool(hardware_threads() - 1);
  return pool;
}

void ThreadPool::run_items(Job& job) {
  for (;;) {
    const std::int64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.count) return;
    try {
      (*job.body)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.error_mutex);
      if (!job.error) job.error = std::current_exception();
    }
  }
}

ThreadPool::Job* ThreadPool::find_job_locked() {
  for (Job* job : queue_) {
    if (job->helpers.load(std::memory_order_relaxed) < job->max_helpers &&
        job->next.load(std::memory_order_relaxed) < job->count) {
      return job;
    }
  }
  return nullptr;
}

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Polls `done` for up to ThreadPool::kSpinMicros; true when it became true.
template <class Done>
bool spin_until(Done done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(ThreadPool::kSpinMicros);
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= deadline) return done();
  }
}

}  // namespace

void ThreadPool::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    Job* job = find_job_locked();
    if (job == nullptr && !stop_) {
      // Poll for a new job without the lock first; sleep only after kSpinMicros.
      const std::uint64_t seen = posted_.load(std::memory_order_acquire);
      lock.unlock();
      spin_until([&] {
        return posted_.load(std::memory_order_acquire) != seen ||
               stopping_.load(std::memory_order_acquire);
      });
      lock.lock();
      ++sleeping_;
      work_cv_.wait(lock, [&] { return stop_ || (job = find_job_locked()) != nullptr; });
      --sleeping_;
    }
    if (stop_) return;
    job->helpers.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    run_items(*job);
    lock.lock();
    // The caller may free the job once helpers reaches 0: this is the last use.
    if (job->helpers.fetch_sub(1, std::memory_order_acq_rel) == 1) done_cv_.notify_all();
  }
}

void ThreadPool::parallel_for(std::int64_t count, int max_threads,
                              const std::function<void(std::int64_t)>& body) {
  if (count <= 0) return;
  const int helpers = std::min(max_threads - 1, workers());
  if (helpers <= 0 || count == 1) {
    for (std::int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  Job job;
  job.body = &body;
  job.count = count;
  job.max_helpers = static_cast<int>(std::min<std::int64_t>(helpers, count - 1));
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(&job);
    posted_.fetch_add(1, std::memory_order_release);
    wake = sleeping_ > 0;  // spinning workers see posted_ change by themselves
  }
  if (wake) {
    if (job.max_helpers == 1) {
      work_cv_.notify_one();
    } else {
      work_cv_.notify_all();
    }
  }
  run_items(job);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.erase(std::find(queue_.begin(), queue_.end(), &job));  // no new helpers
  }
  // Helpers finishing their last items: poll, then sleep. A helper's decrement is its last
  // use of the job, so helpers == 0 (acquire) means the job may go out of scope.
  const auto no_helpers = [&] { return job.helpers.load(std::memory_order_acquire) == 0; };
  if (!spin_until(no_helpers)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, no_helpers);
  }
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace convjit::detail
