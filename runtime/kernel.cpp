// Kernel: weight packing, argument checks, and runs split over the thread pool.
#include "convjit/kernel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

#include "compiler/backend/disasm/disassemble.hpp"
#include "runtime/compiled_kernel.hpp"
#include "runtime/resource_limits.hpp"
#include "runtime/thread_pool.hpp"

namespace convjit {
namespace detail {
namespace {

/// Below this many flops (about 10 us on one core) a run stays on the calling thread: the
/// hand-off, the cache lines the helper pulls over and the wait for the slower half cost
/// more than they save. Measured with the spinning pool (docs/runtime.md): kws (1.5 MFLOP)
/// took 11.5-12.6 us on two threads against 15.6-16.2 on one; small (0.8 MFLOP) 6.7-9.5
/// against 8.8, so it stays on one thread.
constexpr double kMinParallelFlops = 1.0e6;
/// Work items per thread, for load balance between threads that run at different speeds.
constexpr std::int64_t kItemsPerThread = 4;
/// Smallest work item worth handing to another thread, in flops.
constexpr double kMinItemFlops = 5.0e4;

std::int64_t checked_product(std::initializer_list<std::int64_t> factors, const char* argument) {
  std::int64_t product = 1;
  for (std::int64_t f : factors) {
    if (__builtin_mul_overflow(product, f, &product)) {
      throw Error(ErrorCode::kResourceLimit, argument,
                  fmt::format("The element count of {} overflows 64 bits", argument));
    }
  }
  return product;
}

/// How the output [0,N) x [0,Lout) x [0,F) is cut into disjoint work items.
struct WorkSplit {
  std::int64_t n_chunks = 1, t_chunks = 1, oc_chunks = 1;
  std::int64_t t_unit = 1, t_units = 1;    // t is cut at multiples of t_unit
  std::int64_t oc_unit = 1, oc_units = 1;  // oc is cut at multiples of oc_unit
  std::int64_t items() const { return n_chunks * t_chunks * oc_chunks; }
};

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

WorkSplit plan_split(const GeneratedKernel& code, const Problem& p, int threads) {
  WorkSplit w;
  w.t_unit = std::max<std::int64_t>(code.schedule().tile_t, 1);
  w.t_units =
      code.can_split_time() ? std::max<std::int64_t>(ceil_div(p.out_length, w.t_unit), 1) : 1;
  if (!code.can_split_time()) w.t_unit = std::max<std::int64_t>(p.out_length, 1);
  const std::int64_t granularity = code.oc_split_granularity();
  w.oc_unit = granularity > 0 ? granularity : std::max<std::int64_t>(p.filters, 1);
  w.oc_units = std::max<std::int64_t>(ceil_div(p.filters, w.oc_unit), 1);
  if (threads <= 1 || p.flops() < kMinParallelFlops) return w;
  std::int64_t target = std::min<std::int64_t>(
      threads * kItemsPerThread,
      std::max<std::int64_t>(1, static_cast<std::int64_t>(p.flops() / kMinItemFlops)));
  w.n_chunks = std::min(p.batch, target);
  std::int64_t rest = ceil_div(target, w.n_chunks);
  w.t_chunks = std::min(w.t_units, rest);
  rest = ceil_div(rest, w.t_chunks);
  w.oc_chunks = std::min(w.oc_units, rest);
  return w;
}

/// [begin, end) of chunk i of `units` units cut into `chunks` near-equal chunks, scaled by
/// `unit` and clipped to `extent`.
void chunk_range(std::int64_t i, std::int64_t chunks, std::int64_t units, std::int64_t unit,
                 std::int64_t extent, std::int64_t& begin, std::int64_t& end) {
  begin = std::min(extent, units * i / chunks * unit);
  end = std::min(extent, units * (i + 1) / chunks * unit);
}

}  // namespace

float* thread_scratch(std::size_t floats) {
  if (floats == 0) return nullptr;
  thread_local AlignedFloats scratch;
  if (scratch.size() < floats) scratch = AlignedFloats(floats + floats / 4);
  return scratch.data();
}

AlignedFloats::AlignedFloats(std::size_t count) : size_(count) {
  if (count == 0) return;
  if (count > static_cast<std::size_t>(kMaxBufferBytes) / sizeof(float)) throw std::bad_alloc();
  const std::size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  data_.reset(static_cast<float*>(p));
}

std::string weight_layout_id(const std::string& backend, const Problem& p, const Schedule& s) {
  Schedule layout_schedule = s;
  layout_schedule.threads = 1;  // threads never change the layout
  return fmt::format("{}|C={} F={} K={} g={} {} {} bias={}|{}", backend, p.in_channels, p.filters,
                     p.kernel, p.groups, data_format_name(p.data_format),
                     activation_name(p.activation), p.use_bias, to_string(layout_schedule));
}

std::string CompiledKernel::disassemble() const {
  std::string text = fmt::format(
      "; kernel: {}\n; backend: {}, isa: {}, {} bytes of code\n; problem: {}\n; schedule: {}\n",
      name, backend, isa_name(schedule().isa), code->code_size(), problem.to_string(),
      to_string(schedule()));
  const std::string own = code->assembly();  // the LLVM backend prints its own listing
  text +=
      own.empty() ? disassemble_x86(code->code(), code->code_size(), 0, code->annotations()) : own;
  return text;
}

}  // namespace detail

using detail::CompiledKernel;
using detail::Problem;

std::size_t PackedWeights::size() const {
  return buffer_ ? buffer_->weights.size() : 0;
}

const CompiledKernel& Kernel::impl() const {
  if (!impl_) {
    throw Error(ErrorCode::kInvalidValue, "kernel",
                "The Kernel is empty (default-constructed); get one from Jit::compile");
  }
  return *impl_;
}

PackedWeights Kernel::pack_weights(const float* kernel, const float* bias) const {
  const CompiledKernel& k = impl();
  const Problem& p = k.problem;
  if (kernel == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "kernel",
                fmt::format("kernel must point to {} floats of shape ({}, {}, {}). Received: "
                            "nullptr",
                            p.kernel_size_elems(), p.kernel, p.ic_per_group, p.filters));
  }
  if (p.use_bias && bias == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "bias",
                fmt::format("bias must point to {} floats when use_bias=True. Received: nullptr",
                            p.filters));
  }
  if (!p.use_bias && bias != nullptr) {
    throw Error(ErrorCode::kInvalidValue, "bias",
                "bias must be nullptr when use_bias=False. Received: a pointer");
  }
  auto buffer = std::make_shared<detail::PackedBuffer>();
  buffer->owner = impl_;
  buffer->layout = k.layout;
  buffer->weights = detail::AlignedFloats(k.code->packed_weights_floats());
  k.code->pack_weights(kernel, buffer->weights.data());
  if (p.use_bias) {
    const auto f = static_cast<std::size_t>(p.filters);
    buffer->bias = detail::AlignedFloats((f + 15) / 16 * 16);
    std::memcpy(buffer->bias.data(), bias, f * sizeof(float));
  }
  PackedWeights w;
  w.buffer_ = std::move(buffer);
  return w;
}

namespace {

/// The problem of one run: the compiled one, resolved for (batch, length).
Problem resolve_run(const CompiledKernel& k, std::int64_t batch, std::int64_t length) {
  const Problem& p = k.problem;
  const bool dynamic_batch = k.input_shape[0] == kDynamic;
  if (!dynamic_batch && batch != p.batch) {
    throw Error(
        ErrorCode::kShapeMismatch, "batch",
        fmt::format("The kernel was compiled for batch={}. Received: batch={}", p.batch, batch));
  }
  if (!p.length_is_dynamic && length != p.length) {
    throw Error(ErrorCode::kShapeMismatch, "length",
                fmt::format("The kernel was compiled for length={}. Received: length={} "
                            "(compile with a kDynamic length to serve every length)",
                            p.length, length));
  }
  if (p.length_is_dynamic) return detail::resolve_length(p, batch, length);
  if (batch < 0) {
    throw Error(ErrorCode::kInvalidShape, "batch",
                fmt::format("The batch size must be >= 0. Received batch={}", batch));
  }
  Problem run = p;
  run.batch = batch;
  return run;
}

}  // namespace

const detail::PackedBuffer& Kernel::checked_weights(const PackedWeights& weights) const {
  const CompiledKernel& k = impl();
  if (weights.empty()) {
    throw Error(ErrorCode::kInvalidValue, "weights",
                "weights are empty; pack them with Kernel::pack_weights");
  }
  const detail::PackedBuffer& w = *weights.buffer_;
  const bool same_owner = !w.owner.owner_before(impl_) && !impl_.owner_before(w.owner);
  if (!same_owner && w.layout != k.layout) {
    throw Error(ErrorCode::kShapeMismatch, "weights",
                fmt::format("weights were packed for another kernel layout. Expected: {}. "
                            "Received: {}",
                            k.layout, w.layout));
  }
  return w;
}

void Kernel::run(const float* input, const PackedWeights& weights, float* output,
                 std::int64_t batch, std::int64_t length) const {
  const CompiledKernel& k = impl();
  if (!k.runnable) {
    throw Error(ErrorCode::kUnsupported, "isa",
                fmt::format("Kernel {} uses isa={}, which this CPU lacks; it was compiled with "
                            "allow_unsupported_isa for disassembly only",
                            k.name, isa_name(k.schedule().isa)));
  }
  const Problem p = resolve_run(k, batch, length);
  const detail::PackedBuffer& w = checked_weights(weights);
  const std::int64_t in_size = detail::checked_product({p.batch, p.length, p.in_channels}, "input");
  const std::int64_t out_size =
      detail::checked_product({p.batch, p.out_channels(), p.final_out_length()}, "output");
  if (out_size == 0) return;
  detail::check_run_limits(p);  // buffers that cannot exist: before any pointer is used
  if (input == nullptr && in_size > 0) {
    throw Error(ErrorCode::kInvalidValue, "input",
                fmt::format("input must point to {} floats. Received: nullptr", in_size));
  }
  if (output == nullptr) {
    throw Error(ErrorCode::kInvalidValue, "output",
                fmt::format("output must point to {} floats. Received: nullptr", out_size));
  }

  const detail::GeneratedKernel& code = *k.code;
  detail::KernelArgs base;
  base.input = input;
  base.weights = w.weights.data();
  base.bias = p.use_bias ? w.bias.data() : nullptr;
  base.output = output;
  base.length = p.length;
  base.out_length = p.out_length;
  base.pad_left = p.pad_left;
  const std::size_t scratch_floats = code.scratch_floats(p.length);
  detail::check_scratch_limit(p, scratch_floats);
  const detail::KernelEntry entry = code.entry();

  const detail::WorkSplit split = detail::plan_split(code, p, threads_);
  const std::int64_t items = split.items();
  if (items <= 1) {
    detail::KernelArgs args = base;
    args.scratch = detail::thread_scratch(scratch_floats);
    args.n_end = p.batch;
    args.t_end = p.out_length;
    args.oc_end = p.filters;
    entry(&args);
    return;
  }
  auto body = [&](std::int64_t item) {
    detail::KernelArgs args = base;
    args.scratch = detail::thread_scratch(scratch_floats);
    const std::int64_t oc_i = item % split.oc_chunks;
    const std::int64_t t_i = (item / split.oc_chunks) % split.t_chunks;
    const std::int64_t n_i = item / (split.oc_chunks * split.t_chunks);
    detail::chunk_range(n_i, split.n_chunks, p.batch, 1, p.batch, args.n_begin, args.n_end);
    detail::chunk_range(t_i, split.t_chunks, split.t_units, split.t_unit, p.out_length,
                        args.t_begin, args.t_end);
    detail::chunk_range(oc_i, split.oc_chunks, split.oc_units, split.oc_unit, p.filters,
                        args.oc_begin, args.oc_end);
    if (args.n_begin < args.n_end && args.t_begin < args.t_end && args.oc_begin < args.oc_end) {
      entry(&args);
    }
  };
  // std::cref: the std::function holds a reference, not a heap copy of the lambda, so a
  // split run allocates nothing either.
  detail::ThreadPool::global().parallel_for(items, threads_, std::cref(body));
}

Shape3 Kernel::input_shape() const {
  return impl().input_shape;
}
bool Kernel::dynamic_batch() const {
  return impl().input_shape[0] == kDynamic;
}
bool Kernel::dynamic_length() const {
  return impl().problem.length_is_dynamic;
}

Shape3 Kernel::output_shape(std::int64_t batch, std::int64_t length) const {
  const Problem p = resolve_run(impl(), batch, length);
  if (p.data_format == DataFormat::kChannelsFirst) {
    return {p.batch, p.out_channels(), p.final_out_length()};
  }
  return {p.batch, p.final_out_length(), p.out_channels()};
}

std::int64_t Kernel::input_size(std::int64_t batch, std::int64_t length) const {
  const Problem p = resolve_run(impl(), batch, length);
  return detail::checked_product({p.batch, p.length, p.in_channels}, "input");
}

std::int64_t Kernel::output_size(std::int64_t batch, std::int64_t length) const {
  const Problem p = resolve_run(impl(), batch, length);
  return detail::checked_product({p.batch, p.out_channels(), p.final_out_length()}, "output");
}

std::string Kernel::disassemble() const {
  return impl().disassemble();
}
std::string Kernel::name() const {
  return impl().name;
}
Isa Kernel::isa() const {
  return impl().schedule().isa;
}
std::string Kernel::backend() const {
  return impl().backend;
}
std::size_t Kernel::code_size() const {
  return impl().code->code_size();
}

std::string Kernel::schedule_text() const {
  detail::Schedule s = impl().schedule();
  s.threads = threads_;
  return detail::to_string(s);
}

}  // namespace convjit
