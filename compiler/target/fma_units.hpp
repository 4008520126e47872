// FmaUnits — how wide this CPU's FMA units are, which decides whether zmm code runs twice
// as fast as ymm code (Zen 5, Intel Xeon) or at the same speed (Zen 4 splits 512-bit
// operations in two). Read from CPUID (vendor, family, model), never by running code, so it
// costs nothing at compile time; `convjit bench` measures the same thing with its zmm and ymm
// probes (docs/jit.md, "FMA width").
#pragma once

#include <string>

namespace convjit::detail {

enum class FmaUnits {
  kAvx2Only,     ///< no AVX-512: 256-bit FMAs
  kAvx512Split,  ///< AVX-512 on 256-bit units (AMD Zen 4): zmm peak == ymm peak
  kAvx512Full,   ///< AVX-512 on 512-bit units (AMD Zen 5, Intel): zmm peak == 2 x ymm peak
};

/// "avx2-only", "avx512-split", "avx512-full".
const char* fma_units_name(FmaUnits units);

/// The CPU as CPUID names it: vendor string, display family and model.
struct CpuIdentity {
  std::string vendor;  ///< "AuthenticAMD", "GenuineIntel", ...
  int family = 0;      ///< display family (base + extended)
  int model = 0;       ///< display model (base + extended << 4)
};

/// This CPU's CPUID identity (read once).
const CpuIdentity& host_cpu_identity();

/// The FMA width of a CPU with this identity (`has_avx512`: it runs AVX-512), and why, in
/// words for `explain`: AMD family 25 (Zen 4) splits 512-bit FMAs; AMD family 26 (Zen 5)
/// and later, Intel CPUs with AVX-512, and AVX-512 CPUs not in the table are full width.
FmaUnits classify_fma_units(const CpuIdentity& cpu, bool has_avx512, std::string* why = nullptr);

/// classify_fma_units of this host (read once), with its reason.
FmaUnits host_fma_units(std::string* why = nullptr);

}  // namespace convjit::detail
