#include "compiler/backend/xbyak/generate.hpp"

#include <fmt/format.h>

#include "compiler/backend/xbyak/xbyak_kernel.hpp"
#include "convjit/error.hpp"

namespace convjit::detail {

std::unique_ptr<GeneratedKernel> generate_xbyak(const Problem& p, const Schedule& s) {
  try {
    return std::make_unique<XbyakKernel>(p, s);
  } catch (const Xbyak::Error& e) {
    // Xbyak's errors (out of memory, cannot protect, encoding) stop at the backend.
    throw Error(ErrorCode::kUnsupported, "schedule",
                fmt::format("Xbyak code generation failed: {} ({})", e.what(), p.to_string()));
  }
}

}  // namespace convjit::detail
