// `vk launch`: boot an ext4 root disk and run one command in it.
#include "runtime/launch.h"

#include <cstdio>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/net_flags.h"

namespace vk::cli {
namespace {

struct LaunchArgs {
  LaunchOptions options;
  std::string memory = "256M";
  int timeout_seconds = 0;
  int boot_timeout_seconds = 180;
  NetFlags net;
};

int RunLaunch(LaunchArgs& args) {
  auto memory = ParseSize(args.memory);
  if (!memory.ok()) {
    std::fprintf(stderr, "vk launch: --mem: %s\n", memory.error().message().c_str());
    return kExitUsage;
  }
  args.options.memory_bytes = *memory;
  if (args.timeout_seconds > 0) args.options.timeout = std::chrono::seconds(args.timeout_seconds);
  args.options.boot_timeout = std::chrono::seconds(args.boot_timeout_seconds);
  args.options.network = args.net.ToOptions();
  return ExitCodeOf("launch", Launch(args.options));
}

Runner Setup(CLI::App& app) {
  auto args = std::make_shared<LaunchArgs>();
  LaunchOptions& o = args->options;
  app.add_option("--disk", o.disk, "ext4 image to boot as the root filesystem")->required();
  app.add_flag("--read-only", o.read_only, "Attach the disk read-only");
  app.add_option("--cpus", o.cpus, "Number of vCPUs (1-64)")->check(CLI::Range(1, 64));
  app.add_option("--mem", args->memory, "Guest memory, e.g. 512M or 2G");
  app.add_option("--console", o.console_path, "Write the kernel console to FILE");
  app.add_option("-e,--env", o.env, "Set K=V in the command's environment");
  app.add_option("--workdir", o.workdir, "Working directory of the command in the guest");
  app.add_option("--kernel", o.kernel_path, "Boot this kernel (vmlinux or bzImage)");
  app.add_option("--initrd", o.initrd_path, "Use this initramfs instead of the built-in agent");
  app.add_option("--cmdline", o.extra_cmdline, "Extra kernel command-line parameters");
  app.add_option("--timeout", args->timeout_seconds, "Stop the VM after SECONDS");
  app.add_option("--name", o.name, "Name the VM (vk exec/ps/stop/logs/rm use it)");
  app.add_flag("-d,--detach", o.detach, "Run in the background once the guest agent answers");
  app.add_option("--boot-timeout", args->boot_timeout_seconds,
                 "With -d: seconds to wait for the guest agent");
  app.add_flag("--cold", o.cold,
               "Boot the kernel instead of restoring the warm template of this VM shape (also "
               "VIRTKIT_COLD_BOOT=1)");
  args->net.Add(app);
  app.footer("Everything after -- is the command to run in the guest.");
  return [args] {
    args->options.command = GuestCommand();
    return RunLaunch(*args);
  };
}

Command kLaunch("launch", "Boot an ext4 root disk and run a command in it", &Setup);

}  // namespace
}  // namespace vk::cli
