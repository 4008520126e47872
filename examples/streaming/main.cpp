// Streaming hosts: Conv1D on live signals, one step at a time.
//
//   streaming [samples] [decode_steps]
//
// 1. WaveNet-style generation: a stack of dilated causal Keras Conv1D layers (1 -> 32, then
//    32 -> 32 gated blocks with dilations 1, 2, ..., 256 and residual connections, then
//    32 -> 1) generates `samples` (16000) samples one at a time, each output fed back as the
//    next input (plus a little seeded noise, standing for WaveNet's sampling): the
//    autoregressive loop of a vocoder. It uses the
//    Keras layer's streaming mode: layer.make_stream_state, then layer.stream_step_into on
//    buffers made once (no allocation per sample).
// 2. Mamba-style decode: 64 sequences through a depthwise causal conv (1536 channels, K4,
//    silu, groups=1536) in a pool of 96 state slots: each sequence's prompt is prefilled with
//    the whole-sequence kernel and written into its slot (write_history), then every decode
//    step feeds one token of every live sequence in one batch step with their slot indices
//    (Mamba's conv_state_indices); sequences finish and new ones take their slots.
//
// Both check that the streamed outputs are the bits the whole-sequence kernel gives on the
// whole sequence (layer(x), Kernel::run) and exit 1 if they are not. Random weights, seeded.
#include <convjit/convjit.hpp>
#include <convjit/version.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

/// Glorot-uniform values from a seeded generator.
convjit::Tensor glorot(const convjit::Shape& shape, double fan_in, double fan_out,
                       std::mt19937& rng) {
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  std::uniform_real_distribution<float> dist(static_cast<float>(-limit), static_cast<float>(limit));
  convjit::Tensor t(shape);
  for (std::int64_t i = 0; i < t.size(); ++i) t.data()[i] = dist(rng);
  return t;
}

bool same_bits(const float* a, const float* b, std::int64_t n) {
  return std::memcmp(a, b, static_cast<std::size_t>(n) * sizeof(float)) == 0;
}

// ---- 1. WaveNet-style generation through Conv1D layers ----------------------------------

struct Block {
  convjit::Conv1D layer;
  bool residual = false;   // output = input + conv(input)
  std::vector<float> out;  // this layer's output row of a step
};

int wavenet(std::int64_t samples) {
  constexpr std::int64_t kChannels = 32;
  std::mt19937 rng(2026);
  std::vector<Block> stack;
  auto add = [&](const std::string& spec, std::int64_t in, bool residual) {
    Block b{convjit::Conv1D(convjit::parse_spec(spec)), residual, {}};
    const convjit::Conv1DSpec& s = b.layer.spec();
    b.layer.build({convjit::kDynamic, convjit::kDynamic, in});
    std::vector<convjit::Tensor> weights;
    weights.push_back(
        glorot({s.kernel_size, in, s.filters}, double(s.kernel_size * in), double(s.filters), rng));
    weights.push_back(glorot({s.filters}, 100.0, 100.0, rng));  // small biases
    b.layer.set_weights(weights);
    stack.push_back(std::move(b));
  };
  add("name=input,filters=32,kernel_size=2,padding=causal,activation=tanh", 1, false);
  for (int d = 1; d <= 256; d *= 2) {
    // Gated: glu is a * sigmoid(b) over the two halves of the 64 filters.
    add("name=dilated_" + std::to_string(d) + ",filters=64,kernel_size=2,padding=causal," +
            "dilation_rate=" + std::to_string(d) + ",activation=glu",
        kChannels, true);
  }
  add("name=output,filters=1,kernel_size=1,activation=tanh", kChannels, false);

  // One state per layer (one stream each), buffers made once.
  std::vector<convjit::StreamState> states;
  std::int64_t receptive = 1;
  for (Block& b : stack) {
    states.push_back(b.layer.make_stream_state(1));
    receptive += states.back().history_rows();
    b.out.assign(static_cast<std::size_t>(b.layer.stream_output_shape(1, 1)[2]), 0.0f);
  }
  std::vector<std::int64_t> counts;
  std::vector<float> inputs(static_cast<std::size_t>(samples));  // the generated signal
  std::vector<float> outputs(static_cast<std::size_t>(samples));
  float sample = 0.5f;  // the first input

  auto step = [&](float in) {
    float x = in;
    const float* row = &x;
    std::int64_t channels = 1;
    for (std::size_t i = 0; i < stack.size(); ++i) {
      Block& b = stack[i];
      const std::int64_t width = static_cast<std::int64_t>(b.out.size());
      b.layer.stream_step_into(convjit::Tensor::view(const_cast<float*>(row), {1, 1, channels}),
                               states[i], convjit::Tensor::view(b.out.data(), {1, 1, width}),
                               counts);
      if (b.residual) {
        for (std::int64_t c = 0; c < width; ++c) b.out[c] += row[c];
      }
      row = b.out.data();
      channels = width;
    }
    return row[0];
  };

  // WaveNet samples its next input from the predicted distribution; here the output plus a
  // little seeded noise stands for that (without it, random weights settle on a constant).
  std::uint32_t noise = 12345;
  const Clock::time_point start = Clock::now();
  for (std::int64_t t = 0; t < samples; ++t) {
    inputs[t] = sample;
    outputs[t] = step(sample);  // causal, strides 1: exactly one output per input
    noise = noise * 1664525u + 1013904223u;
    sample = outputs[t] + 0.05f * (static_cast<float>(noise >> 8) / float(1u << 23) - 1.0f);
  }
  const double us = us_since(start);
  std::printf(
      "wavenet: %zu layers (receptive field %lld samples), %lld samples one at a time: "
      "%.2f us per sample (%.1f ms)\n",
      stack.size(), static_cast<long long>(receptive), static_cast<long long>(samples),
      us / double(samples), us / 1000.0);
  std::printf("wavenet: last samples %.6f %.6f %.6f %.6f\n", outputs[samples - 4],
              outputs[samples - 3], outputs[samples - 2], outputs[samples - 1]);

  // The whole generated signal through the whole-sequence layers: layer(x), same bits.
  convjit::Tensor x({1, samples, 1}, inputs);
  for (Block& b : stack) {
    convjit::Tensor y = b.layer(x);
    if (b.residual) {
      for (std::int64_t i = 0; i < y.size(); ++i) y.data()[i] += x.data()[i];
    }
    x = std::move(y);
  }
  const bool ok = same_bits(x.data(), outputs.data(), samples);
  std::printf("wavenet: bit-identical to the whole-sequence layers: %s\n", ok ? "yes" : "no");
  return ok ? 0 : 1;
}

// ---- 2. Mamba-style decode through a StreamKernel with state indices --------------------

constexpr std::int64_t kMambaChannels = 1536;

/// The conv input of sequence `id` at position `t` (in Mamba, a projection of the token):
/// made from (id, t) so a check can rebuild every sequence.
void token_row(std::int64_t id, std::int64_t t, float* row) {
  std::uint64_t h = static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull +
                    static_cast<std::uint64_t>(t) * 0xC2B2AE3D27D4EB4Full + 1;
  for (std::int64_t c = 0; c < kMambaChannels; ++c) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 29;
    row[c] = static_cast<float>(static_cast<double>(h >> 40) / double(1ull << 23) - 1.0);
  }
}

struct Sequence {
  std::int64_t id = 0, slot = 0, prompt = 0, length = 0, end = 0;  // length: tokens so far
  std::vector<float> outputs;                                      // every output row
};

int mamba(std::int64_t steps) {
  constexpr std::int64_t C = kMambaChannels, kPool = 96, kLive = 64;
  const convjit::Conv1DSpec spec =
      convjit::parse_spec("filters=1536,kernel_size=4,groups=1536,padding=causal,activation=silu");
  convjit::CompileOptions options;
  options.threads = 1;
  const convjit::StreamKernel sk = convjit::compile_stream(spec, C, options);
  std::mt19937 rng(7);
  const convjit::Tensor kernel = glorot({4, 1, C}, 4.0, 4.0, rng);
  const convjit::Tensor bias = glorot({C}, 100.0, 100.0, rng);
  const convjit::PackedWeights w = sk.pack_weights(kernel.data(), bias.data());
  convjit::StreamState pool = sk.make_state(kPool);

  // Free slots, scattered over the pool.
  std::vector<std::int64_t> free_slots(kPool);
  std::iota(free_slots.begin(), free_slots.end(), 0);
  std::shuffle(free_slots.begin(), free_slots.end(), rng);
  std::vector<Sequence> done, live;
  std::int64_t next_id = 0;
  std::vector<float> rows, history(static_cast<std::size_t>(sk.history_rows() * C));
  // A new sequence: prefill its prompt with the whole-sequence kernel, then hand its last
  // history_rows() inputs to a free slot (Mamba's conv_state after the prompt).
  auto start = [&] {
    Sequence s;
    s.id = next_id++;
    s.slot = free_slots.back();
    free_slots.pop_back();
    s.prompt = std::uniform_int_distribution<std::int64_t>(1, 24)(rng);
    s.length = s.prompt;
    s.end = s.prompt + std::uniform_int_distribution<std::int64_t>(steps / 4, steps * 2)(rng);
    rows.resize(static_cast<std::size_t>(s.prompt * C));
    for (std::int64_t t = 0; t < s.prompt; ++t) token_row(s.id, t, rows.data() + t * C);
    s.outputs.resize(static_cast<std::size_t>(s.prompt * C));
    sk.kernel().run(rows.data(), w, s.outputs.data(), 1, s.prompt);
    const std::int64_t H = sk.history_rows();
    std::fill(history.begin(), history.end(), 0.0f);
    for (std::int64_t i = 0; i < H; ++i) {
      const std::int64_t t = s.prompt - H + i;
      if (t >= 0) std::copy_n(rows.data() + t * C, C, history.data() + i * C);
    }
    pool.write_history(s.slot, history.data(), s.prompt);
    live.push_back(std::move(s));
  };
  for (std::int64_t i = 0; i < kLive; ++i) start();

  std::vector<float> input(static_cast<std::size_t>(kLive * C));
  std::vector<float> output(static_cast<std::size_t>(kLive * sk.max_outputs(1) * C));
  std::vector<std::int64_t> slots(kLive), counts(kLive);
  double step_us = 0;
  std::int64_t finished = 0;
  for (std::int64_t step = 0; step < steps; ++step) {
    for (std::int64_t b = 0; b < kLive; ++b) {
      Sequence& s = live[static_cast<std::size_t>(b)];
      slots[b] = s.slot;
      token_row(s.id, s.length, input.data() + b * C);
    }
    const Clock::time_point t0 = Clock::now();
    sk.step(input.data(), 1, w, output.data(), pool, slots.data(), kLive, counts.data());
    step_us += us_since(t0);
    for (std::int64_t b = 0; b < kLive; ++b) {
      Sequence& s = live[static_cast<std::size_t>(b)];
      s.outputs.insert(s.outputs.end(), output.begin() + b * C, output.begin() + (b + 1) * C);
      ++s.length;
    }
    // Finished sequences free their slots; new ones take them.
    for (std::size_t b = 0; b < live.size(); ++b) {
      if (live[b].length < live[b].end) continue;
      free_slots.insert(free_slots.begin(), live[b].slot);
      pool.reset(live[b].slot);
      done.push_back(std::move(live[b]));
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(b));
      --b;
      ++finished;
      start();
    }
  }
  std::printf(
      "mamba: %lld streams in a pool of %lld slots, depthwise %lld channels K4 silu: "
      "%.2f us per decode step (%lld steps, %lld sequences finished, %lld started)\n",
      static_cast<long long>(kLive), static_cast<long long>(kPool), static_cast<long long>(C),
      step_us / double(steps), static_cast<long long>(steps), static_cast<long long>(finished),
      static_cast<long long>(next_id));

  // Every sequence, prompt and decoded tokens, through the whole-sequence kernel.
  bool ok = true;
  std::int64_t checked = 0;
  std::vector<float> whole;
  for (const std::vector<Sequence>* group : {&done, &live}) {
    for (const Sequence& s : *group) {
      rows.resize(static_cast<std::size_t>(s.length * C));
      for (std::int64_t t = 0; t < s.length; ++t) token_row(s.id, t, rows.data() + t * C);
      whole.resize(rows.size());
      sk.kernel().run(rows.data(), w, whole.data(), 1, s.length);
      ok = ok && static_cast<std::int64_t>(s.outputs.size()) == s.length * C &&
           same_bits(whole.data(), s.outputs.data(), s.length * C);
      ++checked;
    }
  }
  std::printf("mamba: %lld sequences bit-identical to the whole-sequence kernel: %s\n",
              static_cast<long long>(checked), ok ? "yes" : "no");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t samples = argc > 1 ? std::atoll(argv[1]) : 16000;
  const std::int64_t steps = argc > 2 ? std::atoll(argv[2]) : 64;
  if (samples < 4 || steps < 4) {
    std::fprintf(stderr, "usage: streaming [samples >= 4] [decode_steps >= 4]\n");
    return 2;
  }
  std::printf("convjit %s: streaming Conv1D\n", convjit::kVersionString);
  try {
    const int a = wavenet(samples);
    const int b = mamba(steps);
    return a != 0 || b != 0 ? 1 : 0;
  } catch (const convjit::Error& e) {
    std::fprintf(stderr, "convjit error (%s): %s\n", e.argument().c_str(), e.what());
    return 1;
  }
}
