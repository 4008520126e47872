// Thread splits of LLVM kernels. A call computes the outputs of its KernelArgs ranges
// (n x t x oc), so the runtime may cut a run anywhere its split rules allow: every case runs
// whole, then cut into cells called one by one in a shuffled order (t cut at tile multiples
// and at arbitrary steps, inside the edges too; oc cut on the split granularity), and the
// outputs must be equal bit for bit. Scratch is refilled with NaN before every call (a call
// may not read what another call left there), outputs have canaries on both sides. Then the
// public API runs the same layer on 1, 2 and 3 threads and compares bits again.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/backend/llvm/llvm_backend.hpp"
#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/jit.hpp"
#include "jit/jit_harness.hpp"

namespace convjit {
namespace {

using detail::GeneratedKernel;
using detail::KernelArgs;
using detail::Problem;
using detail::Schedule;

constexpr std::uint32_t kCanary = 0x7fc0beef;  // a NaN pattern no kernel writes
constexpr std::size_t kGuard = 32;             // floats of canary on each side

/// Floats whose first element sits `offset_bytes` past a 4 KiB boundary, with canaries.
class Guarded {
 public:
  explicit Guarded(std::size_t n, std::size_t offset_bytes = 0) : n_(n) {
    storage_.resize(n + 2 * kGuard + (4096 + offset_bytes) / 4 + 1);
    const auto start = reinterpret_cast<std::uintptr_t>(storage_.data() + kGuard);
    const std::uintptr_t page = (start + 4095) / 4096 * 4096;
    data_ = storage_.data() + (page - reinterpret_cast<std::uintptr_t>(storage_.data())) / 4 +
            offset_bytes / 4;
    fill_canary();
  }
  float* data() { return data_; }
  void fill_canary() {
    for (float* p = data_ - kGuard; p < data_ + n_ + kGuard; ++p) std::memcpy(p, &kCanary, 4);
  }
  bool intact() const {
    for (std::size_t i = 0; i < kGuard; ++i) {
      std::uint32_t a = 0, b = 0;
      std::memcpy(&a, data_ - kGuard + i, 4);
      std::memcpy(&b, data_ + n_ + i, 4);
      if (a != kCanary || b != kCanary) return false;
    }
    return true;
  }
  std::vector<float> contents() const { return std::vector<float>(data_, data_ + n_); }

 private:
  std::size_t n_;
  std::vector<float> storage_;
  float* data_ = nullptr;
};

struct SplitCase {
  const char* name;
  const char* spec;
  Shape3 shape;          // in the spec's data_format order
  const char* schedule;  // words over the heuristic's schedule ("" = the heuristic)
};

void PrintTo(const SplitCase& c, std::ostream* os) {
  *os << c.name;
}

/// The heuristic's schedule with `words` ("key=value ...") replacing its keys.
Schedule schedule_for(const Problem& p, const std::string& words) {
  std::map<std::string, std::string> fields;
  std::vector<std::string> order;
  auto add = [&](const std::string& text) {
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
      const std::string key = word.substr(0, word.find('='));
      if (fields.count(key) == 0) order.push_back(key);
      fields[key] = word;
    }
  };
  add(detail::to_string(detail::default_schedule(p, Isa::kAvx2)));
  add(words);
  std::string text;
  for (const std::string& key : order) text += fields[key] + " ";
  const Schedule s = detail::parse_schedule(text);
  detail::check_legal(s, p);
  return s;
}

struct Data {
  std::vector<float> input, kernel, bias;
};

Data make_data(const Problem& p, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  Data out;
  out.input.resize(static_cast<std::size_t>(p.input_size()));
  out.kernel.resize(static_cast<std::size_t>(p.kernel_size_elems()));
  out.bias.resize(static_cast<std::size_t>(p.filters));
  for (float& x : out.input) x = d(rng);
  for (float& x : out.kernel) x = d(rng);
  for (float& x : out.bias) x = d(rng);
  return out;
}

using Cell = detail::jit_test::Ranges;

/// Runs `cells` one call each into `out`; scratch is NaN before every call.
void run_cells(const GeneratedKernel& k, const Problem& p, const float* input, const Data& d,
               const std::vector<float>& packed, const std::vector<Cell>& cells, Guarded& out) {
  const std::size_t scratch_floats = std::max<std::size_t>(k.scratch_floats(p.length), 1);
  Guarded scratch(scratch_floats);
  for (const Cell& c : cells) {
    scratch.fill_canary();
    const KernelArgs a = detail::jit_test::kernel_args(p, input, packed.data(), d.bias.data(),
                                                       out.data(), scratch.data(), c);
    k.entry()(&a);
    ASSERT_TRUE(scratch.intact()) << "scratch canaries overwritten";
    ASSERT_TRUE(out.intact()) << "output canaries overwritten";
  }
}

/// Cut points [0, ..., extent] from `inner` (clipped, sorted, unique).
std::vector<std::int64_t> cuts(std::int64_t extent, std::vector<std::int64_t> inner) {
  std::vector<std::int64_t> out{0, extent};
  for (std::int64_t c : inner) {
    if (c > 0 && c < extent) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Every cell of the n x t x oc cuts, shuffled.
std::vector<Cell> cells_of(const std::vector<std::int64_t>& n, const std::vector<std::int64_t>& t,
                           const std::vector<std::int64_t>& oc, std::uint32_t seed) {
  std::vector<Cell> out;
  for (std::size_t a = 0; a + 1 < n.size(); ++a)
    for (std::size_t b = 0; b + 1 < t.size(); ++b)
      for (std::size_t c = 0; c + 1 < oc.size(); ++c)
        out.push_back({n[a], n[a + 1], t[b], t[b + 1], oc[c], oc[c + 1]});
  std::shuffle(out.begin(), out.end(), std::mt19937(seed));
  return out;
}

std::size_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], 4) != 0) return i;
  }
  return a.size();
}

/// The whole run against the reference, then every split against the whole run. The input
/// starts on a 4 KiB boundary, the output `out_offset_bytes` past one.
void check_splits(const SplitCase& c, std::size_t out_offset_bytes = 0,
                  std::vector<float>* whole_output = nullptr) {
  SCOPED_TRACE(fmt::format("{}: {} input ({}, {}, {}) schedule '{}'", c.name, c.spec, c.shape[0],
                           c.shape[1], c.shape[2], c.schedule));
  const Conv1DSpec spec = parse_spec(c.spec);
  const Problem p = detail::make_problem(spec, c.shape);
  const Schedule s = schedule_for(p, c.schedule);
  const std::unique_ptr<GeneratedKernel> k =
      detail::generate_llvm(p, s, detail::llvm_target("", Isa::kAvx2));
  const Data d = make_data(p, 11);
  std::vector<float> packed(k->packed_weights_floats() + 1);
  k->pack_weights(d.kernel.data(), packed.data());
  const std::size_t n_out = static_cast<std::size_t>(p.output_size());
  Guarded placed(d.input.size());
  std::copy(d.input.begin(), d.input.end(), placed.data());
  const float* in = placed.data();

  Guarded whole(n_out, out_offset_bytes);
  run_cells(*k, p, in, d, packed, {{0, p.batch, 0, p.out_length, 0, p.filters}}, whole);
  const std::vector<float> got = whole.contents();
  if (whole_output != nullptr) *whole_output = got;
  std::vector<float> want(n_out + 1);
  detail::reference_conv1d(p, d.input.data(), d.kernel.data(), d.bias.data(), want.data());
  const double scale = static_cast<double>(p.kernel * p.ic_per_group) + 1.0;
  for (std::size_t i = 0; i < n_out; ++i) {
    const double tol = 1e-5 * scale + 1e-4 * std::fabs(want[i]);
    ASSERT_LE(std::fabs(static_cast<double>(got[i]) - want[i]), tol)
        << "output " << i << " = " << got[i] << ", reference " << want[i];
  }

  // Split rules of this kernel.
  const std::int64_t lout = p.out_length, f = p.filters, tile = s.tile_t;
  const std::int64_t g = k->oc_split_granularity();
  ASSERT_GE(g, 1);
  ASSERT_LE(g, std::max<std::int64_t>(f, 1));
  if (is_axis_activation(p.activation) && p.data_format == DataFormat::kChannelsLast) {
    EXPECT_EQ(g, f) << "an axis activation over channels needs every channel in one call";
  }
  EXPECT_EQ(k->can_split_time(),
            !(is_axis_activation(p.activation) && p.data_format == DataFormat::kChannelsFirst));
  const std::vector<std::int64_t> n_cuts = cuts(p.batch, {p.batch / 2});
  std::vector<std::vector<std::int64_t>> t_plans;
  if (k->can_split_time()) {
    t_plans.push_back(cuts(lout, {tile, lout / 3 / tile * tile, 2 * lout / 3 / tile * tile}));
    t_plans.push_back(cuts(lout, {1, 2, lout / 2 + 1, lout - 2, lout - 1}));  // edges, odd rows
    std::vector<std::int64_t> every;
    for (std::int64_t t = 1; t < lout; t += 5) every.push_back(t);
    t_plans.push_back(cuts(lout, every));
  } else {
    t_plans.push_back(cuts(lout, {}));
  }
  const std::vector<std::vector<std::int64_t>> oc_plans = {cuts(f, {f / 2 / g * g}),
                                                           cuts(f, {g, 2 * g, 3 * g, 5 * g})};
  // Each call writes exactly its cell: every output inside, nothing outside (calls of
  // different threads never write the same element).
  const bool cf = p.data_format == DataFormat::kChannelsFirst;
  const std::int64_t fl = p.final_out_length(), fc = p.out_channels();
  for (const Cell& cell : cells_of(n_cuts, t_plans.front(), oc_plans.back(), 99)) {
    Guarded alone(n_out);
    run_cells(*k, p, in, d, packed, {cell}, alone);
    const std::vector<float> out = alone.contents();
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(n_out); ++i) {
      const std::int64_t n = i / (fl * fc);
      const std::int64_t t = cf ? i % fl : i / fc % fl;
      const std::int64_t oc = cf ? i / fl % fc : i % fc;
      const bool inside = n >= cell.n0 && n < cell.n1 && t >= cell.t0 && t < cell.t1 &&
                          oc >= cell.oc0 && oc < cell.oc1;
      std::uint32_t bits = 0;
      std::memcpy(&bits, &out[static_cast<std::size_t>(i)], 4);
      ASSERT_EQ(bits != kCanary, inside)
          << fmt::format("call n [{}, {}) t [{}, {}) oc [{}, {}): output (n={}, t={}, oc={}) {}",
                         cell.n0, cell.n1, cell.t0, cell.t1, cell.oc0, cell.oc1, n, t, oc,
                         inside ? "not written" : "written outside the call's ranges");
    }
  }

  std::uint32_t seed = 1;
  for (const auto& t_cuts : t_plans) {
    for (const auto& oc_cuts : oc_plans) {
      Guarded split(n_out, out_offset_bytes);
      const std::vector<Cell> cells = cells_of(n_cuts, t_cuts, oc_cuts, seed++);
      run_cells(*k, p, in, d, packed, cells, split);
      const std::vector<float> parts = split.contents();
      const std::size_t at = first_difference(parts, got);
      ASSERT_EQ(at, n_out) << fmt::format(
          "{} calls (t cuts {}, oc cuts {}) differ from the whole run at output {}: {} vs {}",
          cells.size(), fmt::join(t_cuts, ","), fmt::join(oc_cuts, ","), at,
          at < n_out ? parts[at] : 0.0f, at < n_out ? got[at] : 0.0f);
    }
  }
}

/// The public API on 1, 2 and 3 threads: identical bits.
void check_threads(const SplitCase& c) {
  SCOPED_TRACE(fmt::format("{}: {} threads", c.name, c.spec));
  const Conv1DSpec spec = parse_spec(c.spec);
  const Problem p = detail::make_problem(spec, c.shape);
  const Data d = make_data(p, 5);
  Jit jit;
  std::vector<std::vector<float>> outs;
  for (int threads : {1, 2, 3}) {
    CompileOptions o;
    o.backend = Backend::kLlvm;
    o.isa = Isa::kAvx2;
    o.threads = threads;
    o.use_tuning_db = false;
    if (c.schedule[0] != '\0') o.schedule = c.schedule;
    const Kernel k = jit.compile(spec, c.shape, o);
    const PackedWeights w = k.pack_weights(d.kernel.data(), d.bias.data());
    const std::size_t n = static_cast<std::size_t>(k.output_size(p.batch, p.length));
    Guarded out(n);
    k.run(d.input.data(), w, out.data(), p.batch, p.length);
    EXPECT_TRUE(out.intact()) << threads << " threads: output canaries overwritten";
    outs.push_back(out.contents());
  }
  for (std::size_t i = 1; i < outs.size(); ++i) {
    EXPECT_EQ(first_difference(outs[i], outs[0]), outs[0].size())
        << (i + 1) << " threads differ from 1 thread";
  }
}

const SplitCase kCases[] = {
    {"direct", "filters=40, kernel_size=3, padding='same'", {2, 61, 12}, ""},
    {"direct btc, time and ic blocks (partial sums in the output)",
     "filters=40, kernel_size=3, padding='causal', activation='relu'",
     {1, 97, 24},
     "loop_order=btc tile_t=4 block_t=16 block_ic=8"},
    {"depthwise, tail channel block",
     "filters=44, kernel_size=5, padding='causal', groups=44",
     {2, 83, 44},
     ""},
    {"depthwise sweep (btc) with time blocks",
     "filters=44, kernel_size=5, padding='same', groups=44, activation='silu'",
     {1, 123, 44},
     "loop_order=btc tile_t=4 block_t=20"},
    {"depthwise sweep, channel-major order",
     "filters=44, kernel_size=4, groups=44",
     {1, 60, 44},
     "loop_order=bct"},
    {"depthwise multiplier 2",
     "filters=48, kernel_size=3, padding='same', groups=24",
     {1, 70, 24},
     ""},
    {"depthwise, tail block, sweep",
     "filters=20, kernel_size=3, padding='same', groups=20, activation='elu'",
     {2, 53, 20},
     "strategy=depthwise tile_t=4 tile_oc_vecs=1 loop_order=btc"},
    {"multiplier 2 (grouped direct), btc",
     "filters=40, kernel_size=3, padding='same', groups=20, activation='elu'",
     {2, 53, 20},
     "strategy=direct tile_t=4 tile_oc_vecs=1 loop_order=btc"},
    {"pointwise", "filters=72, kernel_size=1", {2, 50, 32}, ""},
    {"strided", "filters=24, kernel_size=4, strides=3, padding='valid'", {1, 101, 16}, ""},
    {"dilated causal",
     "filters=16, kernel_size=3, dilation_rate=4, padding='causal', "
     "activation='tanh'",
     {1, 90, 8},
     ""},
    {"same, stride 2",
     "filters=20, kernel_size=5, strides=2, padding='same', activation='gelu'",
     {2, 77, 10},
     ""},
    {"first layer (C=1, stride 5)", "filters=64, kernel_size=10, strides=5", {1, 400, 1}, ""},
    {"grouped, oc per group not a block multiple",
     "filters=36, kernel_size=3, groups=3, padding='same'",
     {1, 60, 12},
     ""},
    {"channels_first",
     "filters=30, kernel_size=3, strides=2, padding='same', "
     "data_format='channels_first', activation='relu'",
     {2, 14, 65},
     ""},
    {"softmax over channels",
     "filters=24, kernel_size=3, padding='same', activation='softmax'",
     {2, 50, 8},
     ""},
    {"softmax over time (channels_first)",
     "filters=16, kernel_size=3, padding='causal', data_format='channels_first', "
     "activation='softmax'",
     {1, 6, 40},
     ""},
    {"glu over channels", "filters=32, kernel_size=2, activation='glu'", {1, 45, 8}, ""},
    {"glu over time (channels_first)",
     "filters=12, kernel_size=3, padding='same', data_format='channels_first', "
     "activation='glu'",
     {1, 5, 40},
     ""},
};

class LlvmSplit : public ::testing::TestWithParam<SplitCase> {};

TEST_P(LlvmSplit, RangesGiveIdenticalBits) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA";
  check_splits(GetParam());
}

TEST_P(LlvmSplit, ThreadsGiveIdenticalBits) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA";
  check_threads(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cases, LlvmSplit, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<SplitCase>& param) {
                           return fmt::format("case{}", param.index);
                         });

// Streaming stores. A call streams (vmovntps) when its output is line-aligned and its input
// loads do not alias pending streamed stores modulo 4 KiB in the order the sweep takes the
// channel blocks (ascending, else descending), and stores plainly otherwise. The rule as the
// backends state it, to place buffers so that each path runs.
enum class StorePath { kAscending, kDescending, kPlain };

StorePath expected_path(const Problem& p, const Schedule& s, std::int64_t out_minus_in) {
  const std::int64_t page = 4096, window = 8 * s.tile_oc_vecs * s.vector_lanes * 4;
  const std::int64_t in_rows = s.tile_t * p.stride + (p.kernel - 1) * p.dilation;
  if (out_minus_in % 64 != 0) return StorePath::kPlain;
  bool ahead = false, behind = false;
  for (std::int64_t t = 0; t < s.tile_t; ++t) {
    for (std::int64_t r = 0; r < in_rows; ++r) {
      const std::int64_t a =
          ((out_minus_in + t * p.filters * 4 - r * p.in_channels * 4) % page + page) % page;
      ahead = ahead || (a > 0 && a <= window);
      behind = behind || a >= page - window;
    }
  }
  if (!ahead) return StorePath::kAscending;
  return behind ? StorePath::kPlain : StorePath::kDescending;
}

TEST(LlvmSplitStreaming, EveryStorePathAndEverySplitGiveTheSameBits) {
  if (!host_supports(Isa::kAvx2)) GTEST_SKIP() << "the host lacks AVX2+FMA";
  const SplitCase c{"depthwise, streaming stores",
                    "filters=48, kernel_size=4, padding='causal', groups=48",
                    {2, 70, 48},
                    "loop_order=btc tile_t=6 tile_oc_vecs=2 nontemporal_stores=1"};
  const Problem p = detail::make_problem(parse_spec(c.spec), c.shape);
  const Schedule s = schedule_for(p, c.schedule);
  const std::unique_ptr<GeneratedKernel> k =
      detail::generate_llvm(p, s, detail::llvm_target("", Isa::kAvx2));
  EXPECT_NE(k->assembly().find("vmovntps"), std::string::npos);
  EXPECT_NE(k->assembly().find("sfence"), std::string::npos);
  std::vector<float> first;
  int paths_seen = 0;
  for (StorePath path : {StorePath::kAscending, StorePath::kDescending, StorePath::kPlain}) {
    std::int64_t offset = -1;
    for (std::int64_t o = 0; o < 4096 && offset < 0; o += 64) {
      if (expected_path(p, s, o) == path) offset = o;
    }
    if (offset < 0) continue;
    ++paths_seen;
    std::vector<float> whole;
    check_splits(c, static_cast<std::size_t>(offset), &whole);
    if (first.empty()) first = whole;
    EXPECT_EQ(first_difference(whole, first), first.size()) << "output offset " << offset;
  }
  EXPECT_EQ(paths_seen, 3);
  std::vector<float> misaligned;  // not line-aligned: plain stores
  check_splits(c, 16, &misaligned);
  EXPECT_EQ(first_difference(misaligned, first), first.size());
}

}  // namespace
}  // namespace convjit
