// Isa — which vector instruction set generated code uses.
#pragma once

#include <optional>
#include <string_view>

namespace convjit {

enum class Isa {
  kAuto,    ///< the best the host CPU has (CONVJIT_ISA overrides)
  kAvx2,    ///< AVX2 + FMA, ymm registers, 8 float lanes
  kAvx512,  ///< AVX-512F (+VL/BW/DQ), zmm registers and k-masks, 16 float lanes
};

const char* isa_name(Isa isa);                       ///< "auto", "avx2", "avx512"
std::optional<Isa> find_isa(std::string_view name);  ///< inverse of isa_name
bool host_supports(Isa isa);                         ///< CPUID (and OS xsave state) check
/// kAuto resolved: CONVJIT_ISA if set, else the best the host has. A forced ISA the
/// host lacks throws Error(kUnsupported) naming it.
Isa resolve_isa(Isa requested);
/// Float lanes of one vector register: 8 for AVX2, 16 for AVX-512.
int vector_lanes(Isa isa);

}  // namespace convjit
