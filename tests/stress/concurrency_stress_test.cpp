// Many threads compiling and running mixed shapes through one small cache (evictions under
// load) for a bounded time: every result equals the reference and the bits of a 1-thread
// run, the cache counters add up, and no thread hangs (a watchdog aborts on deadlock).
// CONVJIT_STRESS_SECONDS sets the duration (default 2). Leaks: LeakSanitizer in the asan
// build (scripts/sanitizers.sh); races: the tsan build.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "convjit/convjit.hpp"

namespace convjit {
namespace {

/// Options with a cache of `capacity` kernels (other fields at their defaults).
JitOptions jit_options(std::size_t capacity) {
  JitOptions o;
  o.capacity = capacity;
  return o;
}

double stress_seconds() {
  const char* s = std::getenv("CONVJIT_STRESS_SECONDS");
  const double v = s ? std::atof(s) : 2.0;
  return v > 0 ? v : 2.0;
}

/// One run of one configuration, with its expected output.
struct RunCase {
  std::int64_t batch = 1, length = 1;
  std::vector<float> input;
  std::vector<float> want;  ///< the reference
  std::vector<float> bits;  ///< a 1-thread run: every run must give exactly these bits
  double atol = 0;
};

/// A spec and shape class, its weights, and a few runs.
struct Config {
  std::string name;
  Conv1DSpec spec;
  Shape3 shape{};
  std::string schedule;
  std::vector<float> kernel, bias;
  PackedWeights shared_weights;  ///< packed once, used by every recompiled kernel
  std::vector<RunCase> runs;
};

Conv1DSpec make(std::int64_t filters, std::int64_t k, Padding pad, Activation act,
                DataFormat df = DataFormat::kChannelsLast, std::int64_t groups = 1,
                std::int64_t strides = 1, std::int64_t dilation = 1) {
  Conv1DSpec s;
  s.filters = filters;
  s.kernel_size = k;
  s.padding = pad;
  s.activation = act;
  s.data_format = df;
  s.groups = groups;
  s.strides = strides;
  s.dilation_rate = dilation;
  return s;
}

/// Multiples of 1/8 in [-0.25, 0.25]: the convolution is exact in float.
std::vector<float> exact_values(std::int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-2, 2);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = 0.125f * static_cast<float>(d(rng));
  return v;
}

std::vector<Config> make_configs() {
  const auto cl = DataFormat::kChannelsLast, cf = DataFormat::kChannelsFirst;
  struct Def {
    const char* name;
    Conv1DSpec spec;
    std::int64_t channels;
    bool dyn_batch, dyn_length;
    std::int64_t batch, length;
    const char* schedule;
  };
  const std::vector<Def> defs = {
      {"direct_same_relu", make(16, 3, Padding::kSame, Activation::kRelu), 8, false, false, 2, 37,
       ""},
      {"direct_tiled", make(16, 3, Padding::kSame, Activation::kRelu), 8, false, false, 2, 37,
       "tile_t=3 tile_oc_vecs=1"},
      {"dilated_causal_gelu", make(24, 5, Padding::kCausal, Activation::kGelu, cl, 1, 1, 2), 12,
       false, true, 1, 0, ""},
      {"depthwise_silu", make(16, 7, Padding::kSame, Activation::kSilu, cl, 16), 16, true, false, 0,
       50, ""},
      {"channels_first_strided_tanh", make(8, 3, Padding::kValid, Activation::kTanh, cf, 1, 2), 4,
       false, true, 2, 0, ""},
      {"pointwise_glu", make(16, 1, Padding::kValid, Activation::kGlu), 8, true, true, 0, 0, ""},
      {"softmax_channels", make(10, 3, Padding::kSame, Activation::kSoftmax), 5, false, false, 3,
       29, ""},
      {"grouped", make(32, 3, Padding::kValid, Activation::kElu, cl, 4), 16, false, true, 1, 0,
       "loop_order=btc"},
      {"softmax_over_time", make(6, 2, Padding::kCausal, Activation::kSoftmax, cf), 3, false, false,
       2, 21, ""},
      {"wide_elu", make(64, 3, Padding::kSame, Activation::kElu), 32, true, false, 0, 64, ""},
  };
  std::mt19937 rng(42);
  std::vector<Config> configs;
  for (const Def& d : defs) {
    Config c;
    c.name = d.name;
    c.spec = d.spec;
    c.schedule = d.schedule;
    const bool is_cl = d.spec.data_format == cl;
    const std::int64_t n = d.dyn_batch ? kDynamic : d.batch;
    const std::int64_t l = d.dyn_length ? kDynamic : d.length;
    c.shape = is_cl ? Shape3{n, l, d.channels} : Shape3{n, d.channels, l};
    const std::int64_t icg = d.channels / d.spec.groups;
    c.kernel = exact_values(d.spec.kernel_size * icg * d.spec.filters, rng);
    c.bias = exact_values(d.spec.filters, rng);
    std::vector<std::pair<std::int64_t, std::int64_t>> runs;
    for (std::int64_t b : d.dyn_batch ? std::vector<std::int64_t>{1, 3} : std::vector{d.batch}) {
      for (std::int64_t len :
           d.dyn_length ? std::vector<std::int64_t>{9, 40, 71} : std::vector{d.length}) {
        runs.emplace_back(b, len);
      }
    }
    for (const auto& [b, len] : runs) {
      RunCase r;
      r.batch = b;
      r.length = len;
      const Shape3 run_shape = is_cl ? Shape3{b, len, d.channels} : Shape3{b, d.channels, len};
      const detail::Problem p = detail::make_problem(d.spec, run_shape);
      r.input = exact_values(p.input_size(), rng);
      r.want.resize(static_cast<std::size_t>(p.output_size()));
      detail::reference_conv1d(p, r.input.data(), c.kernel.data(), c.bias.data(), r.want.data());
      // FORMAT.md: atol * max(1, acc_scale); |x*w| <= 1/16 per tap, |b| <= 1/4.
      r.atol = 1e-5 * std::max(1.0, static_cast<double>(d.spec.kernel_size * icg) / 16.0 + 0.25);
      c.runs.push_back(std::move(r));
    }
    configs.push_back(std::move(c));
  }
  return configs;
}

CompileOptions options_of(const Config& c, int threads) {
  CompileOptions o;
  o.schedule = c.schedule;
  o.threads = threads;
  return o;
}

std::string check_run(const Config& c, const RunCase& r, const std::vector<float>& got) {
  if (got.size() != r.want.size()) return c.name + ": wrong output size";
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = r.want[i];
    if (!(std::fabs(g - w) <= r.atol + 1e-4 * std::fabs(w))) {
      return c.name + " length " + std::to_string(r.length) + ": output " + std::to_string(i) +
             " = " + std::to_string(g) + ", reference " + std::to_string(w);
    }
  }
  if (!r.bits.empty() && std::memcmp(got.data(), r.bits.data(), got.size() * 4) != 0) {
    return c.name + " length " + std::to_string(r.length) + ": bits differ from a 1-thread run";
  }
  return "";
}

TEST(ConcurrencyStress, ManyThreadsCompileAndRunThroughASmallCache) {
  std::vector<Config> configs = make_configs();
  Jit jit(jit_options(3));
  // Expected bits from 1-thread runs, and weights packed once per config.
  for (Config& c : configs) {
    const Kernel k = jit.compile(c.spec, c.shape, options_of(c, 1));
    c.shared_weights = k.pack_weights(c.kernel.data(), c.bias.data());
    for (RunCase& r : c.runs) {
      std::vector<float> got(r.want.size());
      k.run(r.input.data(), c.shared_weights, got.data(), r.batch, r.length);
      ASSERT_EQ(check_run(c, r, got), "");
      r.bits = got;
    }
  }
  const CacheStats before = jit.stats();

  const int workers = 8;
  const auto duration = std::chrono::duration<double>(stress_seconds());
  std::atomic<bool> stop{false};
  std::atomic<int> finished{0};
  std::atomic<long> runs_done{0};
  std::mutex failure_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < workers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(1000 + t));
      std::vector<float> out;
      while (!stop.load(std::memory_order_relaxed)) {
        const Config& c = configs[rng() % configs.size()];
        const RunCase& r = c.runs[rng() % c.runs.size()];
        try {
          const int run_threads = 1 + static_cast<int>(rng() % 3);
          const Kernel k = jit.compile(c.spec, c.shape, options_of(c, run_threads));
          // Half the runs pack their own weights, half share the ones packed at the start
          // (by a kernel that has been evicted and recompiled many times since).
          PackedWeights own;
          if (rng() % 2) own = k.pack_weights(c.kernel.data(), c.bias.data());
          out.assign(r.want.size(), -1.0f);
          k.run(r.input.data(), own.empty() ? c.shared_weights : own, out.data(), r.batch,
                r.length);
          const std::string problem = check_run(c, r, out);
          if (!problem.empty()) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            failures.push_back(problem);
          }
          runs_done.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(failure_mutex);
          failures.push_back(c.name + ": " + e.what());
        }
      }
      finished.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(duration);
  stop = true;
  // Watchdog: workers finish their current iteration within seconds, or something hangs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (finished.load() < workers) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr,
                   "ConcurrencyStress: %d of %d workers still running after 120 s: "
                   "deadlock\n",
                   workers - finished.load(), workers);
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (std::thread& th : threads) th.join();

  EXPECT_EQ(failures.size(), 0u) << (failures.empty() ? "" : failures.front());
  const CacheStats after = jit.stats();
  const std::uint64_t compiles = (after.hits - before.hits) + (after.misses - before.misses);
  if (failures.empty()) {
    EXPECT_EQ(compiles, static_cast<std::uint64_t>(runs_done.load()))
        << "every iteration is one compile(), a hit or a miss";
  }
  EXPECT_GT(after.evictions, before.evictions) << "10 configurations through 3 cache slots";
  EXPECT_LE(after.entries, 3u);
  EXPECT_GT(runs_done.load(), static_cast<long>(workers));
  std::printf("ConcurrencyStress: %ld runs, %llu misses, %llu evictions in %.1f s\n",
              runs_done.load(), static_cast<unsigned long long>(after.misses - before.misses),
              static_cast<unsigned long long>(after.evictions - before.evictions),
              duration.count());
}

}  // namespace
}  // namespace convjit
