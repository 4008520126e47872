#include "harness/peak_probe.hpp"

#include <fmt/format.h>

#include <xbyak/xbyak.h>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <thread>
#include <vector>

#include "convjit/error.hpp"
#include "convjit/isa.hpp"

namespace convjit::harness {
namespace {

// void loop(std::uint64_t iterations): `chains` accumulators, each iteration one
// vfmadd231ps per accumulator from two fixed source registers. The accumulators are
// independent, so the loop runs at FMA throughput once chains >= latency * ports.
class FmaLoop : public Xbyak::CodeGenerator {
 public:
  FmaLoop(FmaWidth width, int chains) : Xbyak::CodeGenerator(4096, Xbyak::DontSetProtectRWE) {
    const bool zmm = width == FmaWidth::kZmm;
    const int max_chains = zmm ? 30 : 14;
    if (chains < 1 || chains > max_chains) {
      throw Error(ErrorCode::kInvalidValue, "chains",
                  fmt::format("The FMA probe takes 1 to {} chains. Received: chains={}", max_chains,
                              chains));
    }
    // Near jumps everywhere: the zmm loop body is longer than a short jump reaches, and
    // code generation must not depend on the host (tests generate both widths anywhere).
    setDefaultJmpNEAR(true);
    auto reg = [zmm](int i) -> Xbyak::Xmm {
      if (zmm) return Xbyak::Zmm(i);
      return Xbyak::Ymm(i);
    };
    const Xbyak::Xmm a = reg(max_chains), b = reg(max_chains + 1);
    vxorps(a, a, a);
    vxorps(b, b, b);
    for (int i = 0; i < chains; ++i) vxorps(reg(i), reg(i), reg(i));
    Xbyak::Label loop, done;
    test(rdi, rdi);
    jz(done);
    L(loop);
    for (int i = 0; i < chains; ++i) vfmadd231ps(reg(i), a, b);
    dec(rdi);
    jnz(loop);
    L(done);
    vzeroupper();
    ret();
    setProtectModeRE();
  }

  void run(std::uint64_t iterations) const { getCode<void (*)(std::uint64_t)>()(iterations); }
  std::vector<std::uint8_t> bytes() const { return {getCode(), getCode() + getSize()}; }
};

// CPU seconds of the calling thread: unlike wall time, it leaves out the time the thread
// was preempted, so a probe on a shared, loaded machine still sees the core's throughput.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Iterations per CPU second of one run on the calling thread.
double rate_on_this_thread(const FmaLoop& loop, std::uint64_t iterations) {
  const double t0 = thread_cpu_seconds();
  loop.run(iterations);
  const double t = thread_cpu_seconds() - t0;
  return t > 0 ? static_cast<double>(iterations) / t : 0.0;
}

// The summed iteration rates of `threads` threads each running `iterations`, started
// together.
double rate_of_threads(const FmaLoop& loop, int threads, std::uint64_t iterations) {
  if (threads == 1) return rate_on_this_thread(loop, iterations);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> rates(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      rates[static_cast<std::size_t>(i)] = rate_on_this_thread(loop, iterations);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& t : pool) t.join();
  double total = 0.0;
  for (const double r : rates) total += r;
  return total;
}

}  // namespace

std::vector<std::uint8_t> fma_probe_code(FmaWidth width, int chains) {
  return FmaLoop(width, chains).bytes();
}

double measure_fma_peak(FmaWidth width, int threads, double seconds, int chains) {
  if (threads < 1) {
    throw Error(ErrorCode::kInvalidValue, "threads",
                fmt::format("threads must be >= 1. Received: threads={}", threads));
  }
  if (width == FmaWidth::kZmm && !host_supports(Isa::kAvx512)) {
    throw Error(ErrorCode::kUnsupported, "isa", "The host CPU has no AVX-512F for a zmm probe");
  }
  if (width == FmaWidth::kYmm && !host_supports(Isa::kAvx2)) {
    throw Error(ErrorCode::kUnsupported, "isa", "The host CPU has no AVX2+FMA for a ymm probe");
  }
  const FmaLoop loop(width, chains);
  const double flops_per_iter = 2.0 * chains * (width == FmaWidth::kZmm ? 16 : 8);
  // Calibrate on one thread (which also ramps the clock up): grow the count until a run
  // takes >= 2 ms of CPU time.
  std::uint64_t iterations = 1u << 14;
  double t = 0.0;
  while (true) {
    const double rate = rate_on_this_thread(loop, iterations);
    t = rate > 0 ? static_cast<double>(iterations) / rate : 0.0;
    if (t >= 0.002 || iterations >= (std::uint64_t{1} << 40)) break;
    iterations *= 4;
  }
  // kRounds short rounds; the best one is the peak (short rounds dodge interruptions).
  constexpr int kRounds = 8;
  iterations = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(static_cast<double>(iterations) * seconds / kRounds / t));
  double best = 0.0;
  for (int round = 0; round < kRounds; ++round) {
    best = std::max(best, flops_per_iter * rate_of_threads(loop, threads, iterations));
  }
  return best * 1e-9;
}

double PeakInfo::peak(bool zmm_allowed, int thread_count) const {
  const bool many = thread_count > 1;
  if (zmm_allowed && has_zmm) return std::max(many ? zmm_nt : zmm_1t, many ? ymm_nt : ymm_1t);
  return many ? ymm_nt : ymm_1t;
}

PeakInfo measure_peaks(int threads, double seconds) {
  PeakInfo info;
  info.threads = threads;
  info.ymm_1t = measure_fma_peak(FmaWidth::kYmm, 1, seconds);
  info.ymm_nt = threads > 1 ? measure_fma_peak(FmaWidth::kYmm, threads, seconds) : info.ymm_1t;
  info.has_zmm = host_supports(Isa::kAvx512);
  if (info.has_zmm) {
    info.zmm_1t = measure_fma_peak(FmaWidth::kZmm, 1, seconds, 24);
    info.zmm_nt =
        threads > 1 ? measure_fma_peak(FmaWidth::kZmm, threads, seconds, 24) : info.zmm_1t;
  }
  return info;
}

}  // namespace convjit::harness
