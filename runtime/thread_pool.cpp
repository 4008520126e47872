// ThreadPool: a job queue of index ranges claimed with an atomic counter.
#include "runtime/thread_pool.hpp"

#include <algorithm>

namespace convjit::detail {

ThreadPool::ThreadPool(int workers) {
  threads_.reserve(static_cast<std::size_t>(std::max(workers, 0)));
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
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
    if (job->helpers < job->max_helpers && job->next.load(std::memory_order_relaxed) < job->count) {
      return job;
    }
  }
  return nullptr;
}

void ThreadPool::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    Job* job = nullptr;
    work_cv_.wait(lock, [&] { return stop_ || (job = find_job_locked()) != nullptr; });
    if (stop_) return;
    ++job->helpers;
    lock.unlock();
    run_items(*job);
    lock.lock();
    // The caller may free the job once helpers reaches 0: this is the last use.
    if (--job->helpers == 0) done_cv_.notify_all();
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
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(&job);
  }
  if (job.max_helpers == 1) {
    work_cv_.notify_one();
  } else {
    work_cv_.notify_all();
  }
  run_items(job);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    queue_.erase(std::find(queue_.begin(), queue_.end(), &job));
    done_cv_.wait(lock, [&] { return job.helpers == 0; });
  }
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace convjit::detail
