// ISA detection: CPUID feature bits plus the OS's XSAVE state (XGETBV), and the
// CONVJIT_ISA override.
#include "convjit/isa.hpp"

#include <cpuid.h>
#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compiler/environment.hpp"
#include "convjit/error.hpp"

namespace convjit {
namespace {

struct HostFeatures {
  bool avx2 = false;    // AVX2 + FMA + OS saves ymm state
  bool avx512 = false;  // AVX-512 F/VL/BW/DQ + OS saves zmm and k state
};

std::uint64_t read_xcr0() {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

HostFeatures detect_host() {
  HostFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool fma = (ecx >> 12) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  if (!osxsave || !avx) return f;
  const std::uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool zmm_state = (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM_Hi256 + Hi16_ZMM
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  const bool avx2 = (ebx >> 5) & 1;
  const bool avx512f = (ebx >> 16) & 1;
  const bool avx512dq = (ebx >> 17) & 1;
  const bool avx512bw = (ebx >> 30) & 1;
  const bool avx512vl = (ebx >> 31) & 1;
  f.avx2 = avx2 && fma && ymm_state;
  f.avx512 = f.avx2 && zmm_state && avx512f && avx512dq && avx512bw && avx512vl;
  return f;
}

const HostFeatures& host() {
  static const HostFeatures features = detect_host();
  return features;
}

std::string host_isa_list() {
  if (host().avx512) return "avx2, avx512";
  if (host().avx2) return "avx2";
  return "neither avx2+fma nor avx512";
}

Isa best_host_isa() {
  if (host().avx512) return Isa::kAvx512;
  if (host().avx2) return Isa::kAvx2;
  throw Error(ErrorCode::kUnsupported, "isa",
              "This CPU supports neither AVX2+FMA nor AVX-512; convjit's JIT needs one of them");
}

}  // namespace

namespace detail {}  // namespace detail

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return "auto";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

std::optional<Isa> find_isa(std::string_view name) {
  for (Isa isa : {Isa::kAuto, Isa::kAvx2, Isa::kAvx512}) {
    if (name == isa_name(isa)) return isa;
  }
  return std::nullopt;
}

bool host_supports(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return host().avx2 || host().avx512;
    case Isa::kAvx2: return host().avx2;
    case Isa::kAvx512: return host().avx512;
  }
  return false;
}

Isa resolve_isa(Isa requested) {
  const char* source = "isa";  // what forced the ISA, for the message
  if (requested == Isa::kAuto) {
    const std::string& env = detail::environment().isa;
    if (!env.empty()) {
      const auto forced = find_isa(env);
      if (!forced) {
        throw Error(ErrorCode::kUnknownName, "isa",
                    fmt::format("Unknown isa in CONVJIT_ISA: {}. Expected one of: auto, avx2, "
                                "avx512",
                                env));
      }
      requested = *forced;
      source = "CONVJIT_ISA";
    }
  }
  if (requested == Isa::kAuto) return best_host_isa();
  if (!host_supports(requested)) {
    throw Error(ErrorCode::kUnsupported, "isa",
                fmt::format("{}={} is not supported by this CPU (it has: {})", source,
                            isa_name(requested), host_isa_list()));
  }
  return requested;
}

int vector_lanes(Isa isa) {
  switch (isa) {
    case Isa::kAvx2: return 8;
    case Isa::kAvx512: return 16;
    case Isa::kAuto: return vector_lanes(resolve_isa(Isa::kAuto));
  }
  return 8;
}

}  // namespace convjit
