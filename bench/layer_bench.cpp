// convjit_layer_bench — what the Keras layer costs on top of its kernel: for suite shapes
// (default wavenet_d1 and small), the per-call time of
//   kernel   Kernel::run with the layer's own kernel (any batch, any length), packed weights
//            and an output made once: the floor a layer call can reach;
//   into     layer.call_into(x, y) on the same buffers;
//   call     layer(x), which returns a new tensor (an allocation and its first touch);
//   static   Kernel::run with a kernel compiled for this exact shape (what `convjit bench`
//            times), for the price of a dynamic length.
// The variants run interleaved, in rotating order, `--rounds` times; each round times enough
// calls to last about 5 ms per variant. The median per-call time of each variant over the
// rounds is printed with its ratio to `kernel`. Outputs are checked bit for bit
// (into == call == kernel); a mismatch exits 1.
//
//   convjit_layer_bench [--suite CSV] [--shape NAME]... [--all] [--threads N] [--rounds R]
//                       [--quick]
// --quick: 3 rounds of about 1 ms, shapes shrunk to at most 2 MFLOP (a smoke test for ctest).
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "convjit/convjit.hpp"
#include "harness/bench_report.hpp"
#include "harness/convjit_runner.hpp"
#include "harness/stats.hpp"
#include "harness/suite.hpp"

namespace {

using namespace convjit;
using convjit::harness::CacheLineAllocator;
using AlignedVector = std::vector<float, CacheLineAllocator<float>>;

struct Options {
  std::string suite = std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv";
  std::vector<std::string> shapes;
  bool all = false;
  int threads = 1;
  int rounds = 41;
  bool quick = false;
};

struct Variant {
  const char* name;
  const char* what;
  std::function<void()> call;
  std::vector<double> per_call_us = {};
};

AlignedVector random_values(std::int64_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  AlignedVector v(static_cast<std::size_t>(count));
  for (float& x : v) x = u(rng);
  return v;
}

double per_call_us(const std::function<void()>& call, int calls) {
  const double t0 = harness::now_seconds();
  for (int i = 0; i < calls; ++i) call();
  return (harness::now_seconds() - t0) * 1e6 / calls;
}

bool same_bits(const float* a, const float* b, std::int64_t n) {
  return std::memcmp(a, b, static_cast<std::size_t>(n) * sizeof(float)) == 0;
}

/// Times one shape and prints its rows; false when the outputs disagree.
bool bench_shape(const harness::SuiteShape& shape, const Options& opt) {
  const Conv1DSpec spec = shape.spec();
  Conv1D layer(spec);
  layer.set_threads(opt.threads);
  layer.build(shape.input_shape());
  AlignedVector x = random_values(shape.input_elems(), 1);
  AlignedVector w = random_values(shape.kernel_elems(), 2);
  AlignedVector b = random_values(shape.filters, 3);
  layer.set_weights(
      {Tensor::view(w.data(), {shape.kernel, shape.in_channels / shape.groups, shape.filters}),
       Tensor::view(b.data(), {shape.filters})});
  const Tensor input = Tensor::view(x.data(), {shape.batch, shape.length, shape.in_channels});
  AlignedVector y(static_cast<std::size_t>(shape.output_elems()));
  Tensor output = Tensor::view(y.data(), {shape.batch, shape.out_length, shape.filters});
  layer.call_into(input, output);  // compiles and packs

  CompileOptions options;
  options.threads = opt.threads;
  const Kernel dynamic = Jit::default_jit().compile(spec, {kDynamic, kDynamic, shape.in_channels},
                                                    options);  // the layer's, from the cache
  const Kernel fixed = Jit::default_jit().compile(spec, shape.input_shape(), options);
  const PackedWeights dynamic_w = dynamic.pack_weights(w.data(), b.data());
  const PackedWeights fixed_w = fixed.pack_weights(w.data(), b.data());

  std::vector<Variant> variants = {
      {"kernel", "Kernel::run, the layer's kernel",
       [&] { dynamic.run(x.data(), dynamic_w, y.data(), shape.batch, shape.length); }},
      {"into", "layer.call_into(x, y)", [&] { layer.call_into(input, output); }},
      {"call", "y = layer(x)", [&] { Tensor fresh = layer(input); }},
      {"static", "Kernel::run, static-shape kernel",
       [&] { fixed.run(x.data(), fixed_w, y.data(), shape.batch, shape.length); }},
  };

  // Bit for bit: the layer's two calls and its kernel.
  AlignedVector want(y.size());
  dynamic.run(x.data(), dynamic_w, want.data(), shape.batch, shape.length);
  layer.call_into(input, output);
  const Tensor called = layer(input);
  const bool same = same_bits(y.data(), want.data(), shape.output_elems()) &&
                    same_bits(called.data(), want.data(), shape.output_elems());

  const double round_seconds = opt.quick ? 1e-3 : 5e-3;
  for (Variant& v : variants) per_call_us(v.call, 2);  // warm-up
  const double one_us = per_call_us(variants[0].call, 3);
  const int calls = std::max(1, static_cast<int>(round_seconds * 1e6 / std::max(one_us, 1e-3)));
  const int rounds = opt.quick ? 3 : opt.rounds;
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < variants.size(); ++i) {
      Variant& v = variants[(i + static_cast<std::size_t>(r)) % variants.size()];
      v.per_call_us.push_back(per_call_us(v.call, calls));
    }
  }

  fmt::print("{}: {}x{}x{} -> {}, K{} s{} d{} g{} {}; {} thread(s), {}; {} rounds of {} call(s)\n",
             shape.name, shape.batch, shape.length, shape.in_channels, shape.filters, shape.kernel,
             shape.stride, shape.dilation, shape.groups, padding_name(shape.padding), opt.threads,
             isa_name(dynamic.isa()), rounds, calls);
  const double base = harness::median(variants[0].per_call_us);
  for (const Variant& v : variants) {
    const double us = harness::median(v.per_call_us);
    fmt::print("  {:<7} {:<34} {:>11.2f} us  {:>7.1f} GFLOP/s  {:.3f}x kernel\n", v.name, v.what,
               us, shape.flops / us * 1e-3, us / base);
  }
  if (!same) fmt::print("  MISMATCH: the layer's output differs from Kernel::run's\n");
  return same;
}

int usage() {
  std::fprintf(stderr,
               "usage: convjit_layer_bench [--suite CSV] [--shape NAME]... [--all] "
               "[--threads N] [--rounds R] [--quick]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--suite" && has_value) {
      opt.suite = argv[++i];
    } else if (a == "--shape" && has_value) {
      opt.shapes.push_back(argv[++i]);
    } else if (a == "--all") {
      opt.all = true;
    } else if (a == "--threads" && has_value) {
      opt.threads = std::atoi(argv[++i]);
    } else if (a == "--rounds" && has_value) {
      opt.rounds = std::atoi(argv[++i]);
    } else if (a == "--quick") {
      opt.quick = true;
    } else {
      return usage();
    }
  }
  if (opt.threads < 1 || opt.rounds < 1) return usage();
  if (opt.shapes.empty() && !opt.all) opt.shapes = {"wavenet_d1", "small"};
  try {
    const std::vector<harness::SuiteShape> suite = harness::read_suite(opt.suite);
    std::vector<harness::SuiteShape> chosen;
    if (opt.all) chosen = suite;
    for (const std::string& name : opt.shapes) {
      const int at = harness::find_shape(suite, name);
      if (at < 0) {
        std::fprintf(stderr, "convjit_layer_bench: no shape %s in %s\n", name.c_str(),
                     opt.suite.c_str());
        return 2;
      }
      if (!opt.all) chosen.push_back(suite[static_cast<std::size_t>(at)]);
    }
    fmt::print("convjit_layer_bench: {}, median per-call time over interleaved rounds\n",
               harness::cpu_model_name());
    bool ok = true;
    for (const harness::SuiteShape& s : chosen) {
      ok = bench_shape(opt.quick ? harness::shrink_to_flops(s, 2e6) : s, opt) && ok;
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convjit_layer_bench: %s\n", e.what());
    return 1;
  }
}
