#include "compiler/target/fma_units.hpp"

#include <cpuid.h>
#include <fmt/format.h>

#include <cstring>

#include "convjit/isa.hpp"

namespace convjit::detail {

const char* fma_units_name(FmaUnits units) {
  switch (units) {
    case FmaUnits::kAvx2Only: return "avx2-only";
    case FmaUnits::kAvx512Split: return "avx512-split";
    case FmaUnits::kAvx512Full: return "avx512-full";
  }
  return "unknown";
}

const CpuIdentity& host_cpu_identity() {
  static const CpuIdentity identity = [] {
    CpuIdentity id;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return id;
    char vendor[13] = {};
    std::memcpy(vendor, &ebx, 4);
    std::memcpy(vendor + 4, &edx, 4);
    std::memcpy(vendor + 8, &ecx, 4);
    id.vendor = vendor;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return id;
    const int base_family = static_cast<int>((eax >> 8) & 0xF);
    const int base_model = static_cast<int>((eax >> 4) & 0xF);
    id.family =
        base_family == 0xF ? base_family + static_cast<int>((eax >> 20) & 0xFF) : base_family;
    id.model = base_family == 0xF || base_family == 0x6
                   ? base_model + (static_cast<int>((eax >> 16) & 0xF) << 4)
                   : base_model;
    return id;
  }();
  return identity;
}

FmaUnits classify_fma_units(const CpuIdentity& cpu, bool has_avx512, std::string* why) {
  auto say = [&](FmaUnits units, const std::string& reason) {
    if (why) {
      *why = fmt::format("{} (cpuid: {} family {} model {}: {})", fma_units_name(units),
                         cpu.vendor.empty() ? "unknown vendor" : cpu.vendor, cpu.family, cpu.model,
                         reason);
    }
    return units;
  };
  if (!has_avx512) return say(FmaUnits::kAvx2Only, "no AVX-512");
  if (cpu.vendor == "AuthenticAMD" && cpu.family == 25) {
    return say(FmaUnits::kAvx512Split, "Zen 4 runs each 512-bit FMA as two 256-bit halves");
  }
  if (cpu.vendor == "AuthenticAMD" && cpu.family >= 26) {
    return say(FmaUnits::kAvx512Full, "Zen 5 and later have 512-bit FMA units");
  }
  if (cpu.vendor == "GenuineIntel") {
    return say(FmaUnits::kAvx512Full, "Intel AVX-512 cores have 512-bit FMA units");
  }
  return say(FmaUnits::kAvx512Full, "an AVX-512 CPU not in the table: assumed full width");
}

FmaUnits host_fma_units(std::string* why) {
  static std::string reason;
  static const FmaUnits units =
      classify_fma_units(host_cpu_identity(), host_supports(Isa::kAvx512), &reason);
  if (why) *why = reason;
  return units;
}

}  // namespace convjit::detail
