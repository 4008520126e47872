// The parts of a column function shared by the direct and depthwise micro-kernels:
// prologue, the three time phases, the edge subroutine, and the fused epilogue.
#include "compiler/backend/xbyak/column_emitter.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>

#include "compiler/backend/xbyak/jit_check.hpp"

namespace convjit::detail {

using namespace Xbyak::util;  // NOLINT: register names read like assembly

template <class Vmm>
ColumnEmitter<Vmm>::ColumnEmitter(ConvCodeGenerator& code, const KernelPlan& plan,
                                  const ColumnVariant& variant, const ir::BlockTiles& tiles,
                                  const char* what, EmitStats& stats)
    : c_(code),
      stats_(stats),
      p_(plan),
      v_(variant),
      tile_(tiles.interior),
      edge_(tiles.edge),
      group_(tiles.edge_group),
      what_(what),
      reg_args_(rdi),
      reg_in_(r8),
      reg_w_(r9),
      reg_bias_(r10),
      reg_out_(r11),
      reg_len_(r12),
      reg_pad_(r13),
      reg_t_(rbx),
      reg_t_end_(rbp),
      reg_inp_(r14),
      reg_outp_(r15),
      reg_ai_(rsi),
      reg_aw_(rdx),
      reg_k_(rcx),
      reg_ic_(rax) {
  // The IR tiles are the plan's: the edges' groups of steps (plan-driven) and the tiles
  // (IR-driven) must compute the same thing.
  const bool direct = plan.kind == KernelKind::kDirect;
  const ir::TileLeaves& tile = tiles.interior;
  const ir::TileLeaves& edge = tiles.edge;
  CONVJIT_JIT_CHECK(!tile.taps_checked && edge.tap_group == 0);
  CONVJIT_JIT_CHECK(tile.tap_group == (direct ? 0 : plan.dw_tap_block));
  const std::int64_t classes = plan.tap_class_size > 0 ? std::min(plan.stride, plan.K) : 0;
  CONVJIT_JIT_CHECK(tile.tap_classes == classes && edge.tap_classes == classes);
  CONVJIT_JIT_CHECK(tile.weights_held == (!direct && plan.dw_weights_in_regs) &&
                    !edge.weights_held);
  CONVJIT_JIT_CHECK(edge.rows == 1 && edge.cols == variant.vecs && edge.taps_checked);
  CONVJIT_JIT_CHECK(edge.last_col_lanes == tile.last_col_lanes && edge.taps == tile.taps);
  CONVJIT_JIT_CHECK(edge.channels == tile.channels && edge.prefetches == 0);
  CONVJIT_JIT_CHECK(edge.broadcast_input == tile.broadcast_input && edge.bias == tile.bias);
  CONVJIT_JIT_CHECK(edge.activation == tile.activation && edge.nontemporal == tile.nontemporal);
  CONVJIT_JIT_CHECK(tile.rows == plan.ur_t && tile.cols == variant.vecs);
  CONVJIT_JIT_CHECK(tile.last_col_lanes == variant.last_lanes);
  CONVJIT_JIT_CHECK(tile.broadcast_input == direct);
  CONVJIT_JIT_CHECK(tile.taps == plan.K && tile.channels == (direct ? plan.ic_block : 1));
  CONVJIT_JIT_CHECK(tile.bias == plan.use_bias);
  CONVJIT_JIT_CHECK((tile.activation != Activation::kLinear) == plan.fused_activation);
  CONVJIT_JIT_CHECK(!plan.fused_activation || tile.activation == plan.activation);
  CONVJIT_JIT_CHECK(tile.nontemporal == plan.nontemporal);
  CONVJIT_JIT_CHECK(tile.prefetches == static_cast<int>(plan.prefetch_lines.size()));
  // Edge groups: tile_t rows of the edge tile's columns and epilogue, every tap checked per
  // row (the reductions emit_dw_edge_rows and emit_direct_edge_rows).
  const ir::TileLeaves& group = tiles.edge_group;
  CONVJIT_JIT_CHECK(group.rows == (plan.edge_groups ? plan.ur_t : 0));
  if (group.rows > 0) {
    CONVJIT_JIT_CHECK(group.rows_checked && group.taps_checked && group.cols == edge.cols);
    CONVJIT_JIT_CHECK(group.tap_group == 0 && group.tap_classes == 0 && !group.weights_held);
    CONVJIT_JIT_CHECK(group.last_col_lanes == edge.last_col_lanes && group.taps == edge.taps);
    CONVJIT_JIT_CHECK(group.channels == edge.channels && group.prefetches == 0);
    CONVJIT_JIT_CHECK(group.broadcast_input == edge.broadcast_input && group.bias == edge.bias);
    CONVJIT_JIT_CHECK(group.activation == edge.activation && group.nontemporal == edge.nontemporal);
  }
}

template <class Vmm>
Xbyak::Address ColumnEmitter<Vmm>::mem(const Reg64& base, std::int64_t disp) {
  if (in_interior_ &&
      (base.getIdx() == Xbyak::Operand::RSP || base.getIdx() == Xbyak::Operand::RBP)) {
    ++stats_.interior_stack_refs;
  }
  CONVJIT_JIT_CHECK(disp >= INT32_MIN && disp <= INT32_MAX);
  return c_.ptr[base + static_cast<int>(disp)];
}

template <class Vmm>
Xbyak::Address ColumnEmitter<Vmm>::mem_bcast(const Reg64& base, std::int64_t disp) {
  if (in_interior_ &&
      (base.getIdx() == Xbyak::Operand::RSP || base.getIdx() == Xbyak::Operand::RBP)) {
    ++stats_.interior_stack_refs;
  }
  CONVJIT_JIT_CHECK(disp >= INT32_MIN && disp <= INT32_MAX);
  return c_.ptr_b[base + static_cast<int>(disp)];
}

template <class Vmm>
void ColumnEmitter<Vmm>::zero(const Vmm& v) {
  if constexpr (std::is_same_v<Vmm, Xbyak::Zmm>) {
    c_.vpxord(v, v, v);
  } else {
    c_.vxorps(v, v, v);
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::fma(const Vmm& acc_reg, const Vmm& a, const Xbyak::Operand& b) {
  c_.vfmadd231ps(acc_reg, a, b);
  if (in_interior_) {
    ++stats_.interior_fmas;
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::load_avx2_mask(int mask_reg) {
  if constexpr (std::is_same_v<Vmm, Xbyak::Ymm>) {
    if (any_masked()) c_.vmovups(Xbyak::Ymm(mask_reg), c_.ptr[rip + c_.tail_mask_label()]);
  } else {
    (void)mask_reg;
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::load_vec(int dst, const Xbyak::Address& src, bool is_masked,
                                  int mask_reg) {
  if (!is_masked) {
    c_.vmovups(vreg(dst), src);
    return;
  }
  if (in_interior_) ++stats_.interior_masked_ops;
  if constexpr (std::is_same_v<Vmm, Xbyak::Zmm>) {
    (void)mask_reg;
    c_.vmovups(vreg(dst) | k1 | T_z, src);
  } else {
    c_.vmaskmovps(vreg(dst), Xbyak::Ymm(mask_reg), src);
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::store_vec(const Xbyak::Address& dst, int src, bool is_masked,
                                   int mask_reg) {
  if (!is_masked) {
    c_.vmovups(dst, vreg(src));
    return;
  }
  if (in_interior_) ++stats_.interior_masked_ops;
  if constexpr (std::is_same_v<Vmm, Xbyak::Zmm>) {
    (void)mask_reg;
    c_.vmovups(dst | k1, vreg(src));
  } else {
    c_.vmaskmovps(dst, Xbyak::Ymm(mask_reg), vreg(src));
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::close_interior_loop(int fmas_at_head) {
  if (!in_interior_) return;
  ++stats_.interior_loops;
  ++stats_.interior_cond_branches;
  if (stats_.innermost_loop_fmas < 0)
    stats_.innermost_loop_fmas = stats_.interior_fmas - fmas_at_head;
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_partial_sums(int rows, bool load) {
  // Registers above the accumulators are free before the reduction and after it.
  const int mask_reg = v_.epilogue_free[0];
  const std::int64_t row_bytes = p_.F * 4;
  load_avx2_mask(mask_reg);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < v_.vecs; ++j) {
      const Xbyak::Address at = mem(reg_outp_, i * row_bytes + j * vec_bytes());
      if (load) {
        load_vec(acc(i, j).getIdx(), at, masked(j), mask_reg);
      } else {
        store_vec(at, acc(i, j).getIdx(), masked(j), mask_reg);
      }
    }
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_block_flag_branch(int rows, std::size_t flag, bool load,
                                                const char* what,
                                                const std::function<void()>& otherwise) {
  // Input-channel blocks (KernelPlan::ic_blocks > 1): when the ColumnArgs flag at `flag` is
  // set, the accumulators come from (load) or go to the partial sums at r15; else
  // `otherwise`. One branch per tile.
  Xbyak::Label not_set, done;
  c_.cmp(c_.qword[reg_args_ + flag], 0);
  c_.je(not_set, c_.T_NEAR);
  if (in_interior_) ++stats_.interior_cond_branches;
  c_.annotate(what);
  emit_partial_sums(rows, load);
  c_.jmp(done, c_.T_NEAR);
  c_.L(not_set);
  otherwise();
  c_.L(done);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_zero(int rows) {
  auto zeros = [&] {
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < v_.vecs; ++j) zero(acc(i, j));
    }
  };
  if (p_.ic_blocks == 1) {
    zeros();
    return;
  }
  emit_block_flag_branch(rows, offsetof(ColumnArgs, accumulate), true,
                         "accumulators from the partial sums of the previous ic blocks", zeros);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_prefetch() {
  if (p_.prefetch_lines.empty()) return;
  // The plan's lines (KernelPlan::prefetch_lines), rows relative to the tile's row r14.
  c_.annotate("prefetch: input rows " + std::to_string(p_.prefetch_tiles) + " tile(s) ahead");
  const std::int64_t in_row = p_.C * 4;
  for (const KernelPlan::PrefetchLine& line : p_.prefetch_lines) {
    c_.prefetcht0(mem(reg_inp_, line.row * in_row + line.byte));
  }
  // Per tile: the first emitted copy (a streaming sweep emits its tile body twice).
  if (in_interior_ && stats_.interior_prefetches == 0) {
    stats_.interior_prefetches = static_cast<int>(p_.prefetch_lines.size());
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_activation(int value, const std::vector<int>& temps) {
  if (!p_.fused_activation) return;
  ActivationEmitter* act = c_.activation();
  CONVJIT_JIT_CHECK(act != nullptr);
  act->emit(value, temps);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_bias(int rows, int mask_reg, int tmp_reg) {
  if (!p_.use_bias) return;
  for (int j = 0; j < v_.vecs; ++j) {
    load_vec(tmp_reg, mem(reg_bias_, j * vec_bytes()), masked(j), mask_reg);
    for (int i = 0; i < rows; ++i) c_.vaddps(acc(i, j), acc(i, j), vreg(tmp_reg));
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_output(int rows) {
  if (p_.ic_blocks == 1) {
    emit_final_output(rows);
    return;
  }
  // Every input-channel block but the last stores its raw sums (ColumnArgs::partial).
  emit_block_flag_branch(rows, offsetof(ColumnArgs, partial), false,
                         "partial sums of this ic block (no bias, no activation)",
                         [&] { emit_final_output(rows); });
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_final_output(int rows) {
  const std::vector<int>& free = v_.epilogue_free;
  CONVJIT_JIT_CHECK(free.size() >= 2);
  const int mask_reg = free[0];
  const int tmp_reg = free[1];
  const std::int64_t row_bytes = p_.F * 4;
  c_.annotate(std::string("epilogue: ") + (p_.use_bias ? "bias + " : "") +
              activation_name(p_.activation) +
              (v_.epilogue_in_registers ? "" : " (store, reload, activate)"));
  load_avx2_mask(mask_reg);
  emit_bias(rows, mask_reg, tmp_reg);
  if (v_.epilogue_in_registers) {
    std::vector<int> temps(free.begin() + 2, free.end());
    temps.resize(std::min<std::size_t>(temps.size(), static_cast<std::size_t>(p_.act_temps)));
    if (in_interior_ && p_.nontemporal && (p_.F * 4) % vec_bytes() == 0) {
      emit_nontemporal_output(rows, temps, mask_reg);
      return;
    }
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < v_.vecs; ++j) {
        const int a = acc(i, j).getIdx();
        emit_activation(a, temps);
        store_vec(mem(reg_outp_, i * row_bytes + j * vec_bytes()), a, masked(j), mask_reg);
      }
    }
    return;
  }
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < v_.vecs; ++j) {
      store_vec(mem(reg_outp_, i * row_bytes + j * vec_bytes()), acc(i, j).getIdx(), masked(j),
                mask_reg);
    }
  }
  // Reload pass: every register but the depthwise weights is free now.
  std::vector<int> regs;
  const int keep_begin = tile_.weights_held ? p_.ur_t * p_.ur_oc : p_.vregs;
  const int keep_end = keep_begin + static_cast<int>(p_.K) * p_.ur_oc;
  for (int r = 0; r < p_.vregs; ++r) {
    if (r < keep_begin || r >= keep_end) regs.push_back(r);
  }
  CONVJIT_JIT_CHECK(static_cast<int>(regs.size()) >= p_.act_temps + 2);
  const int value = regs[0];
  const int mask2 = regs[1];
  const std::vector<int> temps(regs.begin() + 2, regs.begin() + 2 + p_.act_temps);
  load_avx2_mask(mask2);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < v_.vecs; ++j) {
      const Xbyak::Address at = mem(reg_outp_, i * row_bytes + j * vec_bytes());
      load_vec(value, at, masked(j), mask2);
      emit_activation(value, temps);
      store_vec(at, value, masked(j), mask2);
    }
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_nontemporal_output(int rows, const std::vector<int>& temps,
                                                 int mask_reg) {
  // Streaming stores need aligned vectors (rows are F*4 bytes apart, a multiple of a line,
  // and blocks start on whole vectors, so the column's base decides) and buffers whose
  // addresses do not make later input loads wait for them: the driver decides per call
  // (ColumnArgs::streaming), one branch per tile. Both paths store the same values.
  const std::int64_t row_bytes = p_.F * 4;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < v_.vecs; ++j) emit_activation(acc(i, j).getIdx(), temps);
  }
  Xbyak::Label unaligned, done;
  c_.cmp(c_.qword[reg_args_ + offsetof(ColumnArgs, streaming)], 0);
  c_.je(unaligned, c_.T_NEAR);
  ++stats_.interior_cond_branches;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < v_.vecs; ++j) {
      const Xbyak::Address at = mem(reg_outp_, i * row_bytes + j * vec_bytes());
      if (masked(j)) {
        store_vec(at, acc(i, j).getIdx(), true, mask_reg);
      } else {
        c_.vmovntps(at, acc(i, j));
      }
    }
  }
  c_.jmp(done, c_.T_NEAR);
  c_.L(unaligned);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < v_.vecs; ++j) {
      store_vec(mem(reg_outp_, i * row_bytes + j * vec_bytes()), acc(i, j).getIdx(), masked(j),
                mask_reg);
    }
  }
  c_.L(done);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_block_advance(const Reg64& in, const Reg64& out, BlockMove move) {
  // Moves the block pointers (input: depthwise only; direct blocks share their input
  // channels) by one block on or back, or by ColumnArgs::blocks blocks back, or on to the
  // last of them (the last two clobber rax).
  const bool move_input = p_.kind == KernelKind::kDepthwise;
  const int block_bytes = static_cast<int>(p_.block_width * 4);
  const int weight_bytes = static_cast<int>(p_.block_weight_floats * 4);
  if (move == BlockMove::kNext || move == BlockMove::kPrevious) {
    const int sign = move == BlockMove::kNext ? 1 : -1;
    if (move_input) c_.add(in, sign * block_bytes);
    c_.add(out, sign * block_bytes);
    c_.add(reg_bias_, sign * block_bytes);
    c_.add(reg_w_, sign * weight_bytes);
    return;
  }
  const bool back = move == BlockMove::kBackToFirst;
  auto blocks_times = [&](int bytes) {
    c_.mov(rax, c_.ptr[reg_args_ + offsetof(ColumnArgs, blocks)]);
    if (!back) c_.dec(rax);  // to the last block: blocks - 1 on
    c_.imul(rax, rax, bytes);
  };
  auto apply = [&](const Reg64& reg) {
    if (back) {
      c_.sub(reg, rax);
    } else {
      c_.add(reg, rax);
    }
  };
  blocks_times(weight_bytes);
  apply(reg_w_);
  blocks_times(block_bytes);
  if (move_input) apply(in);
  apply(out);
  apply(reg_bias_);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_prologue() {
  c_.push(rbx);
  c_.push(rbp);
  c_.push(r12);
  c_.push(r13);
  c_.push(r14);
  c_.push(r15);
  c_.mov(reg_in_, c_.ptr[reg_args_ + offsetof(ColumnArgs, in)]);
  c_.mov(reg_w_, c_.ptr[reg_args_ + offsetof(ColumnArgs, w)]);
  c_.mov(reg_bias_, c_.ptr[reg_args_ + offsetof(ColumnArgs, bias)]);
  c_.mov(reg_out_, c_.ptr[reg_args_ + offsetof(ColumnArgs, out)]);
  c_.mov(reg_len_, c_.ptr[reg_args_ + offsetof(ColumnArgs, length)]);
  c_.mov(reg_pad_, c_.ptr[reg_args_ + offsetof(ColumnArgs, pad_left)]);
  if constexpr (std::is_same_v<Vmm, Xbyak::Zmm>) {
    if (any_masked()) {
      c_.mov(eax, (1u << v_.last_lanes) - 1);
      c_.kmovw(k1, eax);
    }
  }
  if (p_.kind == KernelKind::kDepthwise) emit_dw_load_weights();
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_epilogue_and_ret() {
  if (p_.nontemporal) c_.sfence();  // streaming stores are visible before the call returns
  c_.vzeroupper();
  c_.pop(r15);
  c_.pop(r14);
  c_.pop(r13);
  c_.pop(r12);
  c_.pop(rbp);
  c_.pop(rbx);
  c_.ret();
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_tile_loop() {
  const std::int64_t in_row = p_.C * 4;
  const std::int64_t out_row = p_.F * 4;
  Xbyak::Label loop, done;
  c_.mov(reg_t_, c_.ptr[reg_args_ + offsetof(ColumnArgs, t_int_begin)]);
  c_.mov(reg_t_end_, c_.ptr[reg_args_ + offsetof(ColumnArgs, t_int_end)]);
  // r14 = in + (t*s - pad) * C * 4, r15 = out + t * F * 4
  c_.imul(reg_inp_, reg_t_, static_cast<int>(p_.stride));
  c_.sub(reg_inp_, reg_pad_);
  c_.imul(reg_inp_, reg_inp_, static_cast<int>(in_row));
  c_.add(reg_inp_, reg_in_);
  c_.imul(reg_outp_, reg_t_, static_cast<int>(out_row));
  c_.add(reg_outp_, reg_out_);
  c_.cmp(reg_t_, reg_t_end_);
  c_.jge(done, c_.T_NEAR);
  c_.align(16);
  c_.annotate("loop t (interior: whole tiles of " + std::to_string(p_.ur_t) +
              " steps, no bounds checks)");
  c_.L(loop);
  EmitStats& st = stats_;
  in_interior_ = true;
  st.interior_fmas = 0;
  st.innermost_loop_fmas = -1;
  st.interior_cond_branches = 1;  // the guard above
  st.interior_loops = 1;
  st.interior_stack_refs = 0;
  st.interior_masked_ops = 0;
  c_.annotate("micro-kernel " + std::to_string(p_.ur_t) + "x" + std::to_string(v_.vecs) +
              (p_.kind == KernelKind::kDirect
                   ? (p_.tap_class_size > 0 ? " (tap classes: each input row broadcast once)"
                                            : " (k, ic reduction, broadcast inputs)")
                   : " (depthwise, k reduction)"));
  // Sweep: r12 (the length, used by the edges only) counts the blocks; reloaded below.
  const bool direct = p_.kind == KernelKind::kDirect;
  if (!p_.sweep) {
    emit_interior_tile();
  } else {
    Xbyak::Label sweep, descending, next_tile;
    if (direct) emit_prefetch();  // direct blocks share the tile's input rows
    if (p_.nontemporal) {
      c_.cmp(c_.qword[reg_args_ + offsetof(ColumnArgs, descending)], 0);
      c_.jne(descending, c_.T_NEAR);
      ++st.interior_cond_branches;
    }
    c_.annotate(direct ? "loop channel blocks (sweep: output rows in address order)"
                       : "loop channel blocks (depthwise sweep: rows in address order)");
    c_.mov(reg_len_, c_.ptr[reg_args_ + offsetof(ColumnArgs, blocks)]);
    c_.L(sweep);
    emit_interior_tile();
    emit_block_advance(reg_inp_, reg_outp_, BlockMove::kNext);
    c_.dec(reg_len_);
    c_.jnz(sweep, c_.T_NEAR);
    ++st.interior_loops;
    ++st.interior_cond_branches;
    emit_block_advance(reg_inp_, reg_outp_, BlockMove::kBackToFirst);
    if (p_.nontemporal) {
      // The same sweep from the last block down (ColumnArgs::descending): the driver picks it
      // when the ascending order would make input loads wait for streamed stores. Counted
      // once in the stats: it is the same tile.
      c_.jmp(next_tile, c_.T_NEAR);
      const EmitStats counted = st;
      c_.annotate("loop channel blocks, descending (streaming stores behind the loads)");
      c_.L(descending);
      emit_block_advance(reg_inp_, reg_outp_, BlockMove::kToLast);
      c_.mov(reg_len_, c_.ptr[reg_args_ + offsetof(ColumnArgs, blocks)]);
      Xbyak::Label down;
      c_.L(down);
      emit_interior_tile();
      emit_block_advance(reg_inp_, reg_outp_, BlockMove::kPrevious);
      c_.dec(reg_len_);
      c_.jnz(down, c_.T_NEAR);
      emit_block_advance(reg_inp_, reg_outp_, BlockMove::kNext);  // from block -1 to block 0
      st = counted;
      c_.L(next_tile);
    }
  }
  c_.add(reg_inp_, static_cast<int>(p_.ur_t * p_.stride * in_row));
  c_.add(reg_outp_, static_cast<int>(p_.ur_t * out_row));
  c_.add(reg_t_, p_.ur_t);
  c_.cmp(reg_t_, reg_t_end_);
  c_.jl(loop, c_.T_NEAR);
  ++st.interior_cond_branches;
  in_interior_ = false;
  c_.L(done);
  if (p_.sweep) c_.mov(reg_len_, c_.ptr[reg_args_ + offsetof(ColumnArgs, length)]);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_edge_step() {
  for (const ir::TileLeafKind leaf : edge_.order) {
    switch (leaf) {
      case ir::TileLeafKind::kZero:
      case ir::TileLeafKind::kLoadPartialSums: emit_zero(edge_.rows); break;
      case ir::TileLeafKind::kPrefetch: break;  // edge tiles have none (checked above)
      case ir::TileLeafKind::kReduction:
        // Taps in range: checked against [0, L) at run time, one step.
        if (p_.kind == KernelKind::kDirect) {
          emit_direct_edge_taps();
        } else {
          emit_dw_edge_taps();
        }
        break;
      case ir::TileLeafKind::kEpilogue: emit_output(edge_.rows); break;
    }
  }
  stats_.edge_walk = ir::tile_leaf_order(edge_.order);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_interior_tile() {
  const bool direct = p_.kind == KernelKind::kDirect;
  for (const ir::TileLeafKind leaf : tile_.order) {
    switch (leaf) {
      case ir::TileLeafKind::kZero:
      case ir::TileLeafKind::kLoadPartialSums:
        // Zero, or (ic blocks after the first, ColumnArgs::accumulate) the partial sums.
        emit_zero(tile_.rows);
        break;
      case ir::TileLeafKind::kPrefetch:
        // A direct sweep's blocks share the tile's input rows: prefetched before the sweep.
        if (!(p_.sweep && direct)) emit_prefetch();
        break;
      case ir::TileLeafKind::kReduction:
        if (direct) {
          emit_direct_reduction(tile_.rows);
        } else {
          emit_dw_reduction(tile_.rows);
        }
        if (stats_.innermost_loop_fmas < 0) stats_.innermost_loop_fmas = stats_.interior_fmas;
        break;
      case ir::TileLeafKind::kEpilogue:
        // Bias, activation and stores; raw partial sums for ic blocks before the last
        // (ColumnArgs::partial).
        emit_output(tile_.rows);
        break;
    }
  }
  stats_.tile_walk = ir::tile_leaf_order(tile_.order);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_edge_group(Xbyak::Label& singles) {
  const bool direct = p_.kind == KernelKind::kDirect;
  const std::int64_t out_row = p_.F * 4;
  // Direct: the left-edge groups' cap (a group touching both edges ends them).
  if (direct) emit_direct_group_check(singles);
  for (const ir::TileLeafKind leaf : group_.order) {
    switch (leaf) {
      case ir::TileLeafKind::kZero:
      case ir::TileLeafKind::kLoadPartialSums: emit_zero(group_.rows); break;
      case ir::TileLeafKind::kPrefetch: break;  // edge groups have none (checked above)
      case ir::TileLeafKind::kReduction:
        if (direct) {
          emit_direct_edge_rows();
          c_.imul(reg_outp_, reg_t_, static_cast<int>(out_row));  // r15 was a temporary
          c_.add(reg_outp_, reg_out_);
        } else {
          emit_dw_edge_rows(group_.rows);
        }
        break;
      case ir::TileLeafKind::kEpilogue: emit_output(group_.rows); break;
    }
  }
  stats_.edge_group_walk = ir::tile_leaf_order(group_.order);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_edge_subroutine(Xbyak::Label& edge) {
  const std::int64_t out_row = p_.F * 4;
  Xbyak::Label loop, done;
  c_.align(16);
  c_.annotate("edge: one output step at a time, taps checked against [0, L)");
  c_.L(edge);
  if (group_.rows > 0) {
    // The IR's edge groups (KernelPlan::edge_groups): whole groups of ur_t steps first
    // (independent accumulator chains), then single steps.
    Xbyak::Label group, singles;
    c_.annotate("edge: groups of " + std::to_string(p_.ur_t) + " steps, taps checked per step");
    c_.L(group);
    c_.lea(reg_ai_, c_.ptr[reg_t_ + p_.ur_t]);
    c_.cmp(reg_ai_, reg_t_end_);
    c_.jg(singles, c_.T_NEAR);
    c_.imul(reg_inp_, reg_t_, static_cast<int>(p_.stride));
    c_.sub(reg_inp_, reg_pad_);
    c_.imul(reg_outp_, reg_t_, static_cast<int>(out_row));
    c_.add(reg_outp_, reg_out_);
    emit_edge_group(singles);
    c_.add(reg_t_, p_.ur_t);
    c_.jmp(group, c_.T_NEAR);
    c_.L(singles);
  }
  c_.L(loop);
  c_.cmp(reg_t_, reg_t_end_);
  c_.jge(done, c_.T_NEAR);
  c_.imul(reg_inp_, reg_t_, static_cast<int>(p_.stride));
  c_.sub(reg_inp_, reg_pad_);  // r14 = input position of tap 0 (may be < 0 or >= L)
  c_.imul(reg_outp_, reg_t_, static_cast<int>(out_row));
  c_.add(reg_outp_, reg_out_);
  emit_edge_step();
  c_.inc(reg_t_);
  c_.jmp(loop, c_.T_NEAR);
  c_.L(done);
  c_.ret();
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_edge_call(Xbyak::Label& edge, std::size_t begin, std::size_t end) {
  if (!p_.sweep) {
    c_.mov(reg_t_, c_.ptr[reg_args_ + begin]);
    c_.mov(reg_t_end_, c_.ptr[reg_args_ + end]);
    c_.call(edge);
    return;
  }
  // Sweep: the edge steps of every block (skipped when the phase is empty). The block count
  // lives on the stack: the edge uses every general register (rax: the direct ic loop).
  Xbyak::Label loop, skip;
  c_.mov(reg_t_, c_.ptr[reg_args_ + begin]);
  c_.cmp(reg_t_, c_.ptr[reg_args_ + end]);
  c_.jge(skip, c_.T_NEAR);
  c_.push(c_.qword[reg_args_ + offsetof(ColumnArgs, blocks)]);
  c_.L(loop);
  c_.mov(reg_t_, c_.ptr[reg_args_ + begin]);
  c_.mov(reg_t_end_, c_.ptr[reg_args_ + end]);
  c_.call(edge);
  emit_block_advance(reg_in_, reg_out_, BlockMove::kNext);
  c_.dec(c_.qword[rsp]);
  c_.jnz(loop, c_.T_NEAR);
  c_.add(rsp, 8);
  emit_block_advance(reg_in_, reg_out_, BlockMove::kBackToFirst);
  c_.L(skip);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit() {
  Xbyak::Label edge;
  c_.annotate(std::string("column function: ") + what_ + ", " + std::to_string(v_.vecs) +
              " vector(s), last " + std::to_string(v_.last_lanes) + " lane(s)");
  emit_prologue();
  c_.annotate("loop t (left edge)");
  emit_edge_call(edge, offsetof(ColumnArgs, t_begin), offsetof(ColumnArgs, t_int_begin));
  emit_tile_loop();
  c_.annotate("loop t (right edge)");
  emit_edge_call(edge, offsetof(ColumnArgs, t_int_end), offsetof(ColumnArgs, t_end));
  emit_epilogue_and_ret();
  emit_edge_subroutine(edge);
  stats_.column_functions = 1;
}

template class ColumnEmitter<Xbyak::Zmm>;
template class ColumnEmitter<Xbyak::Ymm>;

}  // namespace convjit::detail
