// Resource limits: exact 128-bit size arithmetic, checked before allocation or codegen.
#include "runtime/resource_limits.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

using Wide = __int128;

Wide wide(std::int64_t v) {
  return static_cast<Wide>(v);
}

/// A Wide as decimal text (fmt cannot print __int128 portably).
std::string text(Wide v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  std::string digits;
  while (v != 0) {
    const int d = static_cast<int>(v % 10);
    digits.push_back(static_cast<char>('0' + (d < 0 ? -d : d)));
    v /= 10;
  }
  if (negative) digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

void refuse_offset(const char* argument, const std::string& what, Wide bytes, const Problem& p) {
  throw Error(ErrorCode::kResourceLimit, argument,
              fmt::format("Conv1D too large for the generated code: {} spans {} bytes, more than "
                          "the {} bytes a 32-bit code offset may hold. Received: {}",
                          what, text(bytes), kMaxCodeOffset, p.to_string()));
}

}  // namespace

std::int64_t physical_memory_bytes() {
  // Read once: sysconf(_SC_PHYS_PAGES) is a sysinfo system call, and every run checks its
  // scratch against it (a call of a small kernel spent a third of its time there).
  static const std::int64_t bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0) return kMaxBufferBytes;
    return std::min<std::int64_t>(static_cast<std::int64_t>(pages) * page_size, kMaxBufferBytes);
  }();
  return bytes;
}

void check_compile_limits(const Problem& p) {
  const Wide c = wide(p.in_channels), f = wide(p.filters), k = wide(p.kernel);
  const Wide row = c * 4;  // one input row (channels_last), bytes
  if (row > kMaxCodeOffset) refuse_offset("input_shape", "one input row of C floats", row, p);
  const Wide field = wide(p.kernel - 1) * wide(p.dilation) * row;
  if (field > kMaxCodeOffset) {
    refuse_offset(p.dilation > 1 ? "dilation_rate" : "kernel_size",
                  "the receptive field, (kernel_size-1)*dilation_rate input rows,", field, p);
  }
  const Wide strided = kMaxTileT * wide(p.stride) * row;
  if (strided > kMaxCodeOffset) {
    refuse_offset("strides", "a register tile of strided input rows", strided, p);
  }
  const Wide out_rows = (kMaxTileT + 1) * f * 4;
  if (out_rows > kMaxCodeOffset) {
    refuse_offset("filters", "a register tile of output rows of F floats", out_rows, p);
  }
  // The smallest packed weight block: K taps x C/g channels x one 8-float vector.
  const Wide block = k * wide(p.ic_per_group) * 8 * 4;
  if (block > kMaxCodeOffset) {
    refuse_offset("kernel_size", "one block of packed weights (kernel_size x C/groups x 8)", block,
                  p);
  }
  // Packed weights are padded per group to whole blocks (<= 512 floats wide).
  const Wide padded_filters = wide(p.groups) * (wide(p.oc_per_group) + 512);
  const Wide weight_bytes = k * wide(p.ic_per_group) * padded_filters * 4;
  const std::int64_t memory = physical_memory_bytes();
  if (weight_bytes > memory) {
    throw Error(ErrorCode::kResourceLimit, "filters",
                fmt::format("The packed weights of this Conv1D need about {} bytes, more than "
                            "the {} bytes of memory of this machine. Received: kernel_size={}, "
                            "input channels/groups={}, filters={}",
                            text(weight_bytes), memory, p.kernel, p.ic_per_group, p.filters));
  }
  if (!p.length_is_dynamic) {
    const Wide in_bytes = wide(p.batch) * wide(p.length) * c * 4;
    const Wide out_bytes = wide(p.batch) * wide(p.out_length) * f * 4;
    if (in_bytes > kMaxBufferBytes || out_bytes > kMaxBufferBytes) {
      throw Error(ErrorCode::kResourceLimit, "input_shape",
                  fmt::format("The input ({} bytes) or output ({} bytes) of this Conv1D is "
                              "larger than any buffer can be ({} bytes). Received: {}",
                              text(in_bytes), text(out_bytes), kMaxBufferBytes, p.to_string()));
    }
  }
}

void check_run_limits(const Problem& p) {
  const Wide in_bytes = wide(p.batch) * wide(p.length) * wide(p.in_channels) * 4;
  const Wide out_bytes = wide(p.batch) * wide(p.final_out_length()) * wide(p.out_channels()) * 4;
  const char* argument = p.length_is_dynamic ? "length" : "batch";
  if (in_bytes > kMaxBufferBytes || out_bytes > kMaxBufferBytes) {
    throw Error(ErrorCode::kResourceLimit, argument,
                fmt::format("The input ({} bytes) or output ({} bytes) of this run is larger "
                            "than any buffer can be ({} bytes). Received: batch={}, length={}",
                            text(in_bytes), text(out_bytes), kMaxBufferBytes, p.batch, p.length));
  }
}

void check_host_memory(double bytes, const char* argument, const std::string& what) {
  const std::int64_t memory = physical_memory_bytes();
  if (!(bytes <= static_cast<double>(memory))) {
    throw Error(ErrorCode::kResourceLimit, argument,
                fmt::format("{} needs {:.0f} bytes, more than the {} bytes of memory of this "
                            "machine",
                            what, bytes, memory));
  }
}

void check_scratch_limit(const Problem& p, std::size_t floats) {
  const Wide scratch_bytes = static_cast<Wide>(floats) * 4;
  if (scratch_bytes > physical_memory_bytes()) {
    throw Error(ErrorCode::kResourceLimit, "length",
                fmt::format("A run of length={} needs {} bytes of scratch per thread, more than "
                            "the memory of this machine",
                            p.length, text(scratch_bytes)));
  }
}

}  // namespace convjit::detail
