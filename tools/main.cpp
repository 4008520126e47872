// convjit — the command-line tool: demo, run, conformance, asm, bench, ...
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

#include "convjit/error.hpp"
#include "tools/command.hpp"

namespace convjit::tool {
namespace {

struct Registration {
  int order;
  std::function<void(CLI::App&)> add;
};

std::vector<Registration>& registrations() {
  static std::vector<Registration> all;
  return all;
}

int& exit_status() {
  static int status = kExitOk;
  return status;
}

}  // namespace

CommandRegistrar::CommandRegistrar(int order, std::function<void(CLI::App&)> add) {
  registrations().push_back({order, std::move(add)});
}

void set_exit_status(int status) {
  exit_status() = status;
}

}  // namespace convjit::tool

int main(int argc, char** argv) {
  using namespace convjit::tool;
  CLI::App app{
      "convjit: a JIT compiler for Keras Conv1D layers.\n"
      "SPEC is Keras keyword syntax (filters=64,kernel_size=3,padding=causal,activation=relu)\n"
      "or the JSON of Keras layer.get_config(). Run `convjit CMD --help` for a command's options."};
  app.require_subcommand(1);
  app.fallthrough(false);
  auto& regs = registrations();
  std::stable_sort(regs.begin(), regs.end(),
                   [](const Registration& a, const Registration& b) { return a.order < b.order; });
  for (const auto& r : regs) r.add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "convjit: {}\n", e.what());
    return kExitUsage;
  } catch (const convjit::Error& e) {
    fmt::print(stderr, "convjit: error: {}\n", e.what());
    return e.code() == convjit::ErrorCode::kParseError ? kExitUsage : kExitFailure;
  } catch (const std::system_error& e) {  // fmt::print to a full disk or a closed pipe
    fmt::print(stderr, "convjit: error: {}\n", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "convjit: internal error: {}\n", e.what());
    return kExitFailure;
  }
  // Output a reader cannot have (stdout on a full disk or a closed pipe) is a failure.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    fmt::print(stderr, "convjit: error: cannot write the output: {}\n", std::strerror(errno));
    return exit_status() == kExitOk ? kExitFailure : exit_status();
  }
  return exit_status();
}
