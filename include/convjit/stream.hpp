// StreamKernel and StreamState — Conv1D on live signals: chunks of any length (one sample
// at a time included) from any number of streams, bit-identical to the whole sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "convjit/jit.hpp"
#include "convjit/kernel.hpp"
#include "convjit/spec.hpp"

namespace convjit {

class StreamState;
namespace detail {
struct StreamLayout;
struct StreamSlots;
/// True when the guard values after every slot of `state` are untouched (tests).
bool stream_state_intact(const StreamState& state);
}  // namespace detail

/// How to compile a streaming kernel, beyond CompileOptions.
struct StreamOptions {
  /// padding="same" with strides > 1 only: Keras places that layer's windows on a grid that
  /// depends on the sequence's total length, so such a stream must be told it. A step past
  /// it, and a flush before it, throw Error(kInvalidValue, "sequence_length"). 0: unknown
  /// (such specs are then refused with Error(kIncompatibleArguments, "sequence_length")).
  /// Ignored for every other spec.
  std::int64_t sequence_length = 0;
};

/// The state of `slots()` independent streams of one StreamKernel: for each, the last
/// history_rows() = (kernel_size - 1) * dilation_rate input rows and the number of inputs
/// consumed (its position, which also fixes the stride phase). Made by
/// StreamKernel::make_state; reset, every slot is a fresh sequence (Keras's zero padding).
/// Movable, not copyable (clone() copies). Not thread-safe: one step at a time per state.
class StreamState {
 public:
  StreamState();
  ~StreamState();
  StreamState(StreamState&&) noexcept;
  StreamState& operator=(StreamState&&) noexcept;
  StreamState(const StreamState&) = delete;
  StreamState& operator=(const StreamState&) = delete;
  /// A copy of every slot (a checkpoint).
  StreamState clone() const;

  bool empty() const { return slots_ == nullptr; }
  /// Number of streams it holds.
  std::int64_t slots() const;
  /// Input rows a slot keeps: (kernel_size - 1) * dilation_rate.
  std::int64_t history_rows() const;
  /// Input channels of a row.
  std::int64_t channels() const;
  /// history_rows() * channels(): the floats of read_history / write_history.
  std::int64_t history_floats() const;
  /// Bytes this state holds (every slot and its bookkeeping).
  std::size_t bytes() const;

  /// Inputs slot `slot` consumed since its last reset.
  std::int64_t position(std::int64_t slot) const;
  /// Every slot back to a fresh sequence.
  void reset();
  void reset(std::int64_t slot);
  /// Copies the slot's last history_rows() input rows into `history`, oldest first, channels
  /// last (history_floats() floats). Rows before the sequence start read as zeros.
  void read_history(std::int64_t slot, float* history) const;
  /// Sets slot `slot` to a sequence that has consumed `position` inputs, the last
  /// history_rows() of which are `history` (as read_history gives them; rows before the
  /// sequence start, the first max(0, history_rows() - position), are ignored: they are
  /// Keras's zero padding). Throws Error(kInvalidValue) for a negative position or a null
  /// history with history_floats() > 0, before changing anything.
  void write_history(std::int64_t slot, const float* history, std::int64_t position);

 private:
  friend class StreamKernel;
  friend bool detail::stream_state_intact(const StreamState& state);
  explicit StreamState(std::unique_ptr<detail::StreamSlots> slots);
  std::unique_ptr<detail::StreamSlots> slots_;
};

/// A compiled streaming Conv1D: the spec's kernel plus the bookkeeping that feeds it chunks.
/// Compiled once per spec, channel count, ISA, backend and thread count; every step takes
/// any chunk length and any number of streams, compiles nothing and allocates nothing.
///
/// Outputs follow Keras's Conv1D on the concatenated sequence, bit for bit: the outputs of
/// any chunking, followed by flush(), are exactly the bits Kernel::run gives on the whole
/// sequence (same ISA, backend and schedule, any thread count; finite weights). A step
/// writes the outputs its inputs complete, in order:
///   - causal: one per `strides` inputs, no delay;
///   - valid: one per `strides` inputs once the first window (kernel_size-1)*dilation+1
///     has arrived;
///   - same: delayed by the right padding; flush() then writes the outputs that use it.
/// Layouts: channels_last, a step's input is (streams, chunk, channels) and stream b's
/// outputs are rows of output_channels() floats (filters, or filters / 2 with glu) from row
/// b * max_outputs(chunk). channels_first, the input is (streams, channels, chunk) and stream
/// b's outputs are (output_channels(), count) with channel rows max_outputs(chunk) floats
/// apart (max_flush_outputs() for flush). The state is rows (channels last) either way.
/// Activations over the time axis (softmax, log_softmax, sparsemax, glu with
/// channels_first) cannot stream and are refused.
///
///   convjit::StreamKernel sk = convjit::compile_stream(spec, /*channels=*/64);
///   convjit::PackedWeights w = sk.pack_weights(kernel, bias);  // Keras layout
///   convjit::StreamState state = sk.make_state(/*slots=*/1);
///   std::vector<float> y(sk.max_outputs(1) * sk.output_channels());
///   for (...) { std::int64_t n = sk.step(sample, 1, w, y.data(), state); ... }
class StreamKernel {
 public:
  StreamKernel();
  ~StreamKernel();
  StreamKernel(const StreamKernel&);
  StreamKernel& operator=(const StreamKernel&);
  StreamKernel(StreamKernel&&) noexcept;
  StreamKernel& operator=(StreamKernel&&) noexcept;

  bool empty() const { return layout_ == nullptr; }

  /// The whole-sequence kernel it runs (dynamic batch and length): Kernel::run on a whole
  /// sequence is what a stream reproduces.
  const Kernel& kernel() const;
  /// kernel().pack_weights: weights for steps (and for kernel().run).
  PackedWeights pack_weights(const float* kernel, const float* bias) const;

  /// Fresh state for `slots` streams (>= 1). Throws Error(kInvalidValue, "slots").
  StreamState make_state(std::int64_t slots = 1) const;
  /// Input channels, output channels of a row.
  std::int64_t channels() const;
  std::int64_t output_channels() const;
  /// (kernel_size - 1) * dilation_rate: the input rows a slot keeps.
  std::int64_t history_rows() const;
  /// Inputs an output waits for after its last input: the right padding of `same`
  /// ((kernel_size - 1) * dilation_rate - left padding), 0 otherwise.
  std::int64_t delay() const;
  /// Most outputs one stream gets from a step of `chunk` inputs: ceil(chunk / strides).
  std::int64_t max_outputs(std::int64_t chunk) const;
  /// Most outputs flush() writes.
  std::int64_t max_flush_outputs() const;
  /// The outputs a step of `chunk` inputs writes for a slot that has consumed `position`
  /// inputs (what step() returns for it; 0 for chunk <= 0). Throws Error(kInvalidValue,
  /// "position") for a negative position.
  std::int64_t step_outputs(std::int64_t position, std::int64_t chunk) const;

  /// One stream (slot `slot` of `state`) consumes `chunk` rows of `input` (chunk x channels
  /// floats) and writes the outputs they complete to `output` (max_outputs(chunk) x
  /// output_channels() floats of room). Returns how many outputs it wrote. chunk = 0 is a
  /// no-op. Throws Error before writing anything: kInvalidValue for chunk < 0, a null
  /// pointer, a slot out of range; kShapeMismatch for a state or weights of another kernel.
  std::int64_t step(const float* input, std::int64_t chunk, const PackedWeights& weights,
                    float* output, StreamState& state, std::int64_t slot = 0) const;
  /// `streams` streams at once: stream b consumes input rows [b*chunk, (b+1)*chunk) (of
  /// channels() floats each) with state slot slots[b] (slots == nullptr: slot b), and writes
  /// its outputs from output row b * max_outputs(chunk), their count to counts[b]. Returns
  /// the sum of counts. Streams split over the kernel's threads. Also throws
  /// Error(kInvalidValue, "slots") for a slot repeated in one call, and kInvalidValue for
  /// streams < 0 or a null `counts`.
  std::int64_t step(const float* input, std::int64_t chunk, const PackedWeights& weights,
                    float* output, StreamState& state, const std::int64_t* slots,
                    std::int64_t streams, std::int64_t* counts) const;
  /// The outputs slot `slot`'s sequence still owes if it ended now (for `same`, those that
  /// use the right zero padding; none for `valid` and `causal`), into `output`
  /// (max_flush_outputs() rows of room). Returns how many. Leaves the state unchanged: a
  /// later step continues the sequence (reset() starts a new one).
  std::int64_t flush(const PackedWeights& weights, float* output, const StreamState& state,
                     std::int64_t slot = 0) const;

 private:
  friend class Jit;
  explicit StreamKernel(std::shared_ptr<const detail::StreamLayout> layout);
  std::shared_ptr<const detail::StreamLayout> layout_;
};

/// Jit::default_jit().compile_stream(spec, channels, options, stream_options).
StreamKernel compile_stream(const Conv1DSpec& spec, std::int64_t channels,
                            const CompileOptions& options = {},
                            const StreamOptions& stream_options = {});

}  // namespace convjit
