// Tensor — a shape plus contiguous row-major float32 data, owned or a view.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace convjit {

/// A tensor shape: one extent per axis, outermost first. Extents are >= 0.
using Shape = std::vector<std::int64_t>;

/// Formats a shape the way Python prints a tuple: "(3, 2, 4)", "(4,)", "()".
std::string shape_to_string(const Shape& shape);

/// Product of the extents (1 for a rank-0 shape). Throws Error(kInvalidValue, argument)
/// for a negative extent and Error(kResourceLimit, argument) when the product overflows.
std::int64_t shape_size(const Shape& shape, const std::string& argument = "shape");

/// Contiguous row-major float32 values with a shape. Either owns its storage (copies
/// deep-copy it) or is a view over caller memory (copies share it; the caller keeps the
/// memory alive and sized for the shape).
class Tensor {
 public:
  /// An empty owned tensor of shape (0,).
  Tensor();
  /// An owned tensor filled with `fill`. Throws Error(kResourceLimit, "shape") when its
  /// values would not fit in this machine's memory.
  explicit Tensor(Shape shape, float fill = 0.0f);
  /// An owned tensor taking `values`; throws Error(kShapeMismatch, "values") when
  /// values.size() != shape_size(shape).
  Tensor(Shape shape, std::vector<float> values);
  /// A non-owning view over `data`, which must hold shape_size(shape) floats.
  /// data may be nullptr only when the shape has no elements.
  static Tensor view(float* data, Shape shape);

  Tensor(const Tensor& other);
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(const Tensor& other);
  Tensor& operator=(Tensor&& other) noexcept;
  ~Tensor() = default;

  const Shape& shape() const { return shape_; }
  std::int64_t rank() const { return static_cast<std::int64_t>(shape_.size()); }
  /// Extent of one axis; negative axes count from the end. Throws Error(kInvalidValue, "axis").
  std::int64_t dim(std::int64_t axis) const;
  /// Number of elements.
  std::int64_t size() const { return size_; }
  float* data() { return data_; }
  const float* data() const { return data_; }
  bool is_view() const { return !owned_; }

  /// Element access by one index per axis, bounds-checked (throws Error naming "index").
  template <typename... I>
  float& at(I... index) {
    return data_[offset({static_cast<std::int64_t>(index)...})];
  }
  template <typename... I>
  const float& at(I... index) const {
    return data_[offset({static_cast<std::int64_t>(index)...})];
  }
  /// Row-major offset of an index; throws Error(kShapeMismatch, "index") for a wrong
  /// index count and Error(kInvalidValue, "index") for an index out of range.
  std::int64_t offset(std::initializer_list<std::int64_t> index) const;

  /// An owned deep copy (also of a view).
  Tensor copy() const;
  /// The values as a vector.
  std::vector<float> to_vector() const;
  /// Throws Error(kShapeMismatch, argument) unless shape() == expected, e.g.
  /// "Expected kernel of shape (3, 2, 4), received shape (3, 2, 5).".
  void check_shape(const Shape& expected, const std::string& argument) const;

 private:
  Shape shape_;
  std::int64_t size_ = 0;
  std::vector<float> storage_;  // used when owned_
  float* data_ = nullptr;
  bool owned_ = true;
};

}  // namespace convjit
