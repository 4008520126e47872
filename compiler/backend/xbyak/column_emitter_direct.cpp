// The direct micro-kernel: output channels vectorized, one input value broadcast per
// (time step, input channel), weights packed [g][oc_blk][k][ic][W].
//
//   for k:                          (runtime loop, or straight when unroll_k)
//     for ic in steps of unroll_ic: (runtime loop; remainder straight)
//       w[j]   = packed[k][ic][j*V .. j*V+V)            j < vecs
//       acc[i][j] += broadcast(in[(t+i)*s + k*d - pad][ic]) * w[j]
// Each input is broadcast once per tile row into a register (vbroadcastss) that feeds the
// row's FMAs: 1 load per row plus 1 per weight vector. AVX-512 folds the broadcast into the
// FMA (vfmadd231ps zmm, zmm, dword ptr [..]{1to16}) only when KernelPlan::bcast_reg < 0:
// the plan always keeps a register for the broadcast, so only `convjit bench --micro`
// emits that form, to measure it.
//
// One input channel with stride > 1 (first layers, KernelPlan::tap_class_size): taps in
// classes k mod s, the class's weights in registers, and each input row broadcast once for
// every tile row that reads it (K=10, s=5: 0.3 broadcasts per FMA instead of 0.5).
#include <algorithm>
#include <type_traits>
#include <vector>

#include "compiler/backend/xbyak/column_emitter.hpp"

namespace convjit::detail {

using namespace Xbyak::util;  // NOLINT: register names read like assembly

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_ic_body(int row_begin, int row_end, int count) {
  const std::int64_t w_stride = p_.block_width * 4;
  const std::int64_t row_bytes = p_.stride * p_.C * 4;
  for (int u = 0; u < count; ++u) {
    for (int j = 0; j < v_.vecs; ++j) {
      c_.vmovups(vreg(p_.wreg_base + j), mem(reg_aw_, u * w_stride + j * vec_bytes()));
    }
    for (int i = row_begin; i < row_end; ++i) {
      const std::int64_t disp = i * row_bytes + u * 4;
      if (p_.bcast_reg < 0) {  // AVX-512 with every register taken: embedded broadcasts
        for (int j = 0; j < v_.vecs; ++j) {
          fma(acc(i, j), vreg(p_.wreg_base + j), mem_bcast(reg_ai_, disp));
        }
      } else {
        c_.vbroadcastss(vreg(p_.bcast_reg), mem(reg_ai_, disp));
        for (int j = 0; j < v_.vecs; ++j) {
          fma(acc(i, j), vreg(p_.wreg_base + j), vreg(p_.bcast_reg));
        }
      }
    }
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_ic_reduction(int row_begin, int row_end, int unroll_ic) {
  const int unroll = unroll_ic > 0 ? unroll_ic : p_.unroll_ic;
  const std::int64_t iters = p_.ic_block / unroll;
  const int rem = static_cast<int>(p_.ic_block % unroll);
  const std::int64_t w_stride = p_.block_width * 4;
  if (iters >= 2) {
    Xbyak::Label loop;
    c_.mov(reg_ic_, iters);
    if (in_interior_) c_.annotate("loop ic (x" + std::to_string(unroll) + ")");
    c_.L(loop);
    const int head = stats_.interior_fmas;
    emit_direct_ic_body(row_begin, row_end, unroll);
    c_.add(reg_ai_, unroll * 4);
    c_.add(reg_aw_, static_cast<int>(unroll * w_stride));
    c_.dec(reg_ic_);
    c_.jnz(loop, c_.T_NEAR);
    close_interior_loop(head);
  } else if (iters == 1) {
    emit_direct_ic_body(row_begin, row_end, unroll);
    c_.add(reg_ai_, unroll * 4);
    c_.add(reg_aw_, static_cast<int>(unroll * w_stride));
  }
  if (rem > 0) {
    emit_direct_ic_body(row_begin, row_end, rem);
    c_.add(reg_ai_, rem * 4);
    c_.add(reg_aw_, static_cast<int>(rem * w_stride));
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_tap_classes(int rows) {
  // Class c holds taps c, c+s, c+2s, ...; tap j of the class reads input row (i+j)*s + c for
  // tile row i, so the broadcast of row q*s + c feeds rows i = q - j of every tap j. For a
  // fixed row the taps arrive in ascending j: each element sums its taps in tap_order.
  const std::int64_t in_row = p_.C * 4;
  const std::int64_t w_tap = p_.block_width * 4;  // one input channel: weights [k][W]
  const Vmm bcast = vreg(p_.bcast_reg);
  auto wreg = [&](int j, int v) { return vreg(p_.wreg_base + j * p_.ur_oc + v); };
  for (std::int64_t c = 0; c < std::min(p_.stride, p_.K); ++c) {
    const int taps = static_cast<int>((p_.K - c + p_.stride - 1) / p_.stride);
    for (int j = 0; j < taps; ++j) {
      for (int v = 0; v < v_.vecs; ++v) {
        c_.vmovups(wreg(j, v), mem(reg_w_, (c + j * p_.stride) * w_tap + v * vec_bytes()));
      }
    }
    for (int q = 0; q < rows + taps - 1; ++q) {
      c_.vbroadcastss(bcast, mem(reg_inp_, (q * p_.stride + c) * in_row));
      for (int j = 0; j < taps; ++j) {
        const int i = q - j;
        if (i < 0 || i >= rows) continue;
        for (int v = 0; v < v_.vecs; ++v) fma(acc(i, v), wreg(j, v), bcast);
      }
    }
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_edge_tap_order() {
  // One step at r14 (input position of tap 0, possibly outside [0, L)); straight taps in
  // tap_order, each checked. rax is free: one input channel has no ic loop.
  const std::int64_t w_tap = p_.block_width * 4;
  const Vmm bcast = vreg(p_.bcast_reg);
  for (const std::int64_t k : p_.tap_order) {
    Xbyak::Label skip;
    c_.lea(rax, c_.ptr[reg_inp_ + static_cast<int>(k * p_.dilation)]);
    c_.cmp(rax, reg_len_);
    c_.jae(skip, c_.T_NEAR);  // unsigned: position < 0 or >= L is padding
    c_.imul(reg_ai_, rax, static_cast<int>(p_.C * 4));
    c_.add(reg_ai_, reg_in_);
    c_.vbroadcastss(bcast, mem(reg_ai_, 0));
    for (int v = 0; v < v_.vecs; ++v) {
      c_.vmovups(vreg(p_.wreg_base + v), mem(reg_w_, k * w_tap + v * vec_bytes()));
      fma(acc(0, v), vreg(p_.wreg_base + v), bcast);
    }
    c_.L(skip);
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_reduction(int rows) {
  if (tile_.tap_classes > 0) {  // the IR tile's reduction is in tap classes
    emit_direct_tap_classes(rows);
    return;
  }
  // After one tap's ic reduction rsi has moved ic_block floats; the next tap is d rows on.
  const std::int64_t tap_step = (p_.dilation * p_.C - p_.ic_block) * 4;
  c_.mov(reg_ai_, reg_inp_);
  c_.mov(reg_aw_, reg_w_);
  if (p_.unroll_k) {
    for (std::int64_t k = 0; k < p_.K; ++k) {
      emit_direct_ic_reduction(0, rows);
      if (k + 1 < p_.K && tap_step != 0) c_.add(reg_ai_, static_cast<int>(tap_step));
    }
    return;
  }
  Xbyak::Label loop;
  c_.mov(reg_k_, p_.K);
  c_.annotate("loop k");
  c_.L(loop);
  const int head = stats_.interior_fmas;
  emit_direct_ic_reduction(0, rows);
  if (tap_step != 0) c_.add(reg_ai_, static_cast<int>(tap_step));
  c_.dec(reg_k_);
  c_.jnz(loop, c_.T_NEAR);
  close_interior_loop(head);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_group_check(Xbyak::Label& singles) {
  // A group that touches both edges ends the groups (the IR's cap on "left edge groups"):
  // row 0's tap 0 before the input and the last row's last tap past its end.
  const std::int64_t last_tap = (p_.ur_t - 1) * p_.stride + (p_.K - 1) * p_.dilation;
  Xbyak::Label both_ok;
  c_.test(reg_inp_, reg_inp_);
  c_.jns(both_ok, c_.T_NEAR);
  c_.lea(r15, c_.ptr[reg_inp_ + static_cast<int>(last_tap)]);
  c_.cmp(r15, reg_len_);
  c_.jge(singles, c_.T_NEAR);  // both edges in one group: one step at a time
  c_.L(both_ok);
  if (p_.ic_blocks > 1) {  // r15 was a temporary above; emit_zero reads the partial sums
    c_.imul(reg_outp_, reg_t_, static_cast<int>(p_.F * 4));
    c_.add(reg_outp_, reg_out_);
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_edge_rows() {
  // ur_t steps at r14 (input position of tap 0, row 0). A single step is one chain of
  // K*icg dependent FMAs per vector (latency bound); a group keeps ur_t independent chains.
  // Positions grow with the row, so the rows a tap reads inside [0, L) are a range: a
  // suffix [i0, ur_t) at the left edge, a prefix [0, i1) at the right edge (a group that
  // touches both edges takes the single steps). The range is found at run time and a
  // compare chain jumps to the ic reduction emitted for it (ic not unrolled: edge code is
  // cold, and its size is compile time). Each element sums its valid taps in ascending
  // order with ic ascending, as the interior and the single steps do: identical bits.
  const int rows = p_.ur_t;
  const std::int64_t tap_weights = p_.ic_block * p_.block_width * 4;
  const int stride = static_cast<int>(p_.stride);
  Xbyak::Label tap_loop, left, right, done;
  c_.mov(reg_aw_, reg_w_);
  c_.mov(reg_k_, p_.K);
  c_.L(tap_loop);
  c_.imul(reg_ai_, reg_inp_, static_cast<int>(p_.C * 4));
  c_.add(reg_ai_, reg_in_);  // row 0's input (rows outside the range are not read)
  c_.xor_(eax, eax);
  c_.test(reg_inp_, reg_inp_);
  c_.jns(right, c_.T_NEAR);
  // Left edge: rax = i0, the rows whose position is < 0.
  Xbyak::Label find_i0;
  c_.L(find_i0);
  c_.inc(rax);
  c_.cmp(rax, rows);
  c_.je(left, c_.T_NEAR);
  c_.imul(r15, rax, stride);
  c_.add(r15, reg_inp_);
  c_.js(find_i0, c_.T_NEAR);
  c_.jmp(left, c_.T_NEAR);
  // Right edge (or none): rax = i1, the rows whose position is < L.
  c_.L(right);
  Xbyak::Label find_i1, have_i1;
  c_.L(find_i1);
  c_.cmp(rax, rows);
  c_.je(have_i1, c_.T_NEAR);
  c_.imul(r15, rax, stride);
  c_.add(r15, reg_inp_);
  c_.cmp(r15, reg_len_);
  c_.jge(have_i1, c_.T_NEAR);
  c_.inc(rax);
  c_.jmp(find_i1, c_.T_NEAR);
  c_.L(have_i1);
  std::vector<Xbyak::Label> prefix(rows + 1), suffix(rows + 1);
  for (int i1 = 0; i1 <= rows; ++i1) {
    c_.cmp(rax, i1);
    c_.je(prefix[i1], c_.T_NEAR);
  }
  c_.L(left);
  for (int i0 = 1; i0 <= rows; ++i0) {
    c_.cmp(rax, i0);
    c_.je(suffix[i0], c_.T_NEAR);
  }
  auto reduction = [&](Xbyak::Label& label, int begin, int end) {
    c_.L(label);
    if (end > begin) {
      emit_direct_ic_reduction(begin, end, 1);  // moves rdx on by one tap
    } else {
      c_.add(reg_aw_, static_cast<int>(tap_weights));
    }
    c_.jmp(done, c_.T_NEAR);
  };
  for (int i1 = 0; i1 <= rows; ++i1) reduction(prefix[i1], 0, i1);
  for (int i0 = 1; i0 <= rows; ++i0) reduction(suffix[i0], i0, rows);
  c_.L(done);
  c_.add(reg_inp_, static_cast<int>(p_.dilation));
  c_.dec(reg_k_);
  c_.jnz(tap_loop, c_.T_NEAR);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_direct_edge_taps() {
  if (edge_.tap_classes > 0) {  // the IR edge tile sums its taps class by class
    emit_direct_edge_tap_order();
    return;
  }
  const std::int64_t tap_weights = p_.ic_block * p_.block_width * 4;
  Xbyak::Label loop, skip, next;
  c_.mov(reg_aw_, reg_w_);
  c_.mov(reg_k_, p_.K);
  c_.L(loop);
  c_.cmp(reg_inp_, reg_len_);
  c_.jae(skip, c_.T_NEAR);  // unsigned: position < 0 or >= L is padding
  c_.imul(reg_ai_, reg_inp_, static_cast<int>(p_.C * 4));
  c_.add(reg_ai_, reg_in_);
  emit_direct_ic_reduction(0, 1);
  c_.jmp(next, c_.T_NEAR);
  c_.L(skip);
  c_.add(reg_aw_, static_cast<int>(tap_weights));
  c_.L(next);
  c_.add(reg_inp_, static_cast<int>(p_.dilation));
  c_.dec(reg_k_);
  c_.jnz(loop, c_.T_NEAR);
}

template void ColumnEmitter<Xbyak::Zmm>::emit_direct_ic_body(int, int, int);
template void ColumnEmitter<Xbyak::Zmm>::emit_direct_ic_reduction(int, int, int);
template void ColumnEmitter<Xbyak::Zmm>::emit_direct_group_check(Xbyak::Label&);
template void ColumnEmitter<Xbyak::Zmm>::emit_direct_edge_rows();
template void ColumnEmitter<Xbyak::Zmm>::emit_direct_reduction(int);
template void ColumnEmitter<Xbyak::Zmm>::emit_direct_edge_taps();
template void ColumnEmitter<Xbyak::Zmm>::emit_direct_tap_classes(int);
template void ColumnEmitter<Xbyak::Zmm>::emit_direct_edge_tap_order();
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_ic_body(int, int, int);
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_ic_reduction(int, int, int);
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_group_check(Xbyak::Label&);
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_edge_rows();
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_reduction(int);
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_edge_taps();
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_tap_classes(int);
template void ColumnEmitter<Xbyak::Ymm>::emit_direct_edge_tap_order();

}  // namespace convjit::detail
