// `vk launch`: boot an ext4 root disk and run one command in it.
#include "runtime/launch.h"

#include "cli/command.h"
#include "cli/vm_flags.h"

namespace vk::cli {
namespace {

struct LaunchArgs {
  LaunchOptions options;
  VmFlags vm{"256M"};
};

Runner Setup(CLI::App& app) {
  auto args = std::make_shared<LaunchArgs>();
  LaunchOptions& o = args->options;
  app.add_option("--disk", o.disk, "ext4 image to boot as the root filesystem")->required();
  app.add_flag("--read-only", o.read_only, "Attach the disk read-only");
  app.add_option("--console", o.console_path, "Write the kernel console to FILE");
  app.add_option("--workdir", o.workdir, "Working directory of the command in the guest");
  app.add_option("--kernel", o.kernel_path, "Boot this kernel (vmlinux or bzImage)");
  app.add_option("--initrd", o.initrd_path, "Use this initramfs instead of the built-in agent");
  app.add_option("--cmdline", o.extra_cmdline, "Extra kernel command-line parameters");
  args->vm.Add(app);
  app.footer("Everything after -- is the command to run in the guest.");
  return [args] {
    args->options.command = GuestCommand();
    if (auto applied = args->vm.ApplyTo(args->options); !applied.ok())
      return Fail("launch", applied.error());
    return ExitCodeOf("launch", Launch(args->options));
  };
}

Command kLaunch("launch", "Boot an ext4 root disk and run a command in it", &Setup);

}  // namespace
}  // namespace vk::cli
