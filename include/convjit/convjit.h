/* convjit.h — the C API of convjit: compile Keras Conv1D layers to machine code and run them.
 *
 * Usable from C99 and C++, and through any FFI (Rust, Python ctypes): opaque handles, plain
 * structs of fixed-size fields, and a status code from every call that can fail. No C++
 * exception ever crosses this interface.
 *
 *   convjit_kernel* kernel = NULL;
 *   const int64_t shape[3] = {1, CONVJIT_DYNAMIC, 16};           // (N, L, C), any length
 *   if (convjit_compile(convjit_default_jit(), "filters=32,kernel_size=3,padding=causal",
 *                       shape, NULL, &kernel) != CONVJIT_OK) {
 *     fprintf(stderr, "convjit: %s\n", convjit_last_error());
 *   }
 *   convjit_weights* weights = NULL;
 *   convjit_kernel_pack_weights(kernel, w, b, &weights);         // Keras layout, packed once
 *   convjit_kernel_run(kernel, x, weights, y, 1, 1000);          // any thread, any length
 *   convjit_weights_destroy(weights);
 *   convjit_kernel_destroy(kernel);
 *
 * Errors. Every function returning convjit_status returns CONVJIT_OK (0) on success and an
 * error status otherwise. The error's message (naming the Keras argument and the value, in
 * Keras's words where Keras has them) and the argument are kept per thread:
 * convjit_last_error() and convjit_last_error_argument() describe the most recent
 * status-returning call made on the calling thread, "" after a success. On failure, pointer
 * out-parameters are set to NULL and numeric ones to 0 (when the out pointer itself is valid).
 *
 * Handles. Every handle made by a *_create, *_clone, convjit_compile, convjit_compile_stream,
 * convjit_stream_kernel_kernel or a *_pack_weights call is released by the matching
 * *_destroy, which accepts NULL. Handles are independent:
 * a kernel stays valid after its Jit is destroyed, weights after their kernel is destroyed.
 * Passing a NULL handle where one is required returns CONVJIT_INVALID_VALUE naming it.
 *
 * Threads. A kernel and packed weights are immutable: any number of threads may query them
 * and run them at once. A Jit is thread-safe (compile, stats and clear may race). A handle
 * must not be destroyed while another thread uses it. Strings a kernel hands out (name,
 * schedule, disassembly) are owned by the kernel handle and valid until it is destroyed.
 */
#ifndef CONVJIT_H
#define CONVJIT_H

#include <stddef.h>
#include <stdint.h>

#include "convjit/version.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define CONVJIT_API __attribute__((visibility("default")))
#else
#define CONVJIT_API
#endif

#ifdef __cplusplus
#define CONVJIT_NOEXCEPT noexcept
extern "C" {
#else
#define CONVJIT_NOEXCEPT
#endif

/** Marks an unknown (dynamic) batch or length in a shape: the kernel serves every value. */
#define CONVJIT_DYNAMIC ((int64_t)-1)

/** What a call did. Values 1..11 mirror convjit::ErrorCode (its value + 1); stable. */
typedef enum convjit_status {
  CONVJIT_OK = 0,
  CONVJIT_INVALID_VALUE = 1,          /**< a value out of range; a NULL handle or pointer */
  CONVJIT_INVALID_TYPE = 2,           /**< a value of the wrong type: kernel_size=2.5 */
  CONVJIT_UNKNOWN_NAME = 3,           /**< an unknown string: padding="full" */
  CONVJIT_INCOMPATIBLE_ARGUMENTS = 4, /**< strides>1 with dilation_rate>1, ... */
  CONVJIT_INVALID_SHAPE = 5,          /**< an input shape the layer cannot take */
  CONVJIT_SHAPE_MISMATCH = 6,         /**< buffers or weights that disagree with the kernel */
  CONVJIT_PARSE_ERROR = 7,            /**< malformed keyword text or JSON */
  CONVJIT_ILLEGAL_SCHEDULE = 8,       /**< a schedule the problem or the ISA cannot take */
  CONVJIT_UNSUPPORTED = 9,            /**< e.g. an ISA this CPU lacks */
  CONVJIT_RESOURCE_LIMIT = 10,        /**< sizes that would overflow */
  CONVJIT_IO_ERROR = 11,              /**< a file that cannot be read or written */
  CONVJIT_OUT_OF_MEMORY = 100,        /**< an allocation failed */
  CONVJIT_INTERNAL_ERROR = 101,       /**< a bug in convjit: please report the message */
  /* Not statuses: they make every int32 a value of the type, so C++ may receive any int. */
  CONVJIT_STATUS_RANGE_MIN_ = INT32_MIN,
  CONVJIT_STATUS_RANGE_MAX_ = INT32_MAX
} convjit_status;

/** Vector instruction sets (convjit::Isa). */
typedef enum convjit_isa {
  CONVJIT_ISA_AUTO = 0,   /**< the best the CPU has, or CONVJIT_ISA=avx2|avx512 when set */
  CONVJIT_ISA_AVX2 = 1,   /**< AVX2 + FMA, 8 float lanes */
  CONVJIT_ISA_AVX512 = 2, /**< AVX-512F/VL/BW/DQ, 16 float lanes */
  /* Not ISAs: they make every int32 a value of the type (an unknown one is refused). */
  CONVJIT_ISA_RANGE_MIN_ = INT32_MIN,
  CONVJIT_ISA_RANGE_MAX_ = INT32_MAX
} convjit_isa;

/** A kernel compiler with its cache (convjit::Jit). */
typedef struct convjit_jit convjit_jit;
/** A compiled Conv1D (convjit::Kernel). */
typedef struct convjit_kernel convjit_kernel;
/** Weights packed for a kernel's layout (convjit::PackedWeights). */
typedef struct convjit_weights convjit_weights;
/** A compiled streaming Conv1D (convjit::StreamKernel). */
typedef struct convjit_stream_kernel convjit_stream_kernel;
/** The state of a pool of streams of one streaming kernel (convjit::StreamState). */
typedef struct convjit_stream_state convjit_stream_state;

/** Code generators (convjit::Backend). */
typedef enum convjit_backend {
  CONVJIT_BACKEND_AUTO = 0,  /**< CONVJIT_BACKEND when set, else Xbyak (LLVM without AVX2+FMA) */
  CONVJIT_BACKEND_XBYAK = 1, /**< convjit's AVX2 / AVX-512 generator, tens of microseconds */
  CONVJIT_BACKEND_LLVM = 2,  /**< LLVM ORC: any x86-64 CPU (see cpu), milliseconds */
  /* Not backends: they make every int32 a value of the type (an unknown one is refused). */
  CONVJIT_BACKEND_RANGE_MIN_ = INT32_MIN,
  CONVJIT_BACKEND_RANGE_MAX_ = INT32_MAX
} convjit_backend;

/** How to compile (convjit::CompileOptions). All-zero (or a NULL pointer) means the
 *  defaults. Fixed-size fields only: int32, int32, pointer, int32, int32, pointer, pointer,
 *  int32, int32 (48 bytes on 64-bit targets). */
typedef struct convjit_compile_options {
  int32_t isa;                   /**< a convjit_isa */
  int32_t threads;               /**< threads a run splits over; 0: every hardware thread */
  const char* schedule;          /**< schedule text ("tile_t=4 tile_oc_vecs=2"); NULL: default */
  int32_t allow_unsupported_isa; /**< nonzero: generate code for an ISA the CPU lacks, to read it */
  int32_t backend;               /**< a convjit_backend */
  const char* cpu;               /**< LLVM backend: the CPU ("x86-64", "znver4"); NULL: from isa */
  const char* tuning_db;         /**< a `convjit tune` database; NULL: CONVJIT_TUNING_DB */
  int32_t no_tuning_db;          /**< nonzero: never consult a tuning database */
  int32_t reserved;              /**< must be 0 */
} convjit_compile_options;

/** Counters of a Jit's kernel cache (convjit::CacheStats). */
typedef struct convjit_cache_stats {
  uint64_t hits;             /**< compiles served from the cache */
  uint64_t misses;           /**< compiles that generated code */
  uint64_t evictions;        /**< kernels the cache dropped for capacity */
  uint64_t entries;          /**< kernels in the cache now */
  uint64_t compile_ns_total; /**< wall time spent generating code, nanoseconds */
} convjit_cache_stats;

/* ---- Errors and version ---------------------------------------------------------------- */

/** The message of this thread's most recent status-returning call; "" after a success.
 *  Valid until this thread's next convjit call. Never NULL. */
CONVJIT_API const char* convjit_last_error(void) CONVJIT_NOEXCEPT;
/** The argument that call's error is about ("filters", "kernel", "output"); "" if none. */
CONVJIT_API const char* convjit_last_error_argument(void) CONVJIT_NOEXCEPT;
/** A short stable name of a status: "ok", "invalid_value", "out_of_memory", ... */
CONVJIT_API const char* convjit_status_name(convjit_status status) CONVJIT_NOEXCEPT;
/** The version of the loaded library, "MAJOR.MINOR.PATCH" (CONVJIT_VERSION_STRING of its
 *  headers). */
CONVJIT_API const char* convjit_version(void) CONVJIT_NOEXCEPT;
/** 1 when this CPU (and OS) can run code of `isa` (CONVJIT_ISA_AUTO: always 1), else 0. */
CONVJIT_API int convjit_host_supports_isa(convjit_isa isa) CONVJIT_NOEXCEPT;

/* ---- Jit ------------------------------------------------------------------------------- */

/** The process-wide Jit (capacity 256) that convjit::compile and Conv1D layers use. Never
 *  NULL; convjit_jit_destroy ignores it. */
CONVJIT_API convjit_jit* convjit_default_jit(void) CONVJIT_NOEXCEPT;
/** A new Jit whose cache keeps at most `capacity` (>= 1) kernels. */
CONVJIT_API convjit_status convjit_jit_create(size_t capacity, convjit_jit** out) CONVJIT_NOEXCEPT;
/** Destroys a Jit made by convjit_jit_create. Kernels it compiled stay valid. */
CONVJIT_API void convjit_jit_destroy(convjit_jit* jit) CONVJIT_NOEXCEPT;
/** The cache counters. */
CONVJIT_API convjit_status convjit_jit_stats(const convjit_jit* jit,
                                             convjit_cache_stats* out) CONVJIT_NOEXCEPT;
/** Drops every cached kernel (kernel handles stay valid); counters are kept. */
CONVJIT_API convjit_status convjit_jit_clear(convjit_jit* jit) CONVJIT_NOEXCEPT;

/* ---- Compiling ------------------------------------------------------------------------- */

/** Compiles a Conv1D for an input shape, or takes it from `jit`'s cache.
 *  spec: Keras keyword text ("filters=64,kernel_size=3,padding=causal,activation=relu") or
 *        the JSON of Keras layer.get_config() (text starting with '{').
 *  input_shape: 3 values in the spec's data_format order, (N, L, C) for channels_last and
 *        (N, C, L) for channels_first; N and L may be CONVJIT_DYNAMIC.
 *  options: NULL for the defaults. */
CONVJIT_API convjit_status convjit_compile(convjit_jit* jit, const char* spec,
                                           const int64_t input_shape[3],
                                           const convjit_compile_options* options,
                                           convjit_kernel** out) CONVJIT_NOEXCEPT;
/** Releases a kernel handle. NULL is ignored. */
CONVJIT_API void convjit_kernel_destroy(convjit_kernel* kernel) CONVJIT_NOEXCEPT;

/* ---- Kernel queries -------------------------------------------------------------------- */

/** The input shape compiled for, CONVJIT_DYNAMIC where dynamic. */
CONVJIT_API convjit_status convjit_kernel_input_shape(const convjit_kernel* kernel,
                                                      int64_t shape[3]) CONVJIT_NOEXCEPT;
/** The output shape of a run (data_format order; glu halves the channels). */
CONVJIT_API convjit_status convjit_kernel_output_shape(const convjit_kernel* kernel, int64_t batch,
                                                       int64_t length,
                                                       int64_t shape[3]) CONVJIT_NOEXCEPT;
/** Floats of a run's input and output buffers. */
CONVJIT_API convjit_status convjit_kernel_input_size(const convjit_kernel* kernel, int64_t batch,
                                                     int64_t length,
                                                     int64_t* floats) CONVJIT_NOEXCEPT;
CONVJIT_API convjit_status convjit_kernel_output_size(const convjit_kernel* kernel, int64_t batch,
                                                      int64_t length,
                                                      int64_t* floats) CONVJIT_NOEXCEPT;
/** Floats of the Keras-layout weights convjit_kernel_pack_weights reads: the kernel
 *  (kernel_size * in_channels / groups * filters) and the bias (filters, 0 without bias). */
CONVJIT_API convjit_status convjit_kernel_weight_sizes(const convjit_kernel* kernel,
                                                       int64_t* kernel_floats,
                                                       int64_t* bias_floats) CONVJIT_NOEXCEPT;
/** What the kernel is ("conv1d_avx2_direct_c16_f32_k3_s1_d1_g1_causal_linear"). */
CONVJIT_API convjit_status convjit_kernel_name(const convjit_kernel* kernel,
                                               const char** name) CONVJIT_NOEXCEPT;
/** The schedule as text (CompileOptions schedule syntax). */
CONVJIT_API convjit_status convjit_kernel_schedule(const convjit_kernel* kernel,
                                                   const char** text) CONVJIT_NOEXCEPT;
/** The code generator that made the kernel ("xbyak", ...). */
CONVJIT_API convjit_status convjit_kernel_backend(const convjit_kernel* kernel,
                                                  const char** name) CONVJIT_NOEXCEPT;
/** The ISA of the code (never CONVJIT_ISA_AUTO). */
CONVJIT_API convjit_status convjit_kernel_isa(const convjit_kernel* kernel,
                                              convjit_isa* isa) CONVJIT_NOEXCEPT;
/** Bytes of machine code. */
CONVJIT_API convjit_status convjit_kernel_code_size(const convjit_kernel* kernel,
                                                    size_t* bytes) CONVJIT_NOEXCEPT;
/** The generated code as annotated Intel-syntax assembly (made on the first call). */
CONVJIT_API convjit_status convjit_kernel_disassemble(const convjit_kernel* kernel,
                                                      const char** text) CONVJIT_NOEXCEPT;

/* ---- Weights and running --------------------------------------------------------------- */

/** Packs Keras-layout weights once: `kernel` holds (kernel_size, in_channels / groups,
 *  filters) floats row-major, `bias` holds `filters` floats, and must be NULL exactly when
 *  the spec has use_bias=false. The weights fit every kernel of the same layout. */
CONVJIT_API convjit_status convjit_kernel_pack_weights(const convjit_kernel* kernel,
                                                       const float* kernel_weights,
                                                       const float* bias,
                                                       convjit_weights** out) CONVJIT_NOEXCEPT;
/** Floats of packed kernel data. */
CONVJIT_API convjit_status convjit_weights_size(const convjit_weights* weights,
                                                size_t* floats) CONVJIT_NOEXCEPT;
/** Releases packed weights. NULL is ignored. */
CONVJIT_API void convjit_weights_destroy(convjit_weights* weights) CONVJIT_NOEXCEPT;

/** Computes the layer (convolution, bias, activation) for `batch` samples of input length
 *  `length`: `input` holds input_size floats in the data_format layout, `output` receives
 *  output_size floats; they must not overlap. A static batch or length must match the
 *  compiled one (CONVJIT_SHAPE_MISMATCH), as must the weights' layout. */
CONVJIT_API convjit_status convjit_kernel_run(const convjit_kernel* kernel, const float* input,
                                              const convjit_weights* weights, float* output,
                                              int64_t batch, int64_t length) CONVJIT_NOEXCEPT;

/* ---- Streaming ------------------------------------------------------------------------- */
/* A streaming kernel runs live sequences chunk by chunk (one sample at a time included), any
 * number of streams per call, each stream's inputs and history kept in a slot of a state. The
 * outputs of any chunking, followed by a flush, are exactly the bits convjit_kernel_run gives
 * on the whole sequence with the kernel of convjit_stream_kernel_kernel.
 *
 *   convjit_stream_kernel* sk = NULL;
 *   convjit_compile_stream(convjit_default_jit(), "filters=32,kernel_size=2,dilation_rate=4,"
 *                          "padding=causal", 32, NULL, 0, &sk);
 *   convjit_weights* w = NULL;
 *   convjit_stream_kernel_pack_weights(sk, kernel, bias, &w);    // Keras layout, once
 *   convjit_stream_state* state = NULL;
 *   convjit_stream_state_create(sk, 1, &state);                   // one stream, zero history
 *   int64_t count = 0, total = 0;
 *   convjit_stream_step(sk, x, 1, w, y, state, NULL, 1, &count, &total); // one sample in
 *
 * Outputs: a step writes the outputs its inputs complete, in order (causal: one per
 * `strides` inputs, no delay; valid: once the first window has arrived; same: delayed by the
 * right padding, convjit_stream_kernel_delay), and convjit_stream_flush the outputs a
 * sequence that ended now still owes (same only). Channels last: a chunk of one stream is
 * (chunk, channels) floats, an output row output_channels floats.
 *
 * Threads: a streaming kernel is immutable (any number of threads may use it at once); a
 * state is not thread-safe: one call at a time per state. A state stays valid after its
 * kernel is destroyed; it is accepted by the kernels that are compiled alike (same spec,
 * channels, options). */

/** Compiles a streaming Conv1D for `channels` input channels (through `jit`'s cache).
 *  spec: as convjit_compile (channels_last only: channels_first is CONVJIT_UNSUPPORTED).
 *  sequence_length: padding="same" with strides > 1 only, where Keras's window grid depends
 *        on the sequence's total length: that length (a step past it, or a flush before it,
 *        is CONVJIT_INVALID_VALUE); 0 when unknown, which such specs refuse
 *        (CONVJIT_INCOMPATIBLE_ARGUMENTS, argument "sequence_length"). Ignored otherwise.
 *  options: NULL for the defaults. */
CONVJIT_API convjit_status convjit_compile_stream(convjit_jit* jit, const char* spec,
                                                  int64_t channels,
                                                  const convjit_compile_options* options,
                                                  int64_t sequence_length,
                                                  convjit_stream_kernel** out) CONVJIT_NOEXCEPT;
/** Releases a streaming kernel handle. NULL is ignored. */
CONVJIT_API void convjit_stream_kernel_destroy(convjit_stream_kernel* kernel) CONVJIT_NOEXCEPT;
/** A new handle of the whole-sequence kernel the stream runs (dynamic batch and length):
 *  convjit_kernel_run on a whole sequence gives the bits its streams reproduce. Release it
 *  with convjit_kernel_destroy. */
CONVJIT_API convjit_status convjit_stream_kernel_kernel(const convjit_stream_kernel* kernel,
                                                        convjit_kernel** out) CONVJIT_NOEXCEPT;
/** Floats of the Keras-layout weights (as convjit_kernel_weight_sizes). */
CONVJIT_API convjit_status
convjit_stream_kernel_weight_sizes(const convjit_stream_kernel* kernel, int64_t* kernel_floats,
                                   int64_t* bias_floats) CONVJIT_NOEXCEPT;
/** Packs Keras-layout weights (as convjit_kernel_pack_weights). The weights also fit the
 *  kernel of convjit_stream_kernel_kernel, and weights that kernel packed fit the stream. */
CONVJIT_API convjit_status
convjit_stream_kernel_pack_weights(const convjit_stream_kernel* kernel, const float* kernel_weights,
                                   const float* bias, convjit_weights** out) CONVJIT_NOEXCEPT;

/** Input channels of a row. */
CONVJIT_API convjit_status convjit_stream_kernel_channels(const convjit_stream_kernel* kernel,
                                                          int64_t* channels) CONVJIT_NOEXCEPT;
/** Output channels of a row: filters, or filters / 2 with glu. */
CONVJIT_API convjit_status convjit_stream_kernel_output_channels(
    const convjit_stream_kernel* kernel, int64_t* channels) CONVJIT_NOEXCEPT;
/** Input rows a slot keeps: (kernel_size - 1) * dilation_rate. */
CONVJIT_API convjit_status convjit_stream_kernel_history_rows(const convjit_stream_kernel* kernel,
                                                              int64_t* rows) CONVJIT_NOEXCEPT;
/** Inputs an output waits for after its last input: the right padding of `same`, else 0. */
CONVJIT_API convjit_status convjit_stream_kernel_delay(const convjit_stream_kernel* kernel,
                                                       int64_t* inputs) CONVJIT_NOEXCEPT;
/** Most output rows one stream gets from a step of `chunk` inputs: ceil(chunk / strides)
 *  (0 for chunk <= 0). Also the row stride of a batch step's output. */
CONVJIT_API convjit_status convjit_stream_kernel_max_outputs(const convjit_stream_kernel* kernel,
                                                             int64_t chunk,
                                                             int64_t* rows) CONVJIT_NOEXCEPT;
/** Most output rows convjit_stream_flush writes. */
CONVJIT_API convjit_status convjit_stream_kernel_max_flush_outputs(
    const convjit_stream_kernel* kernel, int64_t* rows) CONVJIT_NOEXCEPT;
/** The output rows a step of `chunk` inputs writes for a slot at `position` (inputs
 *  consumed, convjit_stream_state_position). position < 0 is CONVJIT_INVALID_VALUE. */
CONVJIT_API convjit_status convjit_stream_kernel_step_outputs(const convjit_stream_kernel* kernel,
                                                              int64_t position, int64_t chunk,
                                                              int64_t* rows) CONVJIT_NOEXCEPT;

/** A state of `slots` (>= 1) streams of `kernel`, every slot a fresh sequence (Keras's zero
 *  padding). */
CONVJIT_API convjit_status convjit_stream_state_create(const convjit_stream_kernel* kernel,
                                                       int64_t slots,
                                                       convjit_stream_state** out) CONVJIT_NOEXCEPT;
/** A copy of every slot (a checkpoint), released with convjit_stream_state_destroy. */
CONVJIT_API convjit_status convjit_stream_state_clone(const convjit_stream_state* state,
                                                      convjit_stream_state** out) CONVJIT_NOEXCEPT;
/** Releases a state. NULL is ignored. */
CONVJIT_API void convjit_stream_state_destroy(convjit_stream_state* state) CONVJIT_NOEXCEPT;
/** Number of slots. */
CONVJIT_API convjit_status convjit_stream_state_slots(const convjit_stream_state* state,
                                                      int64_t* slots) CONVJIT_NOEXCEPT;
/** Floats of one slot's history (convjit_stream_state_read_history): history rows times
 *  input channels. */
CONVJIT_API convjit_status convjit_stream_state_history_floats(const convjit_stream_state* state,
                                                               int64_t* floats) CONVJIT_NOEXCEPT;
/** Bytes the state holds (every slot and its bookkeeping). */
CONVJIT_API convjit_status convjit_stream_state_bytes(const convjit_stream_state* state,
                                                      size_t* bytes) CONVJIT_NOEXCEPT;
/** Inputs slot `slot` consumed since its last reset (which fixes its stride phase). */
CONVJIT_API convjit_status convjit_stream_state_position(const convjit_stream_state* state,
                                                         int64_t slot,
                                                         int64_t* position) CONVJIT_NOEXCEPT;
/** Every slot back to a fresh sequence. */
CONVJIT_API convjit_status convjit_stream_state_reset(convjit_stream_state* state) CONVJIT_NOEXCEPT;
/** Slot `slot` back to a fresh sequence (a stream ended, a new one takes its slot). */
CONVJIT_API convjit_status convjit_stream_state_reset_slot(convjit_stream_state* state,
                                                           int64_t slot) CONVJIT_NOEXCEPT;
/** Copies slot `slot`'s last history rows into `history` (history_floats floats), oldest
 *  first, channels last; rows before the sequence start read as zeros. `history` may be NULL
 *  when history_floats is 0. */
CONVJIT_API convjit_status convjit_stream_state_read_history(const convjit_stream_state* state,
                                                             int64_t slot,
                                                             float* history) CONVJIT_NOEXCEPT;
/** Sets slot `slot` to a sequence that has consumed `position` (>= 0) inputs, the last
 *  history rows of which are `history` (as read_history gives them; the rows before the
 *  sequence start are ignored: they are Keras's zero padding). Nothing changes on failure. */
CONVJIT_API convjit_status convjit_stream_state_write_history(convjit_stream_state* state,
                                                              int64_t slot, const float* history,
                                                              int64_t position) CONVJIT_NOEXCEPT;

/** `streams` streams consume `chunk` (>= 0; 0 is a no-op) input rows each. Stream b reads
 *  input rows [b * chunk, (b + 1) * chunk) (channels floats each), uses state slot slots[b]
 *  (slots == NULL: slot b; slots must be distinct and in range), writes its outputs from
 *  output row b * max_outputs(chunk) (output_channels floats each; `output` has room for
 *  streams * max_outputs(chunk) rows) and their number to counts[b]. *total receives the
 *  sum of counts (`total` may be NULL). The input and the output must not overlap. Streams
 *  split over the kernel's threads; a step allocates nothing.
 *  Every argument is checked before anything is written: on failure counts, output and the
 *  state are unchanged and *total is 0. CONVJIT_INVALID_VALUE for chunk < 0, streams < 0 or
 *  more than the state's slots, a slot out of range or repeated ("slots"), NULL buffers
 *  (counts may be NULL only when streams is 0, input and output when there is nothing to
 *  read or write); CONVJIT_SHAPE_MISMATCH for a state or weights of another kernel. */
CONVJIT_API convjit_status convjit_stream_step(const convjit_stream_kernel* kernel,
                                               const float* input, int64_t chunk,
                                               const convjit_weights* weights, float* output,
                                               convjit_stream_state* state, const int64_t* slots,
                                               int64_t streams, int64_t* counts,
                                               int64_t* total) CONVJIT_NOEXCEPT;
/** The outputs slot `slot`'s sequence still owes if it ended now (for `same`, the ones that
 *  use the right zero padding; none for valid and causal), into `output`
 *  (max_flush_outputs rows of room; may be NULL when that is 0); their number to *count.
 *  Leaves the state unchanged: a later step continues the sequence. */
CONVJIT_API convjit_status convjit_stream_flush(const convjit_stream_kernel* kernel,
                                                const convjit_weights* weights, float* output,
                                                const convjit_stream_state* state, int64_t slot,
                                                int64_t* count) CONVJIT_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONVJIT_H */
