#include "capi/launch_plan.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/testing/temp_dir.h"
#include "runtime/guest_cmdline.h"

namespace vk::capi {
namespace {

using Strings = std::vector<std::string>;

class LaunchPlanTest : public ::testing::Test {
 protected:
  LaunchPlanTest() { config_.root_dir = root_.path(); }

  LaunchOptions Plan() {
    auto planned = PlanLaunch(config_, HostSide{});
    EXPECT_TRUE(planned.ok()) << planned.error().message();
    return planned.ok() ? *planned : LaunchOptions{};
  }
  int PlanErrno() {
    auto planned = PlanLaunch(config_, HostSide{});
    return planned.ok() ? 0 : planned.error().errno_value();
  }

  vk::testing::TempTree root_;
  KrunConfig config_;
};

TEST_F(LaunchPlanTest, MachineShapeAndRootDirectory) {
  config_.vcpus = 2;
  config_.ram_mib = 512;
  LaunchOptions options = Plan();
  EXPECT_EQ(options.cpus, 2u);
  EXPECT_EQ(options.memory_bytes, 512ull << 20);
  EXPECT_EQ(options.root_dir, root_.path());
  EXPECT_FALSE(options.read_only);
  EXPECT_TRUE(options.disk.empty());
  EXPECT_EQ(options.command, Strings{"/bin/sh"});  // nothing set, no file: libkrun's default
  EXPECT_EQ(options.workdir, "/");
  EXPECT_EQ(options.hostname, "localhost");
}

TEST_F(LaunchPlanTest, ARootTagShareIsTheRootAndOtherSharesKeepTheirTags) {
  config_.root_dir.reset();
  config_.shares = {{"data", "/srv/data", 0, true}, {kRootTag, root_.path(), 0, true}};
  LaunchOptions options = Plan();
  EXPECT_EQ(options.root_dir, root_.path());
  EXPECT_TRUE(options.read_only);
  ASSERT_EQ(options.shares.size(), 1u);
  EXPECT_EQ(options.shares[0].tag, "data");
  EXPECT_EQ(options.shares[0].host_path, "/srv/data");
  EXPECT_TRUE(options.shares[0].guest_path.empty());  // the guest mounts it by tag
  EXPECT_TRUE(options.shares[0].read_only);
}

TEST_F(LaunchPlanTest, ExecPathThenArgsMakeTheCommand) {
  config_.exec_path = "/bin/echo";
  config_.args = {"a", "b c"};
  config_.workdir = "/tmp";
  EXPECT_EQ(Plan().command, (Strings{"/bin/echo", "a", "b c"}));
  EXPECT_EQ(Plan().workdir, "/tmp");
}

TEST_F(LaunchPlanTest, TheConfigFileGivesWhatTheContextLeftOpen) {
  ASSERT_TRUE(root_.Write(".krun_config.json",
                          R"({"Entrypoint": ["/init.sh"], "Cmd": ["run"], "WorkingDir": "/app",
                              "Env": ["A=file", "B=file", "HOME=/root", "TERM=xterm"],
                              "mounts": [{"type": "tmpfs", "source": "tmpfs",
                                          "destination": "/scratch"}]})"));
  config_.env = Strings{"A=context", "HOSTNAME=box"};
  LaunchOptions options = Plan();
  EXPECT_EQ(options.command, (Strings{"/init.sh", "run"}));
  EXPECT_EQ(options.workdir, "/app");
  // Unset names from the file; HOME and TERM always from the file.
  EXPECT_EQ(options.env,
            (Strings{"HOME=/root", "TERM=xterm", "A=context", "HOSTNAME=box", "B=file"}));
  EXPECT_EQ(options.hostname, "box");
  ASSERT_EQ(options.tmpfs.size(), 1u);
  EXPECT_EQ(options.tmpfs[0].guest_path, "/scratch");

  config_.exec_path = "/bin/true";  // krun_set_exec and krun_set_workdir win
  config_.workdir = "/";
  options = Plan();
  EXPECT_EQ(options.command, Strings{"/bin/true"});
  EXPECT_EQ(options.workdir, "/");
}

TEST_F(LaunchPlanTest, KrunConfigNamesAnotherFileAndKrunHomeOverridesHome) {
  ASSERT_TRUE(root_.Write("other.json", R"({"Cmd": ["/other"]})"));
  config_.env = Strings{"KRUN_CONFIG=/other.json", "KRUN_HOME=/home/u", "KRUN_TERM=vt100"};
  LaunchOptions options = Plan();
  EXPECT_EQ(options.command, Strings{"/other"});
  EXPECT_EQ(options.env[0], "HOME=/home/u");
  EXPECT_EQ(options.env[1], "TERM=vt100");
}

TEST_F(LaunchPlanTest, ResourceLimitsGoToTheCommand) {
  config_.rlimits = {{7, 64, 128}, {4, 0, 0}};
  LaunchOptions options = Plan();
  ASSERT_EQ(options.rlimits.size(), 2u);
  EXPECT_EQ(options.rlimits[0].resource, 7u);
  EXPECT_EQ(options.rlimits[0].cur, 64u);
  EXPECT_EQ(options.rlimits[0].max, 128u);
  EXPECT_EQ(options.rlimits[1].resource, 4u);
}

TEST_F(LaunchPlanTest, AnInvalidHostnameIsRefused) {
  config_.env = Strings{"HOSTNAME=not a name"};
  EXPECT_EQ(PlanErrno(), EINVAL);
}

TEST_F(LaunchPlanTest, ImplicitTsiIsTheInProcessLanWithThePortMapOnLoopback) {
  config_.port_map = {{8080, 80}, {2222, 22}};
  LaunchOptions options = Plan();
  EXPECT_EQ(options.network.mode, NetworkOptions::Mode::kInProcess);
  EXPECT_EQ(options.network.publish, (Strings{"127.0.0.1:8080:80", "127.0.0.1:2222:22"}));
}

TEST_F(LaunchPlanTest, WithoutVsockOrTsiThereIsNoNetwork) {
  config_.vsock_mode = VsockMode::kDisabled;
  EXPECT_EQ(Plan().network.mode, NetworkOptions::Mode::kNone);
  config_.vsock_mode = VsockMode::kExplicit;
  config_.tsi_features = 0;
  EXPECT_EQ(Plan().network.mode, NetworkOptions::Mode::kNone);
}

TEST_F(LaunchPlanTest, AUnixStreamNicGoesToThatSwitch) {
  NetConfig nic;
  nic.path = "/run/user/1000/lan.sock";
  config_.nets.push_back(std::move(nic));
  config_.nets.back().mac = {0x5a, 0x94, 0xef, 0, 0, 1};
  LaunchOptions options = Plan();
  EXPECT_EQ(options.network.mode, NetworkOptions::Mode::kSwitch);
  EXPECT_EQ(options.network.switch_socket, "/run/user/1000/lan.sock");
  EXPECT_EQ(options.network.switch_fd, -1);
  ASSERT_TRUE(options.network.mac);
  EXPECT_EQ((*options.network.mac)[5], 1);
}

TEST_F(LaunchPlanTest, AStreamSocketFdAndPasstsFdAreUsedAsTheyAre) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd other(fds[1]);
  NetConfig nic;
  nic.fd.Reset(fds[0]);
  config_.nets.push_back(std::move(nic));
  EXPECT_EQ(Plan().network.switch_fd, fds[0]);
  config_.nets.clear();
  LegacyNet passt;
  passt.fd.Reset(::dup(fds[1]));
  const int passt_fd = passt.fd.get();
  config_.legacy_net = std::move(passt);
  LaunchOptions options = Plan();
  EXPECT_EQ(options.network.mode, NetworkOptions::Mode::kSwitch);
  EXPECT_EQ(options.network.switch_fd, passt_fd);
  EXPECT_EQ(*options.network.mac, kDefaultLegacyMac);
}

TEST_F(LaunchPlanTest, ConsoleOutputAndTerminal) {
  config_.console_output = "/tmp/console.log";
  auto planned = PlanLaunch(config_, HostSide{true, "xterm-256color", 40, 120});
  ASSERT_TRUE(planned.ok());
  EXPECT_EQ(planned->console_path, "/tmp/console.log");
  ASSERT_TRUE(planned->tty);
  EXPECT_EQ(planned->tty->term, "xterm-256color");
  EXPECT_EQ(planned->tty->rows, 40);
  EXPECT_EQ(planned->tty->cols, 120);
  EXPECT_FALSE(Plan().tty);
}

TEST_F(LaunchPlanTest, DisksInCallOrderAndTheLegacyPairOnlyWithoutThem) {
  config_.root_disk = "/legacy-root.img";
  config_.data_disk = "/legacy-data.img";
  LaunchOptions legacy = Plan();
  ASSERT_EQ(legacy.extra_disks.size(), 2u);
  EXPECT_EQ(legacy.extra_disks[0].path, "/legacy-root.img");
  EXPECT_EQ(legacy.extra_disks[1].path, "/legacy-data.img");
  config_.disks = {{"a", "/a.img", true}, {"b", "/b.img", false}};
  LaunchOptions options = Plan();
  ASSERT_EQ(options.extra_disks.size(), 2u);
  EXPECT_EQ(options.extra_disks[0].path, "/a.img");
  EXPECT_TRUE(options.extra_disks[0].read_only);
  EXPECT_EQ(options.extra_disks[1].path, "/b.img");
}

TEST_F(LaunchPlanTest, ARemountedDiskIsTheRootAndNoConfigFileIsRead) {
  ASSERT_TRUE(root_.Write(".krun_config.json", R"({"Cmd": ["/from-file"]})"));
  config_.root_dir.reset();
  config_.disks = {{"root", "/root.img"}};
  config_.root_disk_remount = RootDiskRemount{"/dev/vda", "", "discard"};
  LaunchOptions options = Plan();
  EXPECT_TRUE(options.root_dir.empty());
  ASSERT_TRUE(options.root_device);
  EXPECT_EQ(options.root_device->device, "/dev/vda");
  EXPECT_EQ(options.root_device->fstype, "auto");
  EXPECT_EQ(options.root_device->options, "discard");
  EXPECT_EQ(options.command, Strings{"/bin/sh"});
  config_.root_disk_remount = RootDiskRemount{"/dev/vda", "ext4", "a b"};
  EXPECT_EQ(PlanErrno(), EINVAL);  // a space would split the kernel's command line
}

TEST_F(LaunchPlanTest, AnElfKernelWithItsInitramfsAndCommandLine) {
  config_.kernel = KernelConfig{"/boot/vmlinux", KernelFormat::kElf, "/boot/initrd.cpio",
                                std::string("loglevel=7")};
  auto planned = PlanLaunch(config_, HostSide{});
  ASSERT_TRUE(planned.ok()) << planned.error().message();
  EXPECT_EQ(planned->kernel_path, "/boot/vmlinux");
  EXPECT_EQ(planned->initrd_path, "/boot/initrd.cpio");
  EXPECT_TRUE(planned->initrd_add_agent);
  EXPECT_EQ(planned->extra_cmdline, "loglevel=7");
  config_.kernel->format = KernelFormat::kImageGz;  // StartEnter decompresses it
  EXPECT_EQ(PlanErrno(), 0);
  config_.kernel->format = KernelFormat::kRaw;
  EXPECT_EQ(PlanErrno(), ENOTSUP);
}

TEST_F(LaunchPlanTest, VsockPortsBecomeLinksOfTheVsockDevice) {
  config_.vsock_ports[6000] = {6000, "/tmp/out.sock", false};
  config_.vsock_ports[7000] = {7000, "/tmp/in.sock", true};
  LaunchOptions options = Plan();
  ASSERT_EQ(options.vsock_ports.size(), 2u);
  EXPECT_EQ(options.vsock_ports[0].port, 6000u);
  EXPECT_EQ(options.vsock_ports[0].path, "/tmp/out.sock");
  EXPECT_FALSE(options.vsock_ports[0].listen);
  EXPECT_EQ(options.vsock_ports[1].port, 7000u);
  EXPECT_TRUE(options.vsock_ports[1].listen);
}

TEST_F(LaunchPlanTest, TheDefaultConsoleGivesTheWorkloadsStdio) {
  EXPECT_EQ(Plan().stdio.in, 0);
  EXPECT_EQ(Plan().stdio.out, 1);
  config_.virtio_consoles.push_back({ConsoleKind::kDefault, -1, 7, 8, {}});
  LaunchOptions options = Plan();
  EXPECT_EQ(options.stdio.in, -1);
  EXPECT_EQ(options.stdio.out, 7);
  EXPECT_EQ(options.stdio.err, 8);
}

TEST_F(LaunchPlanTest, UnixgramAndTapNicsAreDatagramLinks) {
  NetConfig gram;
  gram.kind = NetKind::kUnixGram;
  gram.path = "/tmp/gvproxy.sock";
  config_.nets.push_back(std::move(gram));
  LaunchOptions options = Plan();
  EXPECT_EQ(options.network.mode, NetworkOptions::Mode::kSwitch);
  EXPECT_TRUE(options.network.datagram);
  EXPECT_TRUE(options.network.switch_socket.empty());  // StartEnter opens it (OpenNicLink)
  config_.nets.back().kind = NetKind::kTap;
  config_.nets.back().path = "tap0";
  EXPECT_TRUE(Plan().network.datagram);
  config_.nets.clear();
  config_.legacy_net.emplace();
  config_.legacy_net->kind = NetKind::kUnixGram;  // krun_set_gvproxy_path
  config_.legacy_net->path = "/tmp/gvproxy.sock";
  EXPECT_TRUE(Plan().network.datagram);
}

// Serial consoles are COM1.. with the caller's fds; the kernel console then
// moves to hvc0 unless the client names one the VM has.
TEST_F(LaunchPlanTest, SerialConsolesAndTheKernelConsole) {
  config_.serial_consoles.push_back({7, 8});
  config_.serial_consoles.push_back({-1, 9});
  LaunchOptions options = Plan();
  ASSERT_EQ(options.serial_ports.size(), 2u);
  EXPECT_EQ(options.serial_ports[0].input_fd, 7);
  EXPECT_EQ(options.serial_ports[0].output_fd, 8);
  EXPECT_EQ(options.serial_ports[1].input_fd, -1);
  EXPECT_EQ(options.serial_ports[1].output_fd, 9);
  EXPECT_EQ(options.kernel_console, "");
  EXPECT_EQ(KernelConsole(options), "hvc0");
  config_.kernel_console = "ttyS1";
  EXPECT_EQ(Plan().kernel_console, "ttyS1");
  config_.kernel_console = "ttyS2";  // only two UARTs
  EXPECT_EQ(PlanErrno(), EINVAL);
  config_.serial_consoles.clear();
  config_.kernel_console = "ttyS0";  // COM1 always exists
  EXPECT_EQ(KernelConsole(Plan()), "ttyS0");
  config_.kernel_console.reset();
  EXPECT_EQ(KernelConsole(Plan()), "ttyS0");
  config_.serial_consoles.resize(5);
  EXPECT_EQ(PlanErrno(), ENOTSUP);
}

// Each multiport console is a device; a terminal port is a console (hvc1..),
// which krun_set_kernel_console may then name. The default console stays
// the workload's stdio wherever it is in the list.
TEST_F(LaunchPlanTest, MultiportConsolesBecomeDevicesWithTheirPorts) {
  VirtioConsole multiport;
  multiport.kind = ConsoleKind::kMultiport;
  multiport.ports.push_back({ConsolePortKind::kInOut, "alpha", 5, 6});
  multiport.ports.push_back({ConsolePortKind::kTty, "term", 7, 7});
  config_.virtio_consoles.push_back(multiport);
  VirtioConsole default_console;
  default_console.input_fd = -1;
  default_console.output_fd = 11;
  default_console.err_fd = 12;
  config_.virtio_consoles.push_back(default_console);
  LaunchOptions options = Plan();
  ASSERT_EQ(options.consoles.size(), 1u);
  ASSERT_EQ(options.consoles[0].ports.size(), 2u);
  EXPECT_EQ(options.consoles[0].ports[0].name, "alpha");
  EXPECT_EQ(options.consoles[0].ports[0].input_fd, 5);
  EXPECT_EQ(options.consoles[0].ports[0].output_fd, 6);
  EXPECT_FALSE(options.consoles[0].ports[0].console);
  EXPECT_TRUE(options.consoles[0].ports[1].console);
  EXPECT_EQ(options.stdio.out, 11);
  EXPECT_EQ(options.stdio.err, 12);
  config_.kernel_console = "hvc1";
  EXPECT_EQ(Plan().kernel_console, "hvc1");
  config_.kernel_console = "hvc2";  // one terminal port only
  EXPECT_EQ(PlanErrno(), EINVAL);
}

// Overlay entries go with their share (the root's with the root directory);
// a share of overlay entries only has no host path; a root made only of
// overlay entries is not run.
TEST_F(LaunchPlanTest, OverlayEntriesTravelWithTheirShares) {
  config_.root_overlay.push_back({.name = "init.extra", .mode = S_IFREG | 0755});
  FsShare virtual_only{.tag = "cfg"};
  virtual_only.overlay.push_back({.name = "app.conf", .mode = S_IFREG | 0644});
  config_.shares.push_back(virtual_only);
  LaunchOptions options = Plan();
  ASSERT_EQ(options.root_virtual_entries.size(), 1u);
  EXPECT_EQ(options.root_virtual_entries[0].name, "init.extra");
  ASSERT_EQ(options.shares.size(), 1u);
  EXPECT_EQ(options.shares[0].host_path, "");
  EXPECT_EQ(options.shares[0].tag, "cfg");
  ASSERT_EQ(options.shares[0].virtual_entries.size(), 1u);
  EXPECT_EQ(options.shares[0].virtual_entries[0].name, "app.conf");
  config_ = KrunConfig{};
  config_.shares.push_back({.tag = kRootTag});
  EXPECT_EQ(PlanErrno(), ENOTSUP);
}

TEST_F(LaunchPlanTest, SettingsVirtkitDoesNotRunAreENOTSUP) {
  auto fresh = [this] {
    config_ = KrunConfig{};
    config_.root_dir = root_.path();
  };
  config_.kernel.emplace();
  config_.kernel->path = "/proc/self/exe";
  config_.kernel->format = KernelFormat::kRaw;
  EXPECT_EQ(PlanErrno(), ENOTSUP);
  fresh();
  config_.virtio_consoles.resize(2);  // two default consoles
  EXPECT_EQ(PlanErrno(), ENOTSUP);
  fresh();
  config_.nets.resize(2);
  EXPECT_EQ(PlanErrno(), ENOTSUP);
  fresh();
  EXPECT_EQ(PlanErrno(), 0);
}

}  // namespace
}  // namespace vk::capi
