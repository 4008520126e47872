#include "compiler/backend/xbyak/conv_generator.hpp"

#include "compiler/backend/xbyak/column_emitter.hpp"
#include "compiler/backend/xbyak/jit_check.hpp"

namespace convjit::detail {

using namespace Xbyak::util;  // NOLINT: register names read like assembly

namespace {

template <class Vmm>
void emit_variants(ConvCodeGenerator& code, const KernelPlan& plan, const ir::BlockTiles& full_tile,
                   const ir::BlockTiles& tail_tile, Xbyak::Label& full, Xbyak::Label& tail,
                   EmitStats& full_stats, EmitStats& tail_stats) {
  if (plan.full.present) {
    code.align(16);
    code.L(full);
    ColumnEmitter<Vmm>(code, plan, plan.full, full_tile, "full block", full_stats).emit();
  }
  if (plan.tail.present) {
    code.align(16);
    code.L(tail);
    ColumnEmitter<Vmm>(code, plan, plan.tail, tail_tile, "tail block", tail_stats).emit();
  }
}

ColumnFn label_fn(const Xbyak::Label& label) {
  return reinterpret_cast<ColumnFn>(const_cast<std::uint8_t*>(label.getAddress()));
}

}  // namespace

ConvCodeGenerator::ConvCodeGenerator(const KernelPlan& plan, const ir::BlockTiles& full,
                                     const ir::BlockTiles& tail, const void* self, DriverFn driver)
    : Xbyak::CodeGenerator(16384, Xbyak::AutoGrow), plan_(plan) {
  if (plan.fused_activation) {
    activation_ = std::make_unique<ActivationEmitter>(*this, plan.isa, plan.activation);
  }
  emit_trampoline(self, driver);
  if (plan.isa == Isa::kAvx512) {
    emit_variants<Xbyak::Zmm>(*this, plan, full, tail, full_label_, tail_label_, full_stats_,
                              tail_stats_);
  } else {
    emit_variants<Xbyak::Ymm>(*this, plan, full, tail, full_label_, tail_label_, full_stats_,
                              tail_stats_);
  }
  emit_tables();
  if (activation_) {
    annotate(std::string("constants: ") + activation_name(plan.activation));
    activation_->emit_constants();
  }
  readyRE();  // resolves labels, then maps the code read+execute (never RWX)
  if (plan.full.present) full_fn_ = label_fn(full_label_);
  if (plan.tail.present) tail_fn_ = label_fn(tail_label_);
}

void ConvCodeGenerator::emit_trampoline(const void* self, DriverFn driver) {
  annotate("entry: KernelArgs* in rdi -> C++ driver(kernel, args) (layouts, blocks, axis stage)");
  mov(rsi, rdi);
  mov(rdi, reinterpret_cast<std::size_t>(self));
  mov(rax, reinterpret_cast<std::size_t>(driver));
  jmp(rax);
}

void ConvCodeGenerator::emit_tables() {
  if (plan_.isa != Isa::kAvx2 || !plan_.tail.present || plan_.tail.last_lanes == plan_.lanes) {
    return;
  }
  align(32);
  annotate("constants: tail lane mask (" + std::to_string(plan_.tail.last_lanes) + " of 8)");
  L(tail_mask_);
  for (int lane = 0; lane < plan_.lanes; ++lane) {
    dd(lane < plan_.tail.last_lanes ? 0xffffffffu : 0u);
  }
}

}  // namespace convjit::detail
