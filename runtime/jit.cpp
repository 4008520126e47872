// Jit: ISA and schedule resolution, the kernel cache, and the compile pipeline.
#include "convjit/jit.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "compiler/environment.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "runtime/backend_choice.hpp"
#include "runtime/compiled_kernel.hpp"
#include "runtime/kernel_cache.hpp"
#include "runtime/kernel_dump.hpp"
#include "runtime/perf_map.hpp"
#include "runtime/resource_limits.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/tuning_db.hpp"

namespace convjit {
namespace detail {

namespace {

using Cache = KernelCache<KernelKey, std::shared_ptr<const CompiledKernel>, KernelKeyHash>;

/// The ISA an `isa=` word of the schedule text names, if any. Cheap: no parse.
std::optional<Isa> schedule_isa(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t pos = 0;
  while ((pos = text.find("isa=", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == '\t') {
      const std::size_t begin = pos + 4;
      const std::size_t end = text.find_first_of(" \t\n", begin);
      const std::string value =
          text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
      const auto isa = find_isa(value);
      if (!isa || *isa == Isa::kAuto) {
        throw Error(ErrorCode::kUnknownName, "schedule",
                    fmt::format("Unknown isa in schedule: isa={}. Expected avx2 or avx512", value));
      }
      return isa;
    }
    pos += 4;
  }
  return std::nullopt;
}

/// The ISA to compile for: the option, else the schedule's isa= word, else CONVJIT_ISA or
/// the host's best. Checked against the host unless allow_unsupported.
Isa pick_isa(const CompileOptions& options) {
  Isa requested = options.isa;
  if (const auto from_schedule = schedule_isa(options.schedule)) {
    if (requested == Isa::kAuto) {
      requested = *from_schedule;
    } else if (requested != *from_schedule) {
      throw Error(ErrorCode::kIncompatibleArguments, "schedule",
                  fmt::format("The schedule says isa={} but the compile options say isa={}",
                              isa_name(*from_schedule), isa_name(requested)));
    }
  }
  if (!options.allow_unsupported_isa) return resolve_isa(requested);
  if (requested == Isa::kAuto) {
    const std::string& env = environment().isa;
    if (!env.empty()) {
      const auto forced = find_isa(env);
      if (forced && *forced != Isa::kAuto) requested = *forced;
    }
  }
  return requested == Isa::kAuto ? resolve_isa(Isa::kAuto) : requested;
}

std::string dump_name(const CompiledKernel& k, const std::string& schedule_text) {
  const Shape3& s = k.input_shape;
  const bool cf = k.problem.data_format == DataFormat::kChannelsFirst;
  const std::int64_t length = cf ? s[2] : s[1];
  auto dim = [](std::int64_t v) { return v == kDynamic ? std::string("dyn") : std::to_string(v); };
  std::string name = fmt::format("{}_n{}_l{}", k.name, dim(s[0]), dim(length));
  if (!schedule_text.empty()) {
    name += fmt::format("_s{:08x}",
                        static_cast<std::uint32_t>(std::hash<std::string>{}(schedule_text)));
  }
  return name;
}

std::shared_ptr<const CompiledKernel> build(const CodeGenerator& backend, const Conv1DSpec& spec,
                                            const Shape3& input_shape, Isa isa,
                                            const std::string& schedule_text) {
  const Problem p = make_problem(spec, input_shape);
  check_compile_limits(p);  // hostile sizes: refused before scheduling or generating code
  const Schedule s = schedule_text.empty()
                         ? default_schedule(p, isa)
                         : merge_schedule(default_schedule(p, isa), schedule_text);
  if (s.isa != isa) {
    throw Error(ErrorCode::kIllegalSchedule, "schedule",
                fmt::format("The schedule's isa={} differs from the compile isa={}",
                            isa_name(s.isa), isa_name(isa)));
  }
  // The one plan and pipeline (plan_kernel refuses an illegal schedule); the backend
  // compiles its IR.
  auto scheduled = std::make_shared<const ir::ScheduledIr>(p, s);
  auto k = std::make_shared<CompiledKernel>();
  k->code = backend.generate(std::move(scheduled));
  if (!k->code) {
    throw Error(ErrorCode::kUnsupported, "backend",
                fmt::format("The {} backend produced no code for {}", backend.name, p.to_string()));
  }
  k->input_shape = input_shape;
  k->problem = p;
  k->backend = backend.name;
  k->name = k->code->name();
  k->layout = weight_layout_id(backend.name, p, k->code->schedule());
  k->runnable = k->code->runs_on_host();
  k->dump_name = dump_name(*k, schedule_text);
  const std::string dir = dump_directory();
  if (!dir.empty()) dump_kernel(*k, dir);
  perf_map_record(*k);
  return k;
}

}  // namespace
}  // namespace detail

struct Jit::Impl {
  Impl(std::size_t capacity, std::shared_ptr<const detail::CodeGenerator> b)
      : backend(std::move(b)), cache(capacity) {}
  std::shared_ptr<const detail::CodeGenerator> backend;
  bool own_backend = false;  // not the default Xbyak backend: CompileOptions::backend is ignored
  detail::Cache cache;
  std::string tuning_db;  // JitOptions::tuning_db

  // Tuning databases, each read once (on the first compile miss that needs it).
  std::mutex db_mutex;
  std::map<std::string, std::shared_ptr<const detail::TuningDb>> dbs;

  std::shared_ptr<const detail::TuningDb> database(const std::string& path) {
    std::lock_guard<std::mutex> lock(db_mutex);
    auto& db = dbs[path];
    if (!db) {
      try {
        db = std::make_shared<const detail::TuningDb>(detail::TuningDb::load(path));
        detail::report_problems_once(*db);
      } catch (const Error& e) {  // not a regular file, too large, unreadable
        detail::report_unreadable_once(path, e);
        db = std::make_shared<const detail::TuningDb>();
      }
    }
    return db;
  }

  /// The schedule text of the best valid record of `path` for this compile, or "".
  std::string tuned_schedule(const std::string& path, const Conv1DSpec& spec,
                             const Shape3& input_shape, int threads, Isa isa,
                             const std::string& backend_name) {
    const auto db = database(path);
    if (db->records().empty()) return "";
    const detail::TuningRecord* best =
        db->best(detail::make_tuning_key(spec, input_shape, threads), isa_name(isa), backend_name);
    return best ? best->schedule : "";
  }
};

Jit::Jit(JitOptions options) : Jit(options, detail::xbyak_code_generator()) {}

Jit::Jit(JitOptions options, std::shared_ptr<const detail::CodeGenerator> backend) {
  if (!backend || !backend->generate) {
    throw Error(ErrorCode::kInvalidValue, "backend", "A Jit needs a backend with a generator");
  }
  impl_ = std::make_unique<Impl>(options.capacity, std::move(backend));
  impl_->own_backend = impl_->backend != detail::xbyak_code_generator();
  impl_->tuning_db = options.tuning_db;
}

Jit::~Jit() = default;

Kernel Jit::compile(const Conv1DSpec& spec, const Shape3& input_shape,
                    const CompileOptions& options) {
  if (options.threads < 0) {
    throw Error(ErrorCode::kInvalidValue, "threads",
                fmt::format("threads must be >= 0 (0: every hardware thread). Received: "
                            "threads={}",
                            options.threads));
  }
  // The LLVM backend (CompileOptions::backend, CONVJIT_BACKEND, or no AVX2 on this CPU)
  // replaces the default Xbyak one; a Jit made with its own backend keeps it.
  const bool own_backend = impl_->own_backend;
  const bool use_llvm = !own_backend && detail::wants_llvm_backend(options);
  if (!use_llvm && !own_backend && !options.cpu.empty()) {
    throw Error(ErrorCode::kIncompatibleArguments, "cpu",
                fmt::format("cpu={} is an option of the LLVM backend; the compile uses the Xbyak "
                            "backend (set backend=llvm)",
                            options.cpu));
  }
  Isa isa = Isa::kAuto;
  std::shared_ptr<const detail::CodeGenerator> llvm_backend;
  if (use_llvm) {
    llvm_backend =
        detail::llvm_code_generator_for(options, &isa, [&] { return detail::pick_isa(options); });
  } else {
    isa = detail::pick_isa(options);
  }
  const detail::CodeGenerator& backend = use_llvm ? *llvm_backend : *impl_->backend;
  const int threads =
      options.threads > 0 ? options.threads : detail::ThreadPool::hardware_threads();
  // Without an explicit schedule, a tuning database may supply one (docs/tuning.md). Such a
  // compile is cached apart from the heuristic one: its key names the database and the
  // thread count (tuned schedules are keyed by threads).
  std::string db_path;
  if (options.schedule.empty() && options.use_tuning_db) {
    db_path = !options.tuning_db.empty()  ? options.tuning_db
              : !impl_->tuning_db.empty() ? impl_->tuning_db
                                          : detail::tuning_db_environment();
  }
  const std::string key_schedule = db_path.empty()
                                       ? options.schedule
                                       : fmt::format("\ttuning_db={} threads={}", db_path, threads);
  auto compiled = impl_->cache.get_or_compile(
      detail::make_kernel_key(spec, input_shape, isa, backend.name, key_schedule), [&] {
        if (!db_path.empty()) {
          const std::string tuned =
              impl_->tuned_schedule(db_path, spec, input_shape, threads, isa, backend.name);
          if (!tuned.empty()) {
            try {
              return detail::build(backend, spec, input_shape, isa, tuned);
            } catch (const Error& e) {
              if (e.code() != ErrorCode::kIllegalSchedule && e.code() != ErrorCode::kParseError) {
                throw;
              }
              fmt::print(stderr,
                         "convjit: tuning database {}: schedule '{}' refused ({}); using "
                         "the heuristic\n",
                         db_path, tuned, e.what());
            }
          }
        }
        return detail::build(backend, spec, input_shape, isa, options.schedule);
      });
  return Kernel(std::move(compiled), threads);
}

CacheStats Jit::stats() const {
  return impl_->cache.stats();
}
void Jit::clear() {
  impl_->cache.clear();
}
std::size_t Jit::capacity() const {
  return impl_->cache.capacity();
}

Jit& Jit::default_jit() {
  // Never destroyed: kernels and threads may outlive static destruction order.
  static Jit* const jit = new Jit();
  return *jit;
}

Kernel compile(const Conv1DSpec& spec, const Shape3& input_shape, const CompileOptions& options) {
  return Jit::default_jit().compile(spec, input_shape, options);
}

}  // namespace convjit
