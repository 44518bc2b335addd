// Good arguments: each setter stores what docs/libkrun.md says, read back
// through the context store.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "capi/testing/capi_test_support.h"
#include "libkrun.h"

namespace vk::capi {
namespace {

using testing::Ctx;
using testing::Inspect;

TEST(StoredSettingsTest, MachineShapeAndFlags) {
  Ctx c;
  ASSERT_EQ(krun_set_vm_config(c, 2, 1024), 0);
  ASSERT_EQ(krun_set_nested_virt(c, true), 0);
  ASSERT_EQ(krun_split_irqchip(c, true), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.vcpus, 2);
    EXPECT_EQ(config.ram_mib, 1024u);
    EXPECT_TRUE(config.nested_virt);
    EXPECT_TRUE(config.split_irqchip);
  });
  EXPECT_EQ(krun_has_feature(KRUN_FEATURE_NET), 1);
  EXPECT_EQ(krun_has_feature(KRUN_FEATURE_BLK), 1);
  EXPECT_EQ(krun_has_feature(KRUN_FEATURE_GPU), 0);
  EXPECT_EQ(krun_has_feature(KRUN_FEATURE_INIT_BLOB), 0);
}

TEST(StoredSettingsTest, ShutdownEventfdIsOnePerContext) {
  Ctx c;
  int32_t fd = krun_get_shutdown_eventfd(c);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(krun_get_shutdown_eventfd(c), fd);
  uint64_t one = 1;
  EXPECT_EQ(::write(fd, &one, sizeof(one)), 8);
  Inspect(c, [&](const KrunConfig& config) { EXPECT_EQ(config.shutdown_eventfd.get(), fd); });
}

TEST(StoredSettingsTest, DisksInCallOrder) {
  Ctx c;
  ASSERT_EQ(krun_set_root_disk(c, "/old.img"), 0);
  ASSERT_EQ(krun_set_root_disk(c, "/root.img"), 0);  // replaces
  ASSERT_EQ(krun_set_data_disk(c, "/data.img"), 0);
  ASSERT_EQ(krun_add_disk(c, "a", "/a.img", true), 0);
  ASSERT_EQ(krun_add_disk2(c, "b", "/b.img", KRUN_DISK_FORMAT_RAW, false), 0);
  ASSERT_EQ(krun_add_disk3(c, "c", "/c.img", KRUN_DISK_FORMAT_RAW, true, true, KRUN_SYNC_NONE), 0);
  ASSERT_EQ(krun_set_root_disk_remount(c, "/dev/vda1", "auto", "noatime"), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.root_disk, "/root.img");
    EXPECT_EQ(config.data_disk, "/data.img");
    ASSERT_EQ(config.disks.size(), 3u);
    EXPECT_EQ(config.disks[0].block_id, "a");
    EXPECT_EQ(config.disks[0].path, "/a.img");
    EXPECT_TRUE(config.disks[0].read_only);
    EXPECT_EQ(config.disks[0].sync, SyncMode::kFull);
    EXPECT_FALSE(config.disks[1].read_only);
    EXPECT_TRUE(config.disks[2].direct_io);
    EXPECT_EQ(config.disks[2].sync, SyncMode::kNone);
    ASSERT_TRUE(config.root_disk_remount.has_value());
    EXPECT_EQ(config.root_disk_remount->device, "/dev/vda1");
    EXPECT_EQ(config.root_disk_remount->fstype, "");  // auto
    EXPECT_EQ(config.root_disk_remount->options, "noatime");
  });
}

TEST(StoredSettingsTest, RootAndShares) {
  Ctx c;
  ASSERT_EQ(krun_set_root(c, "/srv/root"), 0);
  ASSERT_EQ(krun_add_virtiofs(c, "work", "/srv/work"), 0);
  ASSERT_EQ(krun_add_virtiofs2(c, "dax", "/srv/dax", 1 << 30), 0);
  ASSERT_EQ(krun_add_virtiofs3(c, "ro", "/srv/ro", 0, true), 0);
  ASSERT_EQ(krun_disable_implicit_init(c), 0);
  ASSERT_EQ(krun_set_gpu_options(c, VIRGLRENDERER_VENUS), 0);
  ASSERT_EQ(krun_set_gpu_options2(c, 0, 1 << 20), 0);
  const char* oem[] = {"vendor", nullptr};
  ASSERT_EQ(krun_set_smbios_oem_strings(c, oem), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.root_dir, "/srv/root");
    ASSERT_EQ(config.shares.size(), 3u);
    EXPECT_EQ(config.shares[0].tag, "work");
    EXPECT_EQ(config.shares[0].host_path, "/srv/work");
    EXPECT_FALSE(config.shares[0].read_only);
    EXPECT_EQ(config.shares[1].shm_size, 1u << 30);
    EXPECT_TRUE(config.shares[2].read_only);
  });
}

// Overlay entries land in the share they name (the root's for /dev/root),
// file data not copied; a share may hold only overlay entries.
TEST(StoredSettingsTest, OverlayEntries) {
  Ctx c;
  static const uint8_t hostname[] = {'v', 'm', '\n'};
  ASSERT_EQ(krun_set_root(c, "/srv/root"), 0);
  ASSERT_EQ(krun_fs_add_overlay_dir(c, "/dev/root", "etc", 040750), 0);
  ASSERT_EQ(krun_fs_add_overlay_file(c, "/dev/root", "/etc/hostname", hostname, 3, 0100600, true),
            0);
  ASSERT_EQ(krun_add_virtiofs3(c, "virtual", nullptr, 0, false), 0);
  ASSERT_EQ(krun_fs_add_overlay_file(c, "virtual", "f", nullptr, 0, 0644, false), 0);
  Inspect(c, [](const KrunConfig& config) {
    ASSERT_EQ(config.root_overlay.size(), 1u);
    const auto& etc = config.root_overlay[0];
    EXPECT_EQ(etc.name, "etc");
    EXPECT_EQ(etc.mode, S_IFDIR | 0750u);
    ASSERT_EQ(etc.children.size(), 1u);
    EXPECT_EQ(etc.children[0].name, "hostname");
    EXPECT_EQ(etc.children[0].mode, S_IFREG | 0600u);
    EXPECT_EQ(etc.children[0].data.data(), hostname);  // the client's memory
    EXPECT_EQ(etc.children[0].data.size(), 3u);
    EXPECT_TRUE(etc.children[0].one_shot);
    ASSERT_EQ(config.shares.size(), 1u);
    EXPECT_EQ(config.shares[0].host_path, "");
    ASSERT_EQ(config.shares[0].overlay.size(), 1u);
    EXPECT_EQ(config.shares[0].overlay[0].mode, S_IFREG | 0644u);  // the type from the call
  });
}

TEST(StoredSettingsTest, Workload) {
  Ctx c;
  const char* argv[] = {"-c", "echo hi", nullptr};
  const char* envp[] = {"A=1", "B=2", nullptr};
  ASSERT_EQ(krun_set_exec(c, "/bin/sh", argv, envp), 0);
  ASSERT_EQ(krun_set_workdir(c, "/work"), 0);
  const char* limits[] = {"7=1024:4096", "bogus", "6:10:20", nullptr};
  ASSERT_EQ(krun_set_rlimits(c, limits), 0);  // malformed entries are skipped, as libkrun
  ASSERT_EQ(krun_setuid(c, 1000), 0);
  ASSERT_EQ(krun_setgid(c, 100), 0);
  ASSERT_EQ(krun_set_kernel(c, "/boot/vmlinux", KRUN_KERNEL_FORMAT_IMAGE_ZSTD, "/dev/null",
                            "console=hvc0 quiet"),
            0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.exec_path, "/bin/sh");
    EXPECT_EQ(config.args, (std::vector<std::string>{"-c", "echo hi"}));
    EXPECT_EQ(config.env, (std::vector<std::string>{"A=1", "B=2"}));
    EXPECT_EQ(config.workdir, "/work");
    ASSERT_EQ(config.rlimits.size(), 2u);
    EXPECT_EQ(config.rlimits[0].resource, 7u);
    EXPECT_EQ(config.rlimits[1].max, 20u);
    EXPECT_EQ(config.malformed_rlimits, (std::vector<std::string>{"bogus"}));
    EXPECT_EQ(config.uid, 1000u);
    EXPECT_EQ(config.gid, 100u);
    ASSERT_TRUE(config.kernel.has_value());
    EXPECT_EQ(config.kernel->path, "/boot/vmlinux");
    EXPECT_EQ(config.kernel->format, KernelFormat::kImageZstd);
    EXPECT_EQ(config.kernel->initramfs, "/dev/null");
    EXPECT_EQ(config.kernel->cmdline, "console=hvc0 quiet");
  });
}

TEST(StoredSettingsTest, NullArgvAndEnvp) {
  Ctx c;
  ::setenv("VK_CAPI_TEST_MARK", "yes", 1);
  ASSERT_EQ(krun_set_exec(c, "true", nullptr, nullptr), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_TRUE(config.args.empty());
    ASSERT_TRUE(config.env.has_value());
    EXPECT_NE(std::find(config.env->begin(), config.env->end(), "VK_CAPI_TEST_MARK=yes"),
              config.env->end());
  });
  const char* envp[] = {"ONLY=1", nullptr};
  ASSERT_EQ(krun_set_env(c, envp), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.env, (std::vector<std::string>{"ONLY=1"}));
    EXPECT_EQ(config.exec_path, "true");
  });
}

TEST(StoredSettingsTest, NetworkInterfacesOwnTheirFds) {
  Ctx c;
  uint8_t mac[6] = {0x52, 0x54, 0, 1, 2, 3};
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  ::close(pair[1]);
  ASSERT_EQ(
      krun_add_net_unixstream(c, nullptr, pair[0], mac, NET_FEATURE_CSUM, NET_FLAG_DHCP_CLIENT), 0);
  ASSERT_EQ(krun_add_net_unixgram(c, "/tmp/gv.sock", -1, mac, 0, NET_FLAG_VFKIT), 0);
  char tap[] = "tap0";
  ASSERT_EQ(krun_add_net_tap(c, tap, mac, NET_FEATURE_GUEST_CSUM | NET_FEATURE_GUEST_TSO4, 0), 0);
  Inspect(c, [&](const KrunConfig& config) {
    ASSERT_EQ(config.nets.size(), 3u);
    EXPECT_EQ(config.nets[0].kind, NetKind::kUnixStream);
    EXPECT_EQ(config.nets[0].fd.get(), pair[0]);
    EXPECT_EQ(config.nets[0].flags, uint32_t{NET_FLAG_DHCP_CLIENT});
    EXPECT_EQ(config.nets[1].path, "/tmp/gv.sock");
    EXPECT_FALSE(config.nets[1].fd.valid());
    EXPECT_EQ(config.nets[2].kind, NetKind::kTap);
    EXPECT_EQ(config.nets[2].path, "tap0");
    EXPECT_EQ(config.nets[2].mac[5], 3);
  });
}

TEST(StoredSettingsTest, LegacyInterfaceAndPortMap) {
  Ctx c;
  uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
  ASSERT_EQ(krun_set_net_mac(c, mac), 0);
  char gvproxy[] = "/tmp/gvproxy.sock";
  ASSERT_EQ(krun_set_gvproxy_path(c, gvproxy), 0);
  const char* map[] = {"8080:80", "2222:22", nullptr};
  ASSERT_EQ(krun_set_port_map(c, map), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.legacy_mac[5], 9);
    ASSERT_TRUE(config.legacy_net.has_value());
    EXPECT_EQ(config.legacy_net->kind, NetKind::kUnixGram);
    EXPECT_EQ(config.legacy_net->path, "/tmp/gvproxy.sock");
    EXPECT_EQ(config.port_map, (std::vector<PortMapping>{{8080, 80}, {2222, 22}}));
  });
  ASSERT_EQ(krun_set_port_map(c, nullptr), 0);  // clears
  Inspect(c, [](const KrunConfig& config) { EXPECT_TRUE(config.port_map.empty()); });
}

TEST(StoredSettingsTest, VsockPortsAndDevice) {
  Ctx c;
  ASSERT_EQ(krun_add_vsock_port(c, 1024, "/tmp/a.sock"), 0);
  ASSERT_EQ(krun_add_vsock_port2(c, 1024, "/tmp/no-such-dir/b.sock", true), 0);  // replaces
  ASSERT_EQ(krun_add_vsock_port2(c, 2048, "/tmp/c.sock", false), 0);
  Inspect(c, [](const KrunConfig& config) {
    ASSERT_EQ(config.vsock_ports.size(), 2u);
    EXPECT_EQ(config.vsock_ports.at(1024).path, "/tmp/no-such-dir/b.sock");
    EXPECT_TRUE(config.vsock_ports.at(1024).listen);
    EXPECT_EQ(config.vsock_mode, VsockMode::kImplicit);
  });
  ASSERT_EQ(krun_disable_implicit_vsock(c), 0);
  ASSERT_EQ(krun_add_vsock(c, KRUN_TSI_HIJACK_INET), 0);
  ASSERT_EQ(krun_add_vsock_port(c, 3000, "/tmp/d.sock"), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.vsock_mode, VsockMode::kExplicit);
    EXPECT_EQ(config.tsi_features, uint32_t{KRUN_TSI_HIJACK_INET});
  });
}

TEST(StoredSettingsTest, Consoles) {
  Ctx c;
  ASSERT_EQ(krun_set_console_output(c, "/tmp/console.log"), 0);
  ASSERT_EQ(krun_set_kernel_console(c, "ttyS0"), 0);
  ASSERT_EQ(krun_disable_implicit_console(c), 0);
  ASSERT_EQ(krun_add_virtio_console_default(c, 0, 1, -1), 0);
  ASSERT_EQ(krun_add_serial_console_default(c, -1, 2), 0);
  int32_t multiport = krun_add_virtio_console_multiport(c);
  EXPECT_EQ(multiport, 1);  // the default console counts (lib.rs:2841)
  ASSERT_EQ(krun_add_console_port_inout(c, static_cast<uint32_t>(multiport), "data", 0, 1), 0);
  ASSERT_EQ(krun_add_console_port_inout(c, static_cast<uint32_t>(multiport), nullptr, -1, 1), 0);
  Inspect(c, [](const KrunConfig& config) {
    EXPECT_EQ(config.console_output, "/tmp/console.log");
    EXPECT_EQ(config.kernel_console, "ttyS0");
    EXPECT_FALSE(config.implicit_console);
    ASSERT_EQ(config.virtio_consoles.size(), 2u);
    EXPECT_EQ(config.virtio_consoles[0].kind, ConsoleKind::kDefault);
    EXPECT_EQ(config.virtio_consoles[0].err_fd, -1);
    ASSERT_EQ(config.virtio_consoles[1].ports.size(), 2u);
    EXPECT_EQ(config.virtio_consoles[1].ports[0].name, "data");
    EXPECT_EQ(config.virtio_consoles[1].ports[1].name, "");
    ASSERT_EQ(config.serial_consoles.size(), 1u);
    EXPECT_EQ(config.serial_consoles[0].output_fd, 2);
  });
}

}  // namespace
}  // namespace vk::capi
