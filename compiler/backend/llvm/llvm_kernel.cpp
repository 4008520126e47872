// LlvmKernel: scheduled IR -> LLVM IR -> O3 -> an object linked in process by ORC LLJIT.
// The only file of the backend that includes ORC (slow to compile).
#include <fmt/format.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "compiler/backend/llvm/llvm_backend.hpp"
#include "compiler/backend/llvm/llvm_codegen.hpp"
#include "compiler/backend/llvm/lower_llvm.hpp"
#include "compiler/environment.hpp"
#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {
namespace {

constexpr const char* kPrefix = "convjit";

int debug_level() {
  return environment().debug;
}

/// The JIT's optimization level: O2 (compile time matters), CONVJIT_LLVM_OPT=3 for O3.
int opt_level() {
  return environment().llvm_opt;
}

[[noreturn]] void jit_bug(const std::string& what) {
  std::fprintf(stderr, "%s:%d: convjit internal error: LLVM JIT: %s\n", __FILE__, __LINE__,
               what.c_str());
  std::abort();
}

std::string error_text(llvm::Error e) {
  std::string text;
  llvm::raw_string_ostream out(text);
  out << e;
  out.flush();
  return text;
}

const char* strategy_word(Strategy s) {
  switch (s) {
    case Strategy::kDirect: return "direct";
    case Strategy::kDepthwise: return "depthwise";
  }
  return "direct";
}

class LlvmKernel final : public GeneratedKernel {
 public:
  LlvmKernel(std::shared_ptr<const ir::ScheduledIr> scheduled, const LlvmTarget& t)
      : GeneratedKernel(scheduled), target_(t), func_(scheduled->func()) {
    const Schedule& s = schedule();
    const auto t0 = std::chrono::steady_clock::now();
    context_ = std::make_unique<llvm::LLVMContext>();
    LlvmLoweringOptions options;
    options.prefix = kPrefix;
    options.fma = t.fma;
    options.tile_rows = s.tile_t;
    options.pack_weights = false;  // pack_weights() packs in C++ (ir::pack_weights)
    std::unique_ptr<llvm::Module> m = lower_to_llvm(func_, *context_, options);
    std::string problems;
    llvm::raw_string_ostream problem_out(problems);
    if (llvm::verifyModule(*m, &problem_out)) jit_bug("invalid module: " + problem_out.str());
    if (debug_level() >= 3) std::fputs(print_module(*m).c_str(), stderr);  // before O2
    machine_ = make_target_machine(t);
    const auto t1 = std::chrono::steady_clock::now();
    optimize_module(*m, *machine_, t, opt_level());
    const auto t2 = std::chrono::steady_clock::now();
    module_ = llvm::CloneModule(*m);  // kept for the listing: codegen changes `m`
    object_ = emit_object(*m, *machine_);
    const auto t3 = std::chrono::steady_clock::now();
    read_object();
    link();
    const auto t4 = std::chrono::steady_clock::now();
    if (debug_level() >= 1) {
      auto ms = [](auto a, auto b) {
        return std::chrono::duration<double, std::milli>(b - a).count();
      };
      std::fprintf(stderr,
                   "convjit: llvm %s: lower %.2f ms, optimize %.2f ms, codegen %.2f ms, link "
                   "%.2f ms\n",
                   name().c_str(), ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4));
    }
  }

  KernelEntry entry() const override { return entry_; }
  const std::uint8_t* code() const override {
    return reinterpret_cast<const std::uint8_t*>(text_.data());
  }
  std::size_t code_size() const override { return text_.size(); }
  const std::vector<CodeAnnotation>& annotations() const override { return annotations_; }

  std::string name() const override {
    const Problem& p = problem();
    const Schedule& s = schedule();
    return fmt::format("conv1d_llvm_{}_{}_c{}_f{}_k{}_s{}_d{}_g{}_{}_{}{}{}_t{}x{}", target_.cpu,
                       strategy_word(s.strategy), p.in_channels, p.filters, p.kernel, p.stride,
                       p.dilation, p.groups, padding_name(p.padding), activation_name(p.activation),
                       p.data_format == DataFormat::kChannelsFirst ? "_cf" : "",
                       p.length_is_dynamic ? "_dynlen" : "", s.tile_t, s.tile_oc_vecs);
  }

  std::size_t packed_weights_floats() const override {
    return static_cast<std::size_t>(packed_weights_size(problem(), func_.weights));
  }
  void pack_weights(const float* keras_kernel, float* packed) const override {
    detail::pack_weights(problem(), func_.weights, keras_kernel, packed);
  }
  std::size_t scratch_floats(std::int64_t length) const override {
    return static_cast<std::size_t>(llvm_scratch_floats(func_, length));
  }
  /// A call computes its KernelArgs ranges (restrict_to_call_ranges).
  std::int64_t oc_split_granularity() const override { return call_oc_split_granularity(func_); }
  bool can_split_time() const override { return call_can_split_time(func_); }

  bool runs_on_host() const override { return host_can_run(target_); }

  std::string assembly() const override {
    listings();
    return assembly_;
  }
  std::vector<std::pair<std::string, std::string>> dump_files() const override {
    listings();
    return {{".ll", llvm_ir_}};
  }

 private:
  /// The .ll text and the assembly listing, made on first use (codegen changes the module,
  /// so the IR is printed first and both are kept).
  void listings() const {
    std::lock_guard<std::mutex> lock(listing_mutex_);
    if (!llvm_ir_.empty()) return;
    llvm_ir_ = print_module(*module_);
    assembly_ = fmt::format("; LLVM {} listing for cpu={}{}{}\n", LLVM_VERSION_STRING, target_.cpu,
                            target_.tune_cpu.empty() ? "" : " tune=", target_.tune_cpu);
    assembly_ += emit_assembly(*module_, *machine_);
  }

  void read_object() {
    auto file = llvm::object::ObjectFile::createObjectFile(
        llvm::MemoryBufferRef(object_, "convjit_kernel.o"));
    if (!file) jit_bug(error_text(file.takeError()));
    std::uint64_t text_index = ~0ull;
    for (const llvm::object::SectionRef& section : (*file)->sections()) {
      auto name = section.getName();
      if (!name) jit_bug(error_text(name.takeError()));
      if (*name != ".text") continue;
      auto contents = section.getContents();
      if (!contents) jit_bug(error_text(contents.takeError()));
      text_ = contents->str();
      text_index = section.getIndex();
    }
    for (const llvm::object::SymbolRef& symbol : (*file)->symbols()) {
      auto type = symbol.getType();
      auto section = symbol.getSection();
      auto name = symbol.getName();
      auto address = symbol.getAddress();
      if (!type || !section || !name || !address) {
        if (!type) llvm::consumeError(type.takeError());
        if (!section) llvm::consumeError(section.takeError());
        if (!name) llvm::consumeError(name.takeError());
        if (!address) llvm::consumeError(address.takeError());
        continue;
      }
      if (*type != llvm::object::SymbolRef::ST_Function) continue;
      if (*section == (*file)->section_end() || (*section)->getIndex() != text_index) continue;
      annotations_.push_back({static_cast<std::size_t>(*address), "function " + name->str()});
    }
    std::sort(annotations_.begin(), annotations_.end(),
              [](const CodeAnnotation& a, const CodeAnnotation& b) { return a.offset < b.offset; });
  }

  void link() {
    auto jit = llvm::orc::LLJITBuilder().create();
    if (!jit) jit_bug(error_text(jit.takeError()));
    jit_ = std::move(*jit);
    // libm (exp, erf, tanh, ...) and memset come from the process.
    auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        jit_->getDataLayout().getGlobalPrefix());
    if (!process) jit_bug(error_text(process.takeError()));
    jit_->getMainJITDylib().addGenerator(std::move(*process));
    if (auto e = jit_->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(object_))) {
      jit_bug(error_text(std::move(e)));
    }
    auto address = jit_->lookup(std::string(kPrefix) + "_entry");
    if (!address) jit_bug(error_text(address.takeError()));
    entry_ = address->toPtr<KernelEntry>();
  }

  LlvmTarget target_;
  ir::Func func_;
  std::unique_ptr<llvm::LLVMContext> context_;
  std::unique_ptr<llvm::Module> module_;
  std::unique_ptr<llvm::TargetMachine> machine_;
  std::string object_;
  std::string text_;
  std::vector<CodeAnnotation> annotations_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  KernelEntry entry_ = nullptr;
  mutable std::mutex listing_mutex_;
  mutable std::string llvm_ir_;
  mutable std::string assembly_;
};

}  // namespace

std::unique_ptr<GeneratedKernel> generate_llvm(std::shared_ptr<const ir::ScheduledIr> scheduled,
                                               const LlvmTarget& t) {
  const Schedule& s = scheduled->plan()->schedule;
  if (s.isa != t.schedule_isa) {
    throw Error(ErrorCode::kIllegalSchedule, "isa",
                fmt::format("The schedule's isa={} does not match the LLVM target cpu={} "
                            "(which takes isa={})",
                            isa_name(s.isa), t.cpu, isa_name(t.schedule_isa)));
  }
  return std::make_unique<LlvmKernel>(std::move(scheduled), t);
}

std::unique_ptr<GeneratedKernel> generate_llvm(const Problem& p, const Schedule& s,
                                               const LlvmTarget& t) {
  return generate_llvm(std::make_shared<const ir::ScheduledIr>(p, s), t);
}

}  // namespace convjit::detail
