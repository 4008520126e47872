#include "compiler/schedule/schedule.hpp"

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <vector>

#include "compiler/target/target.hpp"
#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::kDirect: return "direct";
    case Strategy::kDepthwise: return "depthwise";
  }
  return "?";
}

/// The key=value items of schedule text, separated by spaces, commas, semicolons or newlines.
std::vector<std::string_view> schedule_items(std::string_view text) {
  std::vector<std::string_view> items;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find_first_of(" ,;\t\n", pos);
    const std::string_view item =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

[[noreturn]] void bad_value(std::string_view key, std::string_view value, const char* expected) {
  throw Error(ErrorCode::kParseError, std::string(key),
              fmt::format("Invalid schedule value {}={}: expected {}", key, value, expected));
}

std::int64_t parse_int(std::string_view key, std::string_view value) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size()) bad_value(key, value, "an integer");
  return v;
}

int parse_small_int(std::string_view key, std::string_view value) {
  const std::int64_t v = parse_int(key, value);
  if (v < -(1 << 30) || v > (1 << 30)) bad_value(key, value, "an integer of at most 2^30");
  return static_cast<int>(v);
}

}  // namespace

bool Schedule::operator==(const Schedule& o) const {
  return isa == o.isa && strategy == o.strategy && channels_first == o.channels_first &&
         loop_order == o.loop_order && vector_lanes == o.vector_lanes && tile_t == o.tile_t &&
         tile_oc_vecs == o.tile_oc_vecs && block_ic == o.block_ic && block_t == o.block_t &&
         unroll_k == o.unroll_k && unroll_ic == o.unroll_ic &&
         prefetch_distance == o.prefetch_distance && nontemporal_stores == o.nontemporal_stores &&
         threads == o.threads;
}

std::string to_string(const Schedule& s) {
  return fmt::format(
      "isa={} strategy={} channels_first={} loop_order={} vector_lanes={} tile_t={} "
      "tile_oc_vecs={} block_ic={} block_t={} unroll_k={} unroll_ic={} prefetch_distance={} "
      "nontemporal_stores={} threads={}",
      isa_name(s.isa), strategy_name(s.strategy), "transpose",
      s.loop_order == LoopOrder::kBatchTimeChannel ? "btc" : "bct", s.vector_lanes, s.tile_t,
      s.tile_oc_vecs, s.block_ic, s.block_t, s.unroll_k, s.unroll_ic, s.prefetch_distance,
      s.nontemporal_stores ? 1 : 0, s.threads);
}

Schedule parse_schedule(std::string_view text) {
  Schedule s;
  bool lanes_given = false;
  std::set<std::string> seen;
  for (const std::string_view item : schedule_items(text)) {
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw Error(ErrorCode::kParseError, "schedule",
                  fmt::format("Invalid schedule item '{}': expected key=value", item));
    }
    const std::string key(item.substr(0, eq));
    const std::string_view value = item.substr(eq + 1);
    if (!seen.insert(key).second) {
      throw Error(ErrorCode::kParseError, key,
                  fmt::format("Schedule key {} given twice in '{}'", key, text));
    }
    if (key == "isa") {
      if (value == "avx2")
        s.isa = Isa::kAvx2;
      else if (value == "avx512")
        s.isa = Isa::kAvx512;
      else
        bad_value(key, value, "avx2 or avx512");
    } else if (key == "strategy") {
      if (value == "direct")
        s.strategy = Strategy::kDirect;
      else if (value == "depthwise")
        s.strategy = Strategy::kDepthwise;
      else if (value == "pointwise" || value == "first_layer")
        bad_value(key, value,
                  "direct or depthwise (pointwise and first_layer were labels for direct: "
                  "use strategy=direct)");
      else
        bad_value(key, value, "direct or depthwise");
    } else if (key == "channels_first") {
      if (value == "transpose")
        s.channels_first = ChannelsFirstMode::kTranspose;
      else
        bad_value(key, value, "transpose (native is not implemented)");
    } else if (key == "loop_order") {
      if (value == "btc")
        s.loop_order = LoopOrder::kBatchTimeChannel;
      else if (value == "bct")
        s.loop_order = LoopOrder::kBatchChannelTime;
      else
        bad_value(key, value, "btc or bct");
    } else if (key == "vector_lanes") {
      s.vector_lanes = parse_small_int(key, value);
      lanes_given = true;
    } else if (key == "tile_t") {
      s.tile_t = parse_small_int(key, value);
    } else if (key == "tile_oc_vecs") {
      s.tile_oc_vecs = parse_small_int(key, value);
    } else if (key == "block_ic") {
      s.block_ic = parse_int(key, value);
    } else if (key == "block_t") {
      s.block_t = parse_int(key, value);
    } else if (key == "unroll_k") {
      s.unroll_k = parse_small_int(key, value);
    } else if (key == "unroll_ic") {
      s.unroll_ic = parse_small_int(key, value);
    } else if (key == "prefetch_distance") {
      s.prefetch_distance = parse_small_int(key, value);
    } else if (key == "nontemporal_stores") {
      if (value == "1" || value == "true")
        s.nontemporal_stores = true;
      else if (value == "0" || value == "false")
        s.nontemporal_stores = false;
      else
        bad_value(key, value, "0 or 1");
    } else if (key == "threads") {
      s.threads = parse_small_int(key, value);
    } else {
      throw Error(ErrorCode::kParseError, key,
                  fmt::format("Unknown schedule key: {}. Expected one of: isa, strategy, "
                              "channels_first, loop_order, vector_lanes, tile_t, tile_oc_vecs, "
                              "block_ic, block_t, unroll_k, unroll_ic, prefetch_distance, "
                              "nontemporal_stores, threads",
                              key));
    }
  }
  // The lanes follow the ISA unless given: "isa=avx2" alone is a complete schedule.
  if (!lanes_given) s.vector_lanes = isa_target(s.isa).lanes;
  return s;
}

Schedule merge_schedule(const Schedule& base, std::string_view text) {
  parse_schedule(text);  // the given words alone: a key given twice, a bad key or value
  auto key_of = [](std::string_view w) { return w.substr(0, w.find('=')); };
  const std::string base_text = to_string(base);
  std::vector<std::string_view> words = schedule_items(base_text);
  for (const std::string_view given : schedule_items(text)) {
    bool replaced = false;
    for (std::string_view& word : words) {
      if (key_of(word) == key_of(given)) {
        word = given;
        replaced = true;
      }
    }
    if (!replaced) words.push_back(given);
  }
  std::string merged;
  for (const std::string_view word : words) {
    if (!merged.empty()) merged += ' ';
    merged += word;
  }
  return parse_schedule(merged);
}

}  // namespace convjit::detail
