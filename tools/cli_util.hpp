// Helpers shared by the convjit subcommands: argument parsing and test data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convjit/spec.hpp"

namespace convjit::tool {

/// Parses "N,L,C" (or "N,C,L" for channels_first: the order of the spec's data_format).
/// "?", "None" or "-1" marks a dynamic length. Throws CLI::ValidationError naming --input.
Shape3 parse_input_shape(const std::string& text);

/// Parses a spec argument, reporting Keras-style errors as convjit::Error.
Conv1DSpec parse_spec_argument(const std::string& text);

/// Refuses, with Error(kResourceLimit, argument), test data for `spec` on the concrete `shape`
/// (input, kernel, bias and pre-activation output, `copies` of each) that would not fit in
/// this machine's memory: before a command allocates and fills it.
void check_data_memory(const Conv1DSpec& spec, const Shape3& shape, int copies,
                       const char* argument);

/// Seeded uniform values in [-1, 1].
std::vector<float> random_values(std::int64_t count, std::uint64_t seed);

/// "[N, L, C]"
std::string shape_string(const Shape3& shape);

/// Median of `samples` (copied).
double median(std::vector<double> samples);

}  // namespace convjit::tool
