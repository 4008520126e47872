#include "convjit/error.hpp"

namespace convjit {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidValue: return "invalid_value";
    case ErrorCode::kInvalidType: return "invalid_type";
    case ErrorCode::kUnknownName: return "unknown_name";
    case ErrorCode::kIncompatibleArguments: return "incompatible_arguments";
    case ErrorCode::kInvalidShape: return "invalid_shape";
    case ErrorCode::kShapeMismatch: return "shape_mismatch";
    case ErrorCode::kParseError: return "parse_error";
    case ErrorCode::kIllegalSchedule: return "illegal_schedule";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kResourceLimit: return "resource_limit";
    case ErrorCode::kIoError: return "io_error";
  }
  return "unknown";
}

}  // namespace convjit
