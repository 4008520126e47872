// Helpers of the IR tests: golden conformance cases, running a Func, random schedules.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "compiler/ir/interpreter.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "compiler/schedule/weight_layout.hpp"
#include "convjit/error.hpp"
#include "convjit/spec.hpp"

namespace convjit::detail::ir::test {

struct GoldenCase {
  std::string id;
  Conv1DSpec spec;
  Shape3 shape{};
  std::vector<float> input, kernel, bias, output;
  double acc_scale = 1.0;
  bool has_bias = false;
};

inline std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> v;
  if (j.is_null()) return v;
  v.reserve(j.size());
  for (const auto& x : j) v.push_back(static_cast<float>(x.get<double>()));
  return v;
}

/// The forward cases of a conformance file under shared/conformance.
inline std::vector<GoldenCase> load_cases(const std::string& file) {
  std::ifstream in(std::string(CONVJIT_SHARED_DIR) + "/conformance/" + file);
  std::vector<GoldenCase> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    if (j.value("kind", "") != "forward") continue;
    GoldenCase c;
    c.id = j["id"].get<std::string>();
    c.spec = parse_spec_json(j["spec"].dump());
    for (int i = 0; i < 3; ++i) c.shape[i] = j["input_shape"][i].get<std::int64_t>();
    c.input = floats(j["input"]);
    c.kernel = floats(j["kernel"]);
    c.has_bias = !j["bias"].is_null();
    c.bias = floats(j["bias"]);
    c.output = floats(j["output"]);
    c.acc_scale = j.value("acc_scale", 1.0);
    out.push_back(std::move(c));
  }
  return out;
}

inline std::vector<GoldenCase> all_cases() {
  std::vector<GoldenCase> a = load_cases("cases.jsonl");
  std::vector<GoldenCase> b = load_cases("extra_activations.jsonl");
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// Runs `f` on the case's data (weights packed for f's layout).
inline std::vector<float> run_func(const Func& f, const Problem& p, const GoldenCase& c) {
  std::vector<float> packed(static_cast<std::size_t>(packed_weights_size(p, f.weights)));
  pack_weights(p, f.weights, c.kernel.data(), packed.data());
  std::vector<float> out(static_cast<std::size_t>(p.output_size()), std::nanf(""));
  std::vector<float> input = c.input, bias = c.bias;
  std::vector<BufferBinding> bind;
  for (const BufferDecl& b : f.buffers) {
    switch (b.kind) {
      case BufferKind::kInput:
        bind.push_back({input.data(), static_cast<std::int64_t>(input.size())});
        break;
      case BufferKind::kWeights:
        bind.push_back({packed.data(), static_cast<std::int64_t>(packed.size())});
        break;
      case BufferKind::kBias:
        bind.push_back({bias.data(), static_cast<std::int64_t>(bias.size())});
        break;
      case BufferKind::kOutput:
        bind.push_back({out.data(), static_cast<std::int64_t>(out.size())});
        break;
      case BufferKind::kScratch: bind.push_back({}); break;
    }
  }
  interpret(f, p.batch, p.length, bind);
  return out;
}

/// Empty when `got` matches the golden output within the FORMAT.md tolerance, else the
/// first mismatch.
inline std::string compare(const GoldenCase& c, const std::vector<float>& got) {
  if (got.size() != c.output.size()) {
    return "size " + std::to_string(got.size()) + " != " + std::to_string(c.output.size());
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double want = c.output[i];
    const double tol = 1e-5 * std::max(1.0, c.acc_scale) + 1e-4 * std::fabs(want);
    if (!std::isfinite(got[i]) || std::fabs(got[i] - want) > tol) {
      return "element " + std::to_string(i) + ": got " + std::to_string(got[i]) + ", want " +
             std::to_string(want);
    }
  }
  return "";
}

/// Seeded values in [-1, 1].
inline std::vector<float> random_case_values(std::int64_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(count));
  for (float& x : v) x = d(rng);
  return v;
}

/// A random schedule (not necessarily legal) covering every field.
inline Schedule random_schedule(std::mt19937_64& rng, const Problem& p) {
  auto pick = [&](int lo, int hi) {
    return static_cast<int>(std::uniform_int_distribution<int>(lo, hi)(rng));
  };
  Schedule s;
  s.isa = pick(0, 1) ? Isa::kAvx2 : Isa::kAvx512;
  s.vector_lanes = s.isa == Isa::kAvx2 ? 8 : 16;
  if (pick(0, 30) == 0) s.vector_lanes = 24 - s.vector_lanes;  // sometimes illegal
  s.strategy = pick(0, 1) ? Strategy::kDepthwise : Strategy::kDirect;
  s.channels_first = ChannelsFirstMode::kTranspose;
  s.loop_order = pick(0, 1) ? LoopOrder::kBatchTimeChannel : LoopOrder::kBatchChannelTime;
  const int regs = s.isa == Isa::kAvx2 ? 16 : 32;
  s.tile_oc_vecs = pick(1, 4);
  s.tile_t = pick(1, std::max(1, (regs - s.tile_oc_vecs - 1) / s.tile_oc_vecs));
  s.block_ic =
      pick(0, 2) == 0 ? 0 : pick(1, static_cast<int>(std::min<std::int64_t>(p.ic_per_group, 64)));
  s.block_t = pick(0, 1) ? 0 : s.tile_t * pick(1, 3);
  s.unroll_k = pick(1, static_cast<int>(std::min<std::int64_t>(p.kernel, 4)));
  s.unroll_ic = pick(1, 4);
  const int prefetch[] = {0, 64, 256};
  s.prefetch_distance = prefetch[pick(0, 2)];
  s.nontemporal_stores = pick(0, 3) == 0;
  s.threads = pick(1, 4);
  return s;
}

/// A random schedule that check_legal accepts (the illegal draws are skipped), or the
/// default schedule after 500 illegal draws.
inline Schedule random_legal_schedule(std::mt19937_64& rng, const Problem& p, int* illegal) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    Schedule s = random_schedule(rng, p);
    try {
      check_legal(s, p);
      return s;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kIllegalSchedule) throw;
      if (illegal) ++*illegal;
    }
  }
  return default_schedule(p, Isa::kAvx512);
}

}  // namespace convjit::detail::ir::test
