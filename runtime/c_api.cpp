// The C API (include/convjit/convjit.h): handles around the C++ objects, and a guard that
// turns every exception into a status code plus a thread-local message.
#include "convjit/convjit.h"

#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <utility>

#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "convjit/jit.hpp"
#include "convjit/kernel.hpp"
#include "convjit/spec.hpp"
#include "convjit/stream.hpp"
#include "convjit/version.hpp"

// The handles are plain structs in the global namespace: the C header declares them there.
struct convjit_jit {
  convjit::Jit* jit = nullptr;          // the Jit used
  std::unique_ptr<convjit::Jit> owned;  // set unless this is the default Jit's handle
};

struct convjit_kernel {
  convjit::Kernel kernel;
  std::int64_t kernel_floats = 0;  // Keras-layout kernel weights
  std::int64_t bias_floats = 0;    // Keras-layout bias (0 without bias)
  std::string name, schedule, backend;
  mutable std::once_flag disassembly_once;
  mutable std::string disassembly;
};

struct convjit_weights {
  convjit::PackedWeights weights;
};

struct convjit_stream_kernel {
  convjit::StreamKernel stream;
  std::int64_t kernel_floats = 0;  // Keras-layout kernel weights
  std::int64_t bias_floats = 0;    // Keras-layout bias (0 without bias)
};

struct convjit_stream_state {
  convjit::StreamState state;
};

namespace convjit::detail {
namespace {

static_assert(CONVJIT_INVALID_VALUE == static_cast<int>(ErrorCode::kInvalidValue) + 1);
static_assert(CONVJIT_INVALID_TYPE == static_cast<int>(ErrorCode::kInvalidType) + 1);
static_assert(CONVJIT_UNKNOWN_NAME == static_cast<int>(ErrorCode::kUnknownName) + 1);
static_assert(CONVJIT_INCOMPATIBLE_ARGUMENTS ==
              static_cast<int>(ErrorCode::kIncompatibleArguments) + 1);
static_assert(CONVJIT_INVALID_SHAPE == static_cast<int>(ErrorCode::kInvalidShape) + 1);
static_assert(CONVJIT_SHAPE_MISMATCH == static_cast<int>(ErrorCode::kShapeMismatch) + 1);
static_assert(CONVJIT_PARSE_ERROR == static_cast<int>(ErrorCode::kParseError) + 1);
static_assert(CONVJIT_ILLEGAL_SCHEDULE == static_cast<int>(ErrorCode::kIllegalSchedule) + 1);
static_assert(CONVJIT_UNSUPPORTED == static_cast<int>(ErrorCode::kUnsupported) + 1);
static_assert(CONVJIT_RESOURCE_LIMIT == static_cast<int>(ErrorCode::kResourceLimit) + 1);
static_assert(CONVJIT_IO_ERROR == static_cast<int>(ErrorCode::kIoError) + 1);
static_assert(static_cast<int>(CONVJIT_ISA_AVX2) == static_cast<int>(Isa::kAvx2));
static_assert(static_cast<int>(CONVJIT_ISA_AVX512) == static_cast<int>(Isa::kAvx512));
static_assert(static_cast<int>(CONVJIT_BACKEND_XBYAK) ==
              static_cast<int>(convjit::Backend::kXbyak));
static_assert(static_cast<int>(CONVJIT_BACKEND_LLVM) == static_cast<int>(convjit::Backend::kLlvm));

/// The error of this thread's last status-returning call.
struct LastError {
  std::string message;
  std::string argument;
};

LastError& last_error() {
  thread_local LastError error;
  return error;
}

convjit_status fail(convjit_status status, const char* argument, const char* message) noexcept {
  try {
    LastError& e = last_error();
    e.message = message;
    e.argument = argument;
  } catch (...) {
    // Out of memory while recording the message: the status still says what happened.
  }
  return status;
}

/// Runs `body` (which returns nothing and throws on error) and maps the outcome to a
/// status. Nothing escapes: this is the C boundary.
template <typename Body>
convjit_status guarded(Body&& body) noexcept {
  try {
    last_error().message.clear();
    last_error().argument.clear();
    body();
    return CONVJIT_OK;
  } catch (const Error& e) {
    return fail(static_cast<convjit_status>(static_cast<int>(e.code()) + 1), e.argument().c_str(),
                e.what());
  } catch (const std::bad_alloc&) {
    return fail(CONVJIT_OUT_OF_MEMORY, "", "convjit: out of memory");
  } catch (const std::exception& e) {
    return fail(CONVJIT_INTERNAL_ERROR, "", e.what());
  } catch (...) {
    return fail(CONVJIT_INTERNAL_ERROR, "", "convjit: an unknown C++ exception");
  }
}

[[noreturn]] void null_argument(const char* argument) {
  throw Error(ErrorCode::kInvalidValue, argument,
              std::string("The ") + argument + " argument must not be NULL");
}

template <typename T>
T& require(T* pointer, const char* argument) {
  if (pointer == nullptr) null_argument(argument);
  return *pointer;
}

/// Zeroes or nulls an out-parameter before the call can fail.
template <typename T>
void reset_out(T* out) {
  if (out != nullptr) *out = T{};
}

void reset_shape(std::int64_t* shape) {
  if (shape != nullptr) shape[0] = shape[1] = shape[2] = 0;
}

Isa to_isa(std::int32_t isa) {
  switch (isa) {
    case CONVJIT_ISA_AUTO: return Isa::kAuto;
    case CONVJIT_ISA_AVX2: return Isa::kAvx2;
    case CONVJIT_ISA_AVX512: return Isa::kAvx512;
    default: break;
  }
  throw Error(
      ErrorCode::kUnknownName, "isa",
      "Unknown isa: " + std::to_string(isa) +
          ". Expected CONVJIT_ISA_AUTO (0), CONVJIT_ISA_AVX2 (1) or CONVJIT_ISA_AVX512 (2)");
}

convjit::Backend to_backend(std::int32_t backend) {
  switch (backend) {
    case CONVJIT_BACKEND_AUTO: return convjit::Backend::kAuto;
    case CONVJIT_BACKEND_XBYAK: return convjit::Backend::kXbyak;
    case CONVJIT_BACKEND_LLVM: return convjit::Backend::kLlvm;
    default: break;
  }
  throw Error(ErrorCode::kUnknownName, "backend",
              "Unknown backend: " + std::to_string(backend) +
                  ". Expected CONVJIT_BACKEND_AUTO (0), CONVJIT_BACKEND_XBYAK (1) or "
                  "CONVJIT_BACKEND_LLVM (2)");
}

CompileOptions to_options(const convjit_compile_options* options) {
  CompileOptions o;
  if (options == nullptr) return o;
  if (options->reserved != 0) {
    throw Error(ErrorCode::kInvalidValue, "options",
                "convjit_compile_options.reserved must be 0. Received: " +
                    std::to_string(options->reserved));
  }
  o.isa = to_isa(options->isa);
  o.threads = options->threads;
  if (options->schedule != nullptr) o.schedule = options->schedule;
  o.allow_unsupported_isa = options->allow_unsupported_isa != 0;
  o.backend = to_backend(options->backend);
  if (options->cpu != nullptr) o.cpu = options->cpu;
  if (options->tuning_db != nullptr) o.tuning_db = options->tuning_db;
  o.use_tuning_db = options->no_tuning_db == 0;
  return o;
}

/// A kernel handle around `kernel`, with its strings made once.
std::unique_ptr<convjit_kernel> make_kernel_handle(const Kernel& kernel, std::int64_t kernel_floats,
                                                   std::int64_t bias_floats) {
  auto handle = std::make_unique<convjit_kernel>();
  handle->kernel = kernel;
  handle->kernel_floats = kernel_floats;
  handle->bias_floats = bias_floats;
  handle->name = kernel.name();
  handle->schedule = kernel.schedule_text();
  handle->backend = kernel.backend();
  return handle;
}

}  // namespace
}  // namespace convjit::detail

using convjit::detail::guarded;
using convjit::detail::require;
using convjit::detail::reset_out;
using convjit::detail::reset_shape;

extern "C" {

const char* convjit_last_error(void) noexcept {
  return convjit::detail::last_error().message.c_str();
}

const char* convjit_last_error_argument(void) noexcept {
  return convjit::detail::last_error().argument.c_str();
}

const char* convjit_status_name(convjit_status status) noexcept {
  switch (status) {
    case CONVJIT_OK: return "ok";
    case CONVJIT_OUT_OF_MEMORY: return "out_of_memory";
    case CONVJIT_INTERNAL_ERROR: return "internal_error";
    default: break;
  }
  const int code = static_cast<int>(status) - 1;
  if (code >= 0 && code <= static_cast<int>(convjit::ErrorCode::kIoError)) {
    return convjit::error_code_name(static_cast<convjit::ErrorCode>(code));
  }
  return "unknown_status";
}

const char* convjit_version(void) noexcept {
  return CONVJIT_VERSION_STRING;
}

int convjit_host_supports_isa(convjit_isa isa) noexcept {
  switch (isa) {
    case CONVJIT_ISA_AUTO: return 1;
    case CONVJIT_ISA_AVX2: return convjit::host_supports(convjit::Isa::kAvx2) ? 1 : 0;
    case CONVJIT_ISA_AVX512: return convjit::host_supports(convjit::Isa::kAvx512) ? 1 : 0;
    default: break;
  }
  return 0;
}

// ---- Jit ----

convjit_jit* convjit_default_jit(void) noexcept {
  static convjit_jit handle{&convjit::Jit::default_jit(), nullptr};
  return &handle;
}

convjit_status convjit_jit_create(size_t capacity, convjit_jit** out) noexcept {
  reset_out(out);
  return guarded([&] {
    convjit_jit** target = &require(out, "out");
    if (capacity < 1) {
      throw convjit::Error(convjit::ErrorCode::kInvalidValue, "capacity",
                           "A Jit's capacity must be >= 1. Received: capacity=0");
    }
    auto handle = std::make_unique<convjit_jit>();
    convjit::JitOptions options;
    options.capacity = capacity;
    handle->owned = std::make_unique<convjit::Jit>(options);
    handle->jit = handle->owned.get();
    *target = handle.release();
  });
}

void convjit_jit_destroy(convjit_jit* jit) noexcept {
  if (jit == nullptr || jit == convjit_default_jit()) return;
  delete jit;
}

convjit_status convjit_jit_stats(const convjit_jit* jit, convjit_cache_stats* out) noexcept {
  reset_out(out);
  return guarded([&] {
    const convjit_jit& j = require(jit, "jit");
    convjit_cache_stats& o = require(out, "out");
    const convjit::CacheStats s = j.jit->stats();
    o.hits = s.hits;
    o.misses = s.misses;
    o.evictions = s.evictions;
    o.entries = s.entries;
    o.compile_ns_total = s.compile_ns_total;
  });
}

convjit_status convjit_jit_clear(convjit_jit* jit) noexcept {
  return guarded([&] { require(jit, "jit").jit->clear(); });
}

// ---- Compiling ----

convjit_status convjit_compile(convjit_jit* jit, const char* spec, const int64_t input_shape[3],
                               const convjit_compile_options* options,
                               convjit_kernel** out) noexcept {
  reset_out(out);
  return guarded([&] {
    convjit_jit& j = require(jit, "jit");
    const char& text = require(spec, "spec");
    const std::int64_t& shape = require(input_shape, "input_shape");
    convjit_kernel** target = &require(out, "out");
    const convjit::Conv1DSpec parsed = convjit::parse_spec(&text);
    const convjit::Shape3 s{(&shape)[0], (&shape)[1], (&shape)[2]};
    const convjit::CompileOptions o = convjit::detail::to_options(options);

    const convjit::Kernel kernel = j.jit->compile(parsed, s, o);
    const bool channels_first = parsed.data_format == convjit::DataFormat::kChannelsFirst;
    const std::int64_t channels = channels_first ? s[1] : s[2];
    *target = convjit::detail::make_kernel_handle(
                  kernel, parsed.kernel_size * (channels / parsed.groups) * parsed.filters,
                  parsed.use_bias ? parsed.filters : 0)
                  .release();
  });
}

void convjit_kernel_destroy(convjit_kernel* kernel) noexcept {
  delete kernel;
}

// ---- Kernel queries ----

convjit_status convjit_kernel_input_shape(const convjit_kernel* kernel, int64_t shape[3]) noexcept {
  reset_shape(shape);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    std::int64_t* o = &require(shape, "shape");
    const convjit::Shape3 s = k.kernel.input_shape();
    for (int i = 0; i < 3; ++i) o[i] = s[i];
  });
}

convjit_status convjit_kernel_output_shape(const convjit_kernel* kernel, int64_t batch,
                                           int64_t length, int64_t shape[3]) noexcept {
  reset_shape(shape);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    std::int64_t* o = &require(shape, "shape");
    const convjit::Shape3 s = k.kernel.output_shape(batch, length);
    for (int i = 0; i < 3; ++i) o[i] = s[i];
  });
}

convjit_status convjit_kernel_input_size(const convjit_kernel* kernel, int64_t batch,
                                         int64_t length, int64_t* floats) noexcept {
  reset_out(floats);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    require(floats, "floats") = k.kernel.input_size(batch, length);
  });
}

convjit_status convjit_kernel_output_size(const convjit_kernel* kernel, int64_t batch,
                                          int64_t length, int64_t* floats) noexcept {
  reset_out(floats);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    require(floats, "floats") = k.kernel.output_size(batch, length);
  });
}

convjit_status convjit_kernel_weight_sizes(const convjit_kernel* kernel, int64_t* kernel_floats,
                                           int64_t* bias_floats) noexcept {
  reset_out(kernel_floats);
  reset_out(bias_floats);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    std::int64_t& kf = require(kernel_floats, "kernel_floats");
    std::int64_t& bf = require(bias_floats, "bias_floats");
    kf = k.kernel_floats;
    bf = k.bias_floats;
  });
}

convjit_status convjit_kernel_name(const convjit_kernel* kernel, const char** name) noexcept {
  reset_out(name);
  return guarded([&] { require(name, "name") = require(kernel, "kernel").name.c_str(); });
}

convjit_status convjit_kernel_schedule(const convjit_kernel* kernel, const char** text) noexcept {
  reset_out(text);
  return guarded([&] { require(text, "text") = require(kernel, "kernel").schedule.c_str(); });
}

convjit_status convjit_kernel_backend(const convjit_kernel* kernel, const char** name) noexcept {
  reset_out(name);
  return guarded([&] { require(name, "name") = require(kernel, "kernel").backend.c_str(); });
}

convjit_status convjit_kernel_isa(const convjit_kernel* kernel, convjit_isa* isa) noexcept {
  if (isa != nullptr) *isa = CONVJIT_ISA_AUTO;
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    convjit_isa& o = require(isa, "isa");
    o = k.kernel.isa() == convjit::Isa::kAvx512 ? CONVJIT_ISA_AVX512 : CONVJIT_ISA_AVX2;
  });
}

convjit_status convjit_kernel_code_size(const convjit_kernel* kernel, size_t* bytes) noexcept {
  reset_out(bytes);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    require(bytes, "bytes") = k.kernel.code_size();
  });
}

convjit_status convjit_kernel_disassemble(const convjit_kernel* kernel,
                                          const char** text) noexcept {
  reset_out(text);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    const char*& o = require(text, "text");
    // A throwing call_once leaves the flag unset: a later call tries again.
    std::call_once(k.disassembly_once, [&] { k.disassembly = k.kernel.disassemble(); });
    o = k.disassembly.c_str();
  });
}

// ---- Weights and running ----

convjit_status convjit_kernel_pack_weights(const convjit_kernel* kernel,
                                           const float* kernel_weights, const float* bias,
                                           convjit_weights** out) noexcept {
  reset_out(out);
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    convjit_weights** target = &require(out, "out");
    auto handle = std::make_unique<convjit_weights>();
    handle->weights = k.kernel.pack_weights(kernel_weights, bias);
    *target = handle.release();
  });
}

convjit_status convjit_weights_size(const convjit_weights* weights, size_t* floats) noexcept {
  reset_out(floats);
  return guarded([&] {
    const convjit_weights& w = require(weights, "weights");
    require(floats, "floats") = w.weights.size();
  });
}

void convjit_weights_destroy(convjit_weights* weights) noexcept {
  delete weights;
}

convjit_status convjit_kernel_run(const convjit_kernel* kernel, const float* input,
                                  const convjit_weights* weights, float* output, int64_t batch,
                                  int64_t length) noexcept {
  return guarded([&] {
    const convjit_kernel& k = require(kernel, "kernel");
    const convjit_weights& w = require(weights, "weights");
    k.kernel.run(input, w.weights, output, batch, length);
  });
}

// ---- Streaming ----

convjit_status convjit_compile_stream(convjit_jit* jit, const char* spec, int64_t channels,
                                      const convjit_compile_options* options,
                                      int64_t sequence_length,
                                      convjit_stream_kernel** out) noexcept {
  reset_out(out);
  return guarded([&] {
    convjit_jit& j = require(jit, "jit");
    const char& text = require(spec, "spec");
    convjit_stream_kernel** target = &require(out, "out");
    const convjit::Conv1DSpec parsed = convjit::parse_spec(&text);
    const convjit::CompileOptions o = convjit::detail::to_options(options);
    convjit::StreamOptions stream_options;
    stream_options.sequence_length = sequence_length;

    auto handle = std::make_unique<convjit_stream_kernel>();
    handle->stream = j.jit->compile_stream(parsed, channels, o, stream_options);
    handle->kernel_floats = parsed.kernel_size * (channels / parsed.groups) * parsed.filters;
    handle->bias_floats = parsed.use_bias ? parsed.filters : 0;
    *target = handle.release();
  });
}

void convjit_stream_kernel_destroy(convjit_stream_kernel* kernel) noexcept {
  delete kernel;
}

convjit_status convjit_stream_kernel_kernel(const convjit_stream_kernel* kernel,
                                            convjit_kernel** out) noexcept {
  reset_out(out);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    convjit_kernel** target = &require(out, "out");
    *target = convjit::detail::make_kernel_handle(k.stream.kernel(), k.kernel_floats, k.bias_floats)
                  .release();
  });
}

convjit_status convjit_stream_kernel_weight_sizes(const convjit_stream_kernel* kernel,
                                                  int64_t* kernel_floats,
                                                  int64_t* bias_floats) noexcept {
  reset_out(kernel_floats);
  reset_out(bias_floats);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    std::int64_t& kf = require(kernel_floats, "kernel_floats");
    std::int64_t& bf = require(bias_floats, "bias_floats");
    kf = k.kernel_floats;
    bf = k.bias_floats;
  });
}

convjit_status convjit_stream_kernel_pack_weights(const convjit_stream_kernel* kernel,
                                                  const float* kernel_weights, const float* bias,
                                                  convjit_weights** out) noexcept {
  reset_out(out);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    convjit_weights** target = &require(out, "out");
    auto handle = std::make_unique<convjit_weights>();
    handle->weights = k.stream.pack_weights(kernel_weights, bias);
    *target = handle.release();
  });
}

convjit_status convjit_stream_kernel_channels(const convjit_stream_kernel* kernel,
                                              int64_t* channels) noexcept {
  reset_out(channels);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    require(channels, "channels") = k.stream.channels();
  });
}

convjit_status convjit_stream_kernel_output_channels(const convjit_stream_kernel* kernel,
                                                     int64_t* channels) noexcept {
  reset_out(channels);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    require(channels, "channels") = k.stream.output_channels();
  });
}

convjit_status convjit_stream_kernel_history_rows(const convjit_stream_kernel* kernel,
                                                  int64_t* rows) noexcept {
  reset_out(rows);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    require(rows, "rows") = k.stream.history_rows();
  });
}

convjit_status convjit_stream_kernel_delay(const convjit_stream_kernel* kernel,
                                           int64_t* inputs) noexcept {
  reset_out(inputs);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    require(inputs, "inputs") = k.stream.delay();
  });
}

convjit_status convjit_stream_kernel_max_outputs(const convjit_stream_kernel* kernel, int64_t chunk,
                                                 int64_t* rows) noexcept {
  reset_out(rows);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    require(rows, "rows") = k.stream.max_outputs(chunk);
  });
}

convjit_status convjit_stream_kernel_max_flush_outputs(const convjit_stream_kernel* kernel,
                                                       int64_t* rows) noexcept {
  reset_out(rows);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    require(rows, "rows") = k.stream.max_flush_outputs();
  });
}

convjit_status convjit_stream_kernel_step_outputs(const convjit_stream_kernel* kernel,
                                                  int64_t position, int64_t chunk,
                                                  int64_t* rows) noexcept {
  reset_out(rows);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    std::int64_t& o = require(rows, "rows");
    o = k.stream.step_outputs(position, chunk);
  });
}

convjit_status convjit_stream_state_create(const convjit_stream_kernel* kernel, int64_t slots,
                                           convjit_stream_state** out) noexcept {
  reset_out(out);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    convjit_stream_state** target = &require(out, "out");
    auto handle = std::make_unique<convjit_stream_state>();
    handle->state = k.stream.make_state(slots);
    *target = handle.release();
  });
}

convjit_status convjit_stream_state_clone(const convjit_stream_state* state,
                                          convjit_stream_state** out) noexcept {
  reset_out(out);
  return guarded([&] {
    const convjit_stream_state& s = require(state, "state");
    convjit_stream_state** target = &require(out, "out");
    auto handle = std::make_unique<convjit_stream_state>();
    handle->state = s.state.clone();
    *target = handle.release();
  });
}

void convjit_stream_state_destroy(convjit_stream_state* state) noexcept {
  delete state;
}

convjit_status convjit_stream_state_slots(const convjit_stream_state* state,
                                          int64_t* slots) noexcept {
  reset_out(slots);
  return guarded([&] {
    const convjit_stream_state& s = require(state, "state");
    require(slots, "slots") = s.state.slots();
  });
}

convjit_status convjit_stream_state_history_floats(const convjit_stream_state* state,
                                                   int64_t* floats) noexcept {
  reset_out(floats);
  return guarded([&] {
    const convjit_stream_state& s = require(state, "state");
    require(floats, "floats") = s.state.history_floats();
  });
}

convjit_status convjit_stream_state_bytes(const convjit_stream_state* state,
                                          size_t* bytes) noexcept {
  reset_out(bytes);
  return guarded([&] {
    const convjit_stream_state& s = require(state, "state");
    require(bytes, "bytes") = s.state.bytes();
  });
}

convjit_status convjit_stream_state_position(const convjit_stream_state* state, int64_t slot,
                                             int64_t* position) noexcept {
  reset_out(position);
  return guarded([&] {
    const convjit_stream_state& s = require(state, "state");
    std::int64_t& o = require(position, "position");
    o = s.state.position(slot);
  });
}

convjit_status convjit_stream_state_reset(convjit_stream_state* state) noexcept {
  return guarded([&] { require(state, "state").state.reset(); });
}

convjit_status convjit_stream_state_reset_slot(convjit_stream_state* state, int64_t slot) noexcept {
  return guarded([&] { require(state, "state").state.reset(slot); });
}

convjit_status convjit_stream_state_read_history(const convjit_stream_state* state, int64_t slot,
                                                 float* history) noexcept {
  return guarded([&] { require(state, "state").state.read_history(slot, history); });
}

convjit_status convjit_stream_state_write_history(convjit_stream_state* state, int64_t slot,
                                                  const float* history, int64_t position) noexcept {
  return guarded([&] { require(state, "state").state.write_history(slot, history, position); });
}

convjit_status convjit_stream_step(const convjit_stream_kernel* kernel, const float* input,
                                   int64_t chunk, const convjit_weights* weights, float* output,
                                   convjit_stream_state* state, const int64_t* slots,
                                   int64_t streams, int64_t* counts, int64_t* total) noexcept {
  reset_out(total);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    const convjit_weights& w = require(weights, "weights");
    convjit_stream_state& s = require(state, "state");
    const std::int64_t sum =
        k.stream.step(input, chunk, w.weights, output, s.state, slots, streams, counts);
    if (total != nullptr) *total = sum;
  });
}

convjit_status convjit_stream_flush(const convjit_stream_kernel* kernel,
                                    const convjit_weights* weights, float* output,
                                    const convjit_stream_state* state, int64_t slot,
                                    int64_t* count) noexcept {
  reset_out(count);
  return guarded([&] {
    const convjit_stream_kernel& k = require(kernel, "kernel");
    const convjit_weights& w = require(weights, "weights");
    const convjit_stream_state& s = require(state, "state");
    std::int64_t& o = require(count, "count");
    o = k.stream.flush(w.weights, output, s.state, slot);
  });
}

}  // extern "C"
