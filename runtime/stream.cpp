// StreamKernel: chunks of a live sequence through the whole-sequence kernel, bit for bit.
//
// Every output is computed by the same generated code, on the same rows, with the same
// edge classification as Kernel::run on the whole sequence (docs/streaming.md):
//  - the code takes the length, the left padding and the output range at run time
//    (KernelArgs), so a call may describe a window of the sequence that starts at an
//    absolute input row `origin`: rows are read from origin on, and output t of the call is
//    output t + origin / strides of the sequence. The origin is a multiple of the stride
//    (the output grid stays the sequence's) at or before the first row of the first output
//    of the call, so no output of the window looks like a left edge unless it is one of the
//    sequence (origin 0);
//  - the window's length is the inputs consumed so far, so the outputs that read right
//    padding (`same`, at flush) are right edges there as in the whole run.
// A slot keeps its rows in a linear buffer: history_rows + strides - 1 rows of history and
// `room` rows to append into. When a chunk does not fit it first moves the history to the
// front (about history_rows per `room` inputs: amortized, never per step); a chunk longer
// than `room` is read in place after its first `room` rows.
#include "convjit/stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "compiler/problem.hpp"
#include "runtime/compiled_kernel.hpp"
#include "runtime/resource_limits.hpp"
#include "runtime/thread_pool.hpp"

namespace convjit {
namespace detail {

/// Below this many flops a step stays on the calling thread (as Kernel::run).
constexpr double kStreamMinParallelFlops = 1.0e6;
/// Floats of guard after every slot's rows, holding kGuardBits (checked by tests).
constexpr std::int64_t kSlotGuard = 16;
constexpr std::uint32_t kGuardBits = 0x7fa5a5a5;

/// Everything a stream of one StreamKernel needs: immutable, shared by the kernel, its
/// copies and every state made from it.
struct StreamLayout {
  Kernel kernel;  ///< dynamic batch and length: the whole-sequence kernel and its weights
  std::shared_ptr<const CompiledKernel> compiled;  ///< the code steps run (channels-last rows)
  std::string id;                                  ///< equal for interchangeable states
  std::int64_t channels = 0;                       ///< C
  std::int64_t filters = 0;                        ///< F (the code's output channels)
  std::int64_t out_channels = 0;                   ///< F, or F / 2 with glu
  std::int64_t history = 0;                        ///< H = (K - 1) * d
  std::int64_t stride = 1;                         ///< s
  std::int64_t pad_left = 0;                       ///< of the whole sequence
  std::int64_t room = 0;                           ///< rows a slot appends before it compacts
  std::int64_t capacity = 0;                       ///< rows of a slot: H + s - 1 + room
  std::int64_t slot_floats = 0;                    ///< capacity * C rounded up to 16, + kSlotGuard
  std::int64_t sequence_length = 0;                ///< same with s > 1: the declared length, else 0
  std::int64_t sequence_outputs = 0;               ///< Lout of sequence_length
  Padding padding = Padding::kValid;
  double flops_per_output = 0;  ///< 2 * F * C/g * K
  int threads = 1;
  std::int64_t kernel_size = 1;  ///< K
  std::int64_t dilation = 1;     ///< d
  /// The batch kernel (strides 1 only, else empty): the same spec and schedule with
  /// padding `valid` and dilation gather_columns, run over windows gathered tap-major
  /// (gather_outputs). gather_columns is 0 without one.
  Kernel gather;
  std::shared_ptr<const CompiledKernel> gather_compiled;
  std::int64_t gather_columns = 0;
  /// channels_first: chunks are (channels, chunk) and outputs (out_channels, count); the
  /// slots hold rows, and `compiled` is the channels_last kernel of the same schedule.
  bool channels_first = false;
  Kernel rows_kernel;  ///< channels_first: the channels_last kernel the steps run

  /// Outputs whose windows end at or before input n - 1 (the ones n inputs complete).
  std::int64_t complete_outputs(std::int64_t n) const {
    const std::int64_t last = n - 1 + pad_left - history;
    std::int64_t count = last < 0 ? 0 : last / stride + 1;
    if (sequence_length > 0) count = std::min(count, sequence_outputs);
    return count;
  }
  /// Keras's output length of a sequence of n inputs.
  std::int64_t final_outputs(std::int64_t n) const {
    if (sequence_length > 0) return sequence_outputs;
    if (padding == Padding::kValid) return n - 1 - history < 0 ? 0 : (n - 1 - history) / stride + 1;
    return (n + stride - 1) / stride;
  }
};

/// The slots of a StreamState.
struct StreamSlots {
  std::shared_ptr<const StreamLayout> layout;
  AlignedFloats rows;                   ///< slots x slot_floats
  std::vector<std::int64_t> position;   ///< n: inputs consumed
  std::vector<std::int64_t> first_row;  ///< a: the absolute input row at rows[0] of the slot
  std::vector<std::uint32_t> seen;      ///< repeated-slot check of a batch step
  std::uint32_t epoch = 0;

  float* slot_rows(std::int64_t slot) { return rows.data() + slot * layout->slot_floats; }
  const float* slot_rows(std::int64_t slot) const {
    return rows.data() + slot * layout->slot_floats;
  }
};

namespace {

std::int64_t align_down(std::int64_t v, std::int64_t s) {
  const std::int64_t q = v / s;
  return (q * s > v ? q - 1 : q) * s;
}
std::int64_t align_up(std::int64_t v, std::int64_t s) {
  return align_down(v + s - 1, s);
}

/// Pointers of one step's weights.
struct StepWeights {
  const float* weights = nullptr;
  const float* bias = nullptr;
};

/// Computes outputs [j0, j1) of the sequence into `out` (row j0 first) from `rows`, which
/// holds the sequence's input rows [origin, end) (origin: a multiple of the stride, at or
/// before the first row output j0 reads, or 0). Splits the output channels over `threads`.
void run_outputs(const StreamLayout& L, const float* rows, std::int64_t origin, std::int64_t end,
                 std::int64_t j0, std::int64_t j1, float* out, const StepWeights& w, int threads) {
  if (j0 >= j1) return;
  const GeneratedKernel& code = *L.compiled->code;
  KernelArgs base;
  base.input = rows;
  base.weights = w.weights;
  base.bias = w.bias;
  base.length = end - origin;
  if (L.sequence_length > 0) {
    // `same` with strides > 1: code that derives the left padding from the length (the
    // LLVM backend's) must see a length with the whole sequence's remainder mod s. The
    // rows past `end` are never read: outputs [j0, j1) end before it (or, at flush, `end`
    // is the sequence's length).
    base.length += ((L.sequence_length - end) % L.stride + L.stride) % L.stride;
  }
  base.pad_left = L.pad_left;
  base.t_begin = j0 - origin / L.stride;
  base.t_end = j1 - origin / L.stride;
  base.out_length = base.t_end;
  // Row t of the call is written at output + t * out_channels: rows before t_begin are
  // never touched.
  base.output = out - base.t_begin * L.out_channels;
  base.n_begin = 0;
  base.n_end = 1;
  const std::size_t scratch_floats = code.scratch_floats(base.length);
  const KernelEntry entry = code.entry();
  const std::int64_t granularity = std::max<std::int64_t>(code.oc_split_granularity(), 1);
  const std::int64_t units = (L.filters + granularity - 1) / granularity;
  const double flops = L.flops_per_output * static_cast<double>(j1 - j0);
  const std::int64_t chunks =
      threads <= 1 || flops < kStreamMinParallelFlops ? 1 : std::min<std::int64_t>(units, threads);
  if (chunks <= 1) {
    KernelArgs args = base;
    args.scratch = thread_scratch(scratch_floats);
    args.oc_begin = 0;
    args.oc_end = L.filters;
    entry(&args);
    return;
  }
  auto body = [&](std::int64_t i) {
    KernelArgs args = base;
    args.scratch = thread_scratch(scratch_floats);
    args.oc_begin = std::min(L.filters, units * i / chunks * granularity);
    args.oc_end = std::min(L.filters, units * (i + 1) / chunks * granularity);
    if (args.oc_begin < args.oc_end) entry(&args);
  };
  ThreadPool::global().parallel_for(chunks, threads, std::cref(body));
}

/// One output a batched step owes: where its window starts in its slot, where it goes.
struct PendingOutput {
  const float* window = nullptr;  ///< the row of its first tap
  float* out = nullptr;
};

/// The gathered windows of a batched step: kernel_size blocks of gather_columns rows, per
/// thread, allocated on first use.
float* gather_scratch(std::size_t floats) {
  thread_local AlignedFloats scratch;
  if (scratch.size() < floats) scratch = AlignedFloats(floats);
  return scratch.data();
}

/// Computes the outputs of `pending` (at most gather_columns of them) with the batch kernel:
/// output i's taps are gathered to rows i, i + G, i + 2G, ... (G = gather_columns), which the
/// batch kernel, `valid` with dilation G, reads as output i of one sequence. Every output is
/// an interior one there as in the whole sequence, computed by the same instructions in the
/// same order (the schedule is the spec's own), so the bits are the same.
void gather_outputs(const StreamLayout& L, const PendingOutput* pending, std::int64_t count,
                    const StepWeights& w, int threads) {
  if (count == 0) return;
  const std::int64_t C = L.channels, G = L.gather_columns, K = L.kernel_size;
  const std::size_t row_bytes = static_cast<std::size_t>(C) * sizeof(float);
  float* v = gather_scratch(static_cast<std::size_t>(K * G * C + G * L.out_channels));
  float* staged = v + K * G * C;
  for (std::int64_t i = 0; i < count; ++i) {
    for (std::int64_t k = 0; k < K; ++k) {
      std::memcpy(v + (k * G + i) * C, pending[i].window + k * L.dilation * C, row_bytes);
    }
  }
  // Rows of outputs that follow one another in `output` are written in place; the others
  // go through scratch.
  bool contiguous = true;
  for (std::int64_t i = 1; i < count && contiguous; ++i) {
    contiguous = pending[i].out == pending[0].out + i * L.out_channels;
  }
  const GeneratedKernel& code = *L.gather_compiled->code;
  KernelArgs base;
  base.input = v;
  base.weights = w.weights;
  base.bias = w.bias;
  base.length = (K - 1) * G + count;
  base.out_length = count;
  base.pad_left = 0;
  base.n_end = 1;
  base.oc_end = L.filters;
  const std::size_t scratch_floats = code.scratch_floats(base.length);
  base.output = contiguous ? pending[0].out : staged;
  const KernelEntry entry = code.entry();
  const std::int64_t tile = std::max<std::int64_t>(code.schedule().tile_t, 1);
  const std::int64_t units = (count + tile - 1) / tile;
  const double flops = L.flops_per_output * static_cast<double>(count);
  const std::int64_t chunks =
      threads <= 1 || flops < kStreamMinParallelFlops ? 1 : std::min<std::int64_t>(units, threads);
  auto body = [&](std::int64_t c) {
    KernelArgs args = base;
    args.scratch = thread_scratch(scratch_floats);
    args.t_begin = std::min(count, units * c / chunks * tile);
    args.t_end = std::min(count, units * (c + 1) / chunks * tile);
    if (args.t_begin < args.t_end) entry(&args);
  };
  if (chunks <= 1) {
    body(0);
  } else {
    ThreadPool::global().parallel_for(chunks, threads, std::cref(body));
  }
  if (!contiguous) {
    for (std::int64_t i = 0; i < count; ++i) {
      std::memcpy(pending[i].out, staged + i * L.out_channels,
                  static_cast<std::size_t>(L.out_channels) * sizeof(float));
    }
  }
}

/// Makes room for `count` rows after a slot's rows [a, n) (count <= room), moving its
/// history to the front when they do not fit; returns where they go.
float* make_room(const StreamLayout& L, float* rows, std::int64_t& a, std::int64_t n,
                 std::int64_t count) {
  const std::int64_t C = L.channels;
  if (n - a + count > L.capacity) {
    const std::int64_t keep_from = std::max<std::int64_t>(0, align_down(n - L.history, L.stride));
    std::memmove(rows, rows + (keep_from - a) * C,
                 static_cast<std::size_t>((n - keep_from) * C) * sizeof(float));
    a = keep_from;
  }
  return rows + (n - a) * C;
}

/// Appends `count` rows (channels last) to a slot holding rows [a, n).
void append_rows(const StreamLayout& L, float* rows, std::int64_t& a, std::int64_t n,
                 const float* input, std::int64_t count) {
  std::memcpy(make_room(L, rows, a, n, count), input,
              static_cast<std::size_t>(count * L.channels) * sizeof(float));
}

/// Output rows of a channels_first step, before they are transposed: per thread, reused.
float* staging_rows(std::size_t floats) {
  thread_local AlignedFloats staging;
  if (staging.size() < floats) staging = AlignedFloats(floats);
  return staging.data();
}

/// Writes `count` output rows (channels last, from `rows`) to columns [column, column +
/// count) of a channels_first output whose channels are `stride` floats apart.
void transpose_out(const StreamLayout& L, const float* rows, std::int64_t count, float* out,
                   std::int64_t column, std::int64_t stride) {
  for (std::int64_t c = 0; c < L.out_channels; ++c) {
    float* dst = out + c * stride + column;
    for (std::int64_t j = 0; j < count; ++j) dst[j] = rows[j * L.out_channels + c];
  }
}

/// channels_first: stream `slot` consumes the chunk (channels x chunk floats, channel rows
/// `chunk` apart) `room` steps at a time, transposed into the slot's rows; the outputs are
/// computed as rows and transposed into `out` (channel c's outputs from out + c * out_stride).
std::int64_t advance_channels_first(const StreamLayout& L, StreamSlots& slots, std::int64_t slot,
                                    const float* input, std::int64_t chunk, float* out,
                                    std::int64_t out_stride, const StepWeights& w, int threads) {
  const std::int64_t C = L.channels;
  float* rows = slots.slot_rows(slot);
  std::int64_t& a = slots.first_row[static_cast<std::size_t>(slot)];
  std::int64_t& n = slots.position[static_cast<std::size_t>(slot)];
  float* staged = staging_rows(static_cast<std::size_t>(L.room * L.out_channels));
  std::int64_t written = 0;
  for (std::int64_t done = 0; done < chunk;) {
    const std::int64_t piece = std::min(chunk - done, L.room);
    float* dst = make_room(L, rows, a, n, piece);
    for (std::int64_t t = 0; t < piece; ++t) {
      for (std::int64_t c = 0; c < C; ++c) dst[t * C + c] = input[c * chunk + done + t];
    }
    const std::int64_t j0 = L.complete_outputs(n), j1 = L.complete_outputs(n + piece);
    run_outputs(L, rows, a, n + piece, j0, j1, staged, w, threads);
    transpose_out(L, staged, j1 - j0, out, written, out_stride);
    written += j1 - j0;
    n += piece;
    done += piece;
  }
  return written;
}

/// One stream consumes `chunk` rows; returns the outputs written.
std::int64_t advance(const StreamLayout& L, StreamSlots& slots, std::int64_t slot,
                     const float* input, std::int64_t chunk, float* out, const StepWeights& w,
                     int threads) {
  if (chunk == 0) return 0;
  const std::int64_t C = L.channels;
  float* rows = slots.slot_rows(slot);
  std::int64_t& a = slots.first_row[static_cast<std::size_t>(slot)];
  std::int64_t& n = slots.position[static_cast<std::size_t>(slot)];
  const std::int64_t n0 = n;
  const std::int64_t j_start = L.complete_outputs(n0);
  // The first `room` rows go through the slot: they complete the outputs whose windows
  // reach back into the history.
  const std::int64_t head = std::min(chunk, L.room);
  append_rows(L, rows, a, n0, input, head);
  const std::int64_t j_mid = L.complete_outputs(n0 + head);
  run_outputs(L, rows, a, n0 + head, j_start, j_mid, out, w, threads);
  std::int64_t written = j_mid - j_start;
  if (chunk > head) {
    // Every later output starts at or after row n0 + room - H >= n0 + s: read in place.
    const std::int64_t origin = align_up(n0, L.stride);
    const std::int64_t j_end = L.complete_outputs(n0 + chunk);
    run_outputs(L, input + (origin - n0) * C, origin, n0 + chunk, j_mid, j_end,
                out + written * L.out_channels, w, threads);
    written += j_end - j_mid;
    const std::int64_t keep_from = align_down(n0 + chunk - L.history, L.stride);
    std::memcpy(rows, input + (keep_from - n0) * C,
                static_cast<std::size_t>((n0 + chunk - keep_from) * C) * sizeof(float));
    a = keep_from;
  }
  n = n0 + chunk;
  return written;
}

/// Most outputs one batch kernel call computes (its dilation). Steps of many streams with
/// short chunks compute their outputs together, G at a time, so that the register tile
/// spans outputs of several streams and each weight load serves all of them.
constexpr std::int64_t kGatherColumns = 64;
/// Longest chunk that takes the batched path; longer chunks give the per-stream kernel
/// whole tiles of their own.
constexpr std::int64_t kGatherMaxChunk = 4;

/// A step of several streams with short chunks: each stream's rows go to its slot, and
/// its new outputs are computed with the other streams' by gather_outputs. Outputs at the
/// start of a sequence (left edges) take the per-stream path. Returns the outputs written.
std::int64_t batched_step(const StreamLayout& L, StreamSlots& s, const float* input,
                          std::int64_t chunk, const std::int64_t* slots, std::int64_t streams,
                          float* output, std::int64_t out_rows, std::int64_t* counts,
                          const StepWeights& w) {
  PendingOutput pending[kGatherColumns];
  std::int64_t pending_count = 0, total = 0;
  const std::int64_t C = L.channels;
  for (std::int64_t b = 0; b < streams; ++b) {
    const std::int64_t slot = slots != nullptr ? slots[b] : b;
    float* rows = s.slot_rows(slot);
    std::int64_t& a = s.first_row[static_cast<std::size_t>(slot)];
    std::int64_t& n = s.position[static_cast<std::size_t>(slot)];
    const std::int64_t n0 = n;
    const std::int64_t j0 = L.complete_outputs(n0);
    append_rows(L, rows, a, n0, input + b * chunk * C, chunk);
    n = n0 + chunk;
    const std::int64_t j1 = L.complete_outputs(n);
    float* out_b = output + b * out_rows * L.out_channels;
    counts[b] = j1 - j0;
    total += j1 - j0;
    if (j0 - L.pad_left < 0) {
      run_outputs(L, rows, a, n, j0, j1, out_b, w, L.threads);
      continue;
    }
    for (std::int64_t j = j0; j < j1; ++j) {
      pending[pending_count++] = {rows + (j - L.pad_left - a) * C,
                                  out_b + (j - j0) * L.out_channels};
      if (pending_count == L.gather_columns) {
        gather_outputs(L, pending, pending_count, w, L.threads);
        pending_count = 0;
      }
    }
  }
  gather_outputs(L, pending, pending_count, w, L.threads);
  return total;
}

}  // namespace
}  // namespace detail

using detail::StreamLayout;
using detail::StreamSlots;

// ---- StreamState ----

StreamState::StreamState() = default;
StreamState::~StreamState() = default;
StreamState::StreamState(StreamState&&) noexcept = default;
StreamState& StreamState::operator=(StreamState&&) noexcept = default;
StreamState::StreamState(std::unique_ptr<detail::StreamSlots> slots) : slots_(std::move(slots)) {}

namespace {

StreamSlots& require_slots(const std::unique_ptr<StreamSlots>& slots) {
  if (!slots) {
    throw Error(ErrorCode::kInvalidValue, "state",
                "The StreamState is empty (default-constructed or moved from); get one from "
                "StreamKernel::make_state");
  }
  return *slots;
}

void check_slot(const StreamSlots& s, std::int64_t slot) {
  const auto count = static_cast<std::int64_t>(s.position.size());
  if (slot < 0 || slot >= count) {
    throw Error(
        ErrorCode::kInvalidValue, "slot",
        fmt::format("slot must be in [0, {}) (the state's slots). Received: {}", count, slot));
  }
}

}  // namespace

StreamState StreamState::clone() const {
  const StreamSlots& s = require_slots(slots_);
  auto copy = std::make_unique<StreamSlots>();
  copy->layout = s.layout;
  copy->rows = detail::AlignedFloats(s.rows.size());
  if (s.rows.size() > 0) {
    std::memcpy(copy->rows.data(), s.rows.data(), s.rows.size() * sizeof(float));
  }
  copy->position = s.position;
  copy->first_row = s.first_row;
  copy->seen.assign(s.seen.size(), 0);
  return StreamState(std::move(copy));
}

std::int64_t StreamState::slots() const {
  return static_cast<std::int64_t>(require_slots(slots_).position.size());
}
std::int64_t StreamState::history_rows() const {
  return require_slots(slots_).layout->history;
}
std::int64_t StreamState::channels() const {
  return require_slots(slots_).layout->channels;
}
std::int64_t StreamState::history_floats() const {
  return history_rows() * channels();
}
std::size_t StreamState::bytes() const {
  const StreamSlots& s = require_slots(slots_);
  return s.rows.size() * sizeof(float) +
         s.position.size() * (2 * sizeof(std::int64_t) + sizeof(std::uint32_t));
}

std::int64_t StreamState::position(std::int64_t slot) const {
  const StreamSlots& s = require_slots(slots_);
  check_slot(s, slot);
  return s.position[static_cast<std::size_t>(slot)];
}

void StreamState::reset() {
  StreamSlots& s = require_slots(slots_);
  std::fill(s.position.begin(), s.position.end(), 0);
  std::fill(s.first_row.begin(), s.first_row.end(), 0);
}

void StreamState::reset(std::int64_t slot) {
  StreamSlots& s = require_slots(slots_);
  check_slot(s, slot);
  s.position[static_cast<std::size_t>(slot)] = 0;
  s.first_row[static_cast<std::size_t>(slot)] = 0;
}

void StreamState::read_history(std::int64_t slot, float* history) const {
  const StreamSlots& s = require_slots(slots_);
  check_slot(s, slot);
  const StreamLayout& L = *s.layout;
  const std::int64_t C = L.channels, H = L.history;
  if (H == 0) return;
  if (history == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "history",
                fmt::format("history must point to {} floats ({} rows of {} channels). "
                            "Received: nullptr",
                            H * C, H, C));
  }
  const std::int64_t n = s.position[static_cast<std::size_t>(slot)];
  const std::int64_t a = s.first_row[static_cast<std::size_t>(slot)];
  const float* rows = s.slot_rows(slot);
  for (std::int64_t i = 0; i < H; ++i) {
    const std::int64_t r = n - H + i;
    float* dst = history + i * C;
    if (r < 0) {
      std::fill(dst, dst + C, 0.0f);
    } else {
      std::memcpy(dst, rows + (r - a) * C, static_cast<std::size_t>(C) * sizeof(float));
    }
  }
}

void StreamState::write_history(std::int64_t slot, const float* history, std::int64_t position) {
  StreamSlots& s = require_slots(slots_);
  check_slot(s, slot);
  const StreamLayout& L = *s.layout;
  const std::int64_t C = L.channels, H = L.history;
  if (position < 0) {
    throw Error(ErrorCode::kInvalidValue, "position",
                fmt::format("position must be >= 0 (inputs consumed). Received: {}", position));
  }
  if (L.sequence_length > 0 && position > L.sequence_length) {
    throw Error(ErrorCode::kInvalidValue, "position",
                fmt::format("position must be <= sequence_length={}. Received: {}",
                            L.sequence_length, position));
  }
  if (H > 0 && history == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "history",
                fmt::format("history must point to {} floats ({} rows of {} channels). "
                            "Received: nullptr",
                            H * C, H, C));
  }
  const std::int64_t a = std::max<std::int64_t>(0, detail::align_down(position - H, L.stride));
  float* rows = s.slot_rows(slot);
  for (std::int64_t r = a; r < position; ++r) {
    float* dst = rows + (r - a) * C;
    const std::int64_t i = r - (position - H);  // row of `history`
    if (i < 0) {
      std::fill(dst, dst + C, 0.0f);  // before the kept rows: never read
    } else {
      std::memcpy(dst, history + i * C, static_cast<std::size_t>(C) * sizeof(float));
    }
  }
  s.position[static_cast<std::size_t>(slot)] = position;
  s.first_row[static_cast<std::size_t>(slot)] = a;
}

// ---- StreamKernel ----

StreamKernel::StreamKernel() = default;
StreamKernel::~StreamKernel() = default;
StreamKernel::StreamKernel(const StreamKernel&) = default;
StreamKernel& StreamKernel::operator=(const StreamKernel&) = default;
StreamKernel::StreamKernel(StreamKernel&&) noexcept = default;
StreamKernel& StreamKernel::operator=(StreamKernel&&) noexcept = default;
StreamKernel::StreamKernel(std::shared_ptr<const StreamLayout> layout)
    : layout_(std::move(layout)) {}

namespace {

const StreamLayout& require_layout(const std::shared_ptr<const StreamLayout>& layout) {
  if (!layout) {
    throw Error(ErrorCode::kInvalidValue, "stream_kernel",
                "The StreamKernel is empty (default-constructed); get one from "
                "convjit::compile_stream");
  }
  return *layout;
}

/// The slots of `state` after checking they belong to a kernel like `L`.
StreamSlots& state_for(const StreamLayout& L, const std::unique_ptr<StreamSlots>& slots) {
  if (!slots) {
    throw Error(ErrorCode::kInvalidValue, "state",
                "The StreamState is empty (default-constructed or moved from); get one from "
                "StreamKernel::make_state");
  }
  if (slots->layout.get() != &L && slots->layout->id != L.id) {
    throw Error(ErrorCode::kShapeMismatch, "state",
                fmt::format("The state was made for another streaming kernel. Expected: {}. "
                            "Received: {}",
                            L.id, slots->layout->id));
  }
  return *slots;
}

/// The weight pointers of a step, once the kernel is known to run on this CPU.
detail::StepWeights runnable_weights(const StreamLayout& L, const detail::PackedBuffer& w) {
  if (!L.compiled->runnable) {
    throw Error(ErrorCode::kUnsupported, "isa",
                fmt::format("Kernel {} uses isa={}, which this CPU lacks", L.compiled->name,
                            isa_name(L.compiled->schedule().isa)));
  }
  return {w.weights.data(), L.compiled->problem.use_bias ? w.bias.data() : nullptr};
}

}  // namespace

const Kernel& StreamKernel::kernel() const {
  return require_layout(layout_).kernel;
}

PackedWeights StreamKernel::pack_weights(const float* kernel, const float* bias) const {
  return require_layout(layout_).kernel.pack_weights(kernel, bias);
}

StreamState StreamKernel::make_state(std::int64_t slots) const {
  const StreamLayout& L = require_layout(layout_);
  if (slots < 1) {
    throw Error(ErrorCode::kInvalidValue, "slots",
                fmt::format("slots must be >= 1. Received: {}", slots));
  }
  const double bytes = static_cast<double>(slots) * static_cast<double>(L.slot_floats) * 4.0;
  detail::check_host_memory(bytes, "slots",
                            fmt::format("the state of {} streams ({} rows of {} channels each),",
                                        slots, L.capacity, L.channels));
  auto s = std::make_unique<StreamSlots>();
  s->layout = layout_;
  s->rows = detail::AlignedFloats(static_cast<std::size_t>(slots * L.slot_floats));
  s->position.assign(static_cast<std::size_t>(slots), 0);
  s->first_row.assign(static_cast<std::size_t>(slots), 0);
  s->seen.assign(static_cast<std::size_t>(slots), 0);
  for (std::int64_t i = 0; i < slots; ++i) {
    float* guard = s->slot_rows(i) + L.slot_floats - detail::kSlotGuard;
    for (std::int64_t g = 0; g < detail::kSlotGuard; ++g) {
      std::memcpy(guard + g, &detail::kGuardBits, sizeof(float));
    }
  }
  return StreamState(std::move(s));
}

std::int64_t StreamKernel::channels() const {
  return require_layout(layout_).channels;
}
std::int64_t StreamKernel::output_channels() const {
  return require_layout(layout_).out_channels;
}
std::int64_t StreamKernel::history_rows() const {
  return require_layout(layout_).history;
}
std::int64_t StreamKernel::delay() const {
  const StreamLayout& L = require_layout(layout_);
  return L.padding == Padding::kSame ? L.history - L.pad_left : 0;
}
std::int64_t StreamKernel::max_outputs(std::int64_t chunk) const {
  const StreamLayout& L = require_layout(layout_);
  return chunk <= 0 ? 0 : (chunk + L.stride - 1) / L.stride;
}
std::int64_t StreamKernel::max_flush_outputs() const {
  const StreamLayout& L = require_layout(layout_);
  if (L.padding != Padding::kSame) return 0;
  if (L.sequence_length > 0) {
    return L.final_outputs(L.sequence_length) - L.complete_outputs(L.sequence_length);
  }
  return L.stride == 1 ? delay() : delay() / L.stride + 1;
}

std::int64_t StreamKernel::step_outputs(std::int64_t position, std::int64_t chunk) const {
  const StreamLayout& L = require_layout(layout_);
  if (position < 0) {
    throw Error(ErrorCode::kInvalidValue, "position",
                fmt::format("position must be >= 0 (inputs consumed). Received: {}", position));
  }
  if (chunk <= 0) return 0;
  if (chunk > std::numeric_limits<std::int64_t>::max() - position) {
    throw Error(ErrorCode::kResourceLimit, "chunk",
                fmt::format("position + chunk overflows int64. Received: position={}, chunk={}",
                            position, chunk));
  }
  return L.complete_outputs(position + chunk) - L.complete_outputs(position);
}

std::int64_t StreamKernel::step(const float* input, std::int64_t chunk,
                                const PackedWeights& weights, float* output, StreamState& state,
                                std::int64_t slot) const {
  std::int64_t count = 0;
  step(input, chunk, weights, output, state, &slot, 1, &count);
  return count;
}

std::int64_t StreamKernel::step(const float* input, std::int64_t chunk,
                                const PackedWeights& weights, float* output, StreamState& state,
                                const std::int64_t* slots, std::int64_t streams,
                                std::int64_t* counts) const {
  const StreamLayout& L = require_layout(layout_);
  StreamSlots& s = state_for(L, state.slots_);
  if (chunk < 0) {
    throw Error(ErrorCode::kInvalidValue, "chunk",
                fmt::format("chunk must be >= 0 (input rows per stream). Received: {}", chunk));
  }
  if (streams < 0) {
    throw Error(ErrorCode::kInvalidValue, "streams",
                fmt::format("streams must be >= 0. Received: {}", streams));
  }
  const auto slot_count = static_cast<std::int64_t>(s.position.size());
  if (streams > slot_count) {
    throw Error(
        ErrorCode::kInvalidValue, "streams",
        fmt::format("streams must be <= the state's {} slots. Received: {}", slot_count, streams));
  }
  if (streams > 0 && counts == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "counts",
                fmt::format("counts must point to {} integers. Received: nullptr", streams));
  }
  const detail::PackedBuffer& w = L.kernel.checked_weights(weights);
  // Slots: in range and distinct (a repeated one would consume two chunks at once).
  if (++s.epoch == 0) {
    std::fill(s.seen.begin(), s.seen.end(), 0);
    s.epoch = 1;
  }
  for (std::int64_t b = 0; b < streams; ++b) {
    const std::int64_t slot = slots != nullptr ? slots[b] : b;
    if (slot < 0 || slot >= slot_count) {
      throw Error(ErrorCode::kInvalidValue, "slots",
                  fmt::format("slots[{}] must be in [0, {}) (the state's slots). Received: {}", b,
                              slot_count, slot));
    }
    std::uint32_t& seen = s.seen[static_cast<std::size_t>(slot)];
    if (seen == s.epoch) {
      throw Error(ErrorCode::kInvalidValue, "slots",
                  fmt::format("slots[{}] = {} is repeated in one step: each stream of a step "
                              "needs its own slot",
                              b, slot));
    }
    seen = s.epoch;
    if (L.sequence_length > 0 &&
        s.position[static_cast<std::size_t>(slot)] + chunk > L.sequence_length) {
      throw Error(
          ErrorCode::kInvalidValue, "sequence_length",
          fmt::format("slot {} has consumed {} of sequence_length={} inputs; a chunk of "
                      "{} would pass the end",
                      slot, s.position[static_cast<std::size_t>(slot)], L.sequence_length, chunk));
    }
  }
  if (chunk == 0 || streams == 0) {
    for (std::int64_t b = 0; b < streams; ++b) counts[b] = 0;
    return 0;
  }
  if (input == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "input",
                fmt::format("input must point to {} floats ({} streams x {} rows x {} "
                            "channels). Received: nullptr",
                            streams * chunk * L.channels, streams, chunk, L.channels));
  }
  const std::int64_t out_rows = max_outputs(chunk);
  if (output == nullptr) {
    throw Error(
        ErrorCode::kInvalidValue, "output",
        fmt::format("output must have room for {} floats ({} streams x {} rows x {} "
                    "channels). Received: nullptr",
                    streams * out_rows * L.out_channels, streams, out_rows, L.out_channels));
  }
  const detail::StepWeights sw = runnable_weights(L, w);
  auto one = [&](std::int64_t b, int threads) {
    const std::int64_t slot = slots != nullptr ? slots[b] : b;
    float* out_b = output + b * out_rows * L.out_channels;
    const float* in_b = input + b * chunk * L.channels;
    counts[b] = L.channels_first ? detail::advance_channels_first(L, s, slot, in_b, chunk, out_b,
                                                                  out_rows, sw, threads)
                                 : detail::advance(L, s, slot, in_b, chunk, out_b, sw, threads);
  };
  if (streams > 1 && chunk <= detail::kGatherMaxChunk && L.gather_columns > 0 &&
      !L.channels_first) {
    return detail::batched_step(L, s, input, chunk, slots, streams, output, out_rows, counts, sw);
  }
  const double flops =
      L.flops_per_output * static_cast<double>(streams) * static_cast<double>(out_rows);
  if (streams > 1 && L.threads > 1 && flops >= detail::kStreamMinParallelFlops) {
    auto body = [&](std::int64_t b) { one(b, 1); };
    detail::ThreadPool::global().parallel_for(streams, L.threads, std::cref(body));
  } else {
    for (std::int64_t b = 0; b < streams; ++b) one(b, L.threads);
  }
  std::int64_t total = 0;
  for (std::int64_t b = 0; b < streams; ++b) total += counts[b];
  return total;
}

std::int64_t StreamKernel::flush(const PackedWeights& weights, float* output,
                                 const StreamState& state, std::int64_t slot) const {
  const StreamLayout& L = require_layout(layout_);
  const StreamSlots& s = state_for(L, state.slots_);
  check_slot(s, slot);
  const detail::PackedBuffer& w = L.kernel.checked_weights(weights);
  const std::int64_t n = s.position[static_cast<std::size_t>(slot)];
  if (L.sequence_length > 0 && n != L.sequence_length) {
    throw Error(ErrorCode::kInvalidValue, "sequence_length",
                fmt::format("flush: slot {} has consumed {} inputs; its sequence_length is {}, "
                            "and this layer's output grid depends on it",
                            slot, n, L.sequence_length));
  }
  const std::int64_t j0 = L.complete_outputs(n);
  const std::int64_t j1 = L.final_outputs(n);
  if (j1 <= j0) return 0;
  if (output == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "output",
                fmt::format("output must have room for {} floats ({} rows x {} channels). "
                            "Received: nullptr",
                            (j1 - j0) * L.out_channels, j1 - j0, L.out_channels));
  }
  const detail::StepWeights sw = runnable_weights(L, w);
  const float* rows = s.slot_rows(slot);
  const std::int64_t a = s.first_row[static_cast<std::size_t>(slot)];
  if (L.channels_first) {
    float* staged = detail::staging_rows(static_cast<std::size_t>((j1 - j0) * L.out_channels));
    detail::run_outputs(L, rows, a, n, j0, j1, staged, sw, L.threads);
    detail::transpose_out(L, staged, j1 - j0, output, 0, max_flush_outputs());
  } else {
    detail::run_outputs(L, rows, a, n, j0, j1, output, sw, L.threads);
  }
  return j1 - j0;
}

bool detail::stream_state_intact(const StreamState& state) {
  const StreamSlots& s = require_slots(state.slots_);
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(s.position.size()); ++i) {
    const float* guard = s.slot_rows(i) + s.layout->slot_floats - kSlotGuard;
    for (std::int64_t g = 0; g < kSlotGuard; ++g) {
      if (std::memcmp(guard + g, &kGuardBits, sizeof(float)) != 0) return false;
    }
  }
  return true;
}

// ---- compile ----

StreamKernel Jit::compile_stream(const Conv1DSpec& spec, std::int64_t channels,
                                 const CompileOptions& options,
                                 const StreamOptions& stream_options) {
  const bool channels_first = spec.data_format == DataFormat::kChannelsFirst;
  if (channels_first && is_axis_activation(spec.activation)) {
    throw Error(ErrorCode::kUnsupported, "activation",
                fmt::format("activation={} with data_format=channels_first acts on the last "
                            "axis, time: every output depends on the whole sequence, so the "
                            "layer cannot stream",
                            activation_name(spec.activation)));
  }
  if (stream_options.sequence_length < 0) {
    throw Error(ErrorCode::kInvalidValue, "sequence_length",
                fmt::format("sequence_length must be >= 0 (0: unknown). Received: {}",
                            stream_options.sequence_length));
  }
  const Shape3 any_shape =
      channels_first ? Shape3{kDynamic, channels, kDynamic} : Shape3{kDynamic, kDynamic, channels};
  Kernel kernel = compile(spec, any_shape, options);
  // channels_first: steps run the channels_last kernel of the same schedule on the slots'
  // rows (the whole-sequence kernel transposes to rows and runs that same code).
  Kernel rows_kernel = kernel;
  if (channels_first) {
    Conv1DSpec rows_spec = spec;
    rows_spec.data_format = DataFormat::kChannelsLast;
    CompileOptions rows_options = options;
    rows_options.schedule = kernel.schedule_text();
    rows_options.use_tuning_db = false;
    rows_kernel = compile(rows_spec, {kDynamic, kDynamic, channels}, rows_options);
  }
  const detail::CompiledKernel& k = kernel.impl();
  const detail::Problem& p = k.problem;
  auto layout = std::make_shared<StreamLayout>();
  layout->kernel = kernel;
  layout->rows_kernel = rows_kernel;
  layout->compiled = rows_kernel.impl_;
  layout->channels_first = channels_first;
  layout->channels = p.in_channels;
  layout->filters = p.filters;
  layout->out_channels = p.out_channels();
  layout->history = (p.kernel - 1) * p.dilation;
  layout->stride = p.stride;
  layout->padding = p.padding;
  layout->flops_per_output =
      2.0 * static_cast<double>(p.filters) * static_cast<double>(p.ic_per_group) * p.kernel;
  layout->threads = kernel.threads();
  const std::int64_t H = layout->history, s = p.stride;
  if (p.padding == Padding::kCausal) {
    layout->pad_left = H;
  } else if (p.padding == Padding::kSame) {
    // Keras: pad_total = max((ceil(L/s) - 1) * s + H + 1 - L, 0), left half rounded down.
    // With strides 1 it is H for every L; otherwise it depends on L mod s.
    auto pad_for = [&](std::int64_t length) {
      const std::int64_t total =
          std::max<std::int64_t>(((length + s - 1) / s - 1) * s + H + 1 - length, 0);
      return total / 2;
    };
    bool constant = true;
    for (std::int64_t r = 1; r < s; ++r)
      constant = constant && pad_for(s * 4 + r) == pad_for(s * 4);
    if (constant) {
      layout->pad_left = pad_for(s * 4);
    } else if (stream_options.sequence_length > 0) {
      const std::int64_t L = stream_options.sequence_length;
      layout->pad_left = pad_for(L);
      layout->sequence_length = L;
      layout->sequence_outputs = (L + s - 1) / s;
    } else {
      throw Error(ErrorCode::kIncompatibleArguments, "sequence_length",
                  fmt::format("padding='same' with strides={} aligns its windows to the total "
                              "sequence length (Keras pads max((ceil(L/s)-1)*s + (K-1)*d + 1 "
                              "- L, 0) rows, split in two); set StreamOptions::sequence_length",
                              s));
    }
  }
  layout->kernel_size = p.kernel;
  layout->dilation = p.dilation;
  // Depthwise layers keep the per-stream path: there are no weights to share between
  // streams, and a gathered window is as many floats as its outputs' multiply-adds (Mamba,
  // 1536 channels K4, 64 streams, Zen 5: 160 us batched with G = 64, 67-71 with G = 10,
  // 57-58 stream by stream).
  if (s == 1 && !channels_first && !p.is_depthwise()) {
    // The batch kernel: the spec's schedule (so the same instructions in the same order
    // compute every output), `valid`, dilation G. G outputs' gathered windows (K * G rows)
    // stay within 256 KiB, in L2: at most kGatherColumns, at least 8. A schedule it cannot
    // take leaves batches on the per-stream path.
    const std::int64_t G = std::clamp<std::int64_t>(
        (std::int64_t{1} << 16) / std::max<std::int64_t>(p.kernel * p.in_channels, 1), 8,
        detail::kGatherColumns);
    Conv1DSpec gather_spec = spec;
    gather_spec.padding = Padding::kValid;
    gather_spec.dilation_rate = G;
    CompileOptions gather_options = options;
    gather_options.schedule = kernel.schedule_text();
    gather_options.use_tuning_db = false;
    try {
      layout->gather = compile(gather_spec, {kDynamic, kDynamic, channels}, gather_options);
      layout->gather_compiled = layout->gather.impl_;
      layout->gather_columns = G;
    } catch (const Error&) {
      layout->gather_columns = 0;
    }
  }
  // Room to append: 32 rows, fewer for wide rows (8 at 1536 channels: a Mamba slot is 11
  // rows, 66 KiB, not 35), and always enough for a window's worth past the history.
  const std::int64_t room_rows =
      std::clamp<std::int64_t>(8192 / std::max<std::int64_t>(layout->channels, 1), 8, 32);
  layout->room = std::max<std::int64_t>(H + s, room_rows);
  layout->capacity = H + s - 1 + layout->room;
  layout->slot_floats = (layout->capacity * layout->channels + 15) / 16 * 16 + detail::kSlotGuard;
  layout->id = fmt::format("{}|H={} s={} pad={} L={}", k.layout, H, s, layout->pad_left,
                           layout->sequence_length);
  return StreamKernel(std::move(layout));
}

StreamKernel compile_stream(const Conv1DSpec& spec, std::int64_t channels,
                            const CompileOptions& options, const StreamOptions& stream_options) {
  return Jit::default_jit().compile_stream(spec, channels, options, stream_options);
}

}  // namespace convjit
