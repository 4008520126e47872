// emit_loop: a counted loop in LLVM IR, the one shape every generated loop has.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <functional>
#include <string>

namespace convjit::detail {

/// for (i = begin; i < end; ++i) body(i), i64, signed compare. Blocks are named
/// `<name>.head`, `<name>.body`, `<name>.exit` so the assembly listing shows them; the
/// builder is left at the start of the exit block.
/// `unroll`: asks LLVM's loop unroller to unroll the loop fully (llvm.loop.unroll.full);
/// `never_unroll`: not at all (llvm.loop.unroll.disable: cold code, compile time).
inline void emit_loop(llvm::IRBuilder<>& b, llvm::Value* begin, llvm::Value* end,
                      const std::string& name, const std::function<void(llvm::Value*)>& body,
                      bool unroll = false, bool never_unroll = false) {
  llvm::LLVMContext& ctx = b.getContext();
  llvm::Function* fn = b.GetInsertBlock()->getParent();
  llvm::BasicBlock* pre = b.GetInsertBlock();
  llvm::BasicBlock* head = llvm::BasicBlock::Create(ctx, name + ".head", fn);
  llvm::BasicBlock* loop_body = llvm::BasicBlock::Create(ctx, name + ".body", fn);
  llvm::BasicBlock* exit = llvm::BasicBlock::Create(ctx, name + ".exit", fn);
  b.CreateBr(head);
  b.SetInsertPoint(head);
  llvm::PHINode* i = b.CreatePHI(b.getInt64Ty(), 2, name);
  i->addIncoming(begin, pre);
  b.CreateCondBr(b.CreateICmpSLT(i, end), loop_body, exit);
  b.SetInsertPoint(loop_body);
  body(i);
  llvm::Value* next = b.CreateNSWAdd(i, b.getInt64(1));
  i->addIncoming(next, b.GetInsertBlock());
  llvm::BranchInst* latch = b.CreateBr(head);
  if (unroll || never_unroll) {
    llvm::MDNode* full = llvm::MDNode::get(
        ctx,
        llvm::MDString::get(ctx, unroll ? "llvm.loop.unroll.full" : "llvm.loop.unroll.disable"));
    llvm::MDNode* loop = llvm::MDNode::getDistinct(ctx, {nullptr, full});
    loop->replaceOperandWith(0, loop);
    latch->setMetadata(llvm::LLVMContext::MD_loop, loop);
  }
  b.SetInsertPoint(exit);
}

}  // namespace convjit::detail
