// `vk virtiofsd` under QEMU (issue 19): a QEMU microvm guest (our kernel and
// agent) mounts a share served by `vk virtiofsd` over vhost-user and passes
// the virtio-fs conformance run our built-in device passes, escape attempts
// included; then a second QEMU reconnects to the same daemon.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "e2e/vk_process.h"

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;

// QEMU microvm booting `disk` as root with the vhost-user-fs device on
// `socket` (tag "work", mounted at /work by the agent); guest RAM is a
// shared memfd, which vhost-user needs. Its serial console is the output.
ProcessResult RunQemu(const std::string& assets, const std::string& disk,
                      const std::string& socket) {
  return RunProcess(QemuMicrovmCommand(assets, disk, "vk.fs=work:/work",
                                       {"-chardev", "socket,id=vfs,path=" + socket, "-device",
                                        "vhost-user-fs-device,chardev=vfs,tag=work"},
                                       /*shared_memory=*/true),
                    "", std::chrono::seconds(900));
}

// A busybox root whose /sbin/init runs `script` and powers off.
std::string DiskRunning(const TempDir& dir, const std::string& name, const std::string& script) {
  std::ofstream(dir.path() + "/rootfs/sbin/init") << "#!/bin/sh\n" << script << "\npoweroff -f\n";
  const std::string disk = dir.path() + "/" + name + ".ext4";
  EXPECT_EQ(RunVk({"mkext", dir.path() + "/rootfs", disk}).exit_code, 0);
  return disk;
}

TEST(VirtiofsdTest, AQemuGuestPassesTheConformanceRunAndASecondOneReconnects) {
  std::string reason = KvmUnavailableReason();
  if (!reason.empty()) GTEST_SKIP() << "needs /dev/kvm: " << reason;
  TempDir dir;
  const std::string share = dir.path() + "/share";
  fs::create_directories(share);
  fs::copy_file(VK_VIRTIOFS_CHECK, share + "/virtiofs_conformance");
  std::ofstream(dir.path() + "/secret") << "outside the share\n";
  MakeBusyboxDisk(dir);                                 // dir/rootfs, re-packed with our init below
  fs::create_directories(dir.path() + "/rootfs/work");  // the mount point, on a read-only root
  // The conformance program prints the root's name first.
  std::ofstream(dir.path() + "/rootfs/etc/os-release") << "PRETTY_NAME=\"busybox under QEMU\"\n";
  TempDir assets;
  ASSERT_EQ(RunVk({"guest-assets", assets.path()}).exit_code, 0);

  const std::string socket = dir.path() + "/virtiofsd.sock";
  // No --tag: QEMU's vhost-user-fs-device sets the tag itself (tag=work).
  BackgroundVk daemon(
      {"virtiofsd", "--socket-path", socket, "--shared-dir", share, "--log-level", "warn"});
  for (int i = 0; i < 200 && !fs::exists(socket); ++i) ::usleep(50000);
  ASSERT_TRUE(fs::exists(socket));

  ProcessResult first =
      RunQemu(assets.path(),
              DiskRunning(dir, "conformance",
                          "cd /work && ./virtiofs_conformance && echo from-qemu > made"),
              socket);
  EXPECT_NE(first.out.find("conformance: all passed"), std::string::npos) << first.out << first.err;
  // What the guest made is on the host, owned by the caller; nothing
  // outside the share changed.
  struct stat made {};
  ASSERT_EQ(::stat((share + "/made").c_str(), &made), 0) << first.out;
  EXPECT_EQ(made.st_uid, ::getuid());
  std::ifstream secret(dir.path() + "/secret");
  std::string line;
  std::getline(secret, line);
  EXPECT_EQ(line, "outside the share");

  // The daemon outlives its first front end: a new VMM connects again.
  ProcessResult second = RunQemu(
      assets.path(), DiskRunning(dir, "reconnect", "echo \"again: $(cat /work/made)\""), socket);
  EXPECT_NE(second.out.find("again: from-qemu"), std::string::npos) << second.out << second.err;
}

}  // namespace
}  // namespace vk::e2e
