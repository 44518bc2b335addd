#include "runtime/qemu_launch.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace vk {
namespace {

// Each option only virtkit's VMM implements is refused by name, before
// QEMU or /dev/kvm are even looked for.
TEST(QemuLaunchTest, OptionsOnlyOurVmmImplementsAreRefusedByName) {
  struct Case {
    std::function<void(LaunchOptions&)> set;
    std::string named;
  };
  const std::vector<Case> cases = {
      {[](LaunchOptions& o) { o.root_dir = "/srv/root"; }, "a root directory"},
      {[](LaunchOptions& o) {
         o.root_device = RootDevice{"/dev/vdb", "", ""};
       },
       "a root device"},
      {[](LaunchOptions& o) {
         o.extra_disks.push_back({"/d.img", false});
       },
       "extra disks"},
      {[](LaunchOptions& o) { o.initrd_add_agent = true; }, "initramfs with the agent"},
      {[](LaunchOptions& o) { o.serial_ports.push_back({}); }, "serial consoles"},
      {[](LaunchOptions& o) { o.consoles.push_back({}); }, "multiport virtio consoles"},
      {[](LaunchOptions& o) { o.kernel_console = "hvc0"; }, "kernel console"},
      {[](LaunchOptions& o) {
         o.vsock_ports.push_back({5000, "/s", false});
       },
       "vsock ports"},
      {[](LaunchOptions& o) { o.restore_checkpoint = "/cp"; }, "checkpoints need virtkit's VMM"},
      {[](LaunchOptions& o) {
         o.shares.push_back({"", "/x", false, "t", {}});
       },
       "overlay files"},
      {[](LaunchOptions& o) {
         o.network.mode = NetworkOptions::Mode::kSwitch;
         o.network.switch_fd = 3;
       },
       "network given as a descriptor"},
  };
  for (const Case& c : cases) {
    LaunchOptions options;
    options.disk = "/base.ext4";
    options.vmm = VmmKind::kQemu;
    c.set(options);
    auto checked = CheckQemuLaunch(options);
    ASSERT_FALSE(checked.ok()) << c.named;
    EXPECT_EQ(checked.error().kind(), ErrorKind::kUsage) << c.named;
    EXPECT_NE(checked.error().message().find(c.named), std::string::npos)
        << checked.error().message();
  }
}

}  // namespace
}  // namespace vk
