// Conv1D — the Keras layer: build, call, weights, config, losses, constraints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convjit/kernel.hpp"
#include "convjit/spec.hpp"
#include "convjit/stream.hpp"
#include "convjit/tensor.hpp"

namespace convjit {

/// keras.layers.Conv1D as a Keras user knows it.
///
///   convjit::Conv1D layer(convjit::parse_spec("filters=8,kernel_size=3,padding=causal"));
///   convjit::Tensor y = layer(x);   // builds on the first call, like Keras
///
/// Weights are float32 in Keras layout: kernel (K, C/groups, F), bias (F,) when use_bias.
/// They are created at build() with the configured initializers. The layer is not
/// thread-safe: call one layer from one thread at a time.
///
/// With the "jit" and "llvm" engines the first call compiles one Kernel for any batch and
/// any length of the built channel count (through Jit::default_jit()) and packs the weights
/// for it; later calls, at any batch and length, reuse both. set_weights and
/// apply_constraints repack (on the next call), set_engine recompiles, set_threads only
/// changes the threads of a run. call_into writes into a caller's buffer and allocates
/// nothing once the layer has compiled and packed.
///
/// Streaming (docs/streaming.md): the layer also runs live sequences chunk by chunk, with
/// the outputs of layer(x) bit for bit once every chunk has been fed and the stream flushed.
///
///   convjit::StreamState state = layer.make_stream_state(/*streams=*/2, /*channels=*/16);
///   convjit::Tensor y = layer.stream_step(chunk, state);   // chunk (2, T, 16) -> (2, T', F)
///   convjit::Tensor tail = layer.stream_flush(state);      // padding="same": the last outputs
class Conv1D {
 public:
  /// Validates the spec with Keras's constructor rules (Keras raises in the constructor).
  explicit Conv1D(Conv1DSpec spec);
  /// Keras from_config: the JSON of get_config() (see parse_spec_json).
  static Conv1D from_config(std::string_view json);

  const Conv1DSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }

  /// Validates the spec against `input_shape` (data_format order; N and L may be
  /// kDynamic) and creates the weights. Throws, as Keras 3 does, if already built.
  void build(const Shape3& input_shape);
  bool built() const { return built_; }
  /// The shape given to build(), if built.
  std::optional<Shape3> build_input_shape() const;

  /// Keras __call__: builds on the first call (with the input's shape, as Keras), checks the input
  /// (rank 3, channel axis equal to the built one; the batch and length may vary between calls),
  /// runs the selected engine and records the activity regularization loss. Returns an owned tensor
  /// of call_output_shape(spec, input shape).
  Tensor operator()(const Tensor& input);
  /// The same as operator().
  Tensor call(const Tensor& input) { return (*this)(input); }
  /// operator() into `output`, which must have call_output_shape(spec(), input shape) exactly
  /// (an owned tensor or a view over the caller's buffer, e.g. Tensor::view(buffer, shape)),
  /// must not overlap the input, and is overwritten. With the jit and llvm engines this
  /// allocates nothing once the layer has compiled and packed (its first call): reusing one
  /// output buffer across calls also spares the page faults of touching fresh memory
  /// (docs/runtime.md). Throws Error(kShapeMismatch, "output") for another shape and
  /// Error(kInvalidValue, "output") for an output that overlaps the input.
  void call_into(const Tensor& input, Tensor& output);
  /// call_into for a temporary view: layer.call_into(x, Tensor::view(buffer, shape)).
  void call_into(const Tensor& input, Tensor&& output) { call_into(input, output); }

  // ---- Streaming ----
  // A StreamState holds, per stream (a slot), the last (kernel_size - 1) * dilation_rate
  // input rows and the number of inputs consumed. A chunk is (B, T, C), channels_last: B
  // streams (slot b for stream b, or slots[b]) each consume T new rows. With the jit and llvm
  // engines the layer compiles one StreamKernel (its kernel() is the layer's kernel: the same
  // code, the same bits) on the first streaming call and packs the weights for it, and keeps
  // both as it keeps its Kernel: set_weights and apply_constraints repack, set_engine and
  // set_threads recompile (cache hits when nothing else changed). Streaming does not record
  // an activity regularization loss (Keras has no streaming call; losses() is unchanged).
  // Other engines ("reference", "interpreter") run no compiled code and cannot stream:
  // Error(kUnsupported, "engine"). channels_first layers stream chunks (B, C, T) into
  // outputs (B, F, T'); their activations over time (softmax, log_softmax, sparsemax, glu)
  // cannot stream: Error(kUnsupported, "activation").

  /// A fresh state for `streams` (>= 1, Error(kInvalidValue, "streams")) live sequences, each
  /// starting at Keras's zero padding. `channels`: the input channels; an unbuilt layer is
  /// built for (None, None, channels), as its first call would; kDynamic takes the built
  /// ones (Error(kInvalidValue, "channels") on an unbuilt layer), any other value must equal
  /// them (Error(kShapeMismatch, "channels")). `sequence_length`: padding="same" with strides
  /// > 1 only, whose window grid depends on the sequence's total length (see StreamOptions);
  /// ignored otherwise. States made for one sequence_length are refused (kShapeMismatch,
  /// "state") once a state is made for another. Nothing changes when it throws.
  StreamState make_stream_state(std::int64_t streams = 1, std::int64_t channels = kDynamic,
                                std::int64_t sequence_length = 0);
  /// Feeds `chunk` (B, T, C) to B streams of `state` (stream b: slot b, or slots[b] when
  /// `slots` is given, B values, distinct) and returns the outputs those rows complete,
  /// (B, T', F) with F = filters (filters / 2 with glu); channels_first: (B, C, T) in,
  /// (B, F, T') out. T' is the same for every stream: one
  /// output per `strides` inputs for causal, valid once the first window has arrived, same
  /// delayed by its right padding (StreamKernel::step_outputs); streams whose counts would
  /// differ (different positions of a strided or warming-up layer) are refused with
  /// Error(kInvalidValue, "slots") before anything runs: use stream_step_into. Every check
  /// runs before the state changes: chunk rank and channels (Keras's input messages), B <=
  /// state.slots(), slots in range and distinct, a state of this layer's streaming kernel
  /// (kShapeMismatch, "state").
  Tensor stream_step(const Tensor& chunk, StreamState& state,
                     const std::vector<std::int64_t>& slots = {});
  /// stream_step into `output`, which must have the shape (B, max_outputs(T), F)
  /// (stream_output_shape) exactly and must not overlap `chunk`: stream b's outputs are its
  /// rows from (b, 0), their number is counts[b] (counts is resized to B); rows past a
  /// stream's count are left as they were. Returns the sum of counts. Streams may be at any
  /// positions. Allocates nothing once the layer streams (a counts vector of B capacity).
  std::int64_t stream_step_into(const Tensor& chunk, StreamState& state, Tensor& output,
                                std::vector<std::int64_t>& counts,
                                const std::vector<std::int64_t>& slots = {});
  /// stream_step_into for a temporary view.
  std::int64_t stream_step_into(const Tensor& chunk, StreamState& state, Tensor&& output,
                                std::vector<std::int64_t>& counts,
                                const std::vector<std::int64_t>& slots = {}) {
    return stream_step_into(chunk, state, output, counts, slots);
  }
  /// The shape stream_step_into writes for `streams` chunks of `chunk` rows:
  /// (streams, ceil(chunk / strides), F). Throws before the layer is built.
  Shape3 stream_output_shape(std::int64_t streams, std::int64_t chunk) const;
  /// The outputs the streams' sequences still owe if they ended now (padding="same": the
  /// ones that use the right zero padding; valid and causal owe none), (B, T', F) for the
  /// slots `slots` (default: every slot of the state). Leaves the state unchanged: a later
  /// stream_step continues the sequences. Error(kInvalidValue, "slots") when the streams owe
  /// different counts (flush them one at a time).
  Tensor stream_flush(const StreamState& state, const std::vector<std::int64_t>& slots = {});

  /// Selects the engine by name ("reference", "jit", ...); throws Error(kUnknownName,
  /// "engine") for a name this build does not have. Default: the library's default engine.
  /// Another engine drops the compiled kernel and the packed weights.
  void set_engine(std::string name);
  const std::string& engine() const { return engine_; }
  /// Worker threads the engine may use (default 1, must be >= 1). Keeps the compiled code
  /// and the packed weights: threads do not change them.
  void set_threads(int threads);
  int threads() const { return threads_; }

  /// Copies of the weights in Keras order: [kernel, bias] (or [kernel]); [] before build.
  std::vector<Tensor> get_weights() const;
  /// Sets the weights from tensors (owned or views; the values are copied) in
  /// get_weights() order. Keras's messages for a wrong count or shape (argument "weights").
  /// Every shape is checked before any value is written: a failed call changes nothing.
  /// The next call repacks them (the compiled kernel is kept).
  void set_weights(const std::vector<Tensor>& weights);
  /// The kernel (K, C/groups, F). Throws before build.
  const Tensor& kernel() const;
  /// The bias (F,). Throws before build and when use_bias is false.
  const Tensor& bias() const;

  /// Keras get_config() as JSON (to_config_json); indent < 0 gives one line.
  std::string get_config(int indent = -1) const;
  /// Number of weight values: K*(C/groups)*F (+ F with bias). Throws before build, as Keras.
  std::int64_t count_params() const;
  /// Keras compute_output_shape (no build needed; kDynamic stays dynamic).
  Shape3 compute_output_shape(const Shape3& input_shape) const;

  /// Keras layer.losses, in Keras's order: the activity regularization loss of the last
  /// call (activity_regularizer(outputs) / batch size, 0 for an empty batch, as Keras 3
  /// divide_no_nan), then kernel_regularizer(kernel) and bias_regularizer(bias) for the
  /// weights that have a regularizer. Like Keras, the weight terms are only listed when
  /// the layer is built and trainable. Values are accumulated in double.
  std::vector<double> losses() const;

  /// Applies kernel_constraint to the kernel and bias_constraint to the bias, in place.
  /// Keras applies them after each optimizer update; here the caller asks for it. A
  /// no-op before build. When a constraint is set, the next call repacks the weights.
  void apply_constraints();

 private:
  void require_built(const char* what) const;
  void check_input(const Tensor& input) const;
  /// Checks the input, builds on the first call; returns the input shape.
  Shape3 begin_call(const Tensor& input);
  /// Runs the engine on `input` (of `in_shape`) into `output` (call_output_shape values),
  /// then records the activity regularization loss.
  void run_into(const Tensor& input, const Shape3& in_shape, Tensor& output);

  Conv1DSpec spec_;
  std::string engine_;
  int threads_ = 1;
  bool built_ = false;
  Shape3 build_shape_{};
  Tensor kernel_;
  Tensor bias_;
  std::optional<double> activity_loss_;
  // What a jit/llvm call runs: empty until the first call after build, or after a change
  // that invalidates it (see the class comment).
  Kernel compiled_;       ///< the engine's kernel for (any batch, any length, the channels)
  PackedWeights packed_;  ///< kernel_ and bias_ packed for compiled_
  // Streaming, kept like compiled_ and packed_ (empty until the first streaming call).
  /// Error(kUnsupported) for channels_first and for an engine without compiled code.
  void check_streamable(const char* what) const;
  /// Checks that the layer can stream (engine, data_format), compiles stream_ and packs
  /// stream_packed_ when empty; returns stream_.
  const StreamKernel& streaming(const char* what);
  /// Checks a chunk and the slots of a step; returns B (and T in `chunk_rows`).
  std::int64_t check_stream_chunk(const Tensor& chunk, const StreamState& state,
                                  const std::vector<std::int64_t>& slots, std::int64_t& chunk_rows);
  StreamKernel stream_;                      ///< compiled for build_shape_'s channels
  PackedWeights stream_packed_;              ///< kernel_ and bias_ packed for stream_
  std::int64_t stream_sequence_length_ = 0;  ///< StreamOptions::sequence_length of stream_
};

}  // namespace convjit
