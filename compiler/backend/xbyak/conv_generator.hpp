// ConvCodeGenerator — emits all machine code of one Conv1D kernel from a KernelPlan.
//
// Layout of the code buffer: a trampoline (the KernelEntry: loads the kernel object and
// jumps to its C++ driver), then one column function per ColumnVariant (full block,
// narrower tail block), then the constant tables (tail masks, activation constants).
// The buffer is read+write while emitting and read+execute afterwards (W^X).
#pragma once

#include <xbyak/xbyak.h>

#include <memory>
#include <string>
#include <vector>

#include "compiler/backend/generated_kernel.hpp"
#include "compiler/backend/xbyak/activation_emitter.hpp"
#include "compiler/backend/xbyak/column_args.hpp"
#include "compiler/ir/tile_leaves.hpp"
#include "compiler/schedule/kernel_plan.hpp"

namespace convjit::detail {

/// Facts recorded while emitting, for tests and the assembly dump.
struct EmitStats {
  int interior_fmas = 0;           ///< FMAs emitted in one pass of the interior tile body
  int innermost_loop_fmas = 0;     ///< FMAs in the innermost loop body of the interior
  int interior_stack_refs = 0;     ///< memory operands based on rsp/rbp in the interior
  int interior_cond_branches = 0;  ///< conditional branches in the interior (loop back-edges)
  int interior_loops = 0;          ///< loops in the interior (tile loop included)
  int interior_masked_ops = 0;     ///< masked loads/stores/FMAs in the interior
  int interior_prefetches = 0;     ///< prefetches per interior tile (KernelPlan::prefetch_lines)
  std::string tile_walk;           ///< the IR tile's leaves, as the interior emitted them
  std::string edge_walk;           ///< the IR edge tile's leaves, as the edge emitted them
  std::string edge_group_walk;     ///< the IR edge group tile's leaves (empty: no groups)
  int column_functions = 0;
};

/// The column function an emitted variant exposes: computes one block of channels over
/// a time range (see ColumnArgs).
using ColumnFn = void (*)(const ColumnArgs*);

/// Signature of the C++ driver the trampoline jumps to: (kernel object, arguments).
using DriverFn = void (*)(const void*, const KernelArgs*);

class ConvCodeGenerator : public Xbyak::CodeGenerator {
 public:
  /// Emits everything and maps the code read+execute. `self` is passed to `driver`. `full`
  /// and `tail`: the register tiles (interior and edge) of the scheduled IR the column
  /// functions walk.
  ConvCodeGenerator(const KernelPlan& plan, const ir::BlockTiles& full, const ir::BlockTiles& tail,
                    const void* self, DriverFn driver);

  const KernelPlan& plan() const { return plan_; }
  ColumnFn full_fn() const { return full_fn_; }
  ColumnFn tail_fn() const { return tail_fn_; }
  /// Emission facts of the full-width and tail column functions.
  const EmitStats& full_stats() const { return full_stats_; }
  const EmitStats& tail_stats() const { return tail_stats_; }
  const std::vector<CodeAnnotation>& annotations() const { return annotations_; }

  // --- used by the column emitters ---
  void annotate(std::string text) { annotations_.push_back({getSize(), std::move(text)}); }
  ActivationEmitter* activation() { return activation_.get(); }
  /// Label of the AVX2 lane mask of the tail variant (8 dwords).
  Xbyak::Label& tail_mask_label() { return tail_mask_; }

 private:
  void emit_trampoline(const void* self, DriverFn driver);
  void emit_tables();

  const KernelPlan& plan_;
  EmitStats full_stats_, tail_stats_;
  std::vector<CodeAnnotation> annotations_;
  std::unique_ptr<ActivationEmitter> activation_;
  Xbyak::Label full_label_, tail_label_, tail_mask_;
  ColumnFn full_fn_ = nullptr;
  ColumnFn tail_fn_ = nullptr;
};

}  // namespace convjit::detail
