// The loop-nest IR: integer expressions over loop variables and run-time parameters, and
// statements whose leaves are vector-register operations (loads, broadcasts, FMAs, the
// fused epilogue, stores) plus two row operations (transpose, axis activation).
//
// Plain immutable structs behind shared pointers, each with a static make() (Halide style).
// A Func owns the tables the nodes index into: variables, buffers, register arrays.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/schedule/kernel_plan.hpp"
#include "compiler/schedule/weight_layout.hpp"
#include "convjit/activation.hpp"
#include "convjit/isa.hpp"

namespace convjit::detail::ir {

// ---------------------------------------------------------------------------------------
// Expressions: affine integer arithmetic with floor division by constants, min and max.

enum class ExprOp { kConst, kVar, kAdd, kSub, kMul, kFloorDiv, kMin, kMax };

struct ExprNode;

/// An integer expression (a shared immutable tree). Converts implicitly from an integer.
class Expr {
 public:
  Expr() = default;
  Expr(std::int64_t value);  // NOLINT(google-explicit-constructor): literals read naturally
  Expr(int value) : Expr(static_cast<std::int64_t>(value)) {}  // NOLINT
  explicit Expr(std::shared_ptr<const ExprNode> node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const ExprNode* operator->() const { return node_.get(); }
  const ExprNode& operator*() const { return *node_; }
  /// True for a constant; its value in *value.
  bool is_const(std::int64_t* value = nullptr) const;

 private:
  std::shared_ptr<const ExprNode> node_;
};

/// One expression node: a constant, a variable (by slot), or a binary operation.
struct ExprNode {
  ExprOp op = ExprOp::kConst;
  std::int64_t value = 0;  ///< kConst
  int var = -1;            ///< kVar: slot in Func::vars
  std::string name;        ///< kVar: its name (for printing)
  Expr a, b;               ///< operands of binary operations
};

/// A variable reference: slot and name.
Expr make_var(int slot, const std::string& name);
Expr operator+(const Expr& a, const Expr& b);
Expr operator-(const Expr& a, const Expr& b);
Expr operator*(const Expr& a, const Expr& b);
/// Floor division (rounds toward -infinity); b must evaluate to a positive value.
Expr floor_div(const Expr& a, const Expr& b);
/// Ceiling division for a positive divisor: floor_div(a + b - 1, b).
Expr ceil_div(const Expr& a, std::int64_t b);
Expr min(const Expr& a, const Expr& b);
Expr max(const Expr& a, const Expr& b);
/// min(max(x, lo), hi)
Expr clamp(const Expr& x, const Expr& lo, const Expr& hi);

/// Floor division of integers (b > 0).
inline std::int64_t floor_div_int(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// Evaluates `e` with variable slots bound in `env`.
std::int64_t eval(const Expr& e, const std::int64_t* env);

// ---------------------------------------------------------------------------------------
// Statements.

struct StmtNode;
/// A statement (a shared immutable tree).
using Stmt = std::shared_ptr<const StmtNode>;

enum class ForKind {
  kSerial,    ///< a plain loop
  kParallel,  ///< iterations are independent and may run on different threads
  kUnrolled,  ///< constant extent, to be fully unrolled (register tiles, unroll factors)
};

/// A memory operand: element `index` (in floats) of buffer `buffer` (slot in Func::buffers).
struct Access {
  int buffer = -1;
  Expr index;
};

/// A vector register: element `index` of register array `array` (slot in Func::regs).
struct VReg {
  int array = -1;
  Expr index;
};

/// for var in [min, min + extent): body. `tag` names the loop's role ("interior tiles").
struct For {
  int var = -1;
  Expr min, extent;
  ForKind kind = ForKind::kSerial;
  std::string tag;
  Stmt body;
  static Stmt make(int var, Expr min, Expr extent, ForKind kind, std::string tag, Stmt body);
};

/// Statements in order.
struct Block {
  std::vector<Stmt> stmts;
  static Stmt make(std::vector<Stmt> stmts);
};

/// Binds var = value inside body.
struct Let {
  int var = -1;
  Expr value;
  Stmt body;
  static Stmt make(int var, Expr value, Stmt body);
};

/// Register arrays (slots in Func::regs) live inside body: the register tile.
struct Alloc {
  std::vector<int> arrays;
  Stmt body;
  static Stmt make(std::vector<int> arrays, Stmt body);
};

/// dst = 0 (all lanes).
struct Zero {
  VReg dst;
  static Stmt make(VReg dst);
};

/// dst[lane] = src[index + lane * lane_stride] for lane < valid_lanes, 0 above (masked tail).
struct Load {
  VReg dst;
  Access src;
  Expr valid_lanes;
  std::int64_t lane_stride = 1;
  static Stmt make(VReg dst, Access src, Expr valid_lanes, std::int64_t lane_stride = 1);
};

/// dst[lane] = src[index] for every lane.
struct Broadcast {
  VReg dst;
  Access src;
  static Stmt make(VReg dst, Access src);
};

/// acc = fma(a, b, acc) lane-wise, rounded once (as vfmadd231ps).
struct Fma {
  VReg acc, a, b;
  static Stmt make(VReg acc, VReg a, VReg b);
};

/// dst[lane] += src[index + lane * lane_stride] for lane < valid_lanes (epilogue: bias).
struct AddFrom {
  VReg dst;
  Access src;
  Expr valid_lanes;
  std::int64_t lane_stride = 1;
  static Stmt make(VReg dst, Access src, Expr valid_lanes, std::int64_t lane_stride = 1);
};

/// dst = act(dst) lane-wise, an element-wise activation (epilogue).
struct Activate {
  VReg dst;
  Activation activation = Activation::kLinear;
  static Stmt make(VReg dst, Activation activation);
};

/// dst[index + lane * lane_stride] = src[lane] for lane < valid_lanes (masked tail).
struct Store {
  VReg src;
  Access dst;
  Expr valid_lanes;
  std::int64_t lane_stride = 1;
  bool nontemporal = false;
  static Stmt make(VReg src, Access dst, Expr valid_lanes, std::int64_t lane_stride = 1,
                   bool nontemporal = false);
};

/// A software prefetch hint of src (may point past the buffer: it never faults).
struct Prefetch {
  Access src;
  static Stmt make(Access src);
};

/// dst[c * rows + r] = src[r * cols + c] for r < rows, c < cols (layout change).
struct Transpose {
  Access src, dst;
  Expr rows, cols;
  static Stmt make(Access src, Access dst, Expr rows, Expr cols);
};

/// An axis-wise activation of one row: `count` values at src + i*src_stride, written to
/// dst + i*dst_stride (count/2 outputs for glu).
struct AxisActivation {
  Activation activation = Activation::kSoftmax;
  Access src;
  Expr src_stride, count;
  Access dst;
  Expr dst_stride;
  static Stmt make(Activation activation, Access src, Expr src_stride, Expr count, Access dst,
                   Expr dst_stride);
};

struct StmtNode {
  std::variant<For, Block, Let, Alloc, Zero, Load, Broadcast, Fma, AddFrom, Activate, Store,
               Prefetch, Transpose, AxisActivation>
      node;
};

template <typename T>
const T* as(const Stmt& s) {
  return s ? std::get_if<T>(&s->node) : nullptr;
}

// ---------------------------------------------------------------------------------------
// Functions.

enum class BufferKind { kInput, kWeights, kBias, kOutput, kScratch };

/// A float buffer of `size` elements (an expression over N and L).
struct BufferDecl {
  std::string name;
  BufferKind kind = BufferKind::kScratch;
  Expr size;
};

/// An array of `count` vector registers of `lanes` floats.
struct RegArray {
  std::string name;
  int count = 1;
  int lanes = 1;
};

/// The packed weights layout (compiler/schedule/weight_layout.hpp).
using detail::WeightLayout;

/// A lowered kernel: parameters N and L, buffers, register arrays, and the loop nest.
struct Func {
  std::string name;
  Problem problem;         ///< what it computes (its length is only an example when dynamic)
  Isa isa = Isa::kAvx512;  ///< whose vector registers bound the register arrays
  int vector_registers = 32;
  std::vector<std::string> vars;  ///< variable slots; 0 is N, 1 is L
  std::vector<BufferDecl> buffers;
  std::vector<RegArray> regs;
  WeightLayout weights;
  /// The plan the scheduled IR was lowered from (null in the unscheduled form). Passes and
  /// backends read their decisions here (sweeps, prefetch, the store-aliasing rule).
  std::shared_ptr<const KernelPlan> plan;
  Stmt body;

  static constexpr int kVarN = 0;
  static constexpr int kVarL = 1;

  /// The slot of variable `name`, added when missing.
  int var(const std::string& name);
  /// The variable as an expression (added when missing).
  Expr var_expr(const std::string& name);
  /// The slot of buffer `name` (-1 when missing).
  int find_buffer(const std::string& name) const;
};

}  // namespace convjit::detail::ir
