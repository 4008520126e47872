#include "tools/stream_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace convjit::tool {

StreamedRows stream_in_chunks(const StreamKernel& sk, const PackedWeights& weights,
                              const std::vector<float>& input, const Shape3& shape,
                              std::int64_t chunk) {
  const std::int64_t N = shape[0], L = shape[1], C = shape[2];
  const std::int64_t out_channels = sk.output_channels();
  StreamState state = sk.make_state(N);
  const std::int64_t step_rows = std::max<std::int64_t>(1, std::min(chunk, L));
  std::vector<float> step_input(static_cast<std::size_t>(N * step_rows * C));
  std::vector<float> step_output(
      static_cast<std::size_t>(N * sk.max_outputs(step_rows) * out_channels));
  std::vector<std::int64_t> counts(static_cast<std::size_t>(N));
  StreamedRows streamed(static_cast<std::size_t>(N));
  for (std::int64_t t0 = 0; t0 < L; t0 += step_rows) {
    const std::int64_t rows = std::min(step_rows, L - t0);
    // The batch step reads stream b's rows at [b * rows, (b + 1) * rows) and writes its
    // outputs from row b * max_outputs(rows).
    for (std::int64_t b = 0; b < N; ++b) {
      std::memcpy(step_input.data() + b * rows * C, input.data() + (b * L + t0) * C,
                  static_cast<std::size_t>(rows * C) * sizeof(float));
    }
    sk.step(step_input.data(), rows, weights, step_output.data(), state, nullptr, N, counts.data());
    const std::int64_t room = sk.max_outputs(rows);
    for (std::int64_t b = 0; b < N; ++b) {
      const float* first = step_output.data() + b * room * out_channels;
      auto& rows_of_b = streamed[static_cast<std::size_t>(b)];
      rows_of_b.insert(rows_of_b.end(), first,
                       first + counts[static_cast<std::size_t>(b)] * out_channels);
    }
  }
  std::vector<float> tail(static_cast<std::size_t>(sk.max_flush_outputs() * out_channels));
  for (std::int64_t b = 0; b < N; ++b) {
    const std::int64_t count = sk.flush(weights, tail.data(), state, b);
    auto& rows_of_b = streamed[static_cast<std::size_t>(b)];
    rows_of_b.insert(rows_of_b.end(), tail.begin(), tail.begin() + count * out_channels);
  }
  return streamed;
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
