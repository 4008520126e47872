#include "convjit/layer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "compiler/spec/shape_rules.hpp"
#include "convjit/error.hpp"
#include "runtime/constraints.hpp"
#include "runtime/engine.hpp"
#include "runtime/initializers.hpp"
#include "runtime/jit_engine.hpp"
#include "runtime/regularizers.hpp"

namespace convjit {
namespace {

// An internal invariant: a library bug, not a user error.
void internal_check(bool ok, const char* what, const char* file, int line) {
  if (!ok) {
    std::fprintf(stderr, "%s:%d: internal check failed: %s\n", file, line, what);
    std::abort();
  }
}
#define CONVJIT_LAYER_CHECK(cond) internal_check((cond), #cond, __FILE__, __LINE__)

// Python's tuple printing with None for dynamic extents: "(None, 10, 4)".
std::string shape3_to_string(const Shape3& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0) out += ", ";
    out += s[i] == kDynamic ? std::string("None") : std::to_string(s[i]);
  }
  return out + ")";
}

std::size_t channel_axis(const Conv1DSpec& spec) {
  return spec.data_format == DataFormat::kChannelsLast ? 2 : 1;
}

}  // namespace

Conv1D::Conv1D(Conv1DSpec spec) : spec_(std::move(spec)), engine_(detail::default_engine_name()) {
  validate(spec_);
}

Conv1D Conv1D::from_config(std::string_view json) {
  return Conv1D(parse_spec_json(json));
}

std::optional<Shape3> Conv1D::build_input_shape() const {
  if (!built_) return std::nullopt;
  return build_shape_;
}

void Conv1D::build(const Shape3& input_shape) {
  if (built_) {
    throw Error(ErrorCode::kInvalidValue, "build",
                fmt::format("Layer '{}' is already built (input shape {}). You cannot add new "
                            "elements of state (variables or sub-layers) to a layer that is "
                            "already built.",
                            spec_.name, shape3_to_string(build_shape_)));
  }
  validate(spec_, input_shape);
  const std::int64_t channels = input_shape[channel_axis(spec_)];
  const Shape kernel_shape{spec_.kernel_size, channels / spec_.groups, spec_.filters};
  detail::check_weights_memory(spec_, channels);  // before the initializers allocate them
  Tensor kernel =
      detail::make_initialized(spec_.kernel_initializer, kernel_shape, "kernel_initializer");
  Tensor bias;
  if (spec_.use_bias) {
    bias =
        detail::make_initialized(spec_.bias_initializer, Shape{spec_.filters}, "bias_initializer");
  }
  // Commit only once everything succeeded.
  kernel_ = std::move(kernel);
  bias_ = std::move(bias);
  build_shape_ = input_shape;
  built_ = true;
  activity_loss_.reset();
}

void Conv1D::check_input(const Tensor& input) const {
  if (input.rank() != 3) {
    throw Error(ErrorCode::kShapeMismatch, "inputs",
                fmt::format("Input 0 of layer \"{}\" is incompatible with the layer: expected "
                            "ndim=3, found ndim={}. Full shape received: {}",
                            spec_.name, input.rank(), shape_to_string(input.shape())));
  }
  if (!built_) return;
  const std::size_t axis = channel_axis(spec_);
  const std::int64_t expected = build_shape_[axis];
  if (input.shape()[axis] != expected) {
    throw Error(
        ErrorCode::kShapeMismatch, "inputs",
        fmt::format("Input 0 of layer \"{}\" is incompatible with the layer: expected "
                    "axis {} of input shape to have value {}, but received input with "
                    "shape {}",
                    spec_.name, axis == 2 ? -1 : 1, expected, shape_to_string(input.shape())));
  }
}

Shape3 Conv1D::begin_call(const Tensor& input) {
  check_input(input);
  const Shape3 in_shape{input.shape()[0], input.shape()[1], input.shape()[2]};
  if (!built_) build(in_shape);
  activity_loss_.reset();  // Keras clears the layer's own losses at each call
  return in_shape;
}

Tensor Conv1D::operator()(const Tensor& input) {
  const Shape3 in_shape = begin_call(input);
  const Shape3 out_shape = detail::call_output_shape_of_valid_spec(spec_, in_shape);
  detail::check_output_memory(spec_, in_shape, "inputs");  // before the output is allocated
  Shape shape(out_shape.begin(), out_shape.end());
  // A value-initialized vector is a memset; Tensor(shape, fill) fills element by element, which
  // cost 20% of a 1x16000x128 call.
  const auto size = static_cast<std::size_t>(shape_size(shape, "output"));
  Tensor output(std::move(shape), std::vector<float>(size));
  run_into(input, in_shape, output);
  return output;
}

void Conv1D::call_into(const Tensor& input, Tensor& output) {
  const Shape3 in_shape = begin_call(input);
  const Shape3 out_shape = detail::call_output_shape_of_valid_spec(spec_, in_shape);
  if (!std::equal(out_shape.begin(), out_shape.end(), output.shape().begin(),
                  output.shape().end())) {
    throw Error(ErrorCode::kShapeMismatch, "output",
                fmt::format("Layer '{}' writes an output of shape {} for an input of shape {}. "
                            "Received: output of shape {}",
                            spec_.name, shape3_to_string(out_shape), shape_to_string(input.shape()),
                            shape_to_string(output.shape())));
  }
  const float* in = input.data();
  const float* out = output.data();
  if (input.size() > 0 && output.size() > 0 && in < out + output.size() &&
      out < in + input.size()) {
    throw Error(ErrorCode::kInvalidValue, "output",
                fmt::format("The output of layer '{}' must not overlap its input. Received: an "
                            "output that shares memory with the input",
                            spec_.name));
  }
  run_into(input, in_shape, output);
}

void Conv1D::run_into(const Tensor& input, const Shape3& in_shape, Tensor& output) {
  const bool channels_last = spec_.data_format == DataFormat::kChannelsLast;
  if (detail::engine_has_kernel(engine_)) {
    if (compiled_.empty()) {  // one kernel for every batch and length of the built channels
      Shape3 shape_class = build_shape_;
      shape_class[0] = kDynamic;
      shape_class[channels_last ? 1 : 2] = kDynamic;
      detail::EngineOptions options;
      options.threads = threads_;
      compiled_ = detail::compile_engine_kernel(engine_, spec_, shape_class, options);
    }
    if (packed_.empty()) {
      packed_ = compiled_.pack_weights(kernel_.data(), spec_.use_bias ? bias_.data() : nullptr);
    }
    compiled_.run(input.data(), packed_, output.data(), in_shape[0],
                  in_shape[channels_last ? 1 : 2]);
  } else {
    detail::EngineOptions options;
    options.threads = threads_;
    const std::vector<float> values =
        detail::run_engine(engine_, spec_, in_shape, input.data(), kernel_.data(),
                           spec_.use_bias ? bias_.data() : nullptr, options);
    CONVJIT_LAYER_CHECK(static_cast<std::int64_t>(values.size()) == output.size());
    std::copy(values.begin(), values.end(), output.data());
  }
  if (spec_.activity_regularizer.kind != Regularizer::Kind::kNone) {
    // Keras 3: loss = activity_regularizer(outputs); divide_no_nan(loss, batch size).
    const double loss = detail::regularization_loss(spec_.activity_regularizer, output);
    const std::int64_t batch = output.shape()[0];
    activity_loss_ = batch > 0 ? loss / static_cast<double>(batch) : 0.0;
  }
}

// ---- Streaming ----

namespace {

/// Axes of a streaming chunk (B, T, C) or (B, C, T), and of its output.
int stream_time_axis(const Conv1DSpec& spec) {
  return spec.data_format == DataFormat::kChannelsLast ? 1 : 2;
}
int stream_channel_axis(const Conv1DSpec& spec) {
  return spec.data_format == DataFormat::kChannelsLast ? 2 : 1;
}

/// Closes the gaps between streams' outputs: stream b wrote `count` of its `room` outputs
/// from output b * room (rows of `channels`, or channels_first: `channels` rows of `room`).
void pack_stream_outputs(float* values, std::int64_t streams, std::int64_t count, std::int64_t room,
                         std::int64_t channels, bool channels_first) {
  for (std::int64_t b = 0; b < streams; ++b) {
    if (!channels_first) {
      if (b > 0 && count > 0) {
        std::memmove(values + b * count * channels, values + b * room * channels,
                     static_cast<std::size_t>(count * channels) * sizeof(float));
      }
      continue;
    }
    if (count == 0) continue;  // nothing to move (the buffer may be empty: no null to memmove)
    for (std::int64_t c = 0; c < channels; ++c) {  // destinations never pass their sources
      std::memmove(values + (b * channels + c) * count, values + (b * channels + c) * room,
                   static_cast<std::size_t>(count) * sizeof(float));
    }
  }
}

}  // namespace

void Conv1D::check_streamable(const char* what) const {
  if (!detail::engine_has_kernel(engine_)) {
    throw Error(ErrorCode::kUnsupported, "engine",
                fmt::format("Layer '{}' cannot {} with engine {}: streaming runs compiled code. "
                            "Expected engine jit or llvm (set_engine)",
                            spec_.name, what, engine_));
  }
}

const StreamKernel& Conv1D::streaming(const char* what) {
  check_streamable(what);
  if (!built_) {
    throw Error(ErrorCode::kInvalidValue, "state",
                fmt::format("Layer '{}' is not built: make its streams' state with "
                            "layer.make_stream_state(streams, channels) first",
                            spec_.name));
  }
  if (stream_.empty()) {
    detail::EngineOptions options;
    options.threads = threads_;
    StreamOptions stream_options;
    stream_options.sequence_length = stream_sequence_length_;
    stream_ = detail::compile_engine_stream(
        engine_, spec_, build_shape_[stream_channel_axis(spec_)], options, stream_options);
  }
  if (stream_packed_.empty()) {
    stream_packed_ = stream_.pack_weights(kernel_.data(), spec_.use_bias ? bias_.data() : nullptr);
  }
  return stream_;
}

StreamState Conv1D::make_stream_state(std::int64_t streams, std::int64_t channels,
                                      std::int64_t sequence_length) {
  check_streamable("stream");
  if (streams < 1) {
    throw Error(ErrorCode::kInvalidValue, "streams",
                fmt::format("The number of streams must be >= 1. Received: streams={}", streams));
  }
  if (!built_ && channels == kDynamic) {
    throw Error(ErrorCode::kInvalidValue, "channels",
                fmt::format("Layer '{}' is not built: give make_stream_state the input channels "
                            "(make_stream_state(streams, channels)) or build the layer first",
                            spec_.name));
  }
  const int channel_axis = stream_channel_axis(spec_);
  if (built_ && channels != kDynamic && channels != build_shape_[channel_axis]) {
    throw Error(ErrorCode::kShapeMismatch, "channels",
                fmt::format("Layer '{}' was built for {} input channels. Received: channels={}",
                            spec_.name, build_shape_[channel_axis], channels));
  }
  const std::int64_t c = built_ ? build_shape_[channel_axis] : channels;
  Shape3 stream_shape{kDynamic, kDynamic, kDynamic};
  stream_shape[static_cast<std::size_t>(channel_axis)] = c;
  if (!built_) validate(spec_, stream_shape);  // Keras's messages before anything else
  StreamKernel kernel = stream_;
  if (kernel.empty() || sequence_length != stream_sequence_length_) {
    detail::EngineOptions options;
    options.threads = threads_;
    StreamOptions stream_options;
    stream_options.sequence_length = sequence_length;
    kernel = detail::compile_engine_stream(engine_, spec_, c, options, stream_options);
  }
  StreamState state = kernel.make_state(streams);
  // Everything succeeded: commit.
  // (stream_packed_ stays: the engine and the spec fix the kernel's weight layout, and
  // set_engine drops it.)
  if (!built_) build(stream_shape);
  stream_ = std::move(kernel);
  stream_sequence_length_ = sequence_length;
  return state;
}

Shape3 Conv1D::stream_output_shape(std::int64_t streams, std::int64_t chunk) const {
  require_built("stream_output_shape");
  const std::int64_t filters =
      spec_.activation == Activation::kGlu ? spec_.filters / 2 : spec_.filters;
  const std::int64_t rows = chunk <= 0 ? 0 : (chunk + spec_.strides - 1) / spec_.strides;
  if (spec_.data_format == DataFormat::kChannelsFirst) return {streams, filters, rows};
  return {streams, rows, filters};
}

std::int64_t Conv1D::check_stream_chunk(const Tensor& chunk, const StreamState& state,
                                        const std::vector<std::int64_t>& slots,
                                        std::int64_t& chunk_rows) {
  check_input(chunk);
  const std::int64_t streams = chunk.shape()[0];
  chunk_rows = chunk.shape()[static_cast<std::size_t>(stream_time_axis(spec_))];
  const std::int64_t slot_count = state.slots();
  if (!slots.empty() && static_cast<std::int64_t>(slots.size()) != streams) {
    throw Error(ErrorCode::kShapeMismatch, "slots",
                fmt::format("slots must hold one slot per stream of the chunk ({}). Received: "
                            "{} slots",
                            streams, slots.size()));
  }
  if (streams > slot_count) {
    throw Error(ErrorCode::kInvalidValue, "streams",
                fmt::format("The chunk has {} streams but the state has {} slots. Received: "
                            "chunk of shape {}",
                            streams, slot_count, shape_to_string(chunk.shape())));
  }
  for (std::size_t b = 0; b < slots.size(); ++b) {
    if (slots[b] < 0 || slots[b] >= slot_count) {
      throw Error(ErrorCode::kInvalidValue, "slots",
                  fmt::format("slots[{}] must be in [0, {}) (the state's slots). Received: {}", b,
                              slot_count, slots[b]));
    }
  }
  return streams;
}

Tensor Conv1D::stream_step(const Tensor& chunk, StreamState& state,
                           const std::vector<std::int64_t>& slots) {
  const StreamKernel& sk = streaming("stream_step");
  std::int64_t rows = 0;
  const std::int64_t streams = check_stream_chunk(chunk, state, slots, rows);
  const std::int64_t out_channels = sk.output_channels();
  // One (B, T', F) tensor: every stream must get the same count, known before running.
  std::int64_t count = 0;
  for (std::int64_t b = 0; b < streams; ++b) {
    const std::int64_t slot = slots.empty() ? b : slots[static_cast<std::size_t>(b)];
    const std::int64_t n = sk.step_outputs(state.position(slot), rows);
    if (b == 0) count = n;
    if (n != count) {
      const std::int64_t first = slots.empty() ? 0 : slots[0];
      throw Error(ErrorCode::kInvalidValue, "slots",
                  fmt::format("Layer '{}': stream_step returns one (streams, outputs, {}) "
                              "tensor, but its streams would get different numbers of outputs "
                              "(slot {} at position {}: {}; slot {} at position {}: {}). Use "
                              "stream_step_into, which returns each stream's count",
                              spec_.name, out_channels, first, state.position(first), count, slot,
                              state.position(slot), n));
    }
  }
  const std::int64_t max_rows = sk.max_outputs(rows);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(streams));
  std::vector<float> values(static_cast<std::size_t>(streams * max_rows * out_channels));
  sk.step(chunk.data(), rows, stream_packed_, values.data(), state,
          slots.empty() ? nullptr : slots.data(), streams, counts.data());
  // Stream b wrote from output b * max_rows: close the gaps.
  for (std::int64_t b = 0; b < streams; ++b) {
    CONVJIT_LAYER_CHECK(counts[static_cast<std::size_t>(b)] == count);
  }
  const bool channels_first = spec_.data_format == DataFormat::kChannelsFirst;
  pack_stream_outputs(values.data(), streams, count, max_rows, out_channels, channels_first);
  values.resize(static_cast<std::size_t>(streams * count * out_channels));
  if (channels_first) return Tensor({streams, out_channels, count}, std::move(values));
  return Tensor({streams, count, out_channels}, std::move(values));
}

std::int64_t Conv1D::stream_step_into(const Tensor& chunk, StreamState& state, Tensor& output,
                                      std::vector<std::int64_t>& counts,
                                      const std::vector<std::int64_t>& slots) {
  const StreamKernel& sk = streaming("stream_step_into");
  std::int64_t rows = 0;
  const std::int64_t streams = check_stream_chunk(chunk, state, slots, rows);
  const Shape3 out_shape = stream_output_shape(streams, rows);
  if (!std::equal(out_shape.begin(), out_shape.end(), output.shape().begin(),
                  output.shape().end())) {
    throw Error(ErrorCode::kShapeMismatch, "output",
                fmt::format("Layer '{}' writes the outputs of a chunk of shape {} into an "
                            "output of shape {}. Received: output of shape {}",
                            spec_.name, shape_to_string(chunk.shape()), shape3_to_string(out_shape),
                            shape_to_string(output.shape())));
  }
  const float* in = chunk.data();
  const float* out = output.data();
  if (chunk.size() > 0 && output.size() > 0 && in < out + output.size() &&
      out < in + chunk.size()) {
    throw Error(ErrorCode::kInvalidValue, "output",
                fmt::format("The output of layer '{}' must not overlap its input. Received: an "
                            "output that shares memory with the chunk",
                            spec_.name));
  }
  // Grow counts only after every check (a failed call changes nothing); the step checks the
  // state and the slots' distinctness before it writes.
  const std::size_t old_size = counts.size();
  counts.resize(static_cast<std::size_t>(streams));
  try {
    return sk.step(chunk.data(), rows, stream_packed_, output.data(), state,
                   slots.empty() ? nullptr : slots.data(), streams, counts.data());
  } catch (...) {
    counts.resize(old_size);
    throw;
  }
}

Tensor Conv1D::stream_flush(const StreamState& state, const std::vector<std::int64_t>& slots) {
  const StreamKernel& sk = streaming("stream_flush");
  const std::int64_t slot_count = state.slots();
  const std::int64_t streams = slots.empty() ? slot_count : static_cast<std::int64_t>(slots.size());
  for (std::size_t b = 0; b < slots.size(); ++b) {
    if (slots[b] < 0 || slots[b] >= slot_count) {
      throw Error(ErrorCode::kInvalidValue, "slots",
                  fmt::format("slots[{}] must be in [0, {}) (the state's slots). Received: {}", b,
                              slot_count, slots[b]));
    }
  }
  const std::int64_t out_channels = sk.output_channels();
  const std::int64_t max_rows = sk.max_flush_outputs();
  // The flush leaves the state: compute every stream's tail, then check the counts agree.
  std::vector<float> values(static_cast<std::size_t>(streams * max_rows * out_channels));
  std::int64_t count = 0;
  for (std::int64_t b = 0; b < streams; ++b) {
    const std::int64_t slot = slots.empty() ? b : slots[static_cast<std::size_t>(b)];
    const std::int64_t n =
        sk.flush(stream_packed_, values.data() + b * max_rows * out_channels, state, slot);
    if (b == 0) count = n;
    if (n != count) {
      const std::int64_t first = slots.empty() ? 0 : slots[0];
      throw Error(ErrorCode::kInvalidValue, "slots",
                  fmt::format("Layer '{}': stream_flush returns one (streams, outputs, {}) "
                              "tensor, but its streams owe different numbers of outputs (slot "
                              "{}: {}; slot {}: {}). Flush them one at a time",
                              spec_.name, out_channels, first, count, slot, n));
    }
  }
  const bool channels_first = spec_.data_format == DataFormat::kChannelsFirst;
  pack_stream_outputs(values.data(), streams, count, max_rows, out_channels, channels_first);
  values.resize(static_cast<std::size_t>(streams * count * out_channels));
  if (channels_first) return Tensor({streams, out_channels, count}, std::move(values));
  return Tensor({streams, count, out_channels}, std::move(values));
}

void Conv1D::set_engine(std::string name) {
  const std::vector<std::string> names = detail::engine_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw Error(
        ErrorCode::kUnknownName, "engine",
        fmt::format("Unknown engine: {}. This build has: {}", name, fmt::join(names, ", ")));
  }
  if (name != engine_) {  // another code generator (or none): another kernel and layout
    compiled_ = Kernel();
    packed_ = PackedWeights();
    stream_ = StreamKernel();
    stream_packed_ = PackedWeights();
  }
  engine_ = std::move(name);
}

void Conv1D::set_threads(int threads) {
  if (threads < 1) {
    throw Error(ErrorCode::kInvalidValue, "threads",
                fmt::format("The number of threads must be >= 1. Received: threads={}", threads));
  }
  // The same code and weight layout serve any thread count: only the handle changes (a
  // cache hit on the next call).
  if (threads != threads_) {
    compiled_ = Kernel();
    stream_ = StreamKernel();
  }
  threads_ = threads;
}

std::vector<Tensor> Conv1D::get_weights() const {
  std::vector<Tensor> weights;
  if (!built_) return weights;
  weights.push_back(kernel_.copy());
  if (spec_.use_bias) weights.push_back(bias_.copy());
  return weights;
}

void Conv1D::set_weights(const std::vector<Tensor>& weights) {
  const std::size_t expected = !built_ ? 0 : (spec_.use_bias ? 2 : 1);
  if (weights.size() != expected) {
    throw Error(ErrorCode::kShapeMismatch, "weights",
                fmt::format("You called `set_weights(weights)` on layer '{}' with a weight list "
                            "of length {}, but the layer was expecting {} weights.",
                            spec_.name, weights.size(), expected));
  }
  if (expected == 0) return;
  const Tensor* current[2] = {&kernel_, &bias_};
  for (std::size_t i = 0; i < expected; ++i) {
    if (weights[i].shape() != current[i]->shape()) {
      throw Error(ErrorCode::kShapeMismatch, "weights",
                  fmt::format("Layer {} weight shape {} is not compatible with provided weight "
                              "shape {}.",
                              spec_.name, shape_to_string(current[i]->shape()),
                              shape_to_string(weights[i].shape())));
    }
  }
  // All shapes checked: assign (copy the values, also from views; self-assignment is fine).
  kernel_ = weights[0].copy();
  if (expected == 2) bias_ = weights[1].copy();
  packed_ = PackedWeights();  // repacked on the next call
  stream_packed_ = PackedWeights();
}

void Conv1D::require_built(const char* what) const {
  if (!built_) {
    // Keras 3 count_params wording; the weight accessors say what was accessed.
    const bool is_method = std::string(what) == "count_params";
    throw Error(ErrorCode::kInvalidValue, what,
                fmt::format("You tried to {} `{}` on layer '{}', but the layer isn't built. "
                            "You can build it manually via: `layer.build(input_shape)`.",
                            is_method ? "call" : "access", what, spec_.name));
  }
}

const Tensor& Conv1D::kernel() const {
  require_built("kernel");
  return kernel_;
}

const Tensor& Conv1D::bias() const {
  require_built("bias");
  if (!spec_.use_bias) {
    throw Error(
        ErrorCode::kInvalidValue, "use_bias",
        fmt::format("Layer '{}' has no bias: it was created with use_bias=False.", spec_.name));
  }
  return bias_;
}

std::string Conv1D::get_config(int indent) const {
  return to_config_json(spec_, indent);
}

std::int64_t Conv1D::count_params() const {
  require_built("count_params");
  return kernel_.size() + (spec_.use_bias ? bias_.size() : 0);
}

Shape3 Conv1D::compute_output_shape(const Shape3& input_shape) const {
  return convjit::compute_output_shape(spec_, input_shape);
}

std::vector<double> Conv1D::losses() const {
  std::vector<double> out;
  if (activity_loss_) out.push_back(*activity_loss_);
  if (built_ && spec_.trainable) {
    if (spec_.kernel_regularizer.kind != Regularizer::Kind::kNone) {
      out.push_back(detail::regularization_loss(spec_.kernel_regularizer, kernel_));
    }
    if (spec_.use_bias && spec_.bias_regularizer.kind != Regularizer::Kind::kNone) {
      out.push_back(detail::regularization_loss(spec_.bias_regularizer, bias_));
    }
  }
  return out;
}

void Conv1D::apply_constraints() {
  if (!built_) return;
  // Project copies first so a bad axis leaves both weights unchanged.
  Tensor kernel = kernel_.copy();
  detail::apply_constraint(spec_.kernel_constraint, kernel, "kernel_constraint");
  Tensor bias;
  if (spec_.use_bias) {
    bias = bias_.copy();
    detail::apply_constraint(spec_.bias_constraint, bias, "bias_constraint");
  }
  kernel_ = std::move(kernel);
  if (spec_.use_bias) bias_ = std::move(bias);
  const bool constrained =
      spec_.kernel_constraint.kind != Constraint::Kind::kNone ||
      (spec_.use_bias && spec_.bias_constraint.kind != Constraint::Kind::kNone);
  if (constrained) {  // repacked on the next call
    packed_ = PackedWeights();
    stream_packed_ = PackedWeights();
  }
}

}  // namespace convjit
