// Kernel dumps: CONVJIT_DUMP=dir writes every compiled kernel's code and assembly.
#pragma once

#include <string>

namespace convjit::detail {

class CompiledKernel;

/// The CONVJIT_DUMP directory, or "" when unset.
std::string dump_directory();

/// Writes <dir>/<kernel.dump_name>.bin (the machine code bytes) and .s (the annotated
/// assembly, Kernel::disassemble()). Never throws: the first I/O failure is reported on
/// stderr (once per process), the kernel is used all the same.
void dump_kernel(const CompiledKernel& kernel, const std::string& dir);

/// A file name stem made of [A-Za-z0-9_.-] only: other characters become '_'.
std::string sanitize_file_name(const std::string& name);

}  // namespace convjit::detail
