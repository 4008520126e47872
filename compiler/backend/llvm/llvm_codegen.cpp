// Target selection and validation, the optimization pipeline, object and assembly emission.
#include "compiler/backend/llvm/llvm_codegen.hpp"

#include <fmt/format.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CodeGen.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <vector>

#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

[[noreturn]] void codegen_bug(const std::string& what) {
  std::fprintf(stderr, "%s:%d: convjit internal error: LLVM: %s\n", __FILE__, __LINE__,
               what.c_str());
  std::abort();
}

const llvm::Target& x86_target() {
  init_llvm_x86();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kLlvmTriple, error);
  if (target == nullptr) codegen_bug(error);
  return *target;
}

std::unique_ptr<llvm::MCSubtargetInfo> subtarget(const std::string& cpu) {
  return std::unique_ptr<llvm::MCSubtargetInfo>(
      x86_target().createMCSubtargetInfo(kLlvmTriple, cpu, ""));
}

std::string host_cpu_name() {
  const std::string name = llvm::sys::getHostCPUName().str();
  return is_valid_llvm_cpu(name) ? name : std::string("x86-64");
}

}  // namespace

void init_llvm_x86() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    LLVMInitializeX86AsmParser();
    // X86MCAsmInfo reads this option when a target machine is made: Intel syntax listings.
    const char* argv[] = {"convjit", "-x86-asm-syntax=intel"};
    llvm::cl::ParseCommandLineOptions(2, argv, "convjit\n", &llvm::nulls());
  });
}

bool is_valid_llvm_cpu(const std::string& name) {
  if (name.empty()) return false;
  return subtarget("")->isCPUStringValid(name);
}

LlvmTarget llvm_target(const std::string& cpu, Isa isa) {
  LlvmTarget t;
  const std::string host = host_cpu_name();
  if (cpu.empty()) {
    t.cpu = isa == Isa::kAvx512 ? "x86-64-v4" : isa == Isa::kAvx2 ? "x86-64-v3" : "";
    if (t.cpu.empty()) {
      // kAuto: the best of the host.
      t.cpu = host_supports(Isa::kAvx512) ? "x86-64-v4"
              : host_supports(Isa::kAvx2) ? "x86-64-v3"
                                          : "x86-64";
    }
    t.tune_cpu = host;
  } else if (cpu == "host") {
    t.cpu = host;
  } else {
    if (!is_valid_llvm_cpu(cpu)) {
      throw Error(ErrorCode::kUnknownName, "cpu",
                  fmt::format("Unknown CPU for the LLVM backend: cpu={}. Expected a CPU name "
                              "LLVM 16 knows, such as x86-64, x86-64-v3, x86-64-v4, haswell, "
                              "skylake-avx512, znver4, or host",
                              cpu));
    }
    t.cpu = cpu;
  }
  const auto sti = subtarget(t.cpu);
  t.avx2 = sti->checkFeatures("+avx2");
  t.fma = sti->checkFeatures("+fma");
  t.avx512 = sti->checkFeatures("+avx512f,+avx512vl,+avx512bw,+avx512dq");
  if (isa == Isa::kAvx512 && !t.avx512) {
    throw Error(ErrorCode::kIncompatibleArguments, "isa",
                fmt::format("isa=avx512 needs a CPU with AVX-512, but cpu={} has none", t.cpu));
  }
  t.schedule_isa = (t.avx512 && isa != Isa::kAvx2) ? Isa::kAvx512 : Isa::kAvx2;
  return t;
}

std::vector<std::string> missing_host_features(const LlvmTarget& t) {
  // Features whose instructions LLVM emits only for their own intrinsics (system state,
  // protection keys, random numbers, cache control, AMX tiles, ...): a convjit kernel calls
  // none, and virtual machines often hide them (this host's hides xsaves, pku, invpcid, rdseed
  // and mwaitx, all implied by haswell or znver4).
  static const std::set<std::string> kIntrinsicOnly = {
      "amx-bf16",  "amx-fp16", "amx-int8", "amx-tile", "cldemote",  "clflushopt", "clwb",
      "clzero",    "enqcmd",   "fsgsbase", "hreset",   "invpcid",   "kl",         "lwp",
      "movdir64b", "movdiri",  "mwaitx",   "pconfig",  "pku",       "ptwrite",    "rdpid",
      "rdpru",     "rdrnd",    "rdseed",   "rtm",      "serialize", "sgx",        "shstk",
      "tsxldtrk",  "uintr",    "waitpkg",  "wbnoinvd", "widekl",    "xsave",      "xsavec",
      "xsaveopt",  "xsaves"};
  // What cpuid and the OS say this host has (a feature LLVM cannot detect is not listed).
  static const llvm::StringMap<bool>* const host = [] {
    auto* features = new llvm::StringMap<bool>();
    llvm::sys::getHostCPUFeatures(*features);
    return features;
  }();
  std::vector<std::string> missing;
  if (t.cpu == "x86-64") return missing;  // the baseline every x86-64 CPU runs
  if (t.avx512 && !host_supports(Isa::kAvx512)) missing.push_back("avx512f");
  if (t.avx2 && !host_supports(Isa::kAvx2)) missing.push_back("avx2");
  const auto theirs = subtarget(t.cpu);
  for (const auto& feature : *host) {
    const std::string name = feature.first().str();
    if (feature.second || kIntrinsicOnly.count(name) != 0) continue;
    if (theirs->checkFeatures("+" + name)) missing.push_back(name);  // implied by t.cpu
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return missing;
}

bool host_can_run(const LlvmTarget& t) {
  return missing_host_features(t).empty();
}

std::unique_ptr<llvm::TargetMachine> make_target_machine(const LlvmTarget& t) {
  llvm::TargetOptions options;
  options.MCOptions.AsmVerbose = true;
  std::unique_ptr<llvm::TargetMachine> tm(
      x86_target().createTargetMachine(kLlvmTriple, t.cpu, "", options, llvm::Reloc::PIC_,
                                       llvm::CodeModel::Small, llvm::CodeGenOpt::Aggressive));
  if (!tm) codegen_bug("no target machine for cpu " + t.cpu);
  return tm;
}

void optimize_module(llvm::Module& m, llvm::TargetMachine& tm, const LlvmTarget& t, int level) {
  m.setTargetTriple(kLlvmTriple);
  m.setDataLayout(tm.createDataLayout());
  for (llvm::Function& fn : m) {
    if (fn.isDeclaration()) continue;
    fn.addFnAttr("target-cpu", t.cpu);
    if (!t.tune_cpu.empty()) fn.addFnAttr("tune-cpu", t.tune_cpu);
  }
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(
      level >= 3 ? llvm::OptimizationLevel::O3 : llvm::OptimizationLevel::O2);
  mpm.run(m, mam);
}

namespace {

std::string emit(llvm::Module& m, llvm::TargetMachine& tm, llvm::CodeGenFileType type) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream out(buffer);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out, nullptr, type)) {
    codegen_bug("the target machine cannot emit this file type");
  }
  pm.run(m);
  return std::string(buffer.data(), buffer.size());
}

}  // namespace

std::string emit_object(llvm::Module& m, llvm::TargetMachine& tm) {
  return emit(m, tm, llvm::CGFT_ObjectFile);
}

std::string emit_assembly(llvm::Module& m, llvm::TargetMachine& tm) {
  return emit(m, tm, llvm::CGFT_AssemblyFile);
}

std::string print_module(const llvm::Module& m) {
  std::string text;
  llvm::raw_string_ostream out(text);
  m.print(out, nullptr);
  out.flush();
  return text;
}

}  // namespace convjit::detail
