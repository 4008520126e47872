// spec_from_args — Keras's Conv1D(*args, **kwargs) argument handling, shared by the keyword
// and the JSON front ends so that both give the same errors for the same mistakes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/spec/py_value.hpp"
#include "convjit/spec.hpp"

namespace convjit::detail {

/// Spec text longer than this is rejected (kResourceLimit): a Conv1D config is < 2 KB.
inline constexpr std::size_t kMaxSpecTextBytes = std::size_t{1} << 20;
/// Deeper nesting of lists, calls or JSON objects is rejected (kParseError).
inline constexpr int kMaxSpecNesting = 64;

using Kwargs = std::vector<std::pair<std::string, PyValue>>;

/// Builds a spec the way Keras's Conv1D constructor reads its arguments: types, names and
/// Keras's normalizations (padding/data_format lower-cased, None -> defaults). Values
/// (filters > 0, ...) are left to validate(). Throws Error naming the argument.
///
/// Besides the Conv1D arguments it accepts the Layer keywords `name`, `trainable` and
/// `dtype` (float32 only), and ignores the shape hints Keras's Layer also accepts
/// (`input_shape`, `input_dim`, `batch_input_shape`, `batch_shape`, `batch_size`) and
/// `autocast`. `lora_rank`/`lora_alpha` are accepted only as None. Anything else is
/// kUnknownName with Keras's "Unrecognized keyword arguments" message.
Conv1DSpec spec_from_args(const std::vector<PyValue>& positional, const Kwargs& kwargs);

}  // namespace convjit::detail
