// disassemble_x86 through LLVM's MCDisassembler + MCInstPrinter (Intel syntax, znver4).
#include "compiler/backend/disasm/disassemble.hpp"

#include <fmt/format.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/MC/MCAsmInfo.h>
#include <llvm/MC/MCContext.h>
#include <llvm/MC/MCDisassembler/MCDisassembler.h>
#include <llvm/MC/MCInst.h>
#include <llvm/MC/MCInstPrinter.h>
#include <llvm/MC/MCInstrInfo.h>
#include <llvm/MC/MCRegisterInfo.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/MCTargetOptions.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

extern "C" {
void LLVMInitializeX86TargetInfo();
void LLVMInitializeX86TargetMC();
void LLVMInitializeX86Disassembler();
}

namespace convjit::detail {
namespace {

constexpr const char* kTriple = "x86_64-unknown-linux-gnu";
constexpr const char* kCpu = "znver4";  // decodes every AVX-512 subset we emit
constexpr unsigned kIntelSyntax = 1;

/// The MC objects, made once. LLVM's disassembler and printer are not documented as
/// thread-safe, so uses are serialized by `mutex`.
struct McDisassembler {
  std::mutex mutex;
  std::unique_ptr<llvm::MCRegisterInfo> registers;
  std::unique_ptr<llvm::MCAsmInfo> asm_info;
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget;
  std::unique_ptr<llvm::MCInstrInfo> instructions;
  std::unique_ptr<llvm::MCContext> context;
  std::unique_ptr<llvm::MCDisassembler> disassembler;
  std::unique_ptr<llvm::MCInstPrinter> printer;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "%s:%d: convjit internal error: LLVM disassembler: %s\n", __FILE__, __LINE__,
               what.c_str());
  std::abort();
}

McDisassembler& mc() {
  static McDisassembler instance;
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86Disassembler();
    std::string error;
    const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kTriple, error);
    if (target == nullptr) fail("no x86 target: " + error);
    McDisassembler& d = instance;
    const llvm::Triple triple(kTriple);
    d.registers.reset(target->createMCRegInfo(kTriple));
    llvm::MCTargetOptions options;
    d.asm_info.reset(target->createMCAsmInfo(*d.registers, kTriple, options));
    d.subtarget.reset(target->createMCSubtargetInfo(kTriple, kCpu, ""));
    d.instructions.reset(target->createMCInstrInfo());
    if (!d.registers || !d.asm_info || !d.subtarget || !d.instructions) fail("MC setup");
    d.context = std::make_unique<llvm::MCContext>(triple, d.asm_info.get(), d.registers.get(),
                                                  d.subtarget.get());
    d.disassembler.reset(target->createMCDisassembler(*d.subtarget, *d.context));
    d.printer.reset(target->createMCInstPrinter(triple, kIntelSyntax, *d.asm_info, *d.instructions,
                                                *d.registers));
    if (!d.disassembler || !d.printer) fail("no disassembler or printer");
    d.printer->setPrintImmHex(true);
    d.printer->setPrintBranchImmAsAddress(true);
  });
  return instance;
}

/// Tabs to single spaces, surrounding white space trimmed: "\tvaddps\tymm0, ..." ->
/// "vaddps ymm0, ...".
std::string tidy(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const char ch = c == '\t' ? ' ' : c;
    if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(ch);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

void print_data(const std::uint8_t* code, std::size_t begin, std::size_t end, std::string& out) {
  std::size_t off = begin;
  while (off < end) {
    if (end - off >= 4) {
      std::uint32_t word = 0;
      for (int i = 3; i >= 0; --i) word = (word << 8) | code[off + static_cast<std::size_t>(i)];
      out += fmt::format("{:06x}:  .long 0x{:08x}\n", off, word);
      off += 4;
    } else {
      out += fmt::format("{:06x}:  .byte 0x{:02x}\n", off, code[off]);
      off += 1;
    }
  }
}

}  // namespace

std::string disassemble_x86(const std::uint8_t* code, std::size_t size, std::uint64_t address,
                            const std::vector<CodeAnnotation>& notes) {
  std::vector<CodeAnnotation> sorted = notes;
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const CodeAnnotation& a, const CodeAnnotation& b) { return a.offset < b.offset; });
  McDisassembler& d = mc();
  std::lock_guard<std::mutex> lock(d.mutex);
  std::string out;
  std::size_t next_note = 0;
  bool in_data = false;
  std::size_t off = 0;
  while (off < size) {
    while (next_note < sorted.size() && sorted[next_note].offset <= off) {
      out += "; " + sorted[next_note].text + "\n";
      in_data = starts_with(sorted[next_note].text, "data") ||
                starts_with(sorted[next_note].text, "constants");
      ++next_note;
    }
    if (in_data) {
      const std::size_t end =
          next_note < sorted.size() ? std::min(size, sorted[next_note].offset) : size;
      print_data(code, off, end, out);
      off = end;
      continue;
    }
    llvm::MCInst inst;
    std::uint64_t length = 0;
    const llvm::ArrayRef<std::uint8_t> bytes(code + off, size - off);
    const auto status =
        d.disassembler->getInstruction(inst, length, bytes, address + off, llvm::nulls());
    if (status != llvm::MCDisassembler::Success || length == 0) {
      out += fmt::format("{:06x}:  .byte 0x{:02x}\n", off, code[off]);
      off += 1;
      continue;
    }
    std::string text;
    llvm::raw_string_ostream os(text);
    // x86 relative branches count from the next instruction: the printer adds its
    // address argument to the displacement, so it gets the end of this instruction.
    d.printer->printInst(&inst, address + off + length, "", *d.subtarget, os);
    os.flush();
    out += fmt::format("{:06x}:  {}\n", off, tidy(text));
    off += static_cast<std::size_t>(length);
  }
  for (; next_note < sorted.size(); ++next_note) out += "; " + sorted[next_note].text + "\n";
  return out;
}

}  // namespace convjit::detail
