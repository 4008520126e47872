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

/// The "llvm" engine: the public Kernel API with backend=llvm. options.isa: auto, avx2,
/// avx512, or x86-64 (cpu x86-64: SSE2 code, the avx2 schedule).
std::vector<float> run_llvm_engine(const Conv1DSpec& spec, const Shape3& input_shape,
                                   const float* input, const float* kernel, const float* bias,
                                   const EngineOptions& options) {
  CompileOptions compile_options;
  compile_options.backend = convjit::Backend::kLlvm;
  if (options.isa == "x86-64") {
    compile_options.cpu = "x86-64";
  } else {
    const auto isa = find_isa(options.isa);
    if (!isa) {
      throw Error(
          ErrorCode::kUnknownName, "isa",
          fmt::format("Unknown isa: {}. Expected one of: auto, avx2, avx512, x86-64", options.isa));
    }
    compile_options.isa = *isa;
  }
  compile_options.schedule = options.schedule;
  compile_options.threads = options.threads;
  const Kernel k = Jit::default_jit().compile(spec, input_shape, compile_options);
  const bool cf = spec.data_format == DataFormat::kChannelsFirst;
  const std::int64_t batch = input_shape[0];
  const std::int64_t length = cf ? input_shape[2] : input_shape[1];
  const PackedWeights weights = k.pack_weights(kernel, spec.use_bias ? bias : nullptr);
  std::vector<float> out(static_cast<std::size_t>(k.output_size(batch, length)));
  k.run(input, weights, out.data(), batch, length);
  return out;
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
  if (engine == "llvm") {
    return run_llvm_engine(spec, input_shape, input, kernel, spec.use_bias ? bias : nullptr,
                           options);
  }
  if (engine == "jit") {
    return run_jit_engine(spec, input_shape, input, kernel, spec.use_bias ? bias : nullptr,
                          options);
  }
  throw Error(ErrorCode::kUnknownName, "engine",
              fmt::format("Unknown engine: {}. This build has: {}", engine,
                          fmt::join(engine_names(), ", ")));
}

}  // namespace convjit::detail
