#include "compiler/backend/llvm/llvm_code_generator.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace convjit::detail {
namespace {

std::shared_ptr<const CodeGenerator> make_generator(const LlvmTarget& t, bool default_cpu) {
  auto g = std::make_shared<CodeGenerator>();
  g->name = default_cpu ? std::string("llvm") : "llvm-" + t.cpu;
  g->generate = [t](std::shared_ptr<const ir::ScheduledIr> f) {
    return generate_llvm(std::move(f), t);
  };
  return g;
}

}  // namespace

std::shared_ptr<const CodeGenerator> llvm_code_generator(Isa isa) {
  static std::mutex mutex;
  static auto* generators = new std::map<Isa, std::shared_ptr<const CodeGenerator>>();
  std::lock_guard<std::mutex> lock(mutex);
  auto& g = (*generators)[isa];
  if (!g) g = make_generator(llvm_target("", isa), true);
  return g;
}

const LlvmCpuGenerator& llvm_code_generator_for_cpu(const std::string& cpu, Isa isa) {
  static std::mutex mutex;
  static auto* generators = new std::map<std::pair<std::string, Isa>, LlvmCpuGenerator>();
  std::lock_guard<std::mutex> lock(mutex);
  auto it = generators->find({cpu, isa});
  if (it != generators->end()) return it->second;
  LlvmCpuGenerator named;
  named.target = llvm_target(cpu, isa);  // throws for unknown names before caching
  named.generator = make_generator(named.target, false);
  return generators->emplace(std::make_pair(cpu, isa), std::move(named)).first->second;
}

}  // namespace convjit::detail
