#include "tools/run_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "runtime/jit_engine.hpp"
#include "tools/call_timer.hpp"
#include "tools/cli_util.hpp"

namespace convjit::tool {

RunReport run_and_check(const Conv1DSpec& spec, const Shape3& input_shape,
                        const std::string& engine, const detail::EngineOptions& options,
                        std::uint64_t seed, int min_calls) {
  // The library's size checks, then this function's own data: before anything is allocated.
  detail::check_engine_limits(engine, spec, input_shape);
  check_data_memory(spec, input_shape, 4, "--input");
  const detail::Problem p = detail::make_problem(spec, input_shape);
  const auto input = random_values(p.input_size(), seed);
  const auto kernel = random_values(p.kernel_size_elems(), seed + 1);
  const auto bias = random_values(p.filters, seed + 2);
  const float* bias_ptr = spec.use_bias ? bias.data() : nullptr;

  RunReport r;
  r.output_shape = call_output_shape(spec, input_shape);
  CallTimes times;
  if (detail::engine_has_kernel(engine)) {
    // What a host does: compile once, pack once, allocate the output once, then call.
    const auto t0 = std::chrono::steady_clock::now();
    const Kernel k = detail::compile_engine_kernel(engine, spec, input_shape, options);
    r.compile_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.kernel_name = k.name();
    const PackedWeights packed = k.pack_weights(kernel.data(), bias_ptr);
    const std::size_t size = static_cast<std::size_t>(p.output_size());
    // Not touched before the first call: it pays the page faults a host's fresh buffer does.
    const std::unique_ptr<float[]> output(new float[size]);
    times = time_calls([&] { k.run(input.data(), packed, output.get(), p.batch, p.length); },
                       min_calls);
    r.output.assign(output.get(), output.get() + size);
  } else {
    times = time_calls(
        [&] {
          r.output = detail::run_engine(engine, spec, input_shape, input.data(), kernel.data(),
                                        bias_ptr, options);
        },
        min_calls);
  }
  r.first_call_seconds = times.first_seconds;
  r.median_seconds = times.median_seconds;
  r.timed_calls = times.calls;
  r.gflops = r.median_seconds > 0 ? p.flops() / r.median_seconds * 1e-9 : 0.0;

  // Reference and the FORMAT.md tolerance, scaled by sum |x*w| + |b| per output.
  std::vector<float> want(static_cast<std::size_t>(p.output_size()));
  detail::reference_conv1d(p, input.data(), kernel.data(), bias_ptr, want.data());
  std::vector<float> abs_in(input.size()), abs_k(kernel.size()), abs_b(bias.size());
  std::transform(input.begin(), input.end(), abs_in.begin(), [](float v) { return std::abs(v); });
  std::transform(kernel.begin(), kernel.end(), abs_k.begin(), [](float v) { return std::abs(v); });
  std::transform(bias.begin(), bias.end(), abs_b.begin(), [](float v) { return std::abs(v); });
  std::vector<double> scale(static_cast<std::size_t>(p.batch * p.out_length * p.filters));
  detail::reference_preactivation(p, abs_in.data(), abs_k.data(), bias_ptr ? abs_b.data() : nullptr,
                                  scale.data());
  const double acc_scale =
      std::max(1.0, scale.empty() ? 0.0 : *std::max_element(scale.begin(), scale.end()));
  r.matches_reference = r.output.size() == want.size();
  for (std::size_t i = 0; r.matches_reference && i < want.size(); ++i) {
    const double tol = 1e-5 * acc_scale + 1e-4 * std::abs(want[i]);
    const double ratio = std::abs(static_cast<double>(r.output[i]) - want[i]) / tol;
    if (!(ratio <= 1.0) && !(std::isnan(want[i]) && std::isnan(r.output[i]))) {
      r.matches_reference = false;
    }
    if (ratio > r.max_error_ratio) r.max_error_ratio = ratio;
  }
  return r;
}

void print_report(const Conv1DSpec& spec, const Shape3& input_shape, const std::string& engine,
                  const RunReport& r) {
  fmt::print("spec:         {}\n", to_keywords(spec));
  fmt::print("engine:       {}\n", engine);
  fmt::print("input shape:  {}\n", shape_string(input_shape));
  fmt::print("output shape: {}\n", shape_string(r.output_shape));
  if (!r.kernel_name.empty()) {
    fmt::print("kernel:       {}\n", r.kernel_name);
    fmt::print("compile:      {:.3f} ms (this process's first: cold code and data)\n",
               r.compile_seconds * 1e3);
  }
  fmt::print("first call:   {:.3f} ms (fresh output buffer: page faults, cold caches)\n",
             r.first_call_seconds * 1e3);
  fmt::print("time:         {:.3f} ms (median of {} calls after a warm-up)\n",
             r.median_seconds * 1e3, r.timed_calls);
  fmt::print("speed:        {:.2f} GFLOP/s\n", r.gflops);
  const std::size_t shown = std::min<std::size_t>(r.output.size(), 6);
  fmt::print(
      "output[0:{}]: [{:.6g}]\n", shown,
      fmt::join(r.output.begin(), r.output.begin() + static_cast<std::ptrdiff_t>(shown), ", "));
  fmt::print("reference:    {} (max error/tolerance {:.3g})\n",
             r.matches_reference ? "match" : "MISMATCH", r.max_error_ratio);
}

}  // namespace convjit::tool
