#include "compiler/backend/xbyak/generate.hpp"

#include <fmt/format.h>

#include "compiler/backend/code_generator.hpp"
#include "compiler/backend/xbyak/xbyak_driver.hpp"
#include "compiler/ir/pipeline.hpp"
#include "convjit/error.hpp"

namespace convjit::detail {

std::unique_ptr<GeneratedKernel> generate_xbyak(std::shared_ptr<const ir::ScheduledIr> scheduled) {
  try {
    return std::make_unique<XbyakDriver>(scheduled);
  } catch (const Xbyak::Error& e) {
    // Xbyak's errors (out of memory, cannot protect, encoding) stop at the backend.
    throw Error(ErrorCode::kUnsupported, "schedule",
                fmt::format("Xbyak code generation failed: {} ({})", e.what(),
                            scheduled->problem().to_string()));
  }
}

std::unique_ptr<GeneratedKernel> generate_xbyak(const Problem& p, const Schedule& s) {
  return generate_xbyak(std::make_shared<const ir::ScheduledIr>(p, s));
}

std::shared_ptr<const CodeGenerator> xbyak_code_generator() {
  static const std::shared_ptr<const CodeGenerator> generator =
      std::make_shared<const CodeGenerator>(CodeGenerator{
          "xbyak",
          [](std::shared_ptr<const ir::ScheduledIr> f) { return generate_xbyak(std::move(f)); }});
  return generator;
}

}  // namespace convjit::detail
