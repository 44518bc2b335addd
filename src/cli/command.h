// Each `vk` subcommand lives in its own file and registers itself here:
//
//   static vk::cli::Command kLaunch("launch", "Boot a disk image", &SetupLaunch);
//
// Setup adds the subcommand's options to `app` and returns the function
// that runs it (called after parsing; its result is the process exit code).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/exit_codes.h"

namespace vk::cli {

using Runner = std::function<int()>;
using Setup = Runner (*)(CLI::App& app);

// kHidden: a protocol for programs (vk supervise), left out of `vk --help`.
enum class Listing { kListed, kHidden };

class Command {
 public:
  Command(const char* name, const char* description, Setup setup,
          Listing listing = Listing::kListed);
};

// Prints "vk COMMAND: message" on stderr and returns the exit code for the
// error's kind (base/exit_codes.h).
int Fail(std::string_view command, const Error& error);
// The command's exit code, or Fail's for an error.
int ExitCodeOf(std::string_view command, const Result<int>& result);

// The arguments after the first `--`: the guest command. Options may come
// before or after other positionals; only `--` starts the guest command.
const std::vector<std::string>& GuestCommand();

// Runs `vk` with argv; used by main() and by tests.
int Main(int argc, char** argv);

}  // namespace vk::cli
