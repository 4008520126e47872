// The check of `convjit stream`: N streams through a StreamKernel in chunks, then flushed,
// compared bit for bit with the whole sequence's output; and the two lines scripts read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "convjit/spec.hpp"
#include "convjit/stream.hpp"

namespace convjit::tool {

/// Every stream's outputs, concatenated over its steps and its flush: stream b's rows of
/// output_channels() floats each.
using StreamedRows = std::vector<std::vector<float>>;

/// Runs the N streams of `input` (rows: N, L, C) through `sk` in steps of `chunk` rows (the
/// last step shorter), all N batched in each step with slot b for stream b, then flushes each.
/// channels_first: each step's chunks are (C, rows) and its outputs (channels, count), turned
/// back into rows.
StreamedRows stream_in_chunks(const StreamKernel& sk, const PackedWeights& weights,
                              const std::vector<float>& input, const Shape3& shape,
                              std::int64_t chunk, bool channels_first);

/// (N, A, B) as (N, B, A): channels_first data as rows and back.
std::vector<float> swap_last_axes(const std::vector<float>& x, std::int64_t n, std::int64_t a,
                                  std::int64_t b);

/// Where streamed outputs first differ from the whole sequence's: the stream n, the output
/// row t and the channel c, in that order of precedence.
struct StreamDifference {
  std::int64_t stream = 0, row = 0, channel = 0;
  std::string detail;  ///< the two values, or the two output counts
};

/// The first difference between `streamed` and `whole` (N, out_length, out_channels), bit
/// for bit; a stream with fewer or more rows than out_length differs at its first missing
/// or extra row (channel 0). nullopt when every bit agrees.
std::optional<StreamDifference> first_stream_difference(const StreamedRows& streamed,
                                                        const std::vector<float>& whole,
                                                        std::int64_t out_length,
                                                        std::int64_t out_channels);

/// "bit-identical: yes" or "bit-identical: no (first difference at n=0, t=12, c=3)", with
/// no newline.
std::string bit_identical_line(const std::optional<StreamDifference>& difference);

/// "step: 0.412 us (chunk 1, streams 64)", with no newline.
std::string step_line(double seconds, std::int64_t chunk, std::int64_t streams);

}  // namespace convjit::tool
