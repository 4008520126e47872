// convjit stream SPEC --input N,L,C [--chunk T] [--isa ISA] [--backend B] [--threads K]
//                [--seed S]
//
// N seeded random streams of length L through the streaming kernel, T rows per step (the
// last step shorter), all N streams batched in each step (slot b for stream b), then a flush
// of every stream; the outputs are compared bit for bit with Kernel::run on the whole
// sequence (a kernel compiled for the static shape N, L, C), then a step of T rows for the
// N streams is timed. Scripts depend on two lines, exactly:
//   bit-identical: yes
//   bit-identical: no (first difference at n=0, t=12, c=3)
//   step: 0.412 us (chunk 1, streams 64)
// Exit status: 0 identical, 1 different (or a spec this command cannot serve, as `run`),
// 2 a bad argument.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "convjit/jit.hpp"
#include "convjit/stream.hpp"
#include "tools/call_timer.hpp"
#include "tools/cli_util.hpp"
#include "tools/command.hpp"
#include "tools/stream_check.hpp"

namespace convjit::tool {
namespace {

struct StreamArgs {
  std::string spec, input;
  std::int64_t chunk = 1;
  std::string isa = "auto";
  std::string backend = "auto";
  int threads = 1;
  std::uint64_t seed = 1;
};

/// A numeric option's value checked by the command itself, so that the message says what
/// the option means and what it received.
std::int64_t checked_chunk(std::int64_t chunk) {
  if (chunk < 1) {
    throw CLI::ValidationError(
        "--chunk",
        fmt::format("must be >= 1 (input rows per step of each stream). Received: {}", chunk));
  }
  return chunk;
}

Shape3 checked_input_shape(const std::string& text) {
  const Shape3 shape = parse_input_shape(text);
  for (int i = 0; i < 3; ++i) {
    if (shape[i] == kDynamic || shape[i] < 1) {
      throw CLI::ValidationError(
          "--input", fmt::format("stream needs concrete sizes N,L,C of at least 1 (N streams of "
                                 "length L, C channels). Received: '{}'",
                                 text));
    }
  }
  return shape;
}

CompileOptions compile_options(const StreamArgs& args) {
  CompileOptions options;
  options.isa = *find_isa(args.isa);  // CLI::IsMember checked the names
  options.backend = *find_backend(args.backend);
  options.threads = args.threads;
  return options;
}

/// Median seconds of one batched step of `chunk` (<= L) rows for every stream, in steady
/// state: the timing state keeps stepping (as a live stream does); a stream told its
/// sequence length (`same` with strides > 1) starts over when the next step would pass it.
double time_step(const StreamKernel& sk, const PackedWeights& weights, const Shape3& rows_shape,
                 std::int64_t chunk, bool bounded, std::uint64_t seed) {
  const std::int64_t N = rows_shape[0], L = rows_shape[1], C = rows_shape[2];
  const std::vector<float> step_input = random_values(N * chunk * C, seed + 3);
  std::vector<float> step_output(
      static_cast<std::size_t>(N * sk.max_outputs(chunk) * sk.output_channels()));
  std::vector<std::int64_t> counts(static_cast<std::size_t>(N));
  StreamState state = sk.make_state(N);
  const auto step = [&] {
    if (bounded && state.position(0) + chunk > L) state.reset();
    sk.step(step_input.data(), chunk, weights, step_output.data(), state, nullptr, N,
            counts.data());
  };
  return median_seconds_per_call(step, kMinTimedSeconds);
}

int run_stream(const StreamArgs& args) {
  const Shape3 shape = checked_input_shape(args.input);
  const std::int64_t chunk = checked_chunk(args.chunk);
  const Conv1DSpec spec = parse_spec_argument(args.spec);
  // --input is in the spec's data_format order; the check works on rows (N, L, C).
  const bool channels_first = spec.data_format == DataFormat::kChannelsFirst;
  const std::int64_t N = shape[0], L = shape[channels_first ? 2 : 1],
                     C = shape[channels_first ? 1 : 2];
  const Shape3 rows_shape{N, L, C};
  const CompileOptions options = compile_options(args);

  // The streaming kernel first: it names what it refuses (an activation over time) before
  // the whole kernel. sequence_length is ignored but for `same` with strides > 1, whose
  // windows depend on it.
  StreamOptions stream_options;
  stream_options.sequence_length = L;
  const StreamKernel sk = compile_stream(spec, C, options, stream_options);
  // Input, the whole output and the streamed output (the weights are counted thrice).
  check_data_memory(spec, shape, 3, "--input");
  const Kernel whole = Jit::default_jit().compile(spec, shape, options);

  const std::int64_t kernel_floats = spec.kernel_size * (C / spec.groups) * spec.filters;
  const std::vector<float> input = random_values(N * L * C, args.seed);  // in --input order
  const std::vector<float> kernel = random_values(kernel_floats, args.seed + 1);
  const std::vector<float> bias = random_values(spec.filters, args.seed + 2);
  const float* bias_ptr = spec.use_bias ? bias.data() : nullptr;

  const PackedWeights whole_weights = whole.pack_weights(kernel.data(), bias_ptr);
  std::vector<float> whole_output(static_cast<std::size_t>(whole.output_size(N, L)));
  whole.run(input.data(), whole_weights, whole_output.data(), N, L);
  const Shape3 out_shape = whole.output_shape(N, L);
  const std::int64_t out_length = out_shape[channels_first ? 2 : 1];
  if (channels_first) whole_output = swap_last_axes(whole_output, N, out_shape[1], out_length);

  const PackedWeights stream_weights = sk.pack_weights(kernel.data(), bias_ptr);
  const std::vector<float> rows = channels_first ? swap_last_axes(input, N, C, L) : input;
  const StreamedRows streamed =
      stream_in_chunks(sk, stream_weights, rows, rows_shape, chunk, channels_first);
  const auto difference =
      first_stream_difference(streamed, whole_output, out_length, sk.output_channels());
  fmt::print("{}\n", bit_identical_line(difference));
  std::fflush(stdout);

  // A step holds at most the sequence: a chunk above L times steps of L rows, as the check
  // ran them (and a stream told its length, same with strides > 1, cannot step past it).
  const bool bounded = spec.padding == Padding::kSame && spec.strides > 1;
  const std::int64_t timed_chunk = std::min(chunk, L);
  const double step_seconds =
      time_step(sk, stream_weights, rows_shape, timed_chunk, bounded, args.seed);
  fmt::print("{}\n", step_line(step_seconds, timed_chunk, N));
  fmt::print("kernel: {}, isa {}, backend {}, threads {}, history {} rows, delay {}\n",
             sk.kernel().name(), isa_name(sk.kernel().isa()), sk.kernel().backend(),
             sk.kernel().threads(), sk.history_rows(), sk.delay());
  if (difference) fmt::print("difference: {}\n", difference->detail);
  return difference ? kExitFailure : kExitOk;
}

void add_stream_command(CLI::App& app) {
  auto args = std::make_shared<StreamArgs>();
  auto* cmd = app.add_subcommand(
      "stream",
      "Stream N seeded random sequences through SPEC's streaming kernel, T rows per step\n"
      "(all N streams batched in each step), flush, and compare with Kernel::run on the whole\n"
      "sequence bit for bit ('bit-identical: yes|no ...'); then time one step ('step: X us').\n"
      "Exit 0 only when identical.");
  cmd->add_option("spec", args->spec, "keyword syntax or get_config JSON")->required();
  cmd->add_option("--input", args->input,
                  "N,L,C (channels_first: N,C,L): N streams of length L, C channels")
      ->required();
  cmd->add_option("--chunk", args->chunk, "T: input rows per step (>= 1; the last step shorter)")
      ->capture_default_str();
  cmd->add_option("--isa", args->isa, "ISA: auto, avx2, avx512")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "avx2", "avx512"}));
  cmd->add_option("--backend", args->backend, "code generator: auto, xbyak, llvm")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "xbyak", "llvm"}));
  cmd->add_option("--threads", args->threads, "threads of the stream and of the whole kernel")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--seed", args->seed, "seed of the random input and weights")
      ->capture_default_str();
  cmd->callback([args] {
    try {
      set_exit_status(run_stream(*args));
    } catch (const Error& e) {
      // As `run`: malformed syntax is a usage error, a spec or shape Keras rejects or a
      // request this build cannot serve (an activation over time, an ISA the CPU lacks) a
      // failure.
      fmt::print(stderr, "convjit: error: {}: {}\n", e.argument(), e.what());
      set_exit_status(e.code() == ErrorCode::kParseError ? kExitUsage : kExitFailure);
    }
  });
}

const CommandRegistrar registrar(25, add_stream_command);

}  // namespace
}  // namespace convjit::tool
