// KernelKey: equality, hash and construction.
#include "runtime/kernel_cache.hpp"

#include <functional>

namespace convjit::detail {
namespace {

inline void mix(std::size_t& h, std::uint64_t v) {
  // 64-bit variant of boost::hash_combine with a murmur-style finalizer on the value.
  v ^= v >> 33;
  v *= 0xff51afd7ed558ccdULL;
  v ^= v >> 33;
  h ^= static_cast<std::size_t>(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
}

}  // namespace

bool KernelKey::operator==(const KernelKey& o) const {
  return batch == o.batch && length == o.length && channels == o.channels && filters == o.filters &&
         kernel_size == o.kernel_size && strides == o.strides && dilation_rate == o.dilation_rate &&
         groups == o.groups && padding == o.padding && data_format == o.data_format &&
         activation == o.activation && use_bias == o.use_bias && isa == o.isa &&
         backend == o.backend && schedule == o.schedule;
}

std::size_t KernelKeyHash::operator()(const KernelKey& k) const {
  std::size_t h = 0;
  for (std::int64_t v : {k.batch, k.length, k.channels, k.filters, k.kernel_size, k.strides,
                         k.dilation_rate, k.groups}) {
    mix(h, static_cast<std::uint64_t>(v));
  }
  const std::uint64_t small =
      static_cast<std::uint64_t>(k.padding) | static_cast<std::uint64_t>(k.data_format) << 8 |
      static_cast<std::uint64_t>(k.activation) << 16 |
      static_cast<std::uint64_t>(k.use_bias) << 24 | static_cast<std::uint64_t>(k.isa) << 32;
  mix(h, small);
  mix(h, std::hash<std::string>{}(k.backend));
  if (!k.schedule.empty()) mix(h, std::hash<std::string>{}(k.schedule));
  return h;
}

KernelKey make_kernel_key(const Conv1DSpec& spec, const Shape3& input_shape, Isa isa,
                          const std::string& backend, const std::string& schedule) {
  const bool cf = spec.data_format == DataFormat::kChannelsFirst;
  KernelKey k;
  k.batch = input_shape[0];
  k.length = cf ? input_shape[2] : input_shape[1];
  k.channels = cf ? input_shape[1] : input_shape[2];
  k.filters = spec.filters;
  k.kernel_size = spec.kernel_size;
  k.strides = spec.strides;
  k.dilation_rate = spec.dilation_rate;
  k.groups = spec.groups;
  k.padding = spec.padding;
  k.data_format = spec.data_format;
  k.activation = spec.activation;
  k.use_bias = spec.use_bias;
  k.isa = isa;
  k.backend = backend;
  k.schedule = schedule;
  return k;
}

}  // namespace convjit::detail
