// Test helper: run a callable and check the convjit::Error it throws.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "convjit/error.hpp"

namespace convjit::test {

/// Checks that fn() throws convjit::Error with `code` whose message contains `substring`
/// (and whose argument is `argument`, unless that is empty). Returns the message.
template <typename Fn>
std::string expect_error(Fn&& fn, ErrorCode code, const std::string& substring,
                         const std::string& argument = "") {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(error_code_name(e.code()), std::string(error_code_name(code))) << e.what();
    EXPECT_NE(std::string(e.what()).find(substring), std::string::npos)
        << "message: " << e.what() << "\nexpected to contain: " << substring;
    if (!argument.empty()) {
      EXPECT_EQ(e.argument(), argument) << e.what();
    }
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-convjit exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "did not throw; expected " << error_code_name(code) << ": " << substring;
  return {};
}

}  // namespace convjit::test
