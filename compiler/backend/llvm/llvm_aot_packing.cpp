// The AOT object's <prefix>_pack_weights (see llvm_lowering.hpp): the one weight layout
// (compiler/schedule/weight_layout.cpp) as LLVM loops, so an AOT object packs without convjit.
#include "compiler/backend/llvm/llvm_activation.hpp"
#include "compiler/backend/llvm/llvm_loop.hpp"
#include "compiler/backend/llvm/llvm_lowering.hpp"
#include "compiler/ir/call_ranges.hpp"
#include "compiler/ir/interpreter.hpp"
#include "compiler/ir/mutate.hpp"
#include "compiler/ir/sweep_channels.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {

/// pack_weights(keras, packed): compiler/schedule/weight_layout.cpp as loops.
void LlvmLowering::define_pack_weights() {
  auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, ptr_}, false);
  llvm::Function* fn =
      llvm::Function::Create(type, llvm::Function::ExternalLinkage, sym("pack_weights"), m_);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  const Problem& p = f_.problem;
  const ir::WeightLayout& layout = f_.weights;
  llvm::Value* keras = fn->getArg(0);
  llvm::Value* packed = fn->getArg(1);
  const std::int64_t total = packed_weights_size(p, layout);
  b_.CreateMemSet(packed, b_.getInt8(0), b_.getInt64(static_cast<std::uint64_t>(total * 4)),
                  llvm::MaybeAlign(4));
  auto c = [&](std::int64_t v) { return b_.getInt64(static_cast<std::uint64_t>(v)); };
  auto copy = [&](llvm::Value* to, llvm::Value* from) {
    b_.CreateStore(b_.CreateLoad(f32_, b_.CreateInBoundsGEP(f32_, keras, from)),
                   b_.CreateInBoundsGEP(f32_, packed, to));
  };
  const std::int64_t bw = layout.block_width, blocks = layout.blocks, kk = p.kernel;
  if (layout.kind == ir::WeightLayout::Kind::kDirect) {
    const std::int64_t cg = p.ic_per_group, fg = p.oc_per_group, f = p.filters;
    const std::int64_t bic = layout_ic_block(p, layout);
    for (std::int64_t bl = 0; bl < blocks; ++bl) {
      const std::int64_t cols = std::min(bw, fg - bl * bw);
      if (cols <= 0) continue;
      for (std::int64_t ic0 = 0; ic0 < cg; ic0 += bic) {
        emit_loop(b_, c(0), c(p.groups), "pack_g", [&](llvm::Value* g) {
          emit_loop(b_, c(0), c(kk), "pack_k", [&](llvm::Value* k) {
            emit_loop(b_, c(0), c(bic), "pack_ic", [&](llvm::Value* ic) {
              emit_loop(b_, c(0), c(cols), "pack_col", [&](llvm::Value* col) {
                // packed_weights_offset(g, bl, k, ic0 + ic) + col:
                // ((((g*blocks + bl)*ic_blocks + ic0/bic)*K + k)*bic + ic)*bw + col
                llvm::Value* to = b_.CreateAdd(b_.CreateMul(g, c(blocks * (cg / bic))),
                                               c(bl * (cg / bic) + ic0 / bic));
                to = b_.CreateAdd(b_.CreateMul(to, c(kk)), k);
                to = b_.CreateAdd(b_.CreateMul(to, c(bic)), ic);
                to = b_.CreateAdd(b_.CreateMul(to, c(bw)), col);
                // keras[(k*cg + ic0 + ic)*f + g*fg + bl*bw + col]
                llvm::Value* from = b_.CreateMul(
                    b_.CreateAdd(b_.CreateMul(k, c(cg)), b_.CreateAdd(c(ic0), ic)), c(f));
                from = b_.CreateAdd(from, b_.CreateMul(g, c(fg)));
                from = b_.CreateAdd(from, b_.CreateAdd(c(bl * bw), col));
                copy(to, from);
              });
            });
          });
        });
      }
    }
  } else {
    const std::int64_t fg = p.oc_per_group, f = p.filters;
    for (std::int64_t bl = 0; bl < blocks; ++bl) {
      const std::int64_t cols = std::min(bw, p.in_channels - bl * bw);
      if (cols <= 0) continue;
      emit_loop(b_, c(0), c(fg), "pack_j", [&](llvm::Value* j) {
        emit_loop(b_, c(0), c(kk), "pack_k", [&](llvm::Value* k) {
          emit_loop(b_, c(0), c(cols), "pack_col", [&](llvm::Value* col) {
            // packed[((j*blocks + bl)*K + k)*bw + col] = keras[k*f + (bl*bw + col)*fg + j]
            llvm::Value* to = b_.CreateAdd(b_.CreateMul(j, c(blocks)), c(bl));
            to = b_.CreateAdd(b_.CreateMul(to, c(kk)), k);
            to = b_.CreateAdd(b_.CreateMul(to, c(bw)), col);
            llvm::Value* ch = b_.CreateAdd(c(bl * bw), col);
            llvm::Value* from =
                b_.CreateAdd(b_.CreateAdd(b_.CreateMul(k, c(f)), b_.CreateMul(ch, c(fg))), j);
            copy(to, from);
          });
        });
      });
    }
  }
  b_.CreateRetVoid();
}

}  // namespace convjit::detail
