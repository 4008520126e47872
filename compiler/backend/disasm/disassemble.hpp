// disassemble_x86 — generated machine code as annotated Intel-syntax assembly text.
//
// The only interface to LLVM's MC disassembler; this header includes no LLVM header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/backend/generated_kernel.hpp"

namespace convjit::detail {

/// Decodes `size` bytes of x86-64 code (every extension up to AVX-512 decodes) and prints
/// one instruction per line as `OFFSET:  mnemonic operands` in Intel syntax, OFFSET being the
/// hexadecimal byte offset from `code`. Branch targets print as addresses, `address` being
/// the address of the first byte (pass 0 to read targets as offsets).
///
/// Each annotation prints as a `; text` line before the instruction at its offset (or, when
/// the offset falls inside an instruction, before the next one; past the end, at the end).
/// An annotation whose text starts with "data" or "constants" marks the bytes up to the next
/// annotation as data (constant tables): they print as `.long` words instead of being decoded.
/// Bytes that do not decode print as `.byte 0xNN`. Thread-safe.
std::string disassemble_x86(const std::uint8_t* code, std::size_t size, std::uint64_t address,
                            const std::vector<CodeAnnotation>& notes);

}  // namespace convjit::detail
