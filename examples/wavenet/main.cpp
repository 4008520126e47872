// A WaveNet-style host: a stack of dilated causal Conv1D layers, each read from the JSON
// that Keras's layer.get_config() writes, compiled once for any sequence length and run
// over sequences of several lengths.
//
//   wavenet [model.jsonl] [length ...]
//
// model.jsonl holds one get_config() per line, input first. A layer whose output has the
// shape of its input is residual (output = input + conv(input)), as in WaveNet's blocks;
// the gated activation is Keras's "glu" (a * sigmoid(b) over the two halves of the filters).
#include <convjit/convjit.hpp>
#include <convjit/version.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef WAVENET_MODEL
#define WAVENET_MODEL "wavenet.jsonl"
#endif

namespace {

struct Layer {
  convjit::Conv1DSpec spec;
  std::int64_t in_channels = 0;
  convjit::Kernel kernel;
  convjit::PackedWeights weights;
  bool residual = false;
};

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// Deterministic Glorot-uniform-like values: the JSON holds the architecture, not weights.
std::vector<float> glorot(std::size_t count, double fan_in, double fan_out, std::uint32_t& state) {
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  std::vector<float> values(count);
  for (float& v : values) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(limit * (2.0 * (state >> 8) / double(1u << 24) - 1.0));
  }
  return values;
}

/// Reads the model, compiles each layer for (any batch, any length, its input channels)
/// and packs its weights once.
std::vector<Layer> load(convjit::Jit& jit, const std::string& path, std::int64_t channels) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Layer> layers;
  std::uint32_t seed = 42;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Layer layer;
    layer.spec = convjit::parse_spec_json(line);
    layer.in_channels = channels;
    layer.kernel = jit.compile(layer.spec, {convjit::kDynamic, convjit::kDynamic, channels});
    const auto& s = layer.spec;
    const std::int64_t out_channels = layer.kernel.output_shape(1, 1)[2];
    const std::vector<float> kernel =
        glorot(s.kernel_size * (channels / s.groups) * s.filters, double(s.kernel_size * channels),
               double(s.filters), seed);
    const std::vector<float> bias(s.filters, 0.01f);
    layer.weights = layer.kernel.pack_weights(kernel.data(), s.use_bias ? bias.data() : nullptr);
    layer.residual = out_channels == channels;
    channels = out_channels;
    layers.push_back(std::move(layer));
  }
  return layers;
}

/// The whole stack on `batch` sequences of `length` steps, (N, L, C) channels_last.
std::vector<float> forward(const std::vector<Layer>& layers, std::vector<float> x,
                           std::int64_t batch, std::int64_t length) {
  std::vector<float> y;
  for (const Layer& layer : layers) {
    y.resize(static_cast<std::size_t>(layer.kernel.output_size(batch, length)));
    layer.kernel.run(x.data(), layer.weights, y.data(), batch, length);
    if (layer.residual) {
      for (std::size_t i = 0; i < y.size(); ++i) y[i] += x[i];
    }
    x.swap(y);
  }
  return x;
}

std::vector<float> waveform(std::int64_t length) {
  std::vector<float> x(static_cast<std::size_t>(length));
  for (std::int64_t t = 0; t < length; ++t) {
    x[t] = static_cast<float>(0.5 * std::sin(0.05 * t) + 0.25 * std::sin(0.31 * t));
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string path = argc > 1 ? argv[1] : WAVENET_MODEL;
    std::vector<std::int64_t> lengths;
    for (int i = 2; i < argc; ++i) lengths.push_back(std::atoll(argv[i]));
    if (lengths.empty()) lengths = {1000, 4000, 16000, 250, 4000};

    convjit::Jit jit;  // its own cache: its counters count this program's compiles only
    const Clock::time_point start = Clock::now();
    const std::vector<Layer> layers = load(jit, path, /*channels=*/1);
    const double compile_ms = ms_since(start);
    const convjit::CacheStats compiled = jit.stats();
    std::printf("convjit %s: %zu layers from %s, %llu kernels compiled in %.1f ms\n",
                convjit::kVersionString, layers.size(), path.c_str(),
                static_cast<unsigned long long>(compiled.misses), compile_ms);
    std::int64_t receptive_field = 1;
    double flop_per_step = 0;
    for (const Layer& l : layers) {
      receptive_field += (l.spec.kernel_size - 1) * l.spec.dilation_rate;
      flop_per_step += 2.0 * l.spec.kernel_size * (l.in_channels / l.spec.groups) * l.spec.filters;
      std::printf("  %-12s dilation %3lld %s %s\n", l.spec.name.c_str(),
                  static_cast<long long>(l.spec.dilation_rate),
                  l.residual ? "residual" : "        ", l.kernel.name().c_str());
    }
    std::printf("receptive field: %lld steps\n", static_cast<long long>(receptive_field));

    for (const std::int64_t length : lengths) {
      const std::vector<float> input = waveform(length);
      std::vector<float> output = forward(layers, input, 1, length);  // warm-up
      double best_ms = 1e300;
      for (int rep = 0; rep < 3; ++rep) {
        const Clock::time_point t0 = Clock::now();
        output = forward(layers, input, 1, length);
        best_ms = std::min(best_ms, ms_since(t0));
      }
      double checksum = 0;
      for (float v : output) checksum += v;
      std::printf("length %6lld: %8.3f ms  %8.2f ksteps/s  %6.2f GFLOP/s  checksum %+.6f\n",
                  static_cast<long long>(length), best_ms, length / best_ms,
                  flop_per_step * length / best_ms * 1e-6, checksum);
    }

    // A length change never recompiles: every kernel was compiled for a dynamic length.
    const convjit::CacheStats after = jit.stats();
    const unsigned long long recompiles = after.misses - compiled.misses;
    std::printf("recompiles while the length changed: %llu (kernels in cache: %llu)\n", recompiles,
                static_cast<unsigned long long>(after.entries));

    // Causal: the first half of a run's output does not depend on the second half.
    const std::int64_t half = 1000;
    const std::vector<float> whole = forward(layers, waveform(2 * half), 1, 2 * half);
    const std::vector<float> prefix = forward(layers, waveform(half), 1, half);
    double max_diff = 0;
    for (std::int64_t t = 0; t < half; ++t) {
      max_diff = std::max(max_diff, double(std::fabs(whole[t] - prefix[t])));
    }
    const bool causal = max_diff <= 1e-5;
    std::printf(
        "causality: the first %lld steps of a %lld-step run match a %lld-step run "
        "(max diff %.3g): %s\n",
        static_cast<long long>(half), static_cast<long long>(2 * half),
        static_cast<long long>(half), max_diff, causal ? "ok" : "FAILED");
    return recompiles == 0 && causal ? 0 : 1;
  } catch (const convjit::Error& e) {
    std::fprintf(stderr, "wavenet: %s [%s, argument %s]\n", e.what(),
                 convjit::error_code_name(e.code()), e.argument().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wavenet: %s\n", e.what());
  }
  return 1;
}
