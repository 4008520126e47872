// Owners of C API handles in tests, so that a failing assertion does not leak them.
#pragma once

#include "convjit/convjit.h"

namespace convjit::capi_test {

struct KernelHandle {
  convjit_kernel* k = nullptr;
  ~KernelHandle() { convjit_kernel_destroy(k); }
};
struct WeightsHandle {
  convjit_weights* w = nullptr;
  ~WeightsHandle() { convjit_weights_destroy(w); }
};
struct JitHandle {
  convjit_jit* j = nullptr;
  ~JitHandle() { convjit_jit_destroy(j); }
};
struct StreamKernelHandle {
  convjit_stream_kernel* k = nullptr;
  ~StreamKernelHandle() { convjit_stream_kernel_destroy(k); }
};
struct StateHandle {
  convjit_stream_state* s = nullptr;
  ~StateHandle() { convjit_stream_state_destroy(s); }
};

}  // namespace convjit::capi_test
