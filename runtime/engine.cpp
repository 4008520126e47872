#include "runtime/engine.hpp"

#include <fmt/format.h>

#include "compiler/ir/interpret_engine.hpp"
#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "convjit/isa.hpp"
#include "convjit/jit.hpp"
#include "runtime/jit_engine.hpp"

namespace convjit::detail {
namespace {

Isa isa_option(const std::string& name) {
  const auto isa = find_isa(name);
  if (!isa) {
    throw Error(ErrorCode::kUnknownName, "isa",
                fmt::format("Unknown isa: {}. Expected one of: auto, avx2, avx512", name));
  }
  return resolve_isa(*isa);
}

}  // namespace

std::vector<std::string> engine_names() {
  return {"jit", "llvm", "interpreter", "reference"};
}

std::string default_engine_name() {
  return engine_names().front();
}

std::vector<float> run_engine(std::string_view engine, const Conv1DSpec& spec,
                              const Shape3& input_shape, const float* input, const float* kernel,
                              const float* bias, const EngineOptions& options) {
  if (engine == "reference") {
    const Problem p = make_problem(spec, input_shape);
    std::vector<float> out(static_cast<std::size_t>(p.output_size()));
    reference_conv1d(p, input, kernel, spec.use_bias ? bias : nullptr, out.data());
    return out;
  }
  if (engine == "interpreter") {
    return run_interpreter(spec, input_shape, input, kernel, spec.use_bias ? bias : nullptr,
                           options.schedule, isa_option(options.isa));
  }
  if (engine_has_kernel(engine)) {
    return run_jit_engine(engine, spec, input_shape, input, kernel, spec.use_bias ? bias : nullptr,
                          options);
  }
  throw Error(ErrorCode::kUnknownName, "engine",
              fmt::format("Unknown engine: {}. This build has: {}", engine,
                          fmt::join(engine_names(), ", ")));
}

}  // namespace convjit::detail
