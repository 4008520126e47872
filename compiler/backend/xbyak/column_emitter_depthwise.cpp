// The depthwise micro-kernel (groups == C == F): channels vectorized, so every input
// vector is loaded once per tap and multiplied by that tap's weight vector. When they
// fit, the K x vecs weight vectors stay in registers for the whole column (across
// time); otherwise each tap loads its weight vector. The last vector of a narrow block
// is masked (AVX-512: merge-masked FMA with fault suppression; AVX2: vmaskmovps).
#include <algorithm>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "compiler/backend/xbyak/column_emitter.hpp"

namespace convjit::detail {

using namespace Xbyak::util;  // NOLINT: register names read like assembly

template <class Vmm>
void ColumnEmitter<Vmm>::emit_dw_load_weights() {
  if (!tile_.weights_held) return;  // the IR tile reads held weights
  c_.annotate("depthwise: weights into registers for the whole column");
  for (std::int64_t k = 0; k < p_.K; ++k) {
    for (int j = 0; j < v_.vecs; ++j) {
      c_.vmovups(vreg(p_.wreg_base + static_cast<int>(k) * p_.ur_oc + j),
                 mem(reg_w_, k * p_.block_width * 4 + j * vec_bytes()));
    }
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_dw_tap(int rows, int k_static, std::int64_t in_disp) {
  const std::int64_t row_bytes = p_.stride * p_.C * 4;
  for (int j = 0; j < v_.vecs; ++j) {
    Vmm w = vreg(p_.dw_w_tmp);
    if (k_static >= 0 && tile_.weights_held) {
      w = vreg(p_.wreg_base + k_static * p_.ur_oc + j);
    } else {
      // k loop: rdx points at the tap's weights; straight taps: at the block's.
      const std::int64_t tap = k_static >= 0 ? k_static * p_.block_width * 4 : 0;
      c_.vmovups(w, mem(reg_aw_, tap + j * vec_bytes()));
    }
    for (int i = 0; i < rows; ++i) {
      const Xbyak::Address x = mem(reg_ai_, in_disp + i * row_bytes + j * vec_bytes());
      if (!masked(j)) {
        fma(acc(i, j), w, x);
        continue;
      }
      if (in_interior_) ++stats_.interior_masked_ops;
      if constexpr (std::is_same_v<Vmm, Xbyak::Zmm>) {
        fma(acc(i, j) | k1, w, x);
      } else {
        c_.vmaskmovps(vreg(p_.dw_in_tmp), Xbyak::Ymm(p_.dw_mask_tmp), x);
        fma(acc(i, j), w, vreg(p_.dw_in_tmp));
      }
    }
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_dw_tap_groups(int rows) {
  // Taps in groups of dw_tap_block with their weights in registers; within a group each
  // input vector (row i + k*d of the tile) is loaded once and feeds every accumulator whose
  // tap needs it. Each accumulator still sees taps 0..K-1 in order (rows ascend with k),
  // the same sequence as the edge path.
  // Held weights: one group of all K taps, the weights already in their registers.
  const std::int64_t in_row = p_.C * 4;
  const int tb = tile_.tap_group;
  const bool held = tile_.weights_held;
  for (std::int64_t kb = 0; kb < p_.K; kb += tb) {
    const int n = static_cast<int>(std::min<std::int64_t>(tb, p_.K - kb));
    const int w0 = held ? p_.wreg_base + static_cast<int>(kb) * p_.ur_oc : p_.dw_w_tmp;
    c_.annotate("taps " + std::to_string(kb) + ".." + std::to_string(kb + n - 1) +
                (held ? ": weights held" : ": weights in registers") +
                ", each input row loaded once");
    for (int kk = 0; kk < n && !held; ++kk) {
      for (int j = 0; j < v_.vecs; ++j) {
        c_.vmovups(vreg(p_.dw_w_tmp + kk * p_.ur_oc + j),
                   mem(reg_w_, (kb + kk) * p_.block_width * 4 + j * vec_bytes()));
      }
    }
    std::map<std::int64_t, std::vector<std::pair<int, int>>> by_row;  // row -> (i, kk)
    for (int i = 0; i < rows; ++i) {
      for (int kk = 0; kk < n; ++kk) by_row[i + (kb + kk) * p_.dilation].emplace_back(i, kk);
    }
    for (const auto& [row, uses] : by_row) {
      for (int j = 0; j < v_.vecs; ++j) {
        load_vec(p_.dw_in_tmp, mem(reg_ai_, row * in_row + j * vec_bytes()), masked(j),
                 p_.dw_mask_tmp);
        for (const auto& [i, kk] : uses) {
          fma(acc(i, j), vreg(w0 + kk * p_.ur_oc + j), vreg(p_.dw_in_tmp));
        }
      }
    }
  }
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_dw_reduction(int rows) {
  load_avx2_mask(p_.dw_mask_tmp);
  c_.mov(reg_ai_, reg_inp_);
  const std::int64_t tap_bytes = p_.dilation * p_.C * 4;
  if (tile_.tap_group > 0) {  // the IR tile's reduction is in tap groups
    emit_dw_tap_groups(rows);
    return;
  }
  if (p_.unroll_k) {
    if (!tile_.weights_held) c_.mov(reg_aw_, reg_w_);
    for (std::int64_t k = 0; k < p_.K; ++k) emit_dw_tap(rows, static_cast<int>(k), k * tap_bytes);
    return;
  }
  Xbyak::Label loop;
  c_.mov(reg_aw_, reg_w_);
  c_.mov(reg_k_, p_.K);
  c_.annotate("loop k");
  c_.L(loop);
  const int head = stats_.interior_fmas;
  emit_dw_tap(rows, -1, 0);
  c_.add(reg_ai_, static_cast<int>(tap_bytes));
  c_.add(reg_aw_, static_cast<int>(p_.block_width * 4));
  c_.dec(reg_k_);
  c_.jnz(loop, c_.T_NEAR);
  close_interior_loop(head);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_dw_edge_rows(int rows) {
  // `rows` steps at r14 (tap 0 of step 0); each (step, tap) is checked against [0, L), so
  // every step sees the valid taps in ascending order, exactly as in emit_dw_edge_taps.
  Xbyak::Label loop;
  load_avx2_mask(p_.dw_mask_tmp);
  c_.mov(reg_aw_, reg_w_);
  c_.mov(reg_k_, p_.K);
  c_.L(loop);
  for (int i = 0; i < rows; ++i) {
    Xbyak::Label skip;
    c_.lea(reg_ai_, c_.ptr[reg_inp_ + static_cast<int>(i * p_.stride)]);
    c_.cmp(reg_ai_, reg_len_);
    c_.jae(skip, c_.T_NEAR);  // unsigned: position < 0 or >= L is padding
    c_.imul(reg_ai_, reg_ai_, static_cast<int>(p_.C * 4));
    c_.add(reg_ai_, reg_in_);
    for (int j = 0; j < v_.vecs; ++j) {
      c_.vmovups(vreg(p_.dw_w_tmp), mem(reg_aw_, j * vec_bytes()));
      const Xbyak::Address x = mem(reg_ai_, j * vec_bytes());
      if (!masked(j)) {
        fma(acc(i, j), vreg(p_.dw_w_tmp), x);
        continue;
      }
      if constexpr (std::is_same_v<Vmm, Xbyak::Zmm>) {
        fma(acc(i, j) | k1, vreg(p_.dw_w_tmp), x);
      } else {
        c_.vmaskmovps(vreg(p_.dw_in_tmp), Xbyak::Ymm(p_.dw_mask_tmp), x);
        fma(acc(i, j), vreg(p_.dw_w_tmp), vreg(p_.dw_in_tmp));
      }
    }
    c_.L(skip);
  }
  c_.add(reg_aw_, static_cast<int>(p_.block_width * 4));
  c_.add(reg_inp_, static_cast<int>(p_.dilation));
  c_.dec(reg_k_);
  c_.jnz(loop, c_.T_NEAR);
}

template <class Vmm>
void ColumnEmitter<Vmm>::emit_dw_edge_taps() {
  Xbyak::Label loop, skip;
  load_avx2_mask(p_.dw_mask_tmp);
  c_.mov(reg_aw_, reg_w_);
  c_.mov(reg_k_, p_.K);
  c_.L(loop);
  c_.cmp(reg_inp_, reg_len_);
  c_.jae(skip, c_.T_NEAR);  // unsigned: position < 0 or >= L is padding
  c_.imul(reg_ai_, reg_inp_, static_cast<int>(p_.C * 4));
  c_.add(reg_ai_, reg_in_);
  emit_dw_tap(1, -1, 0);
  c_.L(skip);
  c_.add(reg_aw_, static_cast<int>(p_.block_width * 4));
  c_.add(reg_inp_, static_cast<int>(p_.dilation));
  c_.dec(reg_k_);
  c_.jnz(loop, c_.T_NEAR);
}

template void ColumnEmitter<Xbyak::Zmm>::emit_dw_load_weights();
template void ColumnEmitter<Xbyak::Zmm>::emit_dw_tap(int, int, std::int64_t);
template void ColumnEmitter<Xbyak::Zmm>::emit_dw_tap_groups(int);
template void ColumnEmitter<Xbyak::Zmm>::emit_dw_reduction(int);
template void ColumnEmitter<Xbyak::Zmm>::emit_dw_edge_rows(int);
template void ColumnEmitter<Xbyak::Zmm>::emit_dw_edge_taps();
template void ColumnEmitter<Xbyak::Ymm>::emit_dw_load_weights();
template void ColumnEmitter<Xbyak::Ymm>::emit_dw_tap(int, int, std::int64_t);
template void ColumnEmitter<Xbyak::Ymm>::emit_dw_tap_groups(int);
template void ColumnEmitter<Xbyak::Ymm>::emit_dw_reduction(int);
template void ColumnEmitter<Xbyak::Ymm>::emit_dw_edge_rows(int);
template void ColumnEmitter<Xbyak::Ymm>::emit_dw_edge_taps();

}  // namespace convjit::detail
