#include "runtime/guest_cmdline.h"

#include <gtest/gtest.h>

#include "runtime/template_launch.h"

namespace vk {
namespace {

bool Has(const std::string& text, const std::string& words) {
  return text.find(words) != std::string::npos;
}

TEST(GuestParamsTest, TheRootIsTheDiskADirectoryOrADevice) {
  LaunchOptions disk;
  disk.disk = "/images/base.ext4";
  EXPECT_TRUE(Has(GuestParams(disk, false), "vk.root=/dev/vda vk.serve="));

  LaunchOptions dir;
  dir.root_dir = "/srv/rootfs";
  std::string params = GuestParams(dir, false);
  EXPECT_TRUE(Has(params, "vk.root=vkroot vk.rootfstype=virtiofs vk.serve=")) << params;
  EXPECT_FALSE(Has(params, "vk.ro=1"));

  LaunchOptions device;
  device.root_device = RootDevice{"/dev/vdb1", "auto", "discard,noatime"};
  params = GuestParams(device, false);
  EXPECT_TRUE(Has(params, "vk.root=/dev/vdb1 vk.rootfstype=auto vk.rootflags=discard,noatime"))
      << params;
}

// Ordinary VMs: the kernel console is COM1 (the console log). With libkrun's
// serial consoles COM1.. are the caller's: the kernel console moves to hvc0
// and the kernel probes as many UARTs as there are.
TEST(GuestCmdlineTest, SerialConsolesMoveTheKernelConsoleAndAddUarts) {
  LaunchOptions plain;
  plain.disk = "/images/base.ext4";
  std::string cmdline = GuestCmdline(plain, KvmFlavor::kHardware, false);
  EXPECT_TRUE(Has(cmdline, "console=ttyS0 reboot=t panic=-1 quiet")) << cmdline;
  EXPECT_FALSE(Has(cmdline, "8250.nr_uarts"));

  LaunchOptions serial = plain;
  serial.serial_ports.resize(3);
  cmdline = GuestCmdline(serial, KvmFlavor::kHardware, false);
  EXPECT_TRUE(Has(cmdline, "console=hvc0 reboot=t")) << cmdline;
  EXPECT_FALSE(Has(cmdline, "console=ttyS0"));
  EXPECT_TRUE(Has(cmdline, " 8250.nr_uarts=3 ")) << cmdline;

  serial.kernel_console = "ttyS2";
  cmdline = GuestCmdline(serial, KvmFlavor::kHardware, false);
  EXPECT_TRUE(Has(cmdline, "console=ttyS2 reboot=t")) << cmdline;
  EXPECT_FALSE(UseTemplate(serial));
}

TEST(GuestParamsTest, SharesWithoutAGuestPathAreLeftToTheGuestUnderTheirTags) {
  LaunchOptions options;
  options.disk = "/d.ext4";
  options.shares = {
      {"/a", "/work", false, ""}, {"/b", "", true, "data"}, {"/c", "/c", true, "own"}};
  std::string params = GuestParams(options, false);
  EXPECT_TRUE(Has(params, "vk.fs=vkfs0:/work")) << params;
  EXPECT_FALSE(Has(params, "data")) << params;
  EXPECT_TRUE(Has(params, "vk.fs=own:/c:ro")) << params;
  EXPECT_EQ(ShareTagOf(options, 1), "data");
  EXPECT_EQ(ShareTagOf(options, 0), "vkfs0");
}

TEST(GuestParamsTest, TheAgentsPortsAreReserved) {
  for (uint32_t port : {1023u, 1024u, 4444u, 4445u, 4446u}) EXPECT_TRUE(IsAgentVsockPort(port));
  for (uint32_t port : {1u, 1025u, 5000u, 4447u}) EXPECT_FALSE(IsAgentVsockPort(port));
}

TEST(CommandRequestTest, CarriesResourceLimits) {
  LaunchOptions options;
  options.command = {"/bin/true"};
  options.rlimits = {{7, 64, 64}};
  proto::ExecRequest request = CommandRequest(options);
  ASSERT_EQ(request.rlimits.size(), 1u);
  EXPECT_EQ(request.rlimits[0].resource, 7u);
  EXPECT_EQ(request.rlimits[0].cur, 64u);
}

}  // namespace
}  // namespace vk
