#include "runtime/engine.hpp"

#include <fmt/format.h>

#include "compiler/ir/interpret_engine.hpp"
#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "convjit/isa.hpp"
#include "convjit/jit.hpp"
#include "convjit/tensor.hpp"
#include "runtime/jit_engine.hpp"
#include "runtime/resource_limits.hpp"

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

void check_weights_memory(const Conv1DSpec& spec, std::int64_t channels) {
  const double floats = static_cast<double>(spec.kernel_size) *
                            static_cast<double>(channels / spec.groups) *
                            static_cast<double>(spec.filters) +
                        static_cast<double>(spec.filters);
  check_host_memory(4.0 * floats, "filters",
                    fmt::format("The weights of this Conv1D (kernel ({}, {}, {}) and bias)",
                                spec.kernel_size, channels / spec.groups, spec.filters));
}

void check_output_memory(const Conv1DSpec& spec, const Shape3& input_shape, const char* argument) {
  const Shape3 out = call_output_shape(spec, input_shape);
  double floats = 1.0;
  for (std::int64_t d : out) floats *= static_cast<double>(d);
  check_host_memory(
      4.0 * floats, argument,
      "The output of this Conv1D, shape " + shape_to_string(Shape(out.begin(), out.end())) + ",");
}

void check_engine_limits(std::string_view engine, const Conv1DSpec& spec,
                         const Shape3& input_shape) {
  const Problem p = make_problem(spec, input_shape);  // validates
  if (engine == "jit" || engine == "llvm") check_compile_limits(p);
  check_weights_memory(spec, p.in_channels);  // the engines pack a copy of the kernel
  check_output_memory(spec, input_shape, "input_shape");
}

std::vector<float> run_engine(std::string_view engine, const Conv1DSpec& spec,
                              const Shape3& input_shape, const float* input, const float* kernel,
                              const float* bias, const EngineOptions& options) {
  check_engine_limits(engine, spec, input_shape);
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
