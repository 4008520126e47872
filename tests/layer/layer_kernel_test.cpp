// convjit::Conv1D holds its kernel and its packed weights: one compile per layer across
// batches and lengths, the same bits as Kernel::run, invalidation by set_weights,
// apply_constraints, set_engine and set_threads, and call_into (and stream_step_into)
// without allocating.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "convjit/error.hpp"
#include "convjit/jit.hpp"
#include "convjit/layer.hpp"
#include "runtime/engine.hpp"

// Counts operator new calls of this thread while `counting` is set (call_into's promise).
namespace {
thread_local bool counting = false;
thread_local long allocations = 0;
}  // namespace

// Every non-aligned form is replaced (sanitizers check that what one form allocates, the
// matching form frees): malloc and free underneath. GCC cannot tell from the operator names
// that they match.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
void* counted_alloc(std::size_t bytes) noexcept {
  if (counting) ++allocations;
  return std::malloc(bytes == 0 ? 1 : bytes);
}
void* counted_alloc_or_throw(std::size_t bytes) {
  if (void* p = counted_alloc(bytes)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(std::size_t bytes) {
  return counted_alloc_or_throw(bytes);
}
void* operator new[](std::size_t bytes) {
  return counted_alloc_or_throw(bytes);
}
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  return counted_alloc(bytes);
}
void* operator new[](std::size_t bytes, const std::nothrow_t&) noexcept {
  return counted_alloc(bytes);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace convjit {
namespace {

/// Jit::default_jit()'s lookups since construction: compiles (misses) and cache hits.
struct CompileCounter {
  CacheStats start = Jit::default_jit().stats();
  std::uint64_t misses() const { return Jit::default_jit().stats().misses - start.misses; }
  std::uint64_t hits() const { return Jit::default_jit().stats().hits - start.hits; }
};

Conv1DSpec keyword_spec(const std::string& text) {
  return parse_spec(text);
}

/// Seeded values in [-1, 1).
Tensor random_tensor(const Shape& shape, unsigned seed) {
  Tensor t(shape);
  std::uint32_t state = seed * 2654435761u + 1;
  for (std::int64_t i = 0; i < t.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    t.data()[i] = static_cast<float>((state >> 8) / double(1u << 23) - 1.0);
  }
  return t;
}

Shape3 shape3(const Tensor& t) {
  return {t.shape()[0], t.shape()[1], t.shape()[2]};
}

std::int64_t length_of(const Conv1DSpec& spec, const Shape3& shape) {
  return spec.data_format == DataFormat::kChannelsLast ? shape[1] : shape[2];
}

/// The layer's computation through the public Kernel API: a kernel for any batch and length
/// (the cache hands out the layer's own) with weights packed from get_weights().
std::vector<float> kernel_run(const Conv1D& layer, const Tensor& x, int threads = 1,
                              Backend backend = Backend::kAuto) {
  const Conv1DSpec& spec = layer.spec();
  const bool cl = spec.data_format == DataFormat::kChannelsLast;
  const std::int64_t channels = cl ? x.shape()[2] : x.shape()[1];
  CompileOptions options;
  options.threads = threads;
  options.backend = backend;
  const Kernel k = Jit::default_jit().compile(
      spec, cl ? Shape3{kDynamic, kDynamic, channels} : Shape3{kDynamic, channels, kDynamic},
      options);
  const std::vector<Tensor> w = layer.get_weights();
  const PackedWeights packed = k.pack_weights(w[0].data(), w.size() > 1 ? w[1].data() : nullptr);
  const Shape3 in = shape3(x);
  std::vector<float> y(static_cast<std::size_t>(k.output_size(in[0], length_of(spec, in))));
  k.run(x.data(), packed, y.data(), in[0], length_of(spec, in));
  return y;
}

std::vector<float> reference_of(const Conv1D& layer, const Tensor& x) {
  const std::vector<Tensor> w = layer.get_weights();
  return detail::run_engine("reference", layer.spec(), shape3(x), x.data(), w[0].data(),
                            w.size() > 1 ? w[1].data() : nullptr);
}

/// Element-wise agreement with the reference (float sums in another order).
void expect_near_reference(const Conv1D& layer, const Tensor& x, const Tensor& y) {
  const std::vector<float> ref = reference_of(layer, x);
  ASSERT_EQ(y.size(), static_cast<std::int64_t>(ref.size()));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ASSERT_NEAR(y.data()[i], ref[i], 1e-4 * (1 + std::fabs(ref[i]))) << "at " << i;
  }
}

bool same_bits(const std::vector<float>& a, const Tensor& b) {
  return static_cast<std::int64_t>(a.size()) == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A WaveNet-style stack as Keras's get_config() writes it: 6 dilated causal layers.
std::string wavenet_config(int dilation, const char* activation) {
  return std::string(R"({"name": "dilated_)") + std::to_string(dilation) +
         R"(", "trainable": true, "filters": 24, "kernel_size": [2], "strides": [1],
         "padding": "causal", "data_format": "channels_last", "dilation_rate": [)" +
         std::to_string(dilation) + R"(], "groups": 1, "activation": ")" + activation +
         R"(", "use_bias": true, "kernel_initializer": {"module": "keras.initializers",
         "class_name": "GlorotUniform", "config": {"seed": )" +
         std::to_string(dilation) + R"(}, "registered_name": null}})";
}

TEST(LayerKernel, OneCompilePerLayerAcrossLengthsAndBatches) {
  Jit::default_jit().clear();  // every layer's kernel is a miss, whatever ran before
  std::vector<Conv1D> stack;
  for (int dilation : {1, 2, 4, 8, 16, 32}) {
    stack.push_back(Conv1D::from_config(wavenet_config(dilation, "tanh")));
    stack.back().build({kDynamic, kDynamic, 24});
  }
  const CompileCounter counter;
  for (std::int64_t length : {1000, 37, 4000, 250}) {
    for (std::int64_t batch : {1, 3}) {
      SCOPED_TRACE("length " + std::to_string(length) + " batch " + std::to_string(batch));
      Tensor x = random_tensor({batch, length, 24}, static_cast<unsigned>(length + batch));
      for (Conv1D& layer : stack) {
        Tensor y = layer(x);
        if (length == 37) expect_near_reference(layer, x, y);
        x = std::move(y);
      }
    }
  }
  // 4 lengths x 2 batches x 6 layers = 48 calls: 6 compiles, and no other Jit lookup.
  EXPECT_EQ(counter.misses(), 6u);
  EXPECT_EQ(counter.hits(), 0u);
}

TEST(LayerKernel, BuiltOnAStaticShapeStillCompilesOnceForEveryLength) {
  Conv1D layer(keyword_spec("filters=20,kernel_size=3,padding=same,activation=relu"));
  const CompileCounter counter;
  for (const Shape& shape : {Shape{2, 50, 12}, Shape{1, 77, 12}, Shape{3, 9, 12}}) {
    const Tensor x = random_tensor(shape, 5);
    const Tensor y = layer(x);
    EXPECT_TRUE(same_bits(kernel_run(layer, x), y));
  }
  EXPECT_EQ(*layer.build_input_shape(), (Shape3{2, 50, 12}));
  EXPECT_LE(counter.misses(), 1u);  // 0 when another test compiled this key already
  EXPECT_EQ(counter.misses() + counter.hits(), 4u);  // the layer's compile + 3 kernel_run
}

TEST(LayerKernel, CallsAreBitIdenticalToKernelRun) {
  const char* specs[] = {
      "filters=32,kernel_size=3,padding=causal,dilation_rate=2,activation=gelu",
      "filters=16,kernel_size=5,strides=2,padding=same,groups=4,activation=tanh",
      "filters=8,kernel_size=3,padding=valid,data_format=channels_first,activation=relu",
      "filters=12,kernel_size=3,padding=same,activation=softmax",
      "filters=12,kernel_size=2,padding=causal,activation=glu",
      "filters=6,kernel_size=3,padding=same,data_format=channels_first,activation=glu",
      "filters=8,kernel_size=4,padding=same,groups=8,use_bias=False",
  };
  for (const char* text : specs) {
    SCOPED_TRACE(text);
    Conv1D layer(keyword_spec(text));
    const bool cl = layer.spec().data_format == DataFormat::kChannelsLast;
    for (std::int64_t length : {16, 34, 100}) {
      const Tensor x = random_tensor(cl ? Shape{2, length, 8} : Shape{2, 8, length}, 3);
      const Tensor y = layer(x);
      EXPECT_TRUE(same_bits(kernel_run(layer, x), y)) << "length " << length;
      Tensor into(y.shape(), -7.0f);
      layer.call_into(x, into);
      EXPECT_TRUE(same_bits(y.to_vector(), into)) << "length " << length;
      if (length == 34) expect_near_reference(layer, x, y);
    }
  }
}

TEST(LayerKernel, SetWeightsRepacksAndKeepsTheKernel) {
  Conv1D layer(keyword_spec("filters=16,kernel_size=3,padding=causal"));
  const Tensor x = random_tensor({1, 40, 8}, 1);
  const Tensor before = layer(x);
  const CompileCounter counter;
  layer.set_weights({random_tensor({3, 8, 16}, 2), random_tensor({16}, 3)});
  const Tensor after = layer(x);
  EXPECT_FALSE(same_bits(before.to_vector(), after)) << "stale packed weights";
  EXPECT_TRUE(same_bits(kernel_run(layer, x), after));
  expect_near_reference(layer, x, after);
  EXPECT_EQ(counter.misses(), 0u);
  EXPECT_EQ(counter.hits(), 1u);  // kernel_run's lookup only: the layer kept its kernel

  // A failed set_weights changes nothing, so the packed weights stay valid.
  EXPECT_THROW(layer.set_weights({random_tensor({3, 8, 15}, 4), random_tensor({16}, 5)}), Error);
  EXPECT_TRUE(same_bits(after.to_vector(), layer(x)));
}

TEST(LayerKernel, ApplyConstraintsRepacks) {
  Conv1DSpec spec = keyword_spec("filters=8,kernel_size=2,padding=same");
  spec.kernel_constraint.kind = Constraint::Kind::kNonNeg;
  Conv1D layer(spec);
  const Tensor x = random_tensor({2, 30, 4}, 6);
  const Tensor before = layer(x);  // Glorot-uniform weights: about half negative
  layer.apply_constraints();
  for (float v : layer.kernel().to_vector()) ASSERT_GE(v, 0.0f);
  const Tensor after = layer(x);
  EXPECT_FALSE(same_bits(before.to_vector(), after)) << "stale packed weights";
  EXPECT_TRUE(same_bits(kernel_run(layer, x), after));
  expect_near_reference(layer, x, after);
}

TEST(LayerKernel, SetEngineSwitchesTheCodeAndBack) {
  Conv1D layer(keyword_spec("filters=8,kernel_size=3,padding=causal,activation=silu"));
  const Tensor x = random_tensor({1, 25, 5}, 7);
  const Tensor jit = layer(x);
  layer.set_engine("reference");
  EXPECT_EQ(layer(x).to_vector(), reference_of(layer, x));
  // New weights while on the reference engine: the jit engine must not use its old packing.
  layer.set_weights({random_tensor({3, 5, 8}, 8), random_tensor({8}, 9)});
  layer.set_engine("jit");
  const Tensor again = layer(x);
  EXPECT_TRUE(same_bits(kernel_run(layer, x), again));
  EXPECT_FALSE(same_bits(jit.to_vector(), again));
  const CompileCounter counter;
  layer.set_engine("jit");  // the same engine: nothing to drop
  EXPECT_TRUE(same_bits(again.to_vector(), layer(x)));
  EXPECT_EQ(counter.misses() + counter.hits(), 0u);
}

TEST(LayerKernel, SwitchingToTheLlvmEngineRecompilesAndRepacksOnce) {
  Conv1D layer(keyword_spec("filters=16,kernel_size=3,padding=causal,dilation_rate=3"));
  const Tensor first = random_tensor({1, 20, 6}, 1);
  const Tensor xbyak = layer(first);  // jit: compiled and packed for the Xbyak kernel
  const CompileCounter counter;
  layer.set_engine("llvm");  // another kernel, another weight layout
  for (std::int64_t length : {7, 64, 300}) {
    const Tensor x = random_tensor({2, length, 6}, static_cast<unsigned>(length));
    const Tensor y = layer(x);
    expect_near_reference(layer, x, y);
    EXPECT_TRUE(same_bits(kernel_run(layer, x, 1, Backend::kLlvm), y)) << "length " << length;
  }
  // The layer's own lookup (a miss) and kernel_run's three (hits).
  EXPECT_EQ(counter.misses() + counter.hits(), 4u);
  EXPECT_EQ(counter.hits(), 3u);
  layer.set_engine("jit");
  EXPECT_TRUE(same_bits(xbyak.to_vector(), layer(first)));
}

TEST(LayerKernel, SetThreadsKeepsTheCodeAndTheBits) {
  // 2 x 512 x 64 -> 64, K3: 25 MFLOP, split across threads when threads > 1.
  Conv1D layer(keyword_spec("filters=64,kernel_size=3,padding=same,activation=gelu"));
  const Tensor x = random_tensor({2, 512, 64}, 10);
  const Tensor one = layer(x);
  const CompileCounter counter;
  for (int threads : {2, 3, 1}) {
    layer.set_threads(threads);
    EXPECT_TRUE(same_bits(one.to_vector(), layer(x))) << threads << " threads";
  }
  EXPECT_EQ(counter.misses(), 0u);  // a new thread count is a cache hit, not a compile
  EXPECT_EQ(counter.hits(), 3u);    // one per change: the handle with the new count
  layer.set_threads(1);             // unchanged: nothing to fetch
  layer(x);
  EXPECT_EQ(counter.hits(), 3u);
}

TEST(LayerKernel, CallIntoAllocatesNothing) {
  // 4 x 700 x 16 -> 32, K3: 8.6 MFLOP, split across the pool when threads > 1.
  Conv1D layer(keyword_spec("filters=32,kernel_size=3,padding=causal,dilation_rate=2"));
  std::vector<float> input(4 * 700 * 16), output(4 * 700 * 32);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 7) - 3.0f;
  const Tensor x = Tensor::view(input.data(), {4, 700, 16});
  Tensor y = Tensor::view(output.data(), {4, 700, 32});
  for (int threads : {1, 2}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    layer.set_threads(threads);
    layer.call_into(Tensor::view(input.data(), {1, 10, 16}),
                    Tensor::view(output.data(), {1, 10, 32}));  // builds, compiles, packs
    layer.call_into(x, y);                                      // the pool's first job
    long counted = 0;
    for (int i = 0; i < 3; ++i) {
      counting = true;
      allocations = 0;
      layer.call_into(x, y);
      counting = false;
      counted += allocations;
    }
    EXPECT_EQ(counted, 0) << "operator new calls in 3 call_into";
    EXPECT_TRUE(same_bits(kernel_run(layer, x), y));
  }
}

TEST(LayerKernel, StreamStepIntoAllocatesNothing) {
  // 8 streams of a 64 -> 64 K2 d4 causal layer, one row per step (Mamba/WaveNet decode).
  Conv1D layer(keyword_spec("filters=64,kernel_size=2,padding=causal,dilation_rate=4"));
  StreamState state = layer.make_stream_state(8, 64);
  std::vector<float> input(8 * 64), output(8 * 64);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 5) - 2.0f;
  const Tensor x = Tensor::view(input.data(), {8, 1, 64});
  Tensor y = Tensor::view(output.data(), {8, 1, 64});
  std::vector<std::int64_t> counts;
  const std::vector<std::int64_t> slots = {7, 3, 0, 1, 2, 4, 5, 6};
  for (int threads : {1, 2}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    layer.set_threads(threads);
    layer.stream_step_into(x, state, y, counts, slots);  // compiles, packs, sizes counts
    long counted = 0;
    for (int i = 0; i < 40; ++i) {  // past the slots' first compaction
      counting = true;
      allocations = 0;
      const std::int64_t total = layer.stream_step_into(x, state, y, counts, slots);
      counting = false;
      counted += allocations;
      EXPECT_EQ(total, 8);
    }
    EXPECT_EQ(counted, 0) << "operator new calls in 40 stream_step_into";
  }
}

TEST(LayerKernel, CallIntoChecksTheOutput) {
  Conv1D layer(keyword_spec("filters=4,kernel_size=3,padding=valid,activation=glu"));
  const Tensor x = random_tensor({2, 10, 3}, 11);
  Tensor wrong({2, 8, 4});  // glu halves the filters: (2, 8, 2)
  try {
    layer.call_into(x, wrong);
    ADD_FAILURE() << "expected convjit::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kShapeMismatch);
    EXPECT_EQ(e.argument(), "output");
    EXPECT_NE(std::string(e.what()).find("(2, 8, 2)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(2, 8, 4)"), std::string::npos) << e.what();
  }
  // The output may not share memory with the input.
  std::vector<float> buffer(2 * 10 * 3 + 2 * 8 * 2);
  Tensor in = Tensor::view(buffer.data(), {2, 10, 3});
  try {
    layer.call_into(in, Tensor::view(buffer.data() + 10, {2, 8, 2}));
    ADD_FAILURE() << "expected convjit::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidValue);
    EXPECT_EQ(e.argument(), "output");
  }
  Tensor right = Tensor::view(buffer.data() + 60, {2, 8, 2});  // just after the input
  layer.call_into(in, right);
  EXPECT_EQ(right.to_vector(), layer(in).to_vector());
}

TEST(LayerKernel, KerasShapeErrorsStayTheSameWithTheJit) {
  // K=3 valid: a length-2 input gives an output length of 0, which Keras rejects.
  Conv1D layer(keyword_spec("filters=3,kernel_size=3"));
  layer.build({kDynamic, kDynamic, 2});
  try {
    layer(Tensor({1, 2, 2}));
    ADD_FAILURE() << "expected convjit::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidShape) << e.what();
    EXPECT_NE(std::string(e.what()).find("Computed output size"), std::string::npos) << e.what();
  }
  EXPECT_EQ(layer(Tensor({1, 3, 2})).shape(), (Shape{1, 1, 3}));
  EXPECT_EQ(layer(Tensor({0, 5, 2})).shape(), (Shape{0, 3, 3}));
}

}  // namespace
}  // namespace convjit
