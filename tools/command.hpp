// Subcommands of the convjit tool register themselves here; main() builds the CLI.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace convjit::tool {

/// Exit statuses: 0 ok, 1 a spec Keras would reject or a failed check, 2 a bad argument.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// Adds one subcommand to the app. `order` sorts the help listing.
/// The callback set on the subcommand must return via throwing CLI::RuntimeError(status)
/// for a non-zero exit, or set_exit_status().
struct CommandRegistrar {
  CommandRegistrar(int order, std::function<void(CLI::App&)> add);
};

/// The exit status a subcommand callback wants main() to return.
void set_exit_status(int status);

}  // namespace convjit::tool
