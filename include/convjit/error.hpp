// convjit::Error — the one exception type for every mistake a caller can make.
#pragma once

#include <stdexcept>
#include <string>

namespace convjit {

/// What kind of mistake an Error reports. Stable: tests and hosts switch on it.
enum class ErrorCode {
  kInvalidValue,           ///< a value out of range: filters=0, strides=-1, groups=0, ...
  kInvalidType,            ///< a value of the wrong type: kernel_size=2.5, kernel_size=[3,3]
  kUnknownName,            ///< an unknown string: padding="full", activation="ReLU"
  kIncompatibleArguments,  ///< arguments that exclude each other: strides>1 with dilation_rate>1
  kInvalidShape,   ///< an input shape the layer cannot take (channels % groups, valid length <= 0)
  kShapeMismatch,  ///< buffers or weights whose shape disagrees with the layer
  kParseError,     ///< malformed keyword syntax or JSON
  kIllegalSchedule,  ///< a schedule that the problem or the ISA cannot take
  kUnsupported,      ///< a legal request this build cannot serve (e.g. an ISA the CPU lacks)
  kResourceLimit,    ///< sizes whose element counts or offsets would overflow
  kIoError,          ///< a file that cannot be read or written
};

/// Short stable name of a code, e.g. "invalid_value".
const char* error_code_name(ErrorCode code);

/// Thrown for every error a caller can cause. what() names the argument and the value,
/// in Keras's own words where Keras has them.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string argument, const std::string& message)
      : std::runtime_error(message), code_(code), argument_(std::move(argument)) {}

  ErrorCode code() const noexcept { return code_; }
  /// The Keras argument (or API parameter) the error is about, e.g. "kernel_size".
  const std::string& argument() const noexcept { return argument_; }

 private:
  ErrorCode code_;
  std::string argument_;
};

}  // namespace convjit
