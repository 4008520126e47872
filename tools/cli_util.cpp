#include "tools/cli_util.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <random>

#include "runtime/resource_limits.hpp"

namespace convjit::tool {

Shape3 parse_input_shape(const std::string& text) {
  Shape3 shape{};
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t end = text.find(',', pos);
    if ((i < 2) != (end != std::string::npos)) {
      throw CLI::ValidationError("--input",
                                 "expects N,L,C (three comma-separated sizes), got '" + text + "'");
    }
    const std::string item = text.substr(pos, end == std::string::npos ? end : end - pos);
    if (item == "?" || item == "None" || item == "-1") {
      shape[i] = kDynamic;
    } else {
      std::int64_t v = 0;
      const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (ec != std::errc() || p != item.data() + item.size() || v < 0) {
        throw CLI::ValidationError(
            "--input", "size '" + item + "' in '" + text + "' is not a non-negative integer");
      }
      shape[i] = v;
    }
    pos = end + 1;
  }
  return shape;
}

Conv1DSpec parse_spec_argument(const std::string& text) {
  return parse_spec(text);
}

void check_data_memory(const Conv1DSpec& spec, const Shape3& shape, int copies,
                       const char* argument) {
  const bool cf = spec.data_format == DataFormat::kChannelsFirst;
  const double n = static_cast<double>(shape[0]), c = static_cast<double>(cf ? shape[1] : shape[2]);
  const double l = static_cast<double>(cf ? shape[2] : shape[1]);
  const double f = static_cast<double>(spec.filters);
  const double k = static_cast<double>(spec.kernel_size);
  const double out_length =
      std::max(0.0, static_cast<double>(output_length(spec, cf ? shape[2] : shape[1])));
  const double floats =
      n * l * c + k * (c / static_cast<double>(spec.groups)) * f + f + n * out_length * f;
  detail::check_host_memory(4.0 * copies * floats, argument,
                            fmt::format("The data of this run ({} copies of input, weights and "
                                        "output for input shape {})",
                                        copies, shape_string(shape)));
}

std::vector<float> random_values(std::int64_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> v(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  for (float& x : v) {
    // Top 24 bits -> [-1, 1): independent of the standard library's distributions.
    x = static_cast<float>(static_cast<double>(rng() >> 40) / 8388608.0 - 1.0);
  }
  return v;
}

std::string shape_string(const Shape3& s) {
  auto dim = [](std::int64_t d) { return d == kDynamic ? std::string("None") : std::to_string(d); };
  return fmt::format("[{}, {}, {}]", dim(s[0]), dim(s[1]), dim(s[2]));
}

double median(std::vector<double> samples) {
  if (samples.empty()) return 0.0;
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

}  // namespace convjit::tool
