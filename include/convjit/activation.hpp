// Activation — every Keras 3 activation usable by name without extra arguments.
#pragma once

#include <optional>
#include <string_view>

namespace convjit {

/// Keras 3 activations, by their Keras names. Aliases (silu/swish, hard_silu/hard_swish)
/// map to one value; activation_name() gives the name Keras's get_config writes.
enum class Activation {
  kLinear,
  kRelu,
  kRelu6,
  kLeakyRelu,  // slope 0.2
  kElu,
  kSelu,
  kCelu,  // alpha 1
  kGelu,  // exact erf form
  kSigmoid,
  kHardSigmoid,  // relu6(x+3)/6
  kHardSilu,     // x * hard_sigmoid(x)
  kSilu,         // x * sigmoid(x)
  kMish,
  kTanh,
  kHardTanh,
  kTanhShrink,
  kSoftplus,
  kSoftsign,
  kSquareplus,  // b = 4
  kSparsePlus,
  kSparseSigmoid,
  kExponential,
  kLogSigmoid,
  kHardShrink,  // threshold 0.5
  kSoftShrink,  // threshold 0.5
  kSoftmax,     // axis -1
  kLogSoftmax,  // axis -1
  kSparsemax,   // axis -1
  kGlu,         // axis -1, halves it
};

inline constexpr int kActivationCount = static_cast<int>(Activation::kGlu) + 1;

/// The canonical Keras name ("relu", "silu", "hard_silu", "linear", ...); "invalid" for a
/// value outside the enum (which validate() refuses).
const char* activation_name(Activation a);

/// Looks a Keras name up, case-sensitive as Keras: "relu", "swish", "None"/"" -> linear.
/// std::nullopt for an unknown name.
std::optional<Activation> find_activation(std::string_view name);

/// True for softmax, log_softmax, sparsemax and glu: they act on a whole axis.
bool is_axis_activation(Activation a);

}  // namespace convjit
