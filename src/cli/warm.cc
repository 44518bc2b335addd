// `vk warm [--cpus N] [--mem SIZE] [--net]`: make the warm template that
// `vk run` VMs of that shape restore (docs/snapshots.md), ahead of
// the first run. Without it the first such run makes the template itself.
#include <cstdio>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/net_flags.h"
#include "runtime/launch.h"

namespace vk::cli {
namespace {

struct WarmArgs {
  unsigned cpus = 1;
  std::string memory = "1G";  // vk run's default
  bool net = false;
};

int Warm(const WarmArgs& args) {
  LaunchOptions options;
  options.cpus = args.cpus;
  auto memory = ParseSize(args.memory);
  if (!memory.ok()) {
    std::fprintf(stderr, "vk warm: --mem: %s\n", memory.error().message().c_str());
    return kExitUsage;
  }
  options.memory_bytes = *memory;
  // vk run's layout: a read-only image and a writable scratch layer.
  options.make_scratch_disk = [](const VmDir&) -> Result<std::string> { return std::string(); };
  if (args.net) options.network.mode = NetworkOptions::Mode::kInProcess;
  auto dir = WarmTemplate(options);
  if (!dir.ok()) {
    std::fprintf(stderr, "vk warm: %s\n", dir.error().message().c_str());
    return kExitUsage;
  }
  std::printf("%s\n", dir->c_str());
  return 0;
}

Runner Setup(CLI::App& app) {
  auto args = std::make_shared<WarmArgs>();
  app.add_option("--cpus", args->cpus, "vCPUs of the VMs to start from it (default 1)");
  app.add_option("--mem,--memory", args->memory, "Their memory (default 1G, as vk run)");
  app.add_flag("--net", args->net, "For VMs started with --net");
  return [args] { return Warm(*args); };
}

Command kWarm("warm", "Make the warm template VMs of a shape start from (once per shape)", &Setup);

}  // namespace
}  // namespace vk::cli
