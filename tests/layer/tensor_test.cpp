// convjit::Tensor: owned storage, views, element access and shape errors.
#include "convjit/tensor.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "convjit/error.hpp"

namespace convjit {
namespace {

template <typename F>
Error capture_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected convjit::Error";
  return Error(ErrorCode::kIoError, "<none>", "<no error thrown>");
}

TEST(Tensor, ShapeToStringPrintsPythonTuples) {
  EXPECT_EQ(shape_to_string({3, 2, 4}), "(3, 2, 4)");
  EXPECT_EQ(shape_to_string({4}), "(4,)");
  EXPECT_EQ(shape_to_string({}), "()");
}

TEST(Tensor, OwnedTensorIsFilledAndRowMajor) {
  Tensor t({2, 3, 4}, 1.5f);
  EXPECT_EQ(t.size(), 24);
  EXPECT_EQ(t.rank(), 3);
  EXPECT_FALSE(t.is_view());
  for (std::int64_t i = 0; i < t.size(); ++i) EXPECT_EQ(t.data()[i], 1.5f);
  t.at(1, 2, 3) = 7.0f;
  EXPECT_EQ(t.data()[(1 * 3 + 2) * 4 + 3], 7.0f);
  EXPECT_EQ(t.offset({1, 0, 2}), (1 * 3 + 0) * 4 + 2);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.dim(-1), 4);
  EXPECT_EQ(t.dim(-3), 2);
}

TEST(Tensor, FromValuesKeepsOrder) {
  Tensor t({2, 2}, std::vector<float>{1, 2, 3, 4});
  EXPECT_EQ(t.at(0, 1), 2.0f);
  EXPECT_EQ(t.at(1, 0), 3.0f);
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Tensor, ViewSharesCallerMemory) {
  std::vector<float> buffer{1, 2, 3, 4, 5, 6};
  Tensor v = Tensor::view(buffer.data(), {3, 2});
  EXPECT_TRUE(v.is_view());
  EXPECT_EQ(v.data(), buffer.data());
  v.at(2, 1) = 60.0f;
  EXPECT_EQ(buffer[5], 60.0f);
  buffer[0] = 10.0f;
  EXPECT_EQ(v.at(0, 0), 10.0f);
  // A copy of a view is a view of the same memory; copy() makes an owned one.
  Tensor v2 = v;
  EXPECT_EQ(v2.data(), buffer.data());
  Tensor owned = v.copy();
  EXPECT_FALSE(owned.is_view());
  EXPECT_NE(owned.data(), buffer.data());
  buffer[1] = -1.0f;
  EXPECT_EQ(owned.at(0, 1), 2.0f);
  EXPECT_EQ(v.at(0, 1), -1.0f);
}

TEST(Tensor, CopiesOfOwnedTensorsAreDeep) {
  Tensor a({3}, std::vector<float>{1, 2, 3});
  Tensor b = a;
  b.at(0) = 9.0f;
  EXPECT_EQ(a.at(0), 1.0f);
  Tensor c;
  c = a;
  c.at(2) = 8.0f;
  EXPECT_EQ(a.at(2), 3.0f);
  EXPECT_EQ(c.shape(), (Shape{3}));
}

TEST(Tensor, MovesKeepTheData) {
  Tensor a({2, 2}, std::vector<float>{1, 2, 3, 4});
  const float* p = a.data();
  Tensor b = std::move(a);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.at(1, 1), 4.0f);
  Tensor c;
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.to_vector(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Tensor, EmptyShapesAreFine) {
  Tensor t({0, 5, 3});
  EXPECT_EQ(t.size(), 0);
  EXPECT_TRUE(t.to_vector().empty());
  Tensor v = Tensor::view(nullptr, {2, 0});
  EXPECT_EQ(v.size(), 0);
  Tensor d;
  EXPECT_EQ(d.shape(), (Shape{0}));
}

TEST(Tensor, ErrorsNameTheirArgument) {
  Error e = capture_error([] { Tensor t({2, 3}, std::vector<float>{1, 2, 3}); });
  EXPECT_EQ(e.code(), ErrorCode::kShapeMismatch);
  EXPECT_EQ(e.argument(), "values");
  EXPECT_NE(std::string(e.what()).find("(2, 3)"), std::string::npos) << e.what();

  e = capture_error([] { Tensor t({2, -1}); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidValue);
  EXPECT_EQ(e.argument(), "shape");
  EXPECT_NE(std::string(e.what()).find("(2, -1)"), std::string::npos) << e.what();

  e = capture_error([] { Tensor t({1LL << 40, 1LL << 40}); });
  EXPECT_EQ(e.code(), ErrorCode::kResourceLimit);
  EXPECT_EQ(e.argument(), "shape");

  e = capture_error([] { Tensor::view(nullptr, {2}); });
  EXPECT_EQ(e.argument(), "data");

  Tensor t({2, 3});
  e = capture_error([&] { t.at(2, 0); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidValue);
  EXPECT_EQ(e.argument(), "index");
  e = capture_error([&] { t.at(0, -1); });
  EXPECT_EQ(e.argument(), "index");
  e = capture_error([&] { t.at(0); });
  EXPECT_EQ(e.code(), ErrorCode::kShapeMismatch);
  EXPECT_EQ(e.argument(), "index");
  e = capture_error([&] { t.dim(2); });
  EXPECT_EQ(e.argument(), "axis");
  e = capture_error([&] { t.dim(-3); });
  EXPECT_EQ(e.argument(), "axis");

  e = capture_error([&] { t.check_shape({3, 2}, "kernel"); });
  EXPECT_EQ(e.code(), ErrorCode::kShapeMismatch);
  EXPECT_EQ(e.argument(), "kernel");
  EXPECT_STREQ(e.what(), "Expected kernel of shape (3, 2), received shape (2, 3).");
  EXPECT_NO_THROW(t.check_shape({2, 3}, "kernel"));
}

}  // namespace
}  // namespace convjit
