/* The AOT test: three kernels generated at build time by `convjit aot`, used through their
 * headers only, checked against a reference computed here in double (Keras semantics:
 * padding, stride, dilation, groups, bias, activation, both data formats). Prints one line per
 * case and exits non-zero on any mismatch. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot_causal.h"
#include "aot_cf.h"
#include "aot_dw.h"

enum Act { kGelu, kSoftmax, kTanh };
enum Pad { kValid, kSame, kCausal };

typedef struct {
  int64_t n, l, c, f, k, s, d, g;
  enum Pad pad;
  int channels_first;
  enum Act act;
} Conv;

static uint32_t rng = 12345u;
static float next_value(void) { /* small values in [-1, 1) */
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static int64_t out_length(const Conv* c) {
  if (c->pad == kValid) {
    int64_t lo = (c->l - c->d * (c->k - 1) - 1) / c->s + 1;
    return lo > 0 ? lo : 0;
  }
  return (c->l + c->s - 1) / c->s;
}

static int64_t pad_left(const Conv* c) {
  if (c->pad == kCausal) return (c->k - 1) * c->d;
  if (c->pad == kValid) return 0;
  int64_t total = (out_length(c) - 1) * c->s + (c->k - 1) * c->d + 1 - c->l;
  return total > 0 ? total / 2 : 0;
}

static double act(enum Act a, double x) {
  if (a == kGelu) return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
  if (a == kTanh) return tanh(x);
  return x; /* softmax: applied over the last axis afterwards */
}

/* Reference output (final layout) in `out`, double. */
static void reference(const Conv* c, const float* in, const float* w, const float* bias,
                      double* out) {
  const int64_t lo = out_length(c), pl = pad_left(c), cg = c->c / c->g, fg = c->f / c->g;
  for (int64_t n = 0; n < c->n; ++n)
    for (int64_t t = 0; t < lo; ++t)
      for (int64_t oc = 0; oc < c->f; ++oc) {
        const int64_t g = oc / fg;
        double acc = bias ? bias[oc] : 0.0;
        for (int64_t k = 0; k < c->k; ++k) {
          const int64_t pos = t * c->s + k * c->d - pl;
          if (pos < 0 || pos >= c->l) continue;
          for (int64_t ic = 0; ic < cg; ++ic) {
            const int64_t ch = g * cg + ic;
            const float x = c->channels_first ? in[(n * c->c + ch) * c->l + pos]
                                              : in[(n * c->l + pos) * c->c + ch];
            acc += (double)x * w[(k * cg + ic) * c->f + oc];
          }
        }
        const double v = act(c->act, acc);
        if (c->channels_first)
          out[(n * c->f + oc) * lo + t] = v;
        else
          out[(n * lo + t) * c->f + oc] = v;
      }
  if (c->act != kSoftmax) return;
  /* softmax over the last axis: time (channels_first) or channels (channels_last) */
  const int64_t rows = c->channels_first ? c->n * c->f : c->n * lo;
  const int64_t len = c->channels_first ? lo : c->f;
  for (int64_t r = 0; r < rows; ++r) {
    double* row = out + r * len;
    double max = -INFINITY, sum = 0.0;
    for (int64_t i = 0; i < len; ++i) max = row[i] > max ? row[i] : max;
    for (int64_t i = 0; i < len; ++i) sum += exp(row[i] - max);
    for (int64_t i = 0; i < len; ++i) row[i] = exp(row[i] - max) / sum;
  }
}

static int failures = 0;

static void compare(const char* name, const Conv* c, const float* got, const double* want,
                    int64_t count, const float* guard_end) {
  double worst = 0.0;
  int64_t bad = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double err = fabs(got[i] - want[i]);
    const double tol = 1e-4 + 1e-4 * fabs(want[i]);
    if (!(err <= tol)) ++bad;
    if (err > worst) worst = err;
  }
  for (int i = 0; i < 16; ++i) {
    if (guard_end[i] != 1234.5f) {
      ++bad;
      printf("%s: guard float %d after the output was overwritten\n", name, i);
      break;
    }
  }
  printf("%s N=%lld L=%lld: %lld outputs, worst abs error %.3g: %s\n", name, (long long)c->n,
         (long long)c->l, (long long)count, worst, bad ? "FAIL" : "ok");
  if (bad) ++failures;
  if (count == 0) {
    printf("%s: empty output\n", name);
  }
}

typedef void (*PackFn)(const float*, float*);

/* Fills input, Keras kernel and bias; packs; returns the output buffer with 16 guard floats. */
static float* prepare(const Conv* c, int64_t keras_floats, int64_t packed_floats, PackFn pack,
                      float** in, float** w, float** packed, float** bias, int64_t out_floats) {
  const int64_t in_floats = c->n * c->l * c->c;
  *in = malloc(sizeof(float) * (size_t)(in_floats + 1));
  *w = malloc(sizeof(float) * (size_t)keras_floats);
  *packed = malloc(sizeof(float) * (size_t)packed_floats);
  *bias = malloc(sizeof(float) * (size_t)c->f);
  for (int64_t i = 0; i < in_floats; ++i) (*in)[i] = next_value();
  for (int64_t i = 0; i < keras_floats; ++i) (*w)[i] = next_value();
  for (int64_t i = 0; i < c->f; ++i) (*bias)[i] = next_value();
  pack(*w, *packed);
  float* out = malloc(sizeof(float) * (size_t)(out_floats + 16));
  for (int64_t i = 0; i < out_floats + 16; ++i) out[i] = 1234.5f;
  return out;
}

static void run_causal(int64_t length) {
  Conv c = {2, length, 5, 8, 3, 1, 2, 1, kCausal, 0, kGelu};
  const int64_t out_floats = aot_causal_output_floats(c.n, c.l);
  if (out_floats != c.n * out_length(&c) * c.f) {
    printf("aot_causal_output_floats(%lld) = %lld: FAIL\n", (long long)c.l, (long long)out_floats);
    ++failures;
    return;
  }
  float *in, *w, *packed, *bias;
  float* out = prepare(&c, AOT_CAUSAL_KERAS_KERNEL_FLOATS, AOT_CAUSAL_PACKED_WEIGHTS_FLOATS,
                       aot_causal_pack_weights, &in, &w, &packed, &bias, out_floats);
  const int64_t scratch_floats = aot_causal_scratch_floats(c.l);
  float* scratch = scratch_floats > 0 ? malloc(sizeof(float) * (size_t)scratch_floats) : NULL;
  aot_causal(in, packed, bias, out, c.l, scratch);
  double* want = malloc(sizeof(double) * (size_t)(out_floats + 1));
  reference(&c, in, w, bias, want);
  compare("aot_causal (avx2, dynamic length, gelu)", &c, out, want, out_floats, out + out_floats);
  free(in), free(w), free(packed), free(bias), free(out), free(scratch), free(want);
}

static void run_cf(void) {
  Conv c = {AOT_CF_BATCH,
            AOT_CF_LENGTH,
            AOT_CF_IN_CHANNELS,
            AOT_CF_FILTERS,
            AOT_CF_KERNEL_SIZE,
            2,
            1,
            1,
            kSame,
            1,
            kSoftmax};
  float *in, *w, *packed, *bias;
  float* out = prepare(&c, AOT_CF_KERAS_KERNEL_FLOATS, AOT_CF_PACKED_WEIGHTS_FLOATS,
                       aot_cf_pack_weights, &in, &w, &packed, &bias, AOT_CF_OUTPUT_FLOATS);
  float* scratch = malloc(sizeof(float) * (AOT_CF_SCRATCH_FLOATS + 1));
  aot_cf(in, packed, bias, out, scratch);
  double* want = malloc(sizeof(double) * AOT_CF_OUTPUT_FLOATS);
  reference(&c, in, w, bias, want);
  compare("aot_cf (x86-64, channels_first, same, stride 2, softmax)", &c, out, want,
          AOT_CF_OUTPUT_FLOATS, out + AOT_CF_OUTPUT_FLOATS);
  free(in), free(w), free(packed), free(bias), free(out), free(scratch), free(want);
}

static void run_dw(int64_t batch) {
  Conv c = {
      batch, AOT_DW_LENGTH, AOT_DW_IN_CHANNELS, AOT_DW_FILTERS, AOT_DW_KERNEL_SIZE, 1, 1, 6, kValid,
      0,     kTanh};
  const int64_t out_floats = aot_dw_output_floats(batch, AOT_DW_LENGTH);
  float *in, *w, *packed, *bias;
  float* out = prepare(&c, AOT_DW_KERAS_KERNEL_FLOATS, AOT_DW_PACKED_WEIGHTS_FLOATS,
                       aot_dw_pack_weights, &in, &w, &packed, &bias, out_floats);
  float* scratch = malloc(sizeof(float) * (AOT_DW_SCRATCH_FLOATS + 1));
  aot_dw(in, packed, bias, out, batch, scratch);
  double* want = malloc(sizeof(double) * (size_t)(out_floats + 1));
  reference(&c, in, w, bias, want);
  compare("aot_dw (avx2, depthwise x2, dynamic batch, tanh)", &c, out, want, out_floats,
          out + out_floats);
  free(in), free(w), free(packed), free(bias), free(out), free(scratch), free(want);
}

int main(void) {
  const int64_t lengths[] = {1, 4, 7, 8, 9, 33};
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; ++i) run_causal(lengths[i]);
  run_cf();
  run_dw(1);
  run_dw(3);
  printf("%s\n", failures ? "AOT test FAILED" : "AOT test passed");
  return failures ? 1 : 0;
}
