// A fake machine-code backend for runtime tests: a tiny Xbyak trampoline (real W^X code
// memory, real bytes to disassemble) that jumps into a plain C++ convolution of the
// requested ranges. It packs weights transposed, so a run only works with packed weights,
// uses its per-call scratch, and records every call's ranges.
#pragma once

#include <xbyak/xbyak.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "compiler/activation_math.hpp"
#include "compiler/backend/generated_kernel.hpp"
#include "runtime/compiled_kernel.hpp"

namespace convjit::testing {

using detail::GeneratedKernel;
using detail::KernelArgs;
using detail::Problem;
using detail::Schedule;

/// What a fake backend did, shared with the test.
struct FakeBackendState {
  std::atomic<int> generated{0};    ///< generate() calls
  std::atomic<int> fail_next{0};    ///< throw from the next N generate() calls
  int delay_ms = 0;                 ///< sleep in generate(), to make compiles overlap
  std::int64_t oc_granularity = 4;  ///< FakeKernel::oc_split_granularity
  bool split_time = true;           ///< FakeKernel::can_split_time
  std::mutex calls_mutex;
  std::vector<KernelArgs> calls;  ///< ranges of every kernel call, when record_calls
  bool record_calls = false;
};

class FakeKernel final : public GeneratedKernel {
 public:
  FakeKernel(const Problem& p, const Schedule& s, FakeBackendState* state)
      : GeneratedKernel(p, s), state_(state), gen_(4096, Xbyak::DontSetProtectRWE) {
    // entry(args): compute(this, args), a tail call through rax.
    gen_.mov(gen_.rsi, gen_.rdi);
    const std::size_t load_self = gen_.getSize();
    gen_.mov(gen_.rdi, reinterpret_cast<std::uint64_t>(this));
    gen_.mov(gen_.rax, reinterpret_cast<std::uint64_t>(&FakeKernel::compute));
    const std::size_t jump = gen_.getSize();
    gen_.jmp(gen_.rax);
    gen_.setProtectModeRE();
    annotations_ = {{0, "entry"}, {load_self, "load context"}, {jump, "tail call"}};
  }

  detail::KernelEntry entry() const override { return gen_.getCode<detail::KernelEntry>(); }
  const std::uint8_t* code() const override { return gen_.getCode(); }
  std::size_t code_size() const override { return gen_.getSize(); }
  const std::vector<detail::CodeAnnotation>& annotations() const override { return annotations_; }
  std::string name() const override {
    const Problem& p = problem();
    return "fake_" + std::string(isa_name(schedule().isa)) + "_c" + std::to_string(p.in_channels) +
           "_f" + std::to_string(p.filters) + "_k" + std::to_string(p.kernel);
  }
  std::size_t packed_weights_floats() const override {
    return static_cast<std::size_t>(problem().kernel_size_elems());
  }
  /// Keras (K, Cg, F) -> [F][K][Cg].
  void pack_weights(const float* keras, float* packed) const override {
    const Problem& p = problem();
    for (std::int64_t k = 0; k < p.kernel; ++k)
      for (std::int64_t c = 0; c < p.ic_per_group; ++c)
        for (std::int64_t f = 0; f < p.filters; ++f)
          packed[(f * p.kernel + k) * p.ic_per_group + c] =
              keras[(k * p.ic_per_group + c) * p.filters + f];
  }
  std::size_t scratch_floats(std::int64_t length) const override {
    return static_cast<std::size_t>(length + 7);
  }
  std::int64_t oc_split_granularity() const override { return state_->oc_granularity; }
  bool can_split_time() const override { return state_->split_time; }

 private:
  static void compute(const FakeKernel* self, const KernelArgs* a) {
    const Problem& p = self->problem();
    if (self->state_->record_calls) {
      std::lock_guard<std::mutex> lock(self->state_->calls_mutex);
      self->state_->calls.push_back(*a);
    }
    // Touch all of the scratch: an undersized scratch shows up under ASan.
    const std::size_t scratch = self->scratch_floats(a->length);
    for (std::size_t i = 0; i < scratch; ++i) a->scratch[i] = static_cast<float>(i);
    const bool cf = p.data_format == DataFormat::kChannelsFirst;
    const std::int64_t L = a->length, C = p.in_channels, F = p.filters, Lout = a->out_length;
    for (std::int64_t n = a->n_begin; n < a->n_end; ++n)
      for (std::int64_t t = a->t_begin; t < a->t_end; ++t)
        for (std::int64_t f = a->oc_begin; f < a->oc_end; ++f) {
          const std::int64_t g = f / p.oc_per_group;
          float acc = a->bias ? a->bias[f] : 0.0f;
          for (std::int64_t k = 0; k < p.kernel; ++k) {
            const std::int64_t x = t * p.stride + k * p.dilation - a->pad_left;
            if (x < 0 || x >= L) continue;
            for (std::int64_t c = 0; c < p.ic_per_group; ++c) {
              const std::int64_t ci = g * p.ic_per_group + c;
              const float in = cf ? a->input[(n * C + ci) * L + x] : a->input[(n * L + x) * C + ci];
              acc += in * a->weights[(f * p.kernel + k) * p.ic_per_group + c];
            }
          }
          const auto y = static_cast<float>(detail::activate(p.activation, acc));
          if (cf) {
            a->output[(n * F + f) * Lout + t] = y;
          } else {
            a->output[(n * Lout + t) * F + f] = y;
          }
        }
  }

  FakeBackendState* state_;
  Xbyak::CodeGenerator gen_;
  std::vector<detail::CodeAnnotation> annotations_;
};

/// A backend named `name` making FakeKernels; `state` must outlive it.
inline std::shared_ptr<const detail::CodeGenerator> make_fake_backend(FakeBackendState& state,
                                                                      std::string name = "fake") {
  auto backend = std::make_shared<detail::CodeGenerator>();
  backend->name = std::move(name);
  backend->generate = [&state](std::shared_ptr<const detail::ir::ScheduledIr> scheduled)
      -> std::unique_ptr<GeneratedKernel> {
    const Problem& p = scheduled->problem();
    const Schedule& s = scheduled->plan()->schedule;
    state.generated.fetch_add(1);
    if (state.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(state.delay_ms));
    int fails = state.fail_next.load();
    while (fails > 0 && !state.fail_next.compare_exchange_weak(fails, fails - 1)) {
    }
    if (fails > 0) throw std::runtime_error("fake backend: injected failure");
    return std::make_unique<FakeKernel>(p, s, &state);
  };
  return backend;
}

}  // namespace convjit::testing
