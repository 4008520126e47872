// CompileOptions::backend and ::cpu resolved to an LLVM Backend; the public backend names.
#include "compiler/backend/llvm/llvm_jit_backend.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "compiler/backend/llvm/llvm_backend.hpp"
#include "runtime/isa_environment.hpp"

namespace convjit {

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::kAuto: return "auto";
    case Backend::kXbyak: return "xbyak";
    case Backend::kLlvm: return "llvm";
  }
  return "auto";
}

std::optional<Backend> find_backend(std::string_view name) {
  for (Backend b : {Backend::kAuto, Backend::kXbyak, Backend::kLlvm}) {
    if (name == backend_name(b)) return b;
  }
  return std::nullopt;
}

namespace detail {
namespace {

struct BackendEnvironment {
  std::mutex mutex;
  std::atomic<bool> loaded{false};
  std::string value;
};

BackendEnvironment& backend_env() {
  static BackendEnvironment* env = new BackendEnvironment();  // never destroyed
  return *env;
}

std::shared_ptr<const Backend> make_backend(const LlvmTarget& t, bool default_cpu) {
  auto b = std::make_shared<Backend>();
  b->name = default_cpu ? std::string("llvm") : "llvm-" + t.cpu;
  b->generate = [t](const Problem& p, const Schedule& s) { return generate_llvm(p, s, t); };
  return b;
}

/// Backends for an empty cpu, one per schedule ISA (made on first use).
std::shared_ptr<const Backend> default_cpu_backend(Isa isa) {
  static std::mutex mutex;
  static std::map<Isa, std::shared_ptr<const Backend>>* backends =
      new std::map<Isa, std::shared_ptr<const Backend>>();
  std::lock_guard<std::mutex> lock(mutex);
  auto& b = (*backends)[isa];
  if (!b) b = make_backend(llvm_target("", isa), true);
  return b;
}

struct NamedTarget {
  LlvmTarget target;
  std::shared_ptr<const Backend> backend;
};

/// Targets and backends for an explicit cpu, keyed by cpu and requested ISA.
const NamedTarget& named_target(const std::string& cpu, Isa isa) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, Isa>, NamedTarget>* targets =
      new std::map<std::pair<std::string, Isa>, NamedTarget>();
  std::lock_guard<std::mutex> lock(mutex);
  auto it = targets->find({cpu, isa});
  if (it != targets->end()) return it->second;
  NamedTarget named;
  named.target = llvm_target(cpu, isa);  // throws for unknown names before caching
  named.backend = make_backend(named.target, false);
  return targets->emplace(std::make_pair(cpu, isa), std::move(named)).first->second;
}

}  // namespace

std::string backend_environment() {
  BackendEnvironment& env = backend_env();
  if (!env.loaded.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(env.mutex);
    if (!env.loaded.load(std::memory_order_relaxed)) {
      const char* value = std::getenv("CONVJIT_BACKEND");
      env.value = value == nullptr ? "" : value;
      env.loaded.store(true, std::memory_order_release);
    }
  }
  return env.value;
}

void reload_backend_environment() {
  BackendEnvironment& env = backend_env();
  std::lock_guard<std::mutex> lock(env.mutex);
  const char* value = std::getenv("CONVJIT_BACKEND");
  env.value = value == nullptr ? "" : value;
  env.loaded.store(true, std::memory_order_release);
}

bool wants_llvm_backend(const CompileOptions& options) {
  if (options.backend != convjit::Backend::kAuto) return options.backend == convjit::Backend::kLlvm;
  const std::string env = backend_environment();
  if (env.empty() || env == "auto") return !host_supports(Isa::kAvx2);
  if (env == "llvm") return true;
  if (env == "xbyak") return false;
  throw Error(ErrorCode::kUnknownName, "CONVJIT_BACKEND",
              fmt::format("Unknown backend: CONVJIT_BACKEND={}. Expected xbyak or llvm", env));
}

std::shared_ptr<const Backend> llvm_backend_for(const CompileOptions& options, Isa* isa,
                                                const std::function<Isa()>& pick_isa) {
  std::string cpu = options.cpu;
  if (cpu.empty() && options.isa == Isa::kAuto && isa_environment().empty() &&
      !host_supports(Isa::kAvx2)) {
    cpu = "x86-64";  // no AVX2: baseline code, which every x86-64 CPU runs
  }
  if (cpu.empty()) {
    *isa = pick_isa();
    return default_cpu_backend(*isa);
  }
  const NamedTarget& named = named_target(cpu, options.isa);
  if (!options.allow_unsupported_isa) {
    const std::vector<std::string> missing = missing_host_features(named.target);
    if (!missing.empty()) {
      throw Error(ErrorCode::kUnsupported, "cpu",
                  fmt::format("This CPU cannot run code for cpu={}: it lacks {}; set "
                              "allow_unsupported_isa to generate it for reading only",
                              named.target.cpu, fmt::join(missing, ", ")));
    }
  }
  *isa = named.target.schedule_isa;
  return named.backend;
}

}  // namespace detail
}  // namespace convjit
