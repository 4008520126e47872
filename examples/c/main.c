/* A C host using only convjit.h: compile a dilated causal Conv1D from Keras keyword text,
 * pack its weights once, run it on sequences of two lengths with the same kernel, check the
 * outputs against a few lines of plain C, and show the cache counters, the generated code
 * and how an error comes back. */
#include <convjit/convjit.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                \
  do {                                                                             \
    convjit_status status_ = (call);                                               \
    if (status_ != CONVJIT_OK) {                                                   \
      fprintf(stderr, "%s: %s [%s, argument '%s']\n", #call, convjit_last_error(), \
              convjit_status_name(status_), convjit_last_error_argument());        \
      exit(1);                                                                     \
    }                                                                              \
  } while (0)

enum { kChannels = 4, kFilters = 2, kTaps = 3, kDilation = 2 };

/* The layer computed directly: causal padding puts (kTaps-1)*kDilation zeros on the left. */
static float expected(const float* x, const float* w, const float* b, int64_t t, int f) {
  double sum = b[f];
  for (int k = 0; k < kTaps; ++k) {
    const int64_t s = t - (int64_t)(kTaps - 1 - k) * kDilation;
    if (s < 0) continue;
    for (int c = 0; c < kChannels; ++c)
      sum += x[s * kChannels + c] * w[(k * kChannels + c) * kFilters + f];
  }
  return (float)(sum > 0 ? sum : 0); /* relu */
}

static int run_length(const convjit_kernel* kernel, const convjit_weights* weights, const float* w,
                      const float* b, int64_t length) {
  int64_t in_size = 0, out_size = 0;
  CHECK(convjit_kernel_input_size(kernel, 1, length, &in_size));
  CHECK(convjit_kernel_output_size(kernel, 1, length, &out_size));
  float* x = malloc(sizeof(float) * (size_t)in_size);
  float* y = malloc(sizeof(float) * (size_t)out_size);
  for (int64_t i = 0; i < in_size; ++i) x[i] = (float)((i * 7) % 11) - 5.0f; /* small integers */
  CHECK(convjit_kernel_run(kernel, x, weights, y, 1, length));

  double max_error = 0;
  for (int64_t t = 0; t < length; ++t) {
    for (int f = 0; f < kFilters; ++f) {
      const double e = fabs(y[t * kFilters + f] - expected(x, w, b, t, f));
      if (e > max_error) max_error = e;
    }
  }
  printf("length %lld: y[0..3] = %g %g %g %g, max error %g: %s\n", (long long)length, y[0], y[1],
         y[2], y[3], max_error, max_error <= 1e-4 ? "ok" : "FAILED");
  free(x);
  free(y);
  return max_error <= 1e-4;
}

int main(void) {
  printf("convjit %s (headers %s)\n", convjit_version(), CONVJIT_VERSION_STRING);

  convjit_jit* jit = NULL;
  CHECK(convjit_jit_create(16, &jit));

  /* (batch, length, channels): one sequence of any length. */
  const int64_t shape[3] = {1, CONVJIT_DYNAMIC, kChannels};
  const char* spec = "filters=2,kernel_size=3,dilation_rate=2,padding=causal,activation=relu";
  convjit_kernel* kernel = NULL;
  CHECK(convjit_compile(jit, spec, shape, NULL, &kernel));
  const char* name = NULL;
  CHECK(convjit_kernel_name(kernel, &name));
  printf("kernel: %s\n", name);

  /* Keras layout: kernel (kernel_size, channels, filters), bias (filters). */
  int64_t kernel_floats = 0, bias_floats = 0;
  CHECK(convjit_kernel_weight_sizes(kernel, &kernel_floats, &bias_floats));
  float w[kTaps * kChannels * kFilters], b[kFilters] = {0.5f, -1.0f};
  if (kernel_floats != kTaps * kChannels * kFilters || bias_floats != kFilters) {
    fprintf(stderr, "unexpected weight sizes %lld, %lld\n", (long long)kernel_floats,
            (long long)bias_floats);
    return 1;
  }
  for (int i = 0; i < kTaps * kChannels * kFilters; ++i) w[i] = (float)(i % 5) - 2.0f;
  convjit_weights* weights = NULL;
  CHECK(convjit_kernel_pack_weights(kernel, w, b, &weights));

  /* One kernel serves every length. */
  int ok = run_length(kernel, weights, w, b, 8);
  ok &= run_length(kernel, weights, w, b, 1000);

  /* Asking again for the same layer is a cache hit. */
  convjit_kernel* again = NULL;
  CHECK(convjit_compile(jit, spec, shape, NULL, &again));
  convjit_cache_stats stats;
  CHECK(convjit_jit_stats(jit, &stats));
  printf("cache: %llu misses, %llu hits\n", (unsigned long long)stats.misses,
         (unsigned long long)stats.hits);

  /* The generated code, annotated. */
  const char* assembly = NULL;
  CHECK(convjit_kernel_disassemble(kernel, &assembly));
  const char* line = assembly;
  for (int i = 0; i < 3 && line != NULL && *line != '\0'; ++i) {
    const char* end = strchr(line, '\n');
    printf("asm: %.*s\n", end ? (int)(end - line) : (int)strlen(line), line);
    line = end ? end + 1 : NULL;
  }

  /* Errors come back as a status, with Keras's message. */
  convjit_kernel* bad = NULL;
  const convjit_status status = convjit_compile(jit, "filters=0,kernel_size=3", shape, NULL, &bad);
  printf("error: %s, argument '%s': %s\n", convjit_status_name(status),
         convjit_last_error_argument(), convjit_last_error());

  convjit_kernel_destroy(again);
  convjit_weights_destroy(weights);
  convjit_kernel_destroy(kernel);
  convjit_jit_destroy(jit);
  return ok && status == CONVJIT_INVALID_VALUE && bad == NULL ? 0 : 1;
}
