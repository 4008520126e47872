#include "convjit/tensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "convjit/error.hpp"
#include "runtime/resource_limits.hpp"

namespace convjit {

std::string shape_to_string(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::int64_t shape_size(const Shape& shape, const std::string& argument) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) {
      throw Error(ErrorCode::kInvalidValue, argument,
                  fmt::format("Invalid `{}`: extents must be >= 0. Received: {}={}", argument,
                              argument, shape_to_string(shape)));
    }
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d) {
      throw Error(ErrorCode::kResourceLimit, argument,
                  fmt::format("The element count of `{}` overflows. Received: {}={}", argument,
                              argument, shape_to_string(shape)));
    }
    n *= d;
  }
  return n;
}

Tensor::Tensor() : shape_{0} {}

Tensor::Tensor(Shape shape, float fill) : shape_(std::move(shape)) {
  size_ = shape_size(shape_);
  detail::check_host_memory(4.0 * static_cast<double>(size_), "shape",
                            "A tensor of shape " + shape_to_string(shape_));
  storage_.assign(static_cast<std::size_t>(size_), fill);
  data_ = storage_.data();
}

Tensor::Tensor(Shape shape, std::vector<float> values) : shape_(std::move(shape)) {
  size_ = shape_size(shape_);
  if (static_cast<std::int64_t>(values.size()) != size_) {
    throw Error(ErrorCode::kShapeMismatch, "values",
                fmt::format("Cannot make a tensor of shape {} ({} elements) from {} values.",
                            shape_to_string(shape_), size_, values.size()));
  }
  storage_ = std::move(values);
  data_ = storage_.data();
}

Tensor Tensor::view(float* data, Shape shape) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.size_ = shape_size(t.shape_);
  if (data == nullptr && t.size_ > 0) {
    throw Error(ErrorCode::kInvalidValue, "data",
                fmt::format("Cannot make a view of shape {} over a null pointer.",
                            shape_to_string(t.shape_)));
  }
  t.owned_ = false;
  t.data_ = data;
  return t;
}

Tensor::Tensor(const Tensor& other)
    : shape_(other.shape_), size_(other.size_), storage_(other.storage_), owned_(other.owned_) {
  data_ = owned_ ? storage_.data() : other.data_;
}

Tensor::Tensor(Tensor&& other) noexcept
    : shape_(std::move(other.shape_)),
      size_(other.size_),
      storage_(std::move(other.storage_)),
      owned_(other.owned_) {
  data_ = owned_ ? storage_.data() : other.data_;
  other.shape_ = Shape{0};
  other.size_ = 0;
  other.storage_.clear();
  other.data_ = nullptr;
  other.owned_ = true;
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    Tensor tmp(other);
    *this = std::move(tmp);
  }
  return *this;
}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  if (this != &other) {
    shape_ = std::move(other.shape_);
    size_ = other.size_;
    storage_ = std::move(other.storage_);
    owned_ = other.owned_;
    data_ = owned_ ? storage_.data() : other.data_;
    other.shape_ = Shape{0};
    other.size_ = 0;
    other.storage_.clear();
    other.data_ = nullptr;
    other.owned_ = true;
  }
  return *this;
}

std::int64_t Tensor::dim(std::int64_t axis) const {
  const std::int64_t r = rank();
  const std::int64_t a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) {
    throw Error(ErrorCode::kInvalidValue, "axis",
                fmt::format("Axis {} is out of range for a tensor of rank {}. Received: axis={}",
                            axis, r, axis));
  }
  return shape_[static_cast<std::size_t>(a)];
}

std::int64_t Tensor::offset(std::initializer_list<std::int64_t> index) const {
  if (static_cast<std::int64_t>(index.size()) != rank()) {
    throw Error(ErrorCode::kShapeMismatch, "index",
                fmt::format("Expected {} indices for a tensor of shape {}, received {}.", rank(),
                            shape_to_string(shape_), index.size()));
  }
  std::int64_t off = 0;
  std::size_t axis = 0;
  for (std::int64_t i : index) {
    const std::int64_t extent = shape_[axis];
    if (i < 0 || i >= extent) {
      throw Error(ErrorCode::kInvalidValue, "index",
                  fmt::format("Index {} is out of range for axis {} of a tensor of shape {}.", i,
                              axis, shape_to_string(shape_)));
    }
    off = off * extent + i;
    ++axis;
  }
  return off;
}

Tensor Tensor::copy() const {
  return Tensor(shape_, to_vector());
}

std::vector<float> Tensor::to_vector() const {
  if (size_ == 0) return {};
  return std::vector<float>(data_, data_ + size_);
}

void Tensor::check_shape(const Shape& expected, const std::string& argument) const {
  if (shape_ != expected) {
    throw Error(ErrorCode::kShapeMismatch, argument,
                fmt::format("Expected {} of shape {}, received shape {}.", argument,
                            shape_to_string(expected), shape_to_string(shape_)));
  }
}

}  // namespace convjit
