// One fuzz case: bytes -> spec, shape, schedule and inputs -> refused, or run and checked.
#include "fuzz/fuzz_case.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler/problem.hpp"
#include "compiler/reference/reference.hpp"
#include "compiler/schedule/schedule.hpp"
#include "convjit/convjit.hpp"
#include "runtime/engine.hpp"
#include "runtime/input_file.hpp"
#include "runtime/tuning_db.hpp"
#include "tools/conformance_case.hpp"

namespace convjit::fuzz {
namespace {

/// Options with a cache of `capacity` kernels (other fields at their defaults).
JitOptions jit_options(std::size_t capacity) {
  JitOptions o;
  o.capacity = capacity;
  return o;
}

/// Largest run the fuzzer executes (elements of input, output and kernel; flops).
constexpr std::int64_t kMaxElements = std::int64_t{1} << 15;
constexpr double kMaxFlops = 4.0e6;
/// FORMAT.md tolerance.
constexpr double kAtol = 1e-5, kRtol = 1e-4;
/// Bits of the canary written over outputs and the spare bytes beside buffers.
constexpr std::uint32_t kCanary = 0x7fc0deadu;

// The first byte picks the mode (modulo kModes). Modes 0-4 keep the numbers they had when
// there were five, so saved reproducers replay as they were found; 7 is structured again.
enum Mode : std::uint8_t {
  kStructured,
  kStructured2,
  kText,
  kScheduleText,
  kHostile,
  kTuningDb,  // a tuning database: a record for the case's spec, then the rest of the bytes
  kCaseFile,  // a golden case file: a valid record, then the rest of the bytes
  kStructured3,
  kModes
};

/// Reads the input bytes; zeros once they run out.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  /// In [lo, hi].
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    const std::uint32_t v = static_cast<std::uint32_t>(u8()) << 8 | u8();
    return lo + static_cast<std::int64_t>(v % static_cast<std::uint32_t>(hi - lo + 1));
  }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | u8();
    return static_cast<std::int64_t>(v);
  }
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(data_) + pos_, size_ - pos_);
    pos_ = size_;
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// A float buffer next to a PROT_NONE page (after it, or before it), with the rest of its
/// pages filled with canaries: generated code reading or writing outside the buffer faults
/// or changes a canary.
class GuardedBuffer {
 public:
  GuardedBuffer(std::int64_t floats, bool guard_after) : floats_(floats) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = static_cast<std::size_t>(floats) * sizeof(float);
    data_pages_ = std::max<std::size_t>(1, (bytes + page_ - 1) / page_);
    map_bytes_ = (data_pages_ + 2) * page_;
    void* m = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<std::uint8_t*>(m);
    mprotect(base_, page_, PROT_NONE);
    mprotect(base_ + page_ * (data_pages_ + 1), page_, PROT_NONE);
    std::uint8_t* first = base_ + page_;
    data_ = reinterpret_cast<float*>(guard_after ? first + data_pages_ * page_ - bytes : first);
    for (std::size_t i = 0; i < data_pages_ * page_ / 4; ++i) {
      std::memcpy(first + i * 4, &kCanary, 4);
    }
  }
  ~GuardedBuffer() { munmap(base_, map_bytes_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  float* data() { return data_; }
  std::int64_t size() const { return floats_; }
  /// False when a canary outside [data, data + size) changed.
  bool canaries_intact() const {
    const std::uint8_t* first = base_ + page_;
    const auto* begin = reinterpret_cast<const std::uint8_t*>(data_);
    const std::uint8_t* end = begin + floats_ * 4;
    for (const std::uint8_t* q = first; q < first + data_pages_ * page_; q += 4) {
      if (q >= begin && q < end) continue;
      std::uint32_t v = 0;
      std::memcpy(&v, q, 4);
      if (v != kCanary) return false;
    }
    return true;
  }

 private:
  std::int64_t floats_;
  std::size_t page_ = 4096, data_pages_ = 1, map_bytes_ = 0;
  std::uint8_t* base_ = nullptr;
  float* data_ = nullptr;
};

bool is_canary(float f) {
  std::uint32_t v = 0;
  std::memcpy(&v, &f, 4);
  return v == kCanary;
}

/// Multiples of 1/8 in [-0.25, 0.25]: products and sums stay exact in float, so the
/// activation sees the reference's pre-activation exactly (no branch flips).
void fill(float* v, std::int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(-2, 2);
  for (std::int64_t i = 0; i < n; ++i) v[i] = 0.125f * static_cast<float>(dist(rng));
}

/// The process-wide Jit of the fuzzer: a small cache, so evictions happen all the time.
Jit& fuzz_jit() {
  static Jit* const jit = new Jit(jit_options(4));
  return *jit;
}

/// What the structured modes decided besides the spec.
struct Plan {
  Conv1DSpec spec;
  Shape3 shape{};
  CompileOptions options;
  std::int64_t run_batch = 0, run_length = 0;
  /// Run arguments deliberately wrong (an Error is the right answer): an ISA the CPU lacks,
  /// a length or a batch other than the static compiled one.
  bool bad_isa = false, bad_length = false, bad_batch = false;
  bool bad_run() const { return bad_isa || bad_length || bad_batch; }
  bool null_input = false;  ///< pass nullptr as the input
  bool guard_after = true;
  std::string text;  ///< what was tried, for messages
};

Shape3 make_shape(DataFormat df, std::int64_t batch, std::int64_t length, std::int64_t channels) {
  return df == DataFormat::kChannelsLast ? Shape3{batch, length, channels}
                                         : Shape3{batch, channels, length};
}

std::string shape_text(const Shape3& s) {
  std::ostringstream o;
  o << "(" << s[0] << ", " << s[1] << ", " << s[2] << ")";
  return o.str();
}

void read_schedule(Reader& r, Plan& plan) {
  const unsigned mask = static_cast<unsigned>(r.u8()) | static_cast<unsigned>(r.u8()) << 8;
  std::string s;
  auto word = [&](unsigned bit, const std::string& w) {
    if (mask & (1u << bit)) s += (s.empty() ? "" : " ") + w;
  };
  word(0, "tile_t=" + std::to_string(r.range(1, 14)));
  word(1, "tile_oc_vecs=" + std::to_string(r.range(1, 4)));
  word(2, "unroll_k=" + std::to_string(r.range(1, 8)));
  word(3, "unroll_ic=" + std::to_string(r.range(1, 8)));
  word(4, std::string("loop_order=") + (r.u8() % 2 ? "btc" : "bct"));
  word(5, "block_t=" + std::to_string(r.range(0, 24)));
  word(6, "prefetch_distance=" + std::to_string(64 * r.range(0, 16)));
  word(7, "nontemporal_stores=" + std::to_string(r.u8() % 2));
  static const char* const kStrategies[] = {"direct", "depthwise", "pointwise", "first_layer"};
  word(8, std::string("strategy=") + kStrategies[r.u8() % 4]);
  word(9,
       std::string("channels_first=") + (r.u8() % 2 ? "native" : "transpose"));  // native: refused
  word(10, "block_ic=" + std::to_string(r.range(0, 8)));
  plan.options.schedule = s;
}

/// A spec, shape and run of small, mostly legal sizes.
Plan read_structured(Reader& r) {
  Plan plan;
  Conv1DSpec& spec = plan.spec;
  const std::uint8_t flags = r.u8();
  std::int64_t channels = 1;
  spec.groups = r.range(1, 4);
  if (flags & 1) {  // depthwise (multiplier 1 or 2..3)
    spec.groups = r.range(2, 24);
    channels = spec.groups;
    spec.filters = spec.groups * ((flags & 2) ? 1 : r.range(1, 3));
  } else {
    channels = spec.groups * r.range(1, 10);
    spec.filters = spec.groups * r.range(1, 12);
  }
  spec.kernel_size = r.range(1, 7);
  spec.strides = r.range(1, 3);
  spec.dilation_rate = (spec.strides == 1 || (flags & 68) == 68) ? r.range(1, 3) : 1;
  spec.padding = static_cast<Padding>(r.u8() % 3);
  spec.data_format = static_cast<DataFormat>(r.u8() % 2);
  spec.activation = static_cast<Activation>(r.u8() % kActivationCount);
  spec.use_bias = r.u8() % 4 != 0;
  const std::int64_t batch = r.range(0, 3);
  const std::int64_t length = r.range(0, 40);
  const bool dyn_batch = flags & 8, dyn_length = flags & 16;
  plan.shape = make_shape(spec.data_format, dyn_batch ? kDynamic : batch,
                          dyn_length ? kDynamic : length, channels);
  plan.options.threads = static_cast<int>(r.range(1, 3));
  const std::uint8_t isa = r.u8() % 16;
  if (isa == 0) plan.options.isa = Isa::kAvx512;
  if (isa == 1) plan.options.isa = Isa::kAvx2;
  if (isa == 2) {
    plan.options.isa = Isa::kAvx512;
    plan.options.allow_unsupported_isa = true;
    plan.bad_isa = !host_supports(Isa::kAvx512);
  }
  plan.run_batch = dyn_batch ? r.range(0, 3) : batch;
  plan.run_length = dyn_length ? r.range(0, 40) : length;
  const std::uint8_t run_flags = r.u8();
  if (run_flags % 16 == 1 && !dyn_length) {
    plan.run_length = length + 1;  // not the compiled length
    plan.bad_length = true;
  }
  if (run_flags % 16 == 2 && !dyn_batch) {
    plan.run_batch = batch + 1;
    plan.bad_batch = true;
  }
  if (run_flags % 16 == 3) plan.null_input = true;
  plan.guard_after = (run_flags & 0x80) == 0;
  if (flags & 32) read_schedule(r, plan);
  return plan;
}

CaseResult failed(const Plan& plan, const std::string& what) {
  return {Outcome::kFailed, plan.text + ": " + what};
}

/// Compiles (through `jit`), runs and compares a plan against the reference.
CaseResult compile_and_check(Plan& plan, std::uint64_t seed, Jit& jit = fuzz_jit()) {
  plan.text = "spec " + to_keywords(plan.spec) + " shape " + shape_text(plan.shape) +
              " schedule '" + plan.options.schedule + "' threads " +
              std::to_string(plan.options.threads) + " run (" + std::to_string(plan.run_batch) +
              ", " + std::to_string(plan.run_length) + ")";
  Kernel kernel;
  try {
    kernel = jit.compile(plan.spec, plan.shape, plan.options);
  } catch (const Error& e) {
    return {Outcome::kRefused, plan.text + " -> " + e.what()};
  }
  std::int64_t in_size = 0, out_size = 0;
  try {
    in_size = kernel.input_size(plan.run_batch, plan.run_length);
    out_size = kernel.output_size(plan.run_batch, plan.run_length);
    const Shape3 out_shape = kernel.output_shape(plan.run_batch, plan.run_length);
    if (out_shape[0] * out_shape[1] * out_shape[2] != out_size) {
      return failed(plan, "output_shape disagrees with output_size");
    }
  } catch (const Error& e) {
    // A length the layer cannot take, or sizes no buffer can hold: refused, rightly.
    if (plan.bad_run() || e.code() == ErrorCode::kInvalidShape ||
        e.code() == ErrorCode::kResourceLimit) {
      return {Outcome::kRefused, plan.text + " -> " + e.what()};
    }
    return failed(plan, std::string("sizes of a valid run threw: ") + e.what());
  }
  const std::int64_t channels =
      plan.spec.data_format == DataFormat::kChannelsLast ? plan.shape[2] : plan.shape[1];
  const Shape3 run_shape =
      make_shape(plan.spec.data_format, plan.run_batch, plan.run_length, channels);
  const std::int64_t kernel_elems =
      plan.spec.kernel_size * (channels / plan.spec.groups) * plan.spec.filters;
  const double flops = 2.0 * static_cast<double>(out_size) * static_cast<double>(kernel_elems) /
                       static_cast<double>(std::max<std::int64_t>(plan.spec.filters, 1));
  if (in_size > kMaxElements || out_size > kMaxElements || kernel_elems > kMaxElements ||
      flops > kMaxFlops) {
    return {Outcome::kCompiled, plan.text};
  }

  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  GuardedBuffer input(in_size, plan.guard_after), output(out_size, !plan.guard_after);
  GuardedBuffer weights(kernel_elems, plan.guard_after), bias(plan.spec.filters, plan.guard_after);
  fill(input.data(), in_size, rng);
  fill(weights.data(), kernel_elems, rng);
  fill(bias.data(), plan.spec.filters, rng);
  const float* bias_ptr = plan.spec.use_bias ? bias.data() : nullptr;
  try {
    const PackedWeights packed = kernel.pack_weights(weights.data(), bias_ptr);
    kernel.run(plan.null_input ? nullptr : input.data(), packed, output.data(), plan.run_batch,
               plan.run_length);
    if (plan.null_input && in_size > 0 && out_size > 0) {
      return failed(plan, "run accepted a null input");
    }
    if (plan.bad_run() && out_size > 0) return failed(plan, "run accepted bad arguments");
    if (out_size > 0 && plan.options.threads > 1) {
      // One thread must give the same bits as many.
      CompileOptions one = plan.options;
      one.threads = 1;
      GuardedBuffer single(out_size, plan.guard_after);
      jit.compile(plan.spec, plan.shape, one)
          .run(input.data(), packed, single.data(), plan.run_batch, plan.run_length);
      if (std::memcmp(single.data(), output.data(), static_cast<std::size_t>(out_size) * 4) != 0) {
        return failed(plan, "1 thread and " + std::to_string(plan.options.threads) +
                                " threads gave different bits");
      }
    }
  } catch (const Error& e) {
    const bool expected = plan.bad_run() || (plan.null_input && in_size > 0) ||
                          (e.code() == ErrorCode::kInvalidShape && kernel.dynamic_length()) ||
                          e.code() == ErrorCode::kResourceLimit;
    if (expected) return {Outcome::kRefused, plan.text + " -> " + e.what()};
    return failed(plan, std::string("a valid run threw: ") + e.what());
  }
  if (!input.canaries_intact() || !output.canaries_intact() || !weights.canaries_intact() ||
      !bias.canaries_intact()) {
    return failed(plan, "a canary beside a buffer changed");
  }
  if (out_size == 0) return {Outcome::kMatched, plan.text};

  // The reference, and acc_scale = max over outputs of sum |x*w| + |b| (FORMAT.md).
  const detail::Problem p = detail::make_problem(plan.spec, run_shape);
  std::vector<float> want(static_cast<std::size_t>(p.output_size()));
  if (static_cast<std::int64_t>(want.size()) != out_size) {
    return failed(plan, "output_size " + std::to_string(out_size) + " but the reference has " +
                            std::to_string(want.size()));
  }
  detail::reference_conv1d(p, input.data(), weights.data(), bias_ptr, want.data());
  std::vector<float> abs_in(input.data(), input.data() + in_size);
  std::vector<float> abs_w(weights.data(), weights.data() + kernel_elems);
  std::vector<float> abs_b(bias.data(), bias.data() + plan.spec.filters);
  for (float& v : abs_in) v = std::fabs(v);
  for (float& v : abs_w) v = std::fabs(v);
  for (float& v : abs_b) v = std::fabs(v);
  std::vector<double> scale(static_cast<std::size_t>(p.batch * p.filters * p.out_length));
  detail::reference_preactivation(p, abs_in.data(), abs_w.data(),
                                  plan.spec.use_bias ? abs_b.data() : nullptr, scale.data());
  double acc_scale = 1.0;
  for (double v : scale) acc_scale = std::max(acc_scale, v);
  const float* got = output.data();
  for (std::int64_t i = 0; i < out_size; ++i) {
    const double g = got[i], w = want[static_cast<std::size_t>(i)];
    if (is_canary(got[i])) return failed(plan, "output " + std::to_string(i) + " never written");
    if (std::isnan(g) && std::isnan(w)) continue;
    if (std::isinf(g) && g == w) continue;
    if (!(std::fabs(g - w) <= kAtol * acc_scale + kRtol * std::fabs(w))) {
      std::ostringstream o;
      o.precision(9);
      o << "output " << i << " = " << g << ", reference " << w << " (acc_scale " << acc_scale
        << ")";
      return failed(plan, o.str());
    }
  }
  return {Outcome::kMatched, plan.text};
}

CaseResult run_text(Reader& r, std::uint64_t seed) {
  Plan plan;
  const std::int64_t multiple = r.range(1, 3);
  const std::int64_t batch = r.range(0, 2), length = r.range(0, 40);
  const bool dynamic = r.u8() % 2;
  const std::string text = r.rest();
  plan.text = "text '" + text + "'";
  try {
    plan.spec = parse_spec(text);
  } catch (const Error& e) {
    return {Outcome::kRefused, plan.text + " -> " + e.what()};
  }
  // Whatever parses round-trips through both written forms.
  try {
    if (parse_spec_keywords(to_keywords(plan.spec)) != plan.spec) {
      return failed(plan, "to_keywords does not round-trip: " + to_keywords(plan.spec));
    }
    if (parse_spec_json(to_config_json(plan.spec)) != plan.spec) {
      return failed(plan, "to_config_json does not round-trip: " + to_config_json(plan.spec));
    }
  } catch (const Error& e) {
    return failed(plan, std::string("a written spec does not parse: ") + e.what());
  }
  const std::int64_t channels =
      plan.spec.groups > 0 && plan.spec.groups <= 64 ? plan.spec.groups * multiple : multiple;
  plan.shape = make_shape(plan.spec.data_format, batch, dynamic ? kDynamic : length, channels);
  plan.options.threads = 1;
  plan.run_batch = batch;
  plan.run_length = length;
  return compile_and_check(plan, seed);
}

/// Sizes near the limits of every integer type, and a few small ones.
std::int64_t hostile_value(Reader& r) {
  static const std::int64_t kValues[] = {0,
                                         -1,
                                         1,
                                         7,
                                         255,
                                         65536,
                                         (std::int64_t{1} << 24) + 1,
                                         (std::int64_t{1} << 28),
                                         2147483647,
                                         2147483648,
                                         4294967295,
                                         4294967296,
                                         (std::int64_t{1} << 40),
                                         (std::int64_t{1} << 62),
                                         INT64_MAX,
                                         INT64_MIN};
  const std::uint8_t pick = r.u8();
  if (pick < 16 * 12) return kValues[pick % 16];
  return r.i64();
}

CaseResult run_hostile(Reader& r, std::uint64_t seed) {
  Plan plan = read_structured(r);
  const int fields = 1 + r.u8() % 3;
  for (int f = 0; f < fields; ++f) {
    const std::uint8_t which = r.u8() % 8;
    const std::int64_t v = hostile_value(r);
    const bool cl = plan.spec.data_format == DataFormat::kChannelsLast;
    switch (which) {
      case 0: plan.spec.filters = v; break;
      case 1: plan.spec.kernel_size = v; break;
      case 2: plan.spec.strides = v; break;
      case 3: plan.spec.dilation_rate = v; break;
      case 4: plan.spec.groups = v; break;
      case 5: plan.shape[cl ? 2 : 1] = v; break;  // channels
      case 6:                                     // length: the run takes the compiled one
        plan.shape[cl ? 1 : 2] = v;
        plan.run_length = v;
        plan.bad_length = false;
        break;
      default:  // batch
        plan.shape[0] = v;
        plan.run_batch = v;
        plan.bad_batch = false;
        break;
    }
  }
  return compile_and_check(plan, seed);
}

/// A file of this process for the file-reading modes, rewritten by each case and removed
/// when the process exits normally.
std::string scratch_file(const char* tag) {
  struct Files {
    std::vector<std::string> paths;
    ~Files() {
      for (const std::string& p : paths) std::remove(p.c_str());
    }
  };
  static Files files;
  const std::string path = "/tmp/convjit_fuzz_" + std::to_string(::getpid()) + "_" + tag;
  if (std::find(files.paths.begin(), files.paths.end(), path) == files.paths.end()) {
    files.paths.push_back(path);
  }
  return path;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

/// A tuning database: a usable record of the case's own key (its schedule from the bytes),
/// then the rest of the bytes as more lines. Loading never fails for content; the compile
/// takes the record's schedule (or refuses it for the heuristic) and must still match the
/// reference.
CaseResult run_tuning_db(Reader& r, std::uint64_t seed) {
  Plan plan = read_structured(r);
  const std::string words = plan.options.schedule;
  plan.options.schedule.clear();  // from the database
  plan.options.threads = 1;       // a 1-thread run is compared with itself, not the heuristic
  std::string text = r.rest();
  try {
    detail::TuningRecord rec;
    rec.key = detail::make_tuning_key(plan.spec, plan.shape, plan.options.threads);
    const Isa isa = plan.options.isa == Isa::kAuto ? resolve_isa(Isa::kAuto) : plan.options.isa;
    rec.isa = isa_name(isa);
    rec.backend = "xbyak";
    rec.schedule = detail::to_string(detail::parse_schedule("isa=" + rec.isa + " " + words));
    rec.time_us = 1.0;
    rec.checked = true;
    rec.final = true;
    text = detail::record_to_json(rec) + "\n" + text;
  } catch (const Error&) {
    // No key (an ISA the CPU lacks, a schedule that does not parse): the bytes alone.
  }
  const detail::TuningDb db = detail::TuningDb::parse(text, "fuzz");
  const auto& rep = db.report();
  if (rep.lines != db.records().size() + rep.corrupt + rep.foreign) {
    return {Outcome::kFailed, "tuning database lines do not add up"};
  }
  const std::string path = scratch_file("tuning.jsonl");
  write_file(path, text);
  Jit jit(JitOptions{4, path});  // a new Jit reads the database again
  CaseResult result = compile_and_check(plan, seed, jit);
  result.detail += " (tuning database: " + std::to_string(db.records().size()) + " records, " +
                   std::to_string(rep.corrupt) + " corrupt lines)";
  return result;
}

/// A golden case file: a valid forward record of the case's spec (values from the seed),
/// then the rest of the bytes as more lines, read as `convjit conformance` reads it. Every
/// line is refused with convjit::Error or checked; checked forward records run.
CaseResult run_case_file(Reader& r, std::uint64_t seed) {
  Plan plan = read_structured(r);
  std::string text;
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  try {
    const bool cl = plan.spec.data_format == DataFormat::kChannelsLast;
    Shape3 shape = plan.shape;
    shape[0] = plan.run_batch;
    shape[cl ? 1 : 2] = plan.run_length;
    const Shape3 out = call_output_shape(plan.spec, shape);
    const std::int64_t channels = cl ? shape[2] : shape[1];
    auto values = [&rng](std::int64_t n) {
      std::vector<float> v(static_cast<std::size_t>(std::min<std::int64_t>(n, kMaxElements)));
      fill(v.data(), static_cast<std::int64_t>(v.size()), rng);
      return v;
    };
    nlohmann::json c;
    c["kind"] = "forward";
    c["id"] = "fuzz";
    c["spec"] = nlohmann::json::parse(to_config_json(plan.spec));
    c["input_shape"] = {shape[0], shape[1], shape[2]};
    c["output_shape"] = {out[0], out[1], out[2]};
    c["input"] = values(shape[0] * shape[1] * shape[2]);
    c["kernel"] = values(plan.spec.kernel_size * (channels / plan.spec.groups) * plan.spec.filters);
    c["bias"] = plan.spec.use_bias ? nlohmann::json(values(plan.spec.filters)) : nullptr;
    c["output"] = values(out[0] * out[1] * out[2]);
    c["acc_scale"] = 1.0;
    text = c.dump() + "\n";
  } catch (const Error&) {
    // A spec or shape Keras rejects: the bytes alone.
  }
  text += r.rest();
  const std::string path = scratch_file("cases.jsonl");
  write_file(path, text);
  int refused = 0, checked = 0, ran = 0;
  detail::InputFile in(path, tool::kCaseFile);
  detail::InputFile::Line line;
  while (in.next(line)) {
    if (line.too_long) {
      ++refused;
      continue;
    }
    try {
      const nlohmann::json c = tool::parse_case_line(line.text);
      const std::string kind =
          c.contains("kind") && c["kind"].is_string() ? c["kind"].get<std::string>() : "";
      if (kind == "shape" || kind == "invalid") {
        tool::check_shape_case(c, kind == "shape");
        ++checked;
        continue;
      }
      const Conv1DSpec spec = tool::check_forward_case(c);
      ++checked;
      const auto input = c["input"].get<std::vector<float>>();
      const auto kernel = c["kernel"].get<std::vector<float>>();
      const auto bias = spec.use_bias ? c["bias"].get<std::vector<float>>() : std::vector<float>();
      const auto want = c["output"].get<std::vector<float>>();
      const double flops = 2.0 * static_cast<double>(want.size()) *
                           static_cast<double>(kernel.size()) /
                           static_cast<double>(std::max<std::int64_t>(spec.filters, 1));
      if (input.size() > kMaxElements || kernel.size() > kMaxElements ||
          want.size() > kMaxElements || flops > kMaxFlops) {
        continue;
      }
      const Shape3 shape = tool::case_shape(c["input_shape"], "input_shape");
      const std::vector<float> got = detail::run_engine(
          "jit", spec, shape, input.data(), kernel.data(), spec.use_bias ? bias.data() : nullptr);
      if (got.size() != want.size()) {
        return {Outcome::kFailed, "case line " + std::to_string(line.number) + ": " +
                                      std::to_string(got.size()) + " outputs, the record has " +
                                      std::to_string(want.size())};
      }
      ++ran;
    } catch (const Error&) {
      ++refused;  // a bad record, or an ISA the CPU lacks
    }
  }
  const std::string what = "case file: " + std::to_string(checked) + " checked, " +
                           std::to_string(ran) + " ran, " + std::to_string(refused) + " refused";
  return {ran > 0 ? Outcome::kMatched : checked > 0 ? Outcome::kCompiled : Outcome::kRefused, what};
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kRefused: return "refused";
    case Outcome::kCompiled: return "compiled";
    case Outcome::kMatched: return "matched";
    case Outcome::kFailed: return "FAILED";
  }
  return "?";
}

CaseResult run_case(const std::uint8_t* data, std::size_t size) {
  // FNV-1a of the bytes seeds the values of inputs and weights.
  std::uint64_t seed = 1469598103934665603ull;
  for (std::size_t i = 0; i < size; ++i) seed = (seed ^ data[i]) * 1099511628211ull;
  Reader r(data, size);
  try {
    switch (r.u8() % kModes) {
      case kText: return run_text(r, seed);
      case kHostile: return run_hostile(r, seed);
      case kTuningDb: return run_tuning_db(r, seed);
      case kCaseFile: return run_case_file(r, seed);
      case kScheduleText: {
        Plan plan = read_structured(r);
        plan.options.schedule = r.rest();
        return compile_and_check(plan, seed);
      }
      default: {
        Plan plan = read_structured(r);
        return compile_and_check(plan, seed);
      }
    }
  } catch (const Error& e) {
    return {Outcome::kFailed, std::string("an Error escaped the checks: ") + e.what()};
  } catch (const std::exception& e) {
    return {Outcome::kFailed, std::string("not a convjit::Error: ") + e.what()};
  } catch (...) {
    return {Outcome::kFailed, "an exception that is not a std::exception"};
  }
}

std::vector<std::vector<std::uint8_t>> seed_inputs() {
  std::vector<std::vector<std::uint8_t>> seeds;
  auto bytes = [](std::uint8_t mode, const std::string& text) {
    std::vector<std::uint8_t> v{mode};
    v.insert(v.end(), text.begin(), text.end());
    return v;
  };
  // Structured, schedule text and hostile cases from a fixed pseudo-random stream.
  std::mt19937 rng(20261108);
  for (std::uint8_t mode : {kStructured, kStructured2, kScheduleText, kHostile}) {
    for (int i = 0; i < 32; ++i) {
      std::vector<std::uint8_t> v{mode};
      for (int b = 0; b < 48; ++b) v.push_back(static_cast<std::uint8_t>(rng()));
      if (mode == kScheduleText) {
        v[1] &= static_cast<std::uint8_t>(~32u);  // no structured schedule: the text is it
        v.resize(40);
        const std::string s = i % 2 ? "tile_t=3 tile_oc_vecs=2 unroll_ic=4" : "loop_order=btc";
        v.insert(v.end(), s.begin(), s.end());
      }
      seeds.push_back(v);
    }
  }
  // Spec text: keywords, JSON, and malformed forms. Bytes 1-7: channels multiple, batch,
  // length (2 bytes each) and the dynamic flag; the text starts at byte 8.
  const std::string prefix("\x00\x01\x00\x01\x00\x14\x00", 7);
  for (const std::string& text :
       {std::string("filters=8,kernel_size=3,padding=causal,activation=relu"),
        std::string("filters=6,kernel_size=2,strides=2,padding=same,activation=gelu"),
        std::string("filters=4,kernel_size=3,groups=2,data_format='channels_first'"),
        std::string("filters=16,kernel_size=5,dilation_rate=2,activation=softmax"),
        std::string("filters=4,kernel_size=1,activation='glu',use_bias=False"),
        std::string("{\"filters\": 8, \"kernel_size\": [3], \"padding\": \"same\", "
                    "\"activation\": \"tanh\"}"),
        std::string("{\"filters\": 2, \"kernel_size\": 1, \"groups\": 2}"),
        std::string("filters=99999999999,kernel_size=3"),
        std::string("filters=2147483647,kernel_size=2147483647"),
        std::string("{\"filters\": [[[[[[1]]]]]]}"), std::string("filters=8,kernel_size=\xff\xfe"),
        std::string("{\"filters\": 1e308, \"kernel_size\": -0}"), std::string("filters=")}) {
    seeds.push_back(bytes(kText, prefix + text));
  }
  // Tuning databases and case files (issue 18): structured bytes for the record of the
  // case's own spec, then hostile lines. The text starts with '\n', so that the structured
  // bytes left over form a line of their own.
  auto structured = [&rng](std::uint8_t mode, const std::string& text) {
    std::vector<std::uint8_t> v{mode};
    for (int b = 0; b < 40; ++b) v.push_back(static_cast<std::uint8_t>(rng()));
    v[1] &= static_cast<std::uint8_t>(~(1u | 8u | 16u));  // not depthwise, static shapes
    v.insert(v.end(), text.begin(), text.end());
    return v;
  };
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const std::string record =
      R"({"format":"convjit-tuning-1","version":"0.2.0","spec":"filters=4,kernel_size=3",)"
      R"("batch":1,"length":16,"channels":4,"data_format":"channels_last","threads":1,)"
      R"("cpu":"x","features":"avx2 fma","isa":"avx2","backend":"xbyak",)"
      R"("schedule":"isa=avx2 tile_t=2","time_us":1.5,"gflops":1,"checked":true})";
  auto with = [&record](const std::string& field, const std::string& value) {
    std::string r = record;
    const std::size_t at = r.find("\"" + field + "\":");
    const std::size_t end = r.find_first_of(",}", at);
    return r.replace(at, end - at, "\"" + field + "\":" + value);
  };
  for (const std::string& text : std::vector<std::string>{
           "\n", "\n" + record,
           "\n" + with("spec", R"("filters=4,kernel_size=3","config":)" + deep),
           "\n{\"config\": " + deep + "}\n" + record, "\n{not json\n\n" + record.substr(0, 90),
           "\n" + with("batch", "7.9") + "\n" + with("channels", "1e300") + "\n" +
               with("threads", "18446744073709551615") + "\n" + with("time_us", "\"fast\""),
           "\n" + with("schedule", "\"isa=avx2 tile_t=2 tile_t=3\""),
           "\n" + with("schedule", "\"isa=avx2 tile_t=1000000000 tile_oc_vecs=4\""),
           "\n" + record + record + "\n" + std::string("\x00\xff\xfe{", 4),
           std::string("\n{\"format\":\"convjit-tuning-1\",\"format\":\"x\"}")}) {
    seeds.push_back(structured(kTuningDb, text));
  }
  const std::string forward =
      R"({"kind":"forward","id":"f","spec":{"filters":2,"kernel_size":2,"activation":"relu"},)"
      R"("input_shape":[2,7,1],"output_shape":[2,6,2],"input":[0,0.5,1,1.5,2,2.5,3,3.5,4,)"
      R"(4.5,5,5.5,6,6.5],"kernel":[0.5,-0.5,0.25,1],"bias":[0.125,0],"output":[)";
  std::string forward_ok = forward;
  for (int i = 0; i < 24; ++i) forward_ok += i ? ",0" : "0";
  forward_ok += R"(],"acc_scale":1})";
  auto case_with = [&forward_ok](const std::string& field, const std::string& value) {
    std::string r = forward_ok;
    const std::size_t at = r.find("\"" + field + "\":");
    const std::size_t end = field == "spec"                   ? r.find('}', at) + 1
                            : r[at + field.size() + 3] == '[' ? r.find(']', at) + 1
                                                              : r.find_first_of(",}", at);
    return r.replace(at, end - at, "\"" + field + "\":" + value);
  };
  for (const std::string& text : std::vector<std::string>{
           "\n", "\n" + forward_ok,
           "\n" + case_with("input", "[0.5,0.5,0.5]"),  // 3 values for [2, 7, 1]
           "\n" + case_with("input_shape", "[2,50000000,1]") + "\n" + case_with("input", "[]"),
           "\n" + case_with("input_shape", "[2,7.9,1]"), "\n" + case_with("spec", deep),
           "\n" + case_with("input", "[1e300,0,0,0,0,0,0,0,0,0,0,0,0,0]") + "\n" +
               case_with("kernel", "[\"x\",0,0,0]") + "\n" + case_with("bias", "null"),
           "\n" + case_with("acc_scale", "-1") + "\n" + case_with("output_shape", "[2,6.5,2]"),
           std::string("\n") +
               R"({"kind":"shape","id":"s","spec":{"filters":2,"kernel_size":3},"input_shape":)"
               R"([2,2,3],"expected":{"error":"ValueError","message":"Computed output size"}})" +
               "\n" +
               R"({"kind":"invalid","id":"i","spec":{"filters":0},"input_shape":[1,2,3],)"
               R"("expected":{"error":5}})",
           "\n[1,2]\n{\"kind\":5}\n{\"id\":1,\"id\":2}\n" + forward.substr(0, 60)}) {
    seeds.push_back(structured(kCaseFile, text));
  }
  return seeds;
}

}  // namespace convjit::fuzz
