#include "compiler/backend/xbyak/xbyak_driver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "compiler/activation_math.hpp"
#include "compiler/backend/xbyak/jit_check.hpp"
#include "compiler/backend/xbyak/layout_transpose.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {
namespace {

std::int64_t clamp64(std::int64_t v, std::int64_t lo, std::int64_t hi) {
  return std::max(lo, std::min(v, hi));
}

}  // namespace

XbyakDriver::XbyakDriver(std::shared_ptr<const ir::ScheduledIr> scheduled)
    : GeneratedKernel(scheduled),
      plan_(*scheduled->plan()),
      zero_bias_(static_cast<std::size_t>(std::max<std::int64_t>(plan_.F, 1)) +
                     static_cast<std::size_t>(plan_.block_width),
                 0.0f),
      code_(std::make_unique<ConvCodeGenerator>(
          plan_, scheduled->full_block(), scheduled->tail_block(), this, &XbyakDriver::drive)) {
  // The driver's loop order is the IR's loop nest, read from its loops without their tiles
  // (ScheduledIr::loop_order; same_ir_test checks it is nest()'s, per suite shape): channel
  // blocks swept into the time regions, and time blocks around the channel blocks.
  const ir::LoopNestSummary& order = scheduled->loop_order();
  loops_.sweep = order.channels_swept;
  loops_.time_outer = order.time_outside_channels;
  // The column functions sweep (ColumnArgs::blocks) where the driver's loops say so.
  CONVJIT_JIT_CHECK(loops_.sweep == plan_.sweep);
}

KernelEntry XbyakDriver::entry() const {
  return reinterpret_cast<KernelEntry>(const_cast<std::uint8_t*>(code_->getCode()));
}

std::string XbyakDriver::name() const {
  const Problem& p = problem();
  return fmt::format("conv1d_{}_{}_c{}_f{}_k{}_s{}_d{}_g{}_{}_{}{}{}_t{}x{}",
                     plan_.isa == Isa::kAvx512 ? "avx512" : "avx2",
                     plan_.kind == KernelKind::kDirect ? "direct" : "depthwise", p.in_channels,
                     p.filters, p.kernel, p.stride, p.dilation, p.groups, padding_name(p.padding),
                     activation_name(p.activation), plan_.channels_first ? "_cf" : "",
                     plan_.dynamic_length ? "_dynlen" : "", plan_.ur_t, plan_.ur_oc);
}

std::size_t XbyakDriver::packed_weights_floats() const {
  return static_cast<std::size_t>(plan_.packed_floats);
}

void XbyakDriver::pack_weights(const float* keras_kernel, float* packed) const {
  detail::pack_weights(problem(), plan_.weights, keras_kernel, packed);
}

std::size_t XbyakDriver::scratch_floats(std::int64_t length) const {
  const std::int64_t out_length = plan_out_length(plan_, length);
  std::int64_t floats = 0;
  if (plan_.channels_first) floats += length * plan_.C;
  if (plan_.channels_first || plan_.glu) floats += out_length * plan_.F;
  return static_cast<std::size_t>(floats);
}

void XbyakDriver::drive(const void* self, const KernelArgs* args) {
  static_cast<const XbyakDriver*>(self)->run(*args);
}

void XbyakDriver::run(const KernelArgs& a) const {
  const Problem& p = problem();
  const std::int64_t length = plan_.dynamic_length ? a.length : p.length;
  const std::int64_t out_length = plan_.dynamic_length ? a.out_length : p.out_length;
  const std::int64_t pad_left = plan_.dynamic_length ? a.pad_left : p.pad_left;
  if (out_length <= 0 || a.n_end <= a.n_begin) return;
  std::int64_t t0 = clamp64(a.t_begin, 0, out_length);
  std::int64_t t1 = clamp64(a.t_end, t0, out_length);
  std::int64_t oc0 = clamp64(a.oc_begin, 0, plan_.F);
  std::int64_t oc1 = clamp64(a.oc_end, oc0, plan_.F);
  if (plan_.axis_activation) {
    // The axis must be whole: the call that starts it computes all of it.
    if (plan_.axis_over_time) {
      if (a.t_begin > 0) return;
      t0 = 0;
      t1 = out_length;
    } else {
      if (a.oc_begin > 0) return;
      oc0 = 0;
      oc1 = plan_.F;
    }
  }
  if (t0 >= t1 || oc0 >= oc1) return;
  for (std::int64_t n = a.n_begin; n < a.n_end; ++n) {
    run_batch(a, n, length, out_length, pad_left, t0, t1, oc0, oc1);
  }
}

void XbyakDriver::run_batch(const KernelArgs& a, std::int64_t n, std::int64_t length,
                            std::int64_t out_length, std::int64_t pad_left, std::int64_t t0,
                            std::int64_t t1, std::int64_t oc0, std::int64_t oc1) const {
  const std::int64_t C = plan_.C, F = plan_.F;
  const float* bias = plan_.use_bias ? (a.bias != nullptr ? a.bias : zero_bias_.data()) : nullptr;
  const float* in_rows = a.input + n * length * C;
  float* scratch_out = a.scratch + (plan_.channels_first ? length * C : 0);
  if (plan_.channels_first) {
    // Only the rows and channels this call reads.
    const std::int64_t r0 = std::max<std::int64_t>(0, t0 * plan_.stride - pad_left);
    const std::int64_t r1 = std::min<std::int64_t>(
        length, (t1 - 1) * plan_.stride - pad_left + (plan_.K - 1) * plan_.dilation + 1);
    const std::int64_t c0 = (oc0 / plan_.ocg) * plan_.icg;
    const std::int64_t c1 = ((oc1 - 1) / plan_.ocg + 1) * plan_.icg;
    if (r0 < r1) transpose_to_channels_last(in_rows, length, a.scratch, C, r0, r1, c0, c1);
    in_rows = a.scratch;
  }

  if (!plan_.channels_first) {
    if (!plan_.glu) {
      float* out_n = a.output + n * out_length * F;
      run_columns(in_rows, out_n, bias, a.weights, length, pad_left, t0, t1, oc0, oc1);
      if (plan_.axis_activation) {
        for (std::int64_t t = t0; t < t1; ++t) {
          activate_axis_row(plan_.activation, out_n + t * F, F, 1, out_n + t * F, 1);
        }
      }
      return;
    }
    run_columns(in_rows, scratch_out, bias, a.weights, length, pad_left, t0, t1, oc0, oc1);
    const std::int64_t half = F / 2;
    float* out_n = a.output + n * out_length * half;
    for (std::int64_t t = t0; t < t1; ++t) {
      activate_axis_row(Activation::kGlu, scratch_out + t * F, F, 1, out_n + t * half, 1);
    }
    return;
  }

  // channels_first: compute channels_last rows in scratch, then transpose back.
  run_columns(in_rows, scratch_out, bias, a.weights, length, pad_left, t0, t1, oc0, oc1);
  if (plan_.glu) {
    const std::int64_t half = out_length / 2;
    float* out_n = a.output + n * F * half;
    for (std::int64_t c = oc0; c < oc1; ++c) {
      activate_axis_row(Activation::kGlu, scratch_out + c, out_length, F, out_n + c * half, 1);
    }
    return;
  }
  float* out_n = a.output + n * F * out_length;
  transpose_to_channels_first(scratch_out, F, out_n, out_length, t0, t1, oc0, oc1);
  if (plan_.axis_activation) {
    for (std::int64_t c = oc0; c < oc1; ++c) {
      activate_axis_row(plan_.activation, out_n + c * out_length, out_length, 1,
                        out_n + c * out_length, 1);
    }
  }
}

void XbyakDriver::run_columns(const float* in_rows, float* out_rows, const float* bias,
                              const float* weights, std::int64_t length, std::int64_t pad_left,
                              std::int64_t t0, std::int64_t t1, std::int64_t oc0,
                              std::int64_t oc1) const {
  // Steps whose taps all fall inside [0, L): t*s - pad >= 0 and t*s - pad + (K-1)d <= L-1.
  const std::int64_t s = plan_.stride;
  const std::int64_t t_lo = pad_left > 0 ? (pad_left + s - 1) / s : 0;
  const std::int64_t last = length - 1 + pad_left - (plan_.K - 1) * plan_.dilation;
  const std::int64_t t_hi = last < 0 ? 0 : last / s + 1;

  // Blocks are computed on the fly (no allocation per call): a block starts at `oc` and ends
  // at the block width or at the end of its column group.
  const ColumnFn full_fn = code_->full_fn();
  const ColumnFn tail_fn = code_->tail_fn();
  auto call = [&](std::int64_t oc, std::int64_t c0, std::int64_t c1,
                  std::int64_t blocks) -> std::int64_t {
    const std::int64_t g = oc / plan_.col_channels;
    const std::int64_t b = (oc - g * plan_.col_channels) / plan_.block_width;
    const std::int64_t start = g * plan_.col_channels + b * plan_.block_width;
    CONVJIT_JIT_CHECK(start == oc);  // oc ranges start on blocks (oc_split_granularity)
    const std::int64_t end = std::min(start + plan_.block_width, (g + 1) * plan_.col_channels);
    const std::int64_t in_ch = plan_.kind == KernelKind::kDirect ? g * plan_.icg : start;
    ColumnArgs ca;
    ca.in = in_rows + in_ch;
    ca.w = weights + (g * plan_.blocks_per_group + b) * plan_.block_weight_floats;
    ca.bias = bias != nullptr ? bias + start : nullptr;
    ca.out = out_rows + start;
    ca.length = length;
    ca.pad_left = pad_left;
    ca.t_begin = c0;
    ca.t_int_begin = clamp64(t_lo, c0, c1);
    const std::int64_t interior_end = clamp64(t_hi, ca.t_int_begin, c1);
    ca.t_int_end = ca.t_int_begin + (interior_end - ca.t_int_begin) / plan_.ur_t * plan_.ur_t;
    ca.t_end = c1;
    ca.blocks = blocks;
    const StoreMode mode = store_mode(plan_, ca.in, ca.out);
    ca.streaming = mode.streaming ? 1 : 0;
    ca.descending = mode.descending && blocks > 1 ? 1 : 0;
    const ColumnFn fn = end - start < plan_.block_width ? tail_fn : full_fn;
    CONVJIT_JIT_CHECK(fn != nullptr);
    // Input-channel blocks (KernelPlan::ic_block): one call each, partial sums in the output.
    const std::int64_t ic_weights = plan_.K * plan_.ic_block * plan_.block_width;
    for (std::int64_t icb = 0; icb < plan_.ic_blocks; ++icb) {
      ca.accumulate = icb > 0 ? 1 : 0;
      ca.partial = icb + 1 < plan_.ic_blocks ? 1 : 0;
      fn(&ca);
      ca.in += plan_.ic_block;
      ca.w += ic_weights;
    }
    return blocks == 1 ? end : start + blocks * plan_.block_width;
  };
  // Sweep: a call computes up to sweep_blocks full blocks of [oc0, oc1) (then the
  // tail block).
  const std::int64_t full_end = (plan_.col_channels / plan_.block_width) * plan_.block_width;
  auto sweep = [&](std::int64_t c0, std::int64_t c1) {
    std::int64_t oc = oc0;
    const std::int64_t sweep_end = std::min(oc1, full_end);
    while (oc < sweep_end) {
      const std::int64_t blocks = std::min(
          plan_.sweep_blocks, (sweep_end - oc + plan_.block_width - 1) / plan_.block_width);
      oc = call(oc, c0, c1, blocks);
    }
    while (oc < oc1) oc = call(oc, c0, c1, 1);
  };

  const std::int64_t chunk = plan_.block_t > 0 ? plan_.block_t : t1 - t0;
  if (loops_.sweep) {
    for (std::int64_t c0 = t0; c0 < t1; c0 += chunk) sweep(c0, std::min(c0 + chunk, t1));
  } else if (loops_.time_outer) {
    for (std::int64_t c0 = t0; c0 < t1; c0 += chunk) {
      const std::int64_t c1 = std::min(c0 + chunk, t1);
      for (std::int64_t oc = oc0; oc < oc1;) oc = call(oc, c0, c1, 1);
    }
  } else {
    for (std::int64_t oc = oc0; oc < oc1;) {
      std::int64_t next = oc;
      for (std::int64_t c0 = t0; c0 < t1; c0 += chunk)
        next = call(oc, c0, std::min(c0 + chunk, t1), 1);
      oc = next;
    }
  }
}

}  // namespace convjit::detail
