// Enum fields of Conv1DSpec holding a value cast from another int: every entry refuses them
// with Error(kInvalidValue) naming the field, before any table is indexed or code generated.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "convjit/convjit.hpp"
#include "expect_error.hpp"
#include "runtime/engine.hpp"

namespace convjit {
namespace {

using test::expect_error;

struct EnumCase {
  std::string what;                      // for messages
  std::function<void(Conv1DSpec&)> set;  // makes one field hold a value outside its enum
  std::string argument;                  // the field the error names
  std::string substring;                 // in the message: the field and the value
};

/// The reproductions first (activation 999 and 29, padding 3, data_format 2), then
/// a value below and above every other enum field.
std::vector<EnumCase> enum_cases() {
  return {
      {"activation 999", [](Conv1DSpec& s) { s.activation = static_cast<Activation>(999); },
       "activation", "activation=999"},
      {"activation 29 (one past glu)",
       [](Conv1DSpec& s) { s.activation = static_cast<Activation>(kActivationCount); },
       "activation", "activation=29"},
      {"activation -1", [](Conv1DSpec& s) { s.activation = static_cast<Activation>(-1); },
       "activation", "activation=-1"},
      {"padding 3", [](Conv1DSpec& s) { s.padding = static_cast<Padding>(3); }, "padding",
       "padding=3"},
      {"padding -2", [](Conv1DSpec& s) { s.padding = static_cast<Padding>(-2); }, "padding",
       "padding=-2"},
      {"data_format 2", [](Conv1DSpec& s) { s.data_format = static_cast<DataFormat>(2); },
       "data_format", "data_format=2"},
      {"kernel_initializer 14",
       [](Conv1DSpec& s) { s.kernel_initializer.kind = static_cast<Initializer::Kind>(14); },
       "kernel_initializer", "kernel_initializer=14"},
      {"bias_initializer -1",
       [](Conv1DSpec& s) { s.bias_initializer.kind = static_cast<Initializer::Kind>(-1); },
       "bias_initializer", "bias_initializer=-1"},
      {"kernel_regularizer 4",
       [](Conv1DSpec& s) { s.kernel_regularizer.kind = static_cast<Regularizer::Kind>(4); },
       "kernel_regularizer", "kernel_regularizer=4"},
      {"bias_regularizer 77",
       [](Conv1DSpec& s) { s.bias_regularizer.kind = static_cast<Regularizer::Kind>(77); },
       "bias_regularizer", "bias_regularizer=77"},
      {"activity_regularizer -5",
       [](Conv1DSpec& s) { s.activity_regularizer.kind = static_cast<Regularizer::Kind>(-5); },
       "activity_regularizer", "activity_regularizer=-5"},
      {"kernel_constraint 5",
       [](Conv1DSpec& s) { s.kernel_constraint.kind = static_cast<Constraint::Kind>(5); },
       "kernel_constraint", "kernel_constraint=5"},
      {"bias_constraint 1000",
       [](Conv1DSpec& s) { s.bias_constraint.kind = static_cast<Constraint::Kind>(1000); },
       "bias_constraint", "bias_constraint=1000"},
  };
}

/// Every entry that takes a spec, each given the same bad spec.
std::vector<std::pair<std::string, std::function<void(const Conv1DSpec&)>>> entries() {
  const Shape3 shape{1, 12, 4};
  const std::vector<float> input(1 * 12 * 4, 0.25f), kernel(3 * 4 * 8, 0.125f), bias(8, 0.5f);
  auto engine = [=](const char* name) {
    return [=](const Conv1DSpec& s) {
      detail::run_engine(name, s, shape, input.data(), kernel.data(), bias.data());
    };
  };
  return {
      {"validate", [](const Conv1DSpec& s) { validate(s); }},
      {"validate(shape)", [=](const Conv1DSpec& s) { validate(s, shape); }},
      {"to_keywords", [](const Conv1DSpec& s) { to_keywords(s); }},
      {"to_config_json", [](const Conv1DSpec& s) { to_config_json(s); }},
      {"compute_output_shape", [=](const Conv1DSpec& s) { compute_output_shape(s, shape); }},
      {"Conv1D", [](const Conv1DSpec& s) { Conv1D layer(s); }},
      {"compile", [=](const Conv1DSpec& s) { compile(s, shape); }},
      {"compile llvm",
       [=](const Conv1DSpec& s) {
         CompileOptions o;
         o.backend = Backend::kLlvm;
         compile(s, shape, o);
       }},
      {"engine reference", engine("reference")},
      {"engine interpreter", engine("interpreter")},
      {"engine jit", engine("jit")},
      {"engine llvm", engine("llvm")},
  };
}

TEST(SpecEnums, EveryEntryRefusesAnEnumValueOutsideItsEnum) {
  for (const EnumCase& c : enum_cases()) {
    Conv1DSpec spec = parse_spec("filters=8,kernel_size=3");
    c.set(spec);
    for (const auto& entry : entries()) {  // not a structured binding: C++17 lambdas
      SCOPED_TRACE(c.what + " through " + entry.first);
      expect_error([&] { entry.second(spec); }, ErrorCode::kInvalidValue, c.substring, c.argument);
    }
  }
}

TEST(SpecEnums, EnumsAreCheckedBeforeEverythingElse) {
  // A spec wrong in several ways names its enum first: every later check may read it.
  Conv1DSpec spec;
  spec.filters = -1;
  spec.kernel_size = 0;
  spec.activation = static_cast<Activation>(999);
  expect_error([&] { validate(spec); }, ErrorCode::kInvalidValue, "activation=999", "activation");
}

TEST(SpecEnums, NamesOfValuesOutsideTheEnumAreInvalidNotAnotherName) {
  EXPECT_STREQ(activation_name(static_cast<Activation>(999)), "invalid");
  EXPECT_STREQ(activation_name(static_cast<Activation>(kActivationCount)), "invalid");  // was swish
  EXPECT_STREQ(activation_name(static_cast<Activation>(-1)), "invalid");
  EXPECT_STREQ(padding_name(static_cast<Padding>(3)), "invalid");         // was valid
  EXPECT_STREQ(data_format_name(static_cast<DataFormat>(2)), "invalid");  // was channels_last
  // Every value inside the enums keeps its name.
  EXPECT_STREQ(activation_name(Activation::kGlu), "glu");
  EXPECT_STREQ(padding_name(Padding::kCausal), "causal");
  EXPECT_STREQ(data_format_name(DataFormat::kChannelsFirst), "channels_first");
}

}  // namespace
}  // namespace convjit
