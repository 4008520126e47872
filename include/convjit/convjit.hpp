// convjit — a JIT compiler for Keras Conv1D layers. Include this one header for all of it.
//
//   #include <convjit/convjit.hpp>
//
//   convjit::Conv1DSpec spec = convjit::parse_spec("filters=64,kernel_size=3,padding=causal");
//   convjit::Kernel k = convjit::compile(spec, {1, convjit::kDynamic, 32});  // any length
//   convjit::PackedWeights w = k.pack_weights(kernel, bias);  // Keras layout, packed once
//   k.run(input, w, output, /*batch=*/1, /*length=*/1000);
#pragma once

#include "convjit/activation.hpp"
#include "convjit/error.hpp"
#include "convjit/isa.hpp"
#include "convjit/jit.hpp"
#include "convjit/kernel.hpp"
#include "convjit/layer.hpp"
#include "convjit/spec.hpp"
#include "convjit/stream.hpp"
#include "convjit/tensor.hpp"
