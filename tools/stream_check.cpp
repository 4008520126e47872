#include "tools/stream_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace convjit::tool {

StreamedRows stream_in_chunks(const StreamKernel& sk, const PackedWeights& weights,
                              const std::vector<float>& input, const Shape3& shape,
                              std::int64_t chunk, bool channels_first) {
  const std::int64_t N = shape[0], L = shape[1], C = shape[2];
  const std::int64_t out_channels = sk.output_channels();
  StreamState state = sk.make_state(N);
  const std::int64_t step_rows = std::max<std::int64_t>(1, std::min(chunk, L));
  std::vector<float> step_input(static_cast<std::size_t>(N * step_rows * C));
  std::vector<float> step_output(
      static_cast<std::size_t>(N * sk.max_outputs(step_rows) * out_channels));
  std::vector<std::int64_t> counts(static_cast<std::size_t>(N));
  StreamedRows streamed(static_cast<std::size_t>(N));
  // Stream b's `count` outputs from `first`: rows, or channels_first (out_channels rows of
  // `room` floats), appended as rows.
  const auto take = [&](std::int64_t b, const float* first, std::int64_t count, std::int64_t room) {
    auto& rows_of_b = streamed[static_cast<std::size_t>(b)];
    if (!channels_first) {
      rows_of_b.insert(rows_of_b.end(), first, first + count * out_channels);
      return;
    }
    for (std::int64_t t = 0; t < count; ++t) {
      for (std::int64_t c = 0; c < out_channels; ++c) rows_of_b.push_back(first[c * room + t]);
    }
  };
  for (std::int64_t t0 = 0; t0 < L; t0 += step_rows) {
    const std::int64_t rows = std::min(step_rows, L - t0);
    // The batch step reads stream b's [b * rows * C, (b + 1) * rows * C) floats ((rows, C)
    // or channels_first (C, rows)) and writes its outputs from b * max_outputs(rows) rows.
    for (std::int64_t b = 0; b < N; ++b) {
      const float* from = input.data() + (b * L + t0) * C;
      float* to = step_input.data() + b * rows * C;
      if (!channels_first) {
        std::memcpy(to, from, static_cast<std::size_t>(rows * C) * sizeof(float));
        continue;
      }
      for (std::int64_t t = 0; t < rows; ++t) {
        for (std::int64_t c = 0; c < C; ++c) to[c * rows + t] = from[t * C + c];
      }
    }
    sk.step(step_input.data(), rows, weights, step_output.data(), state, nullptr, N, counts.data());
    const std::int64_t room = sk.max_outputs(rows);
    for (std::int64_t b = 0; b < N; ++b) {
      take(b, step_output.data() + b * room * out_channels, counts[static_cast<std::size_t>(b)],
           room);
    }
  }
  std::vector<float> tail(static_cast<std::size_t>(sk.max_flush_outputs() * out_channels));
  for (std::int64_t b = 0; b < N; ++b) {
    const std::int64_t count = sk.flush(weights, tail.data(), state, b);
    take(b, tail.data(), count, sk.max_flush_outputs());
  }
  return streamed;
}

/// (N, A, B) as (N, B, A).
std::vector<float> swap_last_axes(const std::vector<float>& x, std::int64_t n, std::int64_t a,
                                  std::int64_t b) {
  std::vector<float> out(x.size());
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t p = 0; p < a; ++p) {
      for (std::int64_t q = 0; q < b; ++q) out[(i * b + q) * a + p] = x[(i * a + p) * b + q];
    }
  }
  return out;
}

std::optional<StreamDifference> first_stream_difference(const StreamedRows& streamed,
                                                        const std::vector<float>& whole,
                                                        std::int64_t out_length,
                                                        std::int64_t out_channels) {
  const auto N = static_cast<std::int64_t>(streamed.size());
  for (std::int64_t b = 0; b < N; ++b) {
    const std::vector<float>& got = streamed[static_cast<std::size_t>(b)];
    const float* want = whole.data() + b * out_length * out_channels;
    const auto got_rows = static_cast<std::int64_t>(got.size()) / out_channels;
    const std::int64_t common = std::min(got_rows, out_length) * out_channels;
    for (std::int64_t i = 0; i < common; ++i) {
      const float value = got[static_cast<std::size_t>(i)];
      if (std::memcmp(&value, want + i, sizeof(float)) != 0) {
        return StreamDifference{
            b, i / out_channels, i % out_channels,
            fmt::format("streamed {:.9g}, whole sequence {:.9g}", value, want[i])};
      }
    }
    if (got_rows != out_length) {
      return StreamDifference{b, std::min(got_rows, out_length), 0,
                              fmt::format("stream {} wrote {} outputs, the whole sequence has {}",
                                          b, got_rows, out_length)};
    }
  }
  return std::nullopt;
}

std::string bit_identical_line(const std::optional<StreamDifference>& difference) {
  if (!difference) return "bit-identical: yes";
  return fmt::format("bit-identical: no (first difference at n={}, t={}, c={})", difference->stream,
                     difference->row, difference->channel);
}

std::string step_line(double seconds, std::int64_t chunk, std::int64_t streams) {
  return fmt::format("step: {:.3f} us (chunk {}, streams {})", seconds * 1e6, chunk, streams);
}

}  // namespace convjit::tool
