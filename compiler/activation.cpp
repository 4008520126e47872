#include "convjit/activation.hpp"

#include <array>
#include <string_view>

#include "compiler/activation_description.hpp"

namespace convjit {
namespace {

struct NamedActivation {
  std::string_view name;
  Activation activation;
};

// Canonical names first (in enum order), then aliases.
constexpr std::array<NamedActivation, kActivationCount + 2> kNames{{
    {"linear", Activation::kLinear},
    {"relu", Activation::kRelu},
    {"relu6", Activation::kRelu6},
    {"leaky_relu", Activation::kLeakyRelu},
    {"elu", Activation::kElu},
    {"selu", Activation::kSelu},
    {"celu", Activation::kCelu},
    {"gelu", Activation::kGelu},
    {"sigmoid", Activation::kSigmoid},
    {"hard_sigmoid", Activation::kHardSigmoid},
    {"hard_silu", Activation::kHardSilu},
    {"silu", Activation::kSilu},
    {"mish", Activation::kMish},
    {"tanh", Activation::kTanh},
    {"hard_tanh", Activation::kHardTanh},
    {"tanh_shrink", Activation::kTanhShrink},
    {"softplus", Activation::kSoftplus},
    {"softsign", Activation::kSoftsign},
    {"squareplus", Activation::kSquareplus},
    {"sparse_plus", Activation::kSparsePlus},
    {"sparse_sigmoid", Activation::kSparseSigmoid},
    {"exponential", Activation::kExponential},
    {"log_sigmoid", Activation::kLogSigmoid},
    {"hard_shrink", Activation::kHardShrink},
    {"soft_shrink", Activation::kSoftShrink},
    {"softmax", Activation::kSoftmax},
    {"log_softmax", Activation::kLogSoftmax},
    {"sparsemax", Activation::kSparsemax},
    {"glu", Activation::kGlu},
    {"swish", Activation::kSilu},
    {"hard_swish", Activation::kHardSilu},
}};

}  // namespace

const char* activation_name(Activation a) {
  const int i = static_cast<int>(a);
  if (i < 0 || i >= kActivationCount) return "invalid";  // validate() refuses such a spec
  return kNames[static_cast<std::size_t>(i)].name.data();
}

std::optional<Activation> find_activation(std::string_view name) {
  if (name.empty() || name == "None") return Activation::kLinear;
  for (const auto& n : kNames) {
    if (n.name == name) return n.activation;
  }
  return std::nullopt;
}

bool is_axis_activation(Activation a) {
  const int i = static_cast<int>(a);
  return i >= 0 && i < kActivationCount && detail::activation_description(a).axis;
}

}  // namespace convjit
