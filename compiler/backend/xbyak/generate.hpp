// The Xbyak backend's entry point: Problem + Schedule -> executable GeneratedKernel.
#pragma once

#include <memory>

#include "compiler/backend/generated_kernel.hpp"

namespace convjit::detail {

/// Generates AVX2 or AVX-512 code (schedule.isa) for `p`. The schedule must be legal
/// (check_legal). When p.length_is_dynamic the code takes the length from KernelArgs.
/// Code memory is mapped read+execute only after emission (W^X).
std::unique_ptr<GeneratedKernel> generate_xbyak(const Problem& p, const Schedule& s);
/// The same, for the scheduled IR ir::lower_scheduled made (what the Jit passes).
std::unique_ptr<GeneratedKernel> generate_xbyak(std::shared_ptr<const ir::ScheduledIr> scheduled);

}  // namespace convjit::detail
