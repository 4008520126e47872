#include "runtime/jit_engine.hpp"

#include <fmt/format.h>

namespace convjit::detail {

bool engine_has_kernel(std::string_view engine) {
  return engine == "jit" || engine == "llvm";
}

namespace {

CompileOptions engine_compile_options(std::string_view engine, const EngineOptions& options) {
  if (!engine_has_kernel(engine)) {
    throw Error(
        ErrorCode::kUnknownName, "engine",
        fmt::format("Engine {} does not compile kernels. Expected one of: jit, llvm", engine));
  }
  CompileOptions compile_options;
  const bool llvm = engine == "llvm";
  compile_options.backend = llvm ? convjit::Backend::kLlvm : convjit::Backend::kAuto;
  if (llvm && options.isa == "x86-64") {
    compile_options.cpu = "x86-64";  // SSE2 code following the avx2 schedule
  } else {
    const auto isa = find_isa(options.isa);
    if (!isa) {
      throw Error(ErrorCode::kUnknownName, "isa",
                  fmt::format("Unknown isa: {}. Expected one of: auto, avx2, avx512{}", options.isa,
                              llvm ? ", x86-64" : ""));
    }
    compile_options.isa = *isa;
  }
  compile_options.schedule = options.schedule;
  compile_options.threads = options.threads;
  return compile_options;
}

}  // namespace

Kernel compile_engine_kernel(std::string_view engine, const Conv1DSpec& spec,
                             const Shape3& input_shape, const EngineOptions& options) {
  return Jit::default_jit().compile(spec, input_shape, engine_compile_options(engine, options));
}

StreamKernel compile_engine_stream(std::string_view engine, const Conv1DSpec& spec,
                                   std::int64_t channels, const EngineOptions& options,
                                   const StreamOptions& stream_options) {
  return Jit::default_jit().compile_stream(spec, channels, engine_compile_options(engine, options),
                                           stream_options);
}

std::vector<float> run_jit_engine(std::string_view engine, const Conv1DSpec& spec,
                                  const Shape3& input_shape, const float* input,
                                  const float* kernel, const float* bias,
                                  const EngineOptions& options) {
  const Kernel k = compile_engine_kernel(engine, spec, input_shape, options);
  const bool cf = spec.data_format == DataFormat::kChannelsFirst;
  const std::int64_t batch = input_shape[0];
  const std::int64_t length = cf ? input_shape[2] : input_shape[1];
  const PackedWeights weights = k.pack_weights(kernel, spec.use_bias ? bias : nullptr);
  std::vector<float> out(static_cast<std::size_t>(k.output_size(batch, length)));
  k.run(input, weights, out.data(), batch, length);
  return out;
}

}  // namespace convjit::detail
