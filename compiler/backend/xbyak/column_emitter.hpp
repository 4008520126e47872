// ColumnEmitter<Vmm> — emits one column function (see ColumnArgs) for Xbyak::Zmm
// (AVX-512) or Xbyak::Ymm (AVX2) from the same plan.
//
// Structure of the emitted function:
//   prologue (save rbx, rbp, r12..r15; load arguments; AVX-512 tail mask in k1)
//   call edge      [t_begin, t_int_begin)      one step at a time, taps checked
//   tile loop      [t_int_begin, t_int_end)    ur_t steps x vecs vectors, branch-free body
//   call edge      [t_int_end, t_end)
//   epilogue, ret
//   edge:          subroutine (the only code with run-time tap checks)
// General registers: rdi args, r8 in, r9 w, r10 bias, r11 out, r12 L, r13 pad_left,
// rbx t, rbp t_end, r14 input row of t, r15 output row of t, rsi/rdx tap input/weights,
// rcx k counter, rax ic counter.
#pragma once

#include <xbyak/xbyak.h>

#include <cstddef>
#include <functional>

#include "compiler/backend/xbyak/conv_generator.hpp"
#include "compiler/ir/tile_leaves.hpp"

namespace convjit::detail {

template <class Vmm>
class ColumnEmitter {
 public:
  /// `tiles`: the variant's register tiles of the scheduled IR (ir::ScheduledIr::full_block
  /// / tail_block). The interior tile body and the edge's one-step body are their tiles'
  /// leaves, in order, each mapped to one call (zero, prefetch, reduction, epilogue); the
  /// edge's groups of steps and the driver's loops come from the plan the tiles were lowered
  /// from, and the constructor checks that the two agree.
  ColumnEmitter(ConvCodeGenerator& code, const KernelPlan& plan, const ColumnVariant& variant,
                const ir::BlockTiles& tiles, const char* what, EmitStats& stats);
  /// Emits the whole column function at the current position of `code`.
  void emit();

 private:
  using Reg64 = Xbyak::Reg64;

  // --- shared (column_emitter.cpp) ---
  void emit_prologue();
  void emit_epilogue_and_ret();
  void emit_tile_loop();
  void emit_interior_tile();  // the IR tile's leaves, each mapped to its call
  void emit_edge_step();      // the IR edge tile's leaves: one output step, taps checked
  void emit_edge_group(Xbyak::Label& singles);  // the IR edge group tile's leaves
  void emit_edge_subroutine(Xbyak::Label& edge);
  void emit_zero(int rows);  // accumulators: zero, or (ic blocks) the partial sums at r15
  void emit_prefetch();
  void emit_nontemporal_output(int rows, const std::vector<int>& temps, int mask_reg);
  enum class BlockMove { kNext, kPrevious, kBackToFirst, kToLast };
  void emit_block_advance(const Reg64& in, const Reg64& out, BlockMove move);
  void emit_edge_call(Xbyak::Label& edge, std::size_t begin,
                      std::size_t end);  // interior: input rows of the tile prefetch_tiles ahead
  void emit_output(int rows);            // emit_final_output, or raw partial sums (ic blocks)
  void emit_final_output(int rows);      // bias + activation + stores at r15
  void emit_partial_sums(int rows, bool load);  // ic blocks: accumulators <-> output at r15
  /// ic blocks: partial sums in or out when the ColumnArgs flag at `flag` is set, else
  /// `otherwise` (one branch per tile).
  void emit_block_flag_branch(int rows, std::size_t flag, bool load, const char* what,
                              const std::function<void()>& otherwise);
  void emit_bias(int rows, int mask_reg, int tmp_reg);
  void emit_activation(int value, const std::vector<int>& temps);
  void load_vec(int dst, const Xbyak::Address& src, bool masked, int mask_reg);
  void store_vec(const Xbyak::Address& dst, int src, bool masked, int mask_reg);
  void load_avx2_mask(int mask_reg);
  void fma(const Vmm& acc, const Vmm& a, const Xbyak::Operand& b);
  Xbyak::Address mem(const Reg64& base, std::int64_t disp);
  Xbyak::Address mem_bcast(const Reg64& base, std::int64_t disp);
  void zero(const Vmm& v);

  // --- direct (column_emitter_direct.cpp) ---
  void emit_direct_reduction(int rows);                 // interior: taps at r14
  void emit_direct_edge_taps();                         // edge: one step, checked taps
  void emit_direct_group_check(Xbyak::Label& singles);  // a group touching both edges: singles
  void emit_direct_edge_rows();  // edge group: ur_t steps, the rows in range per tap
  /// ic loop over tile rows [row_begin, row_end) at rsi (input) / rdx (weights); unroll_ic
  /// 0: the plan's.
  void emit_direct_ic_reduction(int row_begin, int row_end, int unroll_ic = 0);
  void emit_direct_ic_body(int row_begin, int row_end, int count);
  void emit_direct_tap_classes(int rows);  // interior, tap_class_size > 0: shared broadcasts
  void emit_direct_edge_tap_order();       // edge, tap_class_size > 0: taps in tap_order

  // --- depthwise (column_emitter_depthwise.cpp) ---
  void emit_dw_load_weights();
  void emit_dw_reduction(int rows);
  void emit_dw_tap_groups(int rows);  // interior, dw_tap_block > 0: input reuse across taps
  void emit_dw_edge_taps();
  void emit_dw_edge_rows(int rows);  // edge: `rows` steps at once, taps checked per step
  void emit_dw_tap(int rows, int k_static, std::int64_t in_disp);

  Vmm vreg(int idx) const { return Vmm(idx); }
  Vmm acc(int i, int j) const { return Vmm(i * v_.vecs + j); }
  bool masked(int j) const { return j == v_.vecs - 1 && v_.last_lanes != p_.lanes; }
  bool any_masked() const { return v_.last_lanes != p_.lanes; }
  std::int64_t vec_bytes() const { return static_cast<std::int64_t>(p_.lanes) * 4; }

  ConvCodeGenerator& c_;
  EmitStats& stats_;
  const KernelPlan& p_;
  const ColumnVariant& v_;
  const ir::TileLeaves& tile_;   ///< the interior tile
  const ir::TileLeaves& edge_;   ///< the edge tile
  const ir::TileLeaves& group_;  ///< the edge group's tile (rows 0: no edge groups)
  const char* what_;
  bool in_interior_ = false;
  /// Records the FMAs of an interior loop body that just closed, if it is the first
  /// (innermost) loop to close in this tile.
  void close_interior_loop(int fmas_at_head);

  const Reg64 reg_args_, reg_in_, reg_w_, reg_bias_, reg_out_, reg_len_, reg_pad_;
  const Reg64 reg_t_, reg_t_end_, reg_inp_, reg_outp_, reg_ai_, reg_aw_, reg_k_, reg_ic_;
};

}  // namespace convjit::detail
