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
#include <vector>

namespace vk::cli {

using Runner = std::function<int()>;
using Setup = Runner (*)(CLI::App& app);

class Command {
 public:
  Command(const char* name, const char* description, Setup setup);
};

// Exit codes shared by subcommands (docker's conventions where they exist).
inline constexpr int kExitUsage = 125;          // vk itself failed / bad usage
inline constexpr int kExitCannotRun = 126;      // command found but not runnable
inline constexpr int kExitNotFound = 127;       // command not found in the guest
inline constexpr int kExitNoKvm = 120;          // /dev/kvm missing or not permitted
inline constexpr int kExitGuestPanic = 121;     // guest kernel panicked / crashed
inline constexpr int kExitTimeout = 122;        // guest never reported (timeout)
inline constexpr int kExitDiskError = 123;      // disk image missing or unusable
inline constexpr int kExitGuestNoStatus = 124;  // guest stopped without an exit status

// The arguments after the first `--`: the guest command. Options may come
// before or after other positionals; only `--` starts the guest command.
const std::vector<std::string>& GuestCommand();

// Runs `vk` with argv; used by main() and by tests.
int Main(int argc, char** argv);

}  // namespace vk::cli
