// A WaveNet-style host: a stack of dilated causal Keras Conv1D layers, each made from the
// JSON that Keras's layer.get_config() writes, run over sequences of several lengths.
//
//   wavenet [model.jsonl] [length ...]
//
// model.jsonl holds one get_config() per line, input first. A layer whose output has the
// shape of its input is residual (output = input + conv(input)), as in WaveNet's blocks;
// the gated activation is Keras's "glu" (a * sigmoid(b) over the two halves of the filters).
//
// This is the path to copy: convjit::Conv1D layers, built for any batch and length, called
// with call_into on two activation buffers made once. Each layer compiles its kernel on its
// first call (through Jit::default_jit()) and packs its weights once; later calls at any
// length reuse both. The program prints the Jit's compiles and cache hits to show it.
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
#include <utility>
#include <vector>

#ifndef WAVENET_MODEL
#define WAVENET_MODEL "wavenet.jsonl"
#endif

namespace {

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

struct Block {
  convjit::Conv1D layer;
  std::int64_t in_channels = 0, out_channels = 0;
  bool residual = false;
};

/// The model: its layers and two activation buffers that every forward pass reuses.
class Stack {
 public:
  /// Reads the model: a Conv1D per line, built for (any batch, any length, its channels),
  /// with deterministic weights.
  Stack(const std::string& path, std::int64_t channels) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::uint32_t seed = 42;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      Block b{convjit::Conv1D::from_config(line)};
      const convjit::Conv1DSpec& s = b.layer.spec();
      b.layer.build({convjit::kDynamic, convjit::kDynamic, channels});
      std::vector<float> kernel = glorot(s.kernel_size * (channels / s.groups) * s.filters,
                                         double(s.kernel_size * channels), double(s.filters), seed);
      std::vector<convjit::Tensor> weights;
      weights.push_back(
          convjit::Tensor({s.kernel_size, channels / s.groups, s.filters}, std::move(kernel)));
      if (s.use_bias) weights.push_back(convjit::Tensor({s.filters}, 0.01f));
      b.layer.set_weights(weights);
      b.in_channels = channels;
      // glu halves the filters: the shape a call returns.
      b.out_channels =
          convjit::call_output_shape(s, {convjit::kDynamic, convjit::kDynamic, channels})[2];
      b.residual = b.out_channels == channels;
      channels = b.out_channels;
      blocks_.push_back(std::move(b));
    }
  }

  const std::vector<Block>& blocks() const { return blocks_; }

  /// The whole stack on `batch` sequences of `length` steps, (N, L, C) channels_last; the
  /// result is valid until the next call. Causal layers keep the length.
  const std::vector<float>& forward(const std::vector<float>& input, std::int64_t batch,
                                    std::int64_t length) {
    std::size_t widest = 1;
    for (const Block& b : blocks_) {
      widest = std::max<std::size_t>(widest, std::max(b.in_channels, b.out_channels));
    }
    const std::size_t size = static_cast<std::size_t>(batch * length) * widest;
    if (x_.size() < size) {  // grows to the longest sequence seen, then stays
      x_.resize(size);
      y_.resize(size);
    }
    std::copy(input.begin(), input.end(), x_.begin());
    for (Block& b : blocks_) {
      const convjit::Tensor x = convjit::Tensor::view(x_.data(), {batch, length, b.in_channels});
      convjit::Tensor y = convjit::Tensor::view(y_.data(), {batch, length, b.out_channels});
      b.layer.call_into(x, y);  // no allocation after the layer's first call
      if (b.residual) {
        for (std::int64_t i = 0; i < y.size(); ++i) y.data()[i] += x.data()[i];
      }
      x_.swap(y_);
    }
    result_.assign(x_.begin(), x_.begin() + batch * length * blocks_.back().out_channels);
    return result_;
  }

 private:
  std::vector<Block> blocks_;
  std::vector<float> x_, y_, result_;
};

std::vector<float> waveform(std::int64_t length) {
  std::vector<float> x(static_cast<std::size_t>(length));
  for (std::int64_t t = 0; t < length; ++t) {
    x[t] = static_cast<float>(0.5 * std::sin(0.05 * t) + 0.25 * std::sin(0.31 * t));
  }
  return x;
}

/// Jit::default_jit()'s counters since `start`: compiles (misses) and cache hits.
std::pair<unsigned long long, unsigned long long> lookups_since(const convjit::CacheStats& start) {
  const convjit::CacheStats now = convjit::Jit::default_jit().stats();
  return {now.misses - start.misses, now.hits - start.hits};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string path = argc > 1 ? argv[1] : WAVENET_MODEL;
    std::vector<std::int64_t> lengths;
    for (int i = 2; i < argc; ++i) lengths.push_back(std::atoll(argv[i]));
    if (lengths.empty()) lengths = {1000, 4000, 16000, 250, 4000};

    const convjit::CacheStats start = convjit::Jit::default_jit().stats();
    Stack stack(path, /*channels=*/1);
    std::printf("convjit %s: %zu layers from %s\n", convjit::kVersionString, stack.blocks().size(),
                path.c_str());
    std::int64_t receptive_field = 1;
    double flop_per_step = 0;
    for (const Block& b : stack.blocks()) {
      const convjit::Conv1DSpec& s = b.layer.spec();
      receptive_field += (s.kernel_size - 1) * s.dilation_rate;
      flop_per_step += 2.0 * s.kernel_size * (b.in_channels / s.groups) * s.filters;
      std::printf("  %-12s dilation %3lld %s %lld -> %lld channels, %s\n", s.name.c_str(),
                  static_cast<long long>(s.dilation_rate), b.residual ? "residual" : "        ",
                  static_cast<long long>(b.in_channels), static_cast<long long>(b.out_channels),
                  convjit::activation_name(s.activation));
    }
    std::printf("receptive field: %lld steps\n", static_cast<long long>(receptive_field));

    // The first call of each layer compiles its kernel (for every length) and packs.
    Clock::time_point t0 = Clock::now();
    stack.forward(waveform(lengths.front()), 1, lengths.front());
    const double first_ms = ms_since(t0);
    const auto [compiles, hits] = lookups_since(start);
    std::printf("first forward pass: %.1f ms, %llu compiles, %llu cache hits (%zu layers)\n",
                first_ms, compiles, hits, stack.blocks().size());

    const convjit::CacheStats compiled = convjit::Jit::default_jit().stats();
    for (const std::int64_t length : lengths) {
      const std::vector<float> input = waveform(length);
      stack.forward(input, 1, length);  // warm-up: the buffers grow to this length once
      double best_ms = 1e300;
      double checksum = 0;
      for (int rep = 0; rep < 3; ++rep) {
        t0 = Clock::now();
        const std::vector<float>& output = stack.forward(input, 1, length);
        best_ms = std::min(best_ms, ms_since(t0));
        checksum = 0;
        for (float v : output) checksum += v;
      }
      std::printf("length %6lld: %8.3f ms  %8.2f ksteps/s  %6.2f GFLOP/s  checksum %+.6f\n",
                  static_cast<long long>(length), best_ms, length / best_ms,
                  flop_per_step * length / best_ms * 1e-6, checksum);
    }

    // A length change never recompiles, nor even looks the kernel up: each layer holds it.
    const auto [recompiles, later_hits] = lookups_since(compiled);
    std::printf("while the length changed: %llu compiles, %llu cache hits\n", recompiles,
                later_hits);

    // Causal: the first half of a run's output does not depend on the second half.
    const std::int64_t half = 1000;
    const std::vector<float> whole = stack.forward(waveform(2 * half), 1, 2 * half);
    const std::vector<float> prefix = stack.forward(waveform(half), 1, half);
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
    return recompiles == 0 && later_hits == 0 && compiles <= stack.blocks().size() && causal ? 0
                                                                                             : 1;
  } catch (const convjit::Error& e) {
    std::fprintf(stderr, "wavenet: %s [%s, argument %s]\n", e.what(),
                 convjit::error_code_name(e.code()), e.argument().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wavenet: %s\n", e.what());
  }
  return 1;
}
