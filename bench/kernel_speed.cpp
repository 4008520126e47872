// kernel_speed — times the Xbyak kernels of the suite shapes straight through their entry()
// (one thread, channels_last, no runtime, no reorders): GFLOP/s, % of the 1-core peak, the
// code generation time and, with --check, the largest error against the reference.
//
//   convjit_kernel_speed [--isa avx2|avx512] [--only name,name] [--check] [--reps R]
//                        [--set "tile_t=4 tile_oc_vecs=3 ..."] [--onednn] [--onednn-all]
//                        [--in-offset F] [--out-offset F]
// --set overrides fields of the default schedule (the heuristic's) for every shape.
// --onednn also times oneDNN (1 thread, every formulation, the best kept) with the same
// thread-CPU-time clock, so that the ratio holds on a loaded machine. --onednn-all also prints
// every formulation's GFLOP/s (1d_nwc is oneDNN on convjit's channels_last, no reorders).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "compiler/backend/xbyak/generate.hpp"
#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/error.hpp"
#include "harness/onednn_runner.hpp"
#include "harness/peak_probe.hpp"
#include "harness/suite.hpp"

namespace {

using namespace convjit;
using namespace convjit::detail;
using Clock = std::chrono::steady_clock;

constexpr double kPeakGflops = 117.4;  // 1 core, shared/anchors/ANCHORS.md

// 64-byte aligned float buffer.
struct Aligned {
  explicit Aligned(std::size_t n) : floats(n) {
    data = static_cast<float*>(
        std::aligned_alloc(64, std::max<std::size_t>(64, (n * 4 + 63) / 64 * 64)));
  }
  ~Aligned() { std::free(data); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
  std::size_t floats;
  float* data;
};

Schedule with_overrides(const Schedule& base, const std::string& set) {
  std::map<std::string, std::string> fields;
  std::vector<std::string> order;
  auto add = [&](const std::string& text) {
    std::istringstream in(text);
    std::string token;
    while (in >> token) {
      const std::size_t eq = token.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = token.substr(0, eq);
      if (fields.count(key) == 0) order.push_back(key);
      fields[key] = token.substr(eq + 1);
    }
  };
  add(to_string(base));
  add(set);
  std::string text;
  for (const std::string& key : order) text += key + "=" + fields[key] + " ";
  return parse_schedule(text);
}

// Thread CPU seconds: time spent preempted on the shared machine does not count.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median thread-CPU seconds of one call of `fn`, samples of about 20 ms.
template <class Fn>
double time_calls(Fn&& fn, int reps) {
  fn();
  const double c0 = cpu_seconds();
  fn();
  const double one = cpu_seconds() - c0;
  const int iters = static_cast<int>(std::clamp(0.02 / std::max(one, 1e-7), 1.0, 200000.0));
  std::vector<double> samples;
  for (int r = 0; r < reps; ++r) {
    const double t0 = cpu_seconds();
    for (int it = 0; it < iters; ++it) fn();
    samples.push_back((cpu_seconds() - t0) / iters);
  }
  return median(samples);
}

// oneDNN's best formulation of `shape` (1 thread): seconds per call and its description;
// {0, reason} when oneDNN is absent or rejects every formulation.
std::pair<double, std::string> time_onednn(const harness::SuiteShape& shape, const float* input,
                                           const float* kernel, const float* bias, int reps,
                                           bool print_each) {
  if (!harness::onednn_available()) return {0.0, "oneDNN absent"};
  harness::onednn_set_threads(1);
  double best = 0.0;
  std::string what = "no formulation";
  for (const harness::OnednnFormulation f : harness::all_onednn_formulations()) {
    try {
      harness::OnednnRunner runner(shape, Activation::kLinear, f, input, kernel, bias);
      const double sec = time_calls([&] { runner.run(); }, std::max(3, reps / 2));
      if (print_each) {
        fmt::print("  oneDNN {:<10} {:>9.2f} {:>8.1f}  {}\n", harness::onednn_formulation_name(f),
                   sec * 1e6, shape.flops / sec * 1e-9, runner.describe());
      }
      if (best == 0.0 || sec < best) {
        best = sec;
        what = runner.describe();
      }
    } catch (const Error&) {
      continue;
    }
  }
  return {best, what};
}

}  // namespace

int main(int argc, char** argv) {
  std::string only, set, shapes;
  Isa isa = Isa::kAvx2;
  bool check = false;
  bool dump = false;  // writes the code to /tmp/kernel_speed_<shape>.bin
  bool onednn = false, onednn_all = false;
  int reps = 7;
  std::size_t out_offset = 0;  // floats: moves the output against the input (4K aliasing)
  std::size_t in_offset = 0;   // floats: misaligns the input (a std::vector is 16 bytes in)
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--only")
      only = "," + next() + ",";
    else if (arg == "--set")
      set = next();
    else if (arg == "--check")
      check = true;
    else if (arg == "--shapes")
      shapes = next();
    else if (arg == "--dump")
      dump = true;
    else if (arg == "--onednn")
      onednn = true;
    else if (arg == "--onednn-all")
      onednn = onednn_all = true;
    else if (arg == "--out-offset")
      out_offset = static_cast<std::size_t>(std::atoi(next().c_str()));
    else if (arg == "--in-offset")
      in_offset = static_cast<std::size_t>(std::atoi(next().c_str()));
    else if (arg == "--reps")
      reps = std::max(1, std::atoi(next().c_str()));
    else if (arg == "--isa")
      isa = next() == "avx512" ? Isa::kAvx512 : Isa::kAvx2;
    else {
      fmt::print(stderr, "unknown argument {}\n", arg);
      return 2;
    }
  }
  // --shapes FILE: another suite CSV (name,N,L,Cin,F,K,s,d,g,pad) for experiments.
  const std::vector<harness::SuiteShape> suite = harness::read_suite(
      shapes.empty() ? std::string(CONVJIT_SHARED_DIR) + "/anchors/suite.csv" : shapes);
  const double peak = harness::measure_fma_peak(harness::FmaWidth::kYmm, 1, 0.1);
  fmt::print("measured ymm FMA peak {:.1f} GFLOP/s (nominal {:.1f}); %peak is of the nominal\n",
             peak, kPeakGflops);
  fmt::print("{:<13} {:>9} {:>8} {:>6} {:>6} {:>7} {:>8}  schedule\n", "shape", "us/call",
             "GFLOP/s", "%peak", "%probe", "gen_us", "maxerr");
  for (const harness::SuiteShape& shape : suite) {
    if (!only.empty() && only.find("," + shape.name + ",") == std::string::npos) continue;
    const Problem p = make_problem(shape.spec(), shape.input_shape());
    const Schedule s = with_overrides(default_schedule(p, isa), set);
    const auto g0 = Clock::now();
    std::unique_ptr<GeneratedKernel> kernel = generate_xbyak(p, s);
    const double gen_us = std::chrono::duration<double, std::micro>(Clock::now() - g0).count();

    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    Aligned input_storage(static_cast<std::size_t>(p.input_size()) + in_offset);
    struct {
      float* data;
      std::size_t floats;
    } input{input_storage.data + in_offset, static_cast<std::size_t>(p.input_size())};
    std::vector<float> keras(static_cast<std::size_t>(p.kernel_size_elems()));
    std::vector<float> bias(static_cast<std::size_t>(p.filters));
    for (std::size_t i = 0; i < input.floats; ++i) input.data[i] = dist(rng);
    for (float& v : keras) v = dist(rng);
    for (float& v : bias) v = dist(rng);
    Aligned packed(kernel->packed_weights_floats());
    kernel->pack_weights(keras.data(), packed.data);
    Aligned output_storage(static_cast<std::size_t>(p.output_size()) + out_offset);
    float* const out_data = output_storage.data + out_offset;
    Aligned scratch(kernel->scratch_floats(p.length) + 1);
    KernelArgs a;
    a.input = input.data;
    a.weights = packed.data;
    a.bias = bias.data();
    a.output = out_data;
    a.scratch = scratch.data;
    a.length = p.length;
    a.out_length = p.out_length;
    a.pad_left = p.pad_left;
    a.n_begin = 0;
    a.n_end = p.batch;
    a.t_begin = 0;
    a.t_end = p.out_length;
    a.oc_begin = 0;
    a.oc_end = p.filters;
    const KernelEntry entry = kernel->entry();

    if (dump) {
      const std::string path = "/tmp/kernel_speed_" + shape.name + ".bin";
      if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(kernel->code(), 1, kernel->code_size(), f);
        std::fclose(f);
      }
    }
    entry(&a);
    double max_err = -1.0;
    if (check) {
      std::vector<float> ref(static_cast<std::size_t>(p.output_size()));
      reference_conv1d(p, input.data, keras.data(), bias.data(), ref.data());
      max_err = 0.0;
      for (std::size_t i = 0; i < ref.size(); ++i) {
        max_err = std::max(max_err, static_cast<double>(std::fabs(ref[i] - out_data[i])));
      }
    }
    const double sec = time_calls([&] { entry(&a); }, reps);
    const double probe = harness::measure_fma_peak(harness::FmaWidth::kYmm, 1, 0.03);
    const double gflops = p.flops() / sec * 1e-9;
    fmt::print("{:<13} {:>9.2f} {:>8.1f} {:>5.1f}% {:>5.1f}% {:>7.1f} {:>8.2g}  {}\n", shape.name,
               sec * 1e6, gflops, 100.0 * gflops / kPeakGflops, 100.0 * gflops / probe, gen_us,
               max_err, to_string(s));
    if (onednn) {
      const auto [dnnl_sec, what] =
          time_onednn(shape, input.data, keras.data(), bias.data(), reps, onednn_all);
      const double dnnl_gflops = dnnl_sec > 0.0 ? p.flops() / dnnl_sec * 1e-9 : 0.0;
      fmt::print("  oneDNN      {:>9.2f} {:>8.1f}        {:>5.1f}%  ratio {:.2f}  {}\n",
                 dnnl_sec * 1e6, dnnl_gflops, 100.0 * dnnl_gflops / probe,
                 dnnl_gflops > 0.0 ? gflops / dnnl_gflops : 0.0, what);
    }
  }
  return 0;
}
