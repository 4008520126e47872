// Linked against libconvjit.a: compiles and runs a layer through the C++ and the C API and
// compares both with the layer computed directly.
#include <convjit/convjit.h>
#include <convjit/convjit.hpp>
#include <convjit/version.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

int main() {
  if (std::strcmp(convjit_version(), CONVJIT_VERSION_STRING) != 0) {
    std::printf("library version %s != header version %s\n", convjit_version(),
                CONVJIT_VERSION_STRING);
    return 1;
  }
  // filters=3, kernel_size=2, valid, linear, 2 input channels, length 5.
  const int kLength = 5, kChannels = 2, kFilters = 3, kTaps = 2;
  std::vector<float> x(kLength * kChannels), w(kTaps * kChannels * kFilters), b(kFilters);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 4) - 1.0f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(i % 3) - 1.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.25f * float(i);
  const int kOut = kLength - kTaps + 1;
  std::vector<float> want(kOut * kFilters);
  for (int t = 0; t < kOut; ++t) {
    for (int f = 0; f < kFilters; ++f) {
      float sum = b[f];
      for (int k = 0; k < kTaps; ++k) {
        for (int c = 0; c < kChannels; ++c)
          sum += x[(t + k) * kChannels + c] * w[(k * kChannels + c) * kFilters + f];
      }
      want[t * kFilters + f] = sum;
    }
  }

  const convjit::Kernel kernel =
      convjit::compile(convjit::parse_spec("filters=3,kernel_size=2"), {1, kLength, kChannels});
  std::vector<float> y(static_cast<std::size_t>(kernel.output_size(1, kLength)));
  kernel.run(x.data(), kernel.pack_weights(w.data(), b.data()), y.data(), 1, kLength);

  const int64_t shape[3] = {1, kLength, kChannels};
  convjit_kernel* ck = nullptr;
  convjit_weights* cw = nullptr;
  std::vector<float> yc(y.size());
  if (convjit_compile(convjit_default_jit(), "filters=3,kernel_size=2", shape, nullptr, &ck) !=
          CONVJIT_OK ||
      convjit_kernel_pack_weights(ck, w.data(), b.data(), &cw) != CONVJIT_OK ||
      convjit_kernel_run(ck, x.data(), cw, yc.data(), 1, kLength) != CONVJIT_OK) {
    std::printf("C API: %s\n", convjit_last_error());
    return 1;
  }
  convjit_weights_destroy(cw);
  convjit_kernel_destroy(ck);

  double max_error = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    max_error = std::fmax(max_error, std::fabs(y[i] - want[i]));
    max_error = std::fmax(max_error, std::fabs(yc[i] - want[i]));
  }
  std::printf("static host: %s, max error %g: %s\n", kernel.name().c_str(), max_error,
              max_error <= 1e-5 ? "ok" : "FAILED");
  return max_error <= 1e-5 ? 0 : 1;
}
