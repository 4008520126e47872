// OnednnRunner — the oneDNN peer of the bench: one formulation of a suite layer as a oneDNN
// convolution primitive, created once and executed in the timed loop. Compiled against
// oneDNN only when the build found it (CONVJIT_BENCH_HAVE_ONEDNN); otherwise every
// constructor throws Error(kUnsupported) and onednn_available() is false.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/suite.hpp"

namespace convjit::harness {

/// True when the bench was built with oneDNN.
bool onednn_available();
/// "oneDNN 2.6.3 (CPU runtime OMP)" or "oneDNN absent (built without libdnnl-dev)".
std::string onednn_description();
/// Sets oneDNN's thread count (the OpenMP runtime's omp_set_num_threads for the OMP
/// build). A no-op without oneDNN.
void onednn_set_threads(int threads);

/// The ways of handing a Conv1D to oneDNN.
enum class OnednnFormulation {
  k1dNwc,      ///< 1D conv, src/dst in Keras's nwc layout: no reorder at all
  k1dAny,      ///< 1D conv, src/dst `any`: oneDNN picks (blocked nCw16c/nCw8c)
  k1dBlocked,  ///< 1D conv, src/dst forced to nCw16c (AVX-512) or nCw8c (AVX2)
  k2dNhwc,     ///< 2D conv with H = 1, nhwc
  k2dAny,      ///< 2D conv with H = 1, `any`
  k2dBlocked,  ///< 2D conv with H = 1, forced to nChw16c (AVX-512) or nChw8c (AVX2)
};

/// Every formulation, in the order the bench tries them.
std::vector<OnednnFormulation> all_onednn_formulations();
/// "1d_nwc", "1d_any", "1d_blocked", "2d_nhwc", "2d_any", "2d_blocked".
const char* onednn_formulation_name(OnednnFormulation f);

/// True when oneDNN can fuse `activation` as eltwise post-ops (relu, elu, gelu, sigmoid,
/// tanh, swish, ...); the axis activations and a few rare ones (softsign, sparse_plus, ...)
/// have no oneDNN eltwise.
bool onednn_supports_activation(Activation activation);

/// One oneDNN convolution of a suite layer, bias and activation fused. Creation (primitive
/// descriptor, primitive, weight reorder, input reorder into a blocked layout) happens in
/// the constructor, outside any timed loop; run() only executes the primitive and waits.
class OnednnRunner {
 public:
  /// `input` (N, L, Cin) channels_last, `kernel` in Keras layout (K, Cin/g, F), `bias` F
  /// floats; they are copied or reordered here. Throws Error(kUnsupported) without oneDNN,
  /// for an activation oneDNN cannot fuse, or when oneDNN rejects the formulation.
  OnednnRunner(const SuiteShape& shape, Activation activation, OnednnFormulation formulation,
               const float* input, const float* kernel, const float* bias);
  ~OnednnRunner();
  OnednnRunner(const OnednnRunner&) = delete;
  OnednnRunner& operator=(const OnednnRunner&) = delete;

  /// Executes the primitive once (the timed part).
  void run();
  /// Executes it on `input` ((N, L, Cin) channels_last, the constructor's shape) in place of
  /// the constructor's copy, as a host whose data moves does: the nwc formulations take the
  /// pointer as their source, the others first reorder it into oneDNN's layout (timed too).
  void run_on(const float* input);
  /// The last run's output as (N, Lout, F) channels_last (reordered back if blocked).
  std::vector<float> output() const;

  OnednnFormulation formulation() const;
  /// Microseconds the constructor spent creating the primitive descriptor and primitive.
  double creation_us() const;
  /// The formulation and the layouts oneDNN chose, e.g. "1d_any (src nCw8c)", and the
  /// implementation name oneDNN reports, e.g. "jit:avx2".
  std::string describe() const;
  /// oneDNN's implementation name ("jit:avx2", "x64:gemm:jit", "ref:any", ...).
  std::string implementation() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convjit::harness
