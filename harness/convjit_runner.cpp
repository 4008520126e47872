#include "harness/convjit_runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "convjit/jit.hpp"
#include "harness/stats.hpp"
#include "runtime/engine.hpp"

namespace convjit::harness {

std::vector<std::string> convjit_engine_names() {
  std::vector<std::string> names = detail::engine_names();
  if (std::find(names.begin(), names.end(), "jit") == names.end()) {
    names.insert(names.begin(), "jit");
  }
  return names;
}

ConvjitRunner::ConvjitRunner(const SuiteShape& shape, Activation activation, ConvjitOptions options,
                             const float* input, const float* kernel, const float* bias)
    : shape_(shape),
      spec_(shape.spec(activation)),
      options_(std::move(options)),
      input_(input),
      kernel_(kernel),
      bias_(bias),
      compile_us_(NAN) {
  const auto engines = convjit_engine_names();
  if (std::find(engines.begin(), engines.end(), options_.engine) == engines.end()) {
    throw Error(ErrorCode::kUnknownName, "engine",
                fmt::format("Unknown engine: {}. This build has: {}", options_.engine,
                            fmt::join(engines, ", ")));
  }
  if (!find_isa(options_.isa)) {
    throw Error(ErrorCode::kUnknownName, "isa",
                fmt::format("Unknown isa: {}. Expected one of: auto, avx2, avx512", options_.isa));
  }
  if (options_.backend != "xbyak" && options_.backend != "llvm") {
    throw Error(ErrorCode::kUnknownName, "backend",
                fmt::format("Unknown backend: {}. This build has: xbyak, llvm", options_.backend));
  }
  if (options_.threads < 1) {
    throw Error(ErrorCode::kInvalidValue, "threads",
                fmt::format("threads must be >= 1. Received: threads={}", options_.threads));
  }
  output_.assign(static_cast<std::size_t>(shape_.output_elems()), 0.0f);
  if (options_.engine != "jit") return;
  Jit fresh;  // a cache miss: the time is a real compile
  const double t0 = now_seconds();
  compiled_ = fresh.compile(spec_, shape_.input_shape(), compile_options());
  compile_us_ = (now_seconds() - t0) * 1e6;
  if (compiled_.backend() != options_.backend) {
    throw Error(ErrorCode::kUnsupported, "backend",
                fmt::format("Asked for backend {}, the Jit used {}", options_.backend,
                            compiled_.backend()));
  }
  packed_ = compiled_.pack_weights(kernel_, bias_);
  if (compiled_.output_size(shape_.batch, shape_.length) != shape_.output_elems()) {
    throw Error(
        ErrorCode::kShapeMismatch, "output",
        fmt::format("The kernel's output has {} elements, the suite layer {}",
                    compiled_.output_size(shape_.batch, shape_.length), shape_.output_elems()));
  }
}

CompileOptions ConvjitRunner::compile_options() const {
  CompileOptions o;
  o.isa = *find_isa(options_.isa);
  o.backend = *find_backend(options_.backend);
  o.threads = options_.threads;
  o.tuning_db = options_.tuning_db;
  o.use_tuning_db = options_.use_tuning_db;
  return o;
}

void ConvjitRunner::run() {
  if (options_.engine == "jit") {
    compiled_.run(input_, packed_, output_.data(), shape_.batch, shape_.length);
    return;
  }
  detail::EngineOptions eo;
  eo.isa = options_.isa;
  eo.threads = options_.threads;
  const std::vector<float> out =
      detail::run_engine(options_.engine, spec_, shape_.input_shape(), input_, kernel_, bias_, eo);
  output_.assign(out.begin(), out.end());
}

double ConvjitRunner::fresh_compile_us(int repeats) const {
  if (options_.engine != "jit") return NAN;
  std::vector<double> samples;
  for (int i = 0; i < std::max(repeats, 1); ++i) {
    Jit fresh;
    const double t0 = now_seconds();
    const Kernel k = fresh.compile(spec_, shape_.input_shape(), compile_options());
    samples.push_back((now_seconds() - t0) * 1e6);
  }
  return median(samples);
}

std::string ConvjitRunner::schedule_text() const {
  return options_.engine == "jit" ? compiled_.schedule_text() : std::string();
}

std::string ConvjitRunner::describe() const {
  if (options_.engine != "jit") return options_.engine;
  return fmt::format("jit {} {} {}", isa_name(compiled_.isa()), compiled_.backend(),
                     compiled_.name());
}

}  // namespace convjit::harness
