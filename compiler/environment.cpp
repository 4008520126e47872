#include "compiler/environment.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace convjit::detail {
namespace {

/// Every Environment ever read, the current one published through an atomic pointer.
struct Published {
  std::mutex mutex;  // serializes reloads
  std::atomic<const Environment*> current{nullptr};
  std::vector<std::unique_ptr<Environment>> all;
};

Published& published() {
  static auto* p = new Published();  // never destroyed: kernels may compile during exit
  return *p;
}

std::string text(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

Environment read() {
  Environment e;
  e.isa = text("CONVJIT_ISA");
  e.backend = text("CONVJIT_BACKEND");
  e.tuning_db = text("CONVJIT_TUNING_DB");
  e.dump_dir = text("CONVJIT_DUMP");
  const std::string perf_map = text("CONVJIT_PERF_MAP");
  e.perf_map = !perf_map.empty() && perf_map != "0";
  e.debug = std::atoi(text("CONVJIT_DEBUG").c_str());
  const char* verify = std::getenv("CONVJIT_VERIFY");
#ifdef NDEBUG
  e.verify = false;
#else
  e.verify = true;
#endif
  if (verify != nullptr) e.verify = std::strcmp(verify, "0") != 0;
  e.llvm_opt = std::atoi(text("CONVJIT_LLVM_OPT").c_str()) >= 3 ? 3 : 2;
  return e;
}

}  // namespace

const Environment& environment() {
  Published& p = published();
  if (const Environment* e = p.current.load(std::memory_order_acquire)) return *e;
  std::lock_guard<std::mutex> lock(p.mutex);
  if (const Environment* e = p.current.load(std::memory_order_relaxed)) return *e;
  p.all.push_back(std::make_unique<Environment>(read()));
  p.current.store(p.all.back().get(), std::memory_order_release);
  return *p.all.back();
}

void reload_environment() {
  Published& p = published();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.all.push_back(std::make_unique<Environment>(read()));
  p.current.store(p.all.back().get(), std::memory_order_release);
}

}  // namespace convjit::detail
