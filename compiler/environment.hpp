// Environment — every CONVJIT_* variable the library reads, read once into one struct.
//
//   CONVJIT_ISA=avx2|avx512     the ISA of compiles with Isa::kAuto
//   CONVJIT_BACKEND=xbyak|llvm  the code generator of compiles with Backend::kAuto
//   CONVJIT_TUNING_DB=path      the tuning database of compiles that name none
//   CONVJIT_DUMP=dir            each new kernel's .bin, .s (and .ll) written there
//   CONVJIT_PERF_MAP=1          /tmp/perf-<pid>.map names each kernel for `perf report`
//   CONVJIT_DEBUG=2             the IR after every lowering pass, on stderr
//   CONVJIT_VERIFY=0|1          verify the IR after every pass (default: debug builds)
//   CONVJIT_LLVM_OPT=3          the LLVM backend's O3 pipeline instead of O2
#pragma once

#include <string>

namespace convjit::detail {

struct Environment {
  std::string isa;
  std::string backend;
  std::string tuning_db;
  std::string dump_dir;
  bool perf_map = false;  ///< set and neither empty nor "0"
  int debug = 0;          ///< CONVJIT_DEBUG as an integer (0 when unset)
  bool verify = false;    ///< CONVJIT_VERIFY != "0" when set, else !NDEBUG
  int llvm_opt = 2;       ///< 3 when CONVJIT_LLVM_OPT >= 3, else 2
};

/// The variables as read at the first call, or at the last reload_environment(): a hit is
/// one atomic load, so a kernel-cache hit never pays for getenv. Thread-safe.
const Environment& environment();

/// Reads every variable again (tests that setenv). Each value read stays alive, so a
/// reference from environment() never dangles; call it while no other thread compiles.
void reload_environment();

}  // namespace convjit::detail
