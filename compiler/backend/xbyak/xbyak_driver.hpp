// XbyakDriver — the GeneratedKernel of the Xbyak backend: the run-time driver of its code.
//
// entry() is a generated trampoline that hands the KernelArgs to a C++ driver (run()):
// the driver resolves the run-time length, transposes channels_first rows into scratch,
// walks batch x time blocks x channel blocks in the schedule's loop order calling the
// generated column functions, and applies the axis-wise activation stage.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compiler/backend/generated_kernel.hpp"
#include "compiler/backend/xbyak/conv_generator.hpp"
#include "compiler/ir/ir.hpp"
#include "compiler/schedule/kernel_plan.hpp"

namespace convjit::detail {

class XbyakDriver final : public GeneratedKernel {
 public:
  /// Compiles `scheduled`: the micro-kernels (ColumnEmitter), whose tiles (interior, edge
  /// step, edge group) walk the IR's (ScheduledIr::full_block, tail_block), and the driver's
  /// loops in the IR's order (ScheduledIr::loop_order; tests/llvm/same_ir_test.cpp checks it
  /// is the whole nest's).
  explicit XbyakDriver(std::shared_ptr<const ir::ScheduledIr> scheduled);

  KernelEntry entry() const override;
  const std::uint8_t* code() const override { return code_->getCode(); }
  std::size_t code_size() const override { return code_->getSize(); }
  const std::vector<CodeAnnotation>& annotations() const override { return code_->annotations(); }
  std::string name() const override;
  std::size_t packed_weights_floats() const override;
  void pack_weights(const float* keras_kernel, float* packed) const override;
  std::size_t scratch_floats(std::int64_t length) const override;
  std::int64_t oc_split_granularity() const override { return plan_.oc_granularity; }
  bool can_split_time() const override { return plan_.split_time; }

  const KernelPlan& plan() const { return plan_; }
  const EmitStats& full_stats() const { return code_->full_stats(); }
  const EmitStats& tail_stats() const { return code_->tail_stats(); }

  /// One call: what entry() does (the trampoline jumps here).
  void run(const KernelArgs& args) const;

 private:
  static void drive(const void* self, const KernelArgs* args);
  void run_batch(const KernelArgs& args, std::int64_t n, std::int64_t length,
                 std::int64_t out_length, std::int64_t pad_left, std::int64_t t0, std::int64_t t1,
                 std::int64_t oc0, std::int64_t oc1) const;
  void run_columns(const float* in_rows, float* out_rows, const float* bias, const float* weights,
                   std::int64_t length, std::int64_t pad_left, std::int64_t t0, std::int64_t t1,
                   std::int64_t oc0, std::int64_t oc1) const;

  KernelPlan plan_;
  /// The driver's loop nest, as the IR orders it: channel blocks swept inside each time
  /// region (one column call sweeps them), and time blocks outside the channel blocks.
  struct DriverLoops {
    bool sweep = false;
    bool time_outer = false;
  };
  DriverLoops loops_;

 public:
  const DriverLoops& driver_loops() const { return loops_; }
  std::vector<float> zero_bias_;  // used when a call with bias passes nullptr
  std::unique_ptr<ConvCodeGenerator> code_;
};

}  // namespace convjit::detail
