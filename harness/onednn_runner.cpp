#include "harness/onednn_runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "convjit/error.hpp"
#include "harness/stats.hpp"

#ifdef CONVJIT_BENCH_HAVE_ONEDNN
#include <omp.h>

#include <oneapi/dnnl/dnnl_version.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "convjit/isa.hpp"
#endif

namespace convjit::harness {

std::vector<OnednnFormulation> all_onednn_formulations() {
  return {OnednnFormulation::k1dNwc,  OnednnFormulation::k1dAny, OnednnFormulation::k1dBlocked,
          OnednnFormulation::k2dNhwc, OnednnFormulation::k2dAny, OnednnFormulation::k2dBlocked};
}

const char* onednn_formulation_name(OnednnFormulation f) {
  switch (f) {
    case OnednnFormulation::k1dNwc: return "1d_nwc";
    case OnednnFormulation::k1dAny: return "1d_any";
    case OnednnFormulation::k1dBlocked: return "1d_blocked";
    case OnednnFormulation::k2dNhwc: return "2d_nhwc";
    case OnednnFormulation::k2dAny: return "2d_any";
    case OnednnFormulation::k2dBlocked: return "2d_blocked";
  }
  return "?";
}

#ifdef CONVJIT_BENCH_HAVE_ONEDNN

namespace {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

struct Eltwise {
  dnnl::algorithm algorithm;
  float alpha, beta;
};

// The eltwise post-op chain computing a Keras activation, or nullopt where oneDNN has none.
std::optional<std::vector<Eltwise>> eltwise_chain(Activation a) {
  using A = dnnl::algorithm;
  switch (a) {
    case Activation::kLinear: return std::vector<Eltwise>{};
    case Activation::kRelu: return std::vector<Eltwise>{{A::eltwise_relu, 0.f, 0.f}};
    case Activation::kLeakyRelu: return std::vector<Eltwise>{{A::eltwise_relu, 0.2f, 0.f}};
    case Activation::kRelu6: return std::vector<Eltwise>{{A::eltwise_clip_v2, 0.f, 6.f}};
    case Activation::kHardTanh: return std::vector<Eltwise>{{A::eltwise_clip_v2, -1.f, 1.f}};
    case Activation::kElu:
    case Activation::kCelu: return std::vector<Eltwise>{{A::eltwise_elu, 1.f, 0.f}};
    case Activation::kSelu:
      return std::vector<Eltwise>{{A::eltwise_elu, 1.6732632423543772f, 0.f},
                                  {A::eltwise_linear, 1.0507009873554805f, 0.f}};
    case Activation::kGelu: return std::vector<Eltwise>{{A::eltwise_gelu_erf, 0.f, 0.f}};
    case Activation::kSigmoid: return std::vector<Eltwise>{{A::eltwise_logistic, 0.f, 0.f}};
    case Activation::kHardSigmoid:  // relu6(x+3)/6 = clip(x/6 + 1/2, 0, 1)
      return std::vector<Eltwise>{{A::eltwise_linear, 1.f / 6.f, 0.5f},
                                  {A::eltwise_clip_v2, 0.f, 1.f}};
    case Activation::kHardSilu: return std::vector<Eltwise>{{A::eltwise_hardswish, 0.f, 0.f}};
    case Activation::kSilu: return std::vector<Eltwise>{{A::eltwise_swish, 1.f, 0.f}};
    case Activation::kMish: return std::vector<Eltwise>{{A::eltwise_mish, 0.f, 0.f}};
    case Activation::kTanh: return std::vector<Eltwise>{{A::eltwise_tanh, 0.f, 0.f}};
    case Activation::kSoftplus: return std::vector<Eltwise>{{A::eltwise_soft_relu, 0.f, 0.f}};
    case Activation::kExponential: return std::vector<Eltwise>{{A::eltwise_exp, 0.f, 0.f}};
    case Activation::kLogSigmoid: return std::vector<Eltwise>{{A::eltwise_logsigmoid, 0.f, 0.f}};
    default: return std::nullopt;
  }
}

// A short name of the layout of `md` among the ones oneDNN picks for conv activations.
std::string layout_name(const memory::desc& md, bool two_d) {
  const Dims dims = md.dims();
  const std::pair<Tag, const char*> tags_1d[] = {
      {Tag::nwc, "nwc"}, {Tag::ncw, "ncw"}, {Tag::nCw8c, "nCw8c"}, {Tag::nCw16c, "nCw16c"}};
  const std::pair<Tag, const char*> tags_2d[] = {
      {Tag::nhwc, "nhwc"}, {Tag::nchw, "nchw"}, {Tag::nChw8c, "nChw8c"}, {Tag::nChw16c, "nChw16c"}};
  for (const auto& [tag, name] : two_d ? tags_2d : tags_1d) {
    if (md == memory::desc(dims, kF32, tag)) return name;
  }
  return "other";
}

}  // namespace

bool onednn_available() {
  return true;
}

std::string onednn_description() {
  const dnnl_version_t* v = dnnl_version();
  const char* runtime = v->cpu_runtime == DNNL_RUNTIME_OMP          ? "OMP"
                        : v->cpu_runtime == DNNL_RUNTIME_THREADPOOL ? "THREADPOOL"
                        : v->cpu_runtime == DNNL_RUNTIME_SEQ        ? "SEQ"
                        : v->cpu_runtime == DNNL_RUNTIME_TBB        ? "TBB"
                                                                    : "other";
  return fmt::format("oneDNN {}.{}.{} (CPU runtime {})", v->major, v->minor, v->patch, runtime);
}

void onednn_set_threads(int threads) {
  omp_set_num_threads(std::max(threads, 1));
}

bool onednn_supports_activation(Activation activation) {
  return eltwise_chain(activation).has_value();
}

struct OnednnRunner::Impl {
  OnednnFormulation formulation;
  bool two_d = false;
  SuiteShape shape;
  std::vector<float> input_copy;  // the user's nwc input, owned (oneDNN takes void*)
  memory user_src;                // over input_copy, or over run_on's input
  memory src, weights, bias, dst;
  bool src_is_user = false;   // src is user_src (no reorder)
  dnnl::reorder src_reorder;  // user_src -> src otherwise
  memory::desc user_dst_desc;
  dnnl::convolution_forward conv;
  std::string description;
  std::string implementation;
  double creation_us = 0.0;
};

OnednnRunner::OnednnRunner(const SuiteShape& s, Activation activation,
                           OnednnFormulation formulation, const float* input, const float* kernel,
                           const float* bias)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.formulation = formulation;
  m.shape = s;
  m.two_d = formulation == OnednnFormulation::k2dNhwc || formulation == OnednnFormulation::k2dAny ||
            formulation == OnednnFormulation::k2dBlocked;
  const auto chain = eltwise_chain(activation);
  if (!chain) {
    throw Error(ErrorCode::kUnsupported, "activation",
                fmt::format("oneDNN has no eltwise post-op for activation={}",
                            activation_name(activation)));
  }
  try {
    auto& engine = cpu_engine();
    auto& stream = cpu_stream();
    const std::int64_t g = s.groups, cg = s.in_channels / g, fg = s.filters / g;
    const std::int64_t F = s.filters, K = s.kernel;
    // Logical dims: oneDNN's N C W (or N C H W with H = 1).
    Dims src_dims{s.batch, s.in_channels, s.length};
    Dims dst_dims{s.batch, F, s.out_length};
    // The Keras kernel (K, Cg, F), element (k, ci, f = gi*fg + fo) at (k*cg + ci)*F + f.
    Dims wei_dims, wei_strides;
    if (g == 1) {
      wei_dims = {F, cg, K};
      wei_strides = {1, F, cg * F};
    } else {
      wei_dims = {g, fg, cg, K};
      wei_strides = {fg, 1, F, cg * F};
    }
    Dims strides{s.stride}, dilates{s.dilation - 1}, pad_l{s.pad_left}, pad_r{s.pad_right};
    if (m.two_d) {
      src_dims.insert(src_dims.begin() + 2, 1);
      dst_dims.insert(dst_dims.begin() + 2, 1);
      wei_dims.insert(wei_dims.end() - 1, 1);
      wei_strides.insert(wei_strides.end() - 1, K * cg * F);
      strides.insert(strides.begin(), 1);
      dilates.insert(dilates.begin(), 0);
      pad_l.insert(pad_l.begin(), 0);
      pad_r.insert(pad_r.begin(), 0);
    }
    const Tag user_tag = m.two_d ? Tag::nhwc : Tag::nwc;
    const memory::desc user_src_desc(src_dims, kF32, user_tag);
    m.user_dst_desc = memory::desc(dst_dims, kF32, user_tag);
    const memory::desc user_wei_desc(wei_dims, kF32, wei_strides);
    const memory::desc bias_desc({F}, kF32, Tag::x);

    Tag act_tag = Tag::any;
    if (formulation == OnednnFormulation::k1dNwc || formulation == OnednnFormulation::k2dNhwc) {
      act_tag = user_tag;
    } else if (formulation == OnednnFormulation::k1dBlocked) {
      act_tag = host_supports(Isa::kAvx512) ? Tag::nCw16c : Tag::nCw8c;
    } else if (formulation == OnednnFormulation::k2dBlocked) {
      act_tag = host_supports(Isa::kAvx512) ? Tag::nChw16c : Tag::nChw8c;
    }
    const memory::desc src_desc(src_dims, kF32, act_tag);
    const memory::desc dst_desc(dst_dims, kF32, act_tag);
    const memory::desc wei_desc(wei_dims, kF32, Tag::any);

    dnnl::post_ops ops;
    for (const Eltwise& e : *chain) ops.append_eltwise(1.f, e.algorithm, e.alpha, e.beta);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);

    const double t0 = now_seconds();
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_desc, wei_desc,
        bias_desc, dst_desc, strides, dilates, pad_l, pad_r);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
    m.conv = dnnl::convolution_forward(pd);
    m.creation_us = (now_seconds() - t0) * 1e6;

    // Data: input copied (the source layout) or reordered into oneDNN's choice.
    m.input_copy.assign(input, input + s.input_elems());
    m.user_src = memory(user_src_desc, engine, m.input_copy.data());
    m.src_is_user = pd.src_desc() == user_src_desc;
    if (m.src_is_user) {
      m.src = m.user_src;
    } else {
      m.src = memory(pd.src_desc(), engine);
      m.src_reorder = dnnl::reorder(m.user_src, m.src);
      m.src_reorder.execute(stream, m.user_src, m.src);
    }
    std::vector<float> kernel_copy(kernel, kernel + s.kernel_elems());
    memory user_wei(user_wei_desc, engine, kernel_copy.data());
    m.weights = memory(pd.weights_desc(), engine);
    dnnl::reorder(user_wei, m.weights).execute(stream, user_wei, m.weights);
    std::vector<float> bias_copy(bias, bias + F);
    memory user_bias(bias_desc, engine, bias_copy.data());
    m.bias = memory(pd.bias_desc(), engine);
    dnnl::reorder(user_bias, m.bias).execute(stream, user_bias, m.bias);
    m.dst = memory(pd.dst_desc(), engine);
    stream.wait();

    m.implementation = pd.impl_info_str();
    m.description = fmt::format("{} (src {}, dst {}, {})", onednn_formulation_name(formulation),
                                layout_name(pd.src_desc(), m.two_d),
                                layout_name(pd.dst_desc(), m.two_d), pd.impl_info_str());
  } catch (const dnnl::error& e) {
    throw Error(ErrorCode::kUnsupported, "onednn",
                fmt::format("oneDNN rejected formulation {} of {}: {}",
                            onednn_formulation_name(formulation), s.name, e.what()));
  }
}

OnednnRunner::~OnednnRunner() = default;

void OnednnRunner::run_on(const float* input) {
  Impl& m = *impl_;
  m.user_src.set_data_handle(const_cast<float*>(input));  // oneDNN only reads a source
  if (!m.src_is_user) m.src_reorder.execute(cpu_stream(), m.user_src, m.src);
  run();
}

void OnednnRunner::run() {
  Impl& m = *impl_;
  m.conv.execute(cpu_stream(), {{DNNL_ARG_SRC, m.src},
                                {DNNL_ARG_WEIGHTS, m.weights},
                                {DNNL_ARG_BIAS, m.bias},
                                {DNNL_ARG_DST, m.dst}});
  cpu_stream().wait();
}

std::vector<float> OnednnRunner::output() const {
  const Impl& m = *impl_;
  std::vector<float> out(static_cast<std::size_t>(m.shape.output_elems()));
  memory user_dst(m.user_dst_desc, cpu_engine(), out.data());
  if (m.dst.get_desc() == m.user_dst_desc) {
    std::memcpy(out.data(), m.dst.get_data_handle(), out.size() * sizeof(float));
  } else {
    memory dst = m.dst;  // a handle copy: execute() takes non-const references
    dnnl::reorder(dst, user_dst).execute(cpu_stream(), dst, user_dst);
    cpu_stream().wait();
  }
  return out;
}

OnednnFormulation OnednnRunner::formulation() const {
  return impl_->formulation;
}
double OnednnRunner::creation_us() const {
  return impl_->creation_us;
}
std::string OnednnRunner::describe() const {
  return impl_->description;
}
std::string OnednnRunner::implementation() const {
  return impl_->implementation;
}

#else  // !CONVJIT_BENCH_HAVE_ONEDNN

bool onednn_available() {
  return false;
}
std::string onednn_description() {
  return "oneDNN absent (built without libdnnl-dev)";
}
void onednn_set_threads(int) {}
bool onednn_supports_activation(Activation) {
  return false;
}

struct OnednnRunner::Impl {
  OnednnFormulation formulation;
};

OnednnRunner::OnednnRunner(const SuiteShape&, Activation, OnednnFormulation formulation,
                           const float*, const float*, const float*) {
  throw Error(ErrorCode::kUnsupported, "onednn",
              fmt::format("oneDNN formulation {}: the bench was built without oneDNN",
                          onednn_formulation_name(formulation)));
}
OnednnRunner::~OnednnRunner() = default;
void OnednnRunner::run() {}
void OnednnRunner::run_on(const float*) {}
std::vector<float> OnednnRunner::output() const {
  return {};
}
OnednnFormulation OnednnRunner::formulation() const {
  return impl_->formulation;
}
double OnednnRunner::creation_us() const {
  return 0.0;
}
std::string OnednnRunner::describe() const {
  return "absent";
}
std::string OnednnRunner::implementation() const {
  return "absent";
}

#endif

}  // namespace convjit::harness
