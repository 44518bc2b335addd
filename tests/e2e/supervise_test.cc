// End-to-end: `vk supervise`, the library's way to start a VM. A run spec on
// stdin (a local ext4 rootfs plus a layer directory, so no registry is
// needed) starts a detached VM; stdout is the one JSON line of
// docs/protocol.md ("vk supervise"); `vk exec` reaches the VM; the layer's
// file is in its root; `vk rm -f` removes it. One boot.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e/busybox_vm_test.h"

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SuperviseTest : public BusyboxVmTest {
 protected:
  void SetUp() override {
    BusyboxVmTest::SetUp();
    if (IsSkipped()) return;
    ::setenv("VIRTKIT_HOME", (dir_.path() + "/home").c_str(), 1);
    name_ = "sv-" + std::to_string(::getpid());
  }
  void TearDown() override {
    if (!name_.empty()) RunVk({"rm", "-f", name_});
    ::unsetenv("VIRTKIT_HOME");
  }
  std::string name_;
};

TEST_F(SuperviseTest, SpecOnStdinStartsAVmThatExecReaches) {
  const std::string layer = dir_.path() + "/layer";
  fs::create_directories(layer + "/etc");
  std::ofstream(layer + "/etc/from-the-layer") << "staged before boot\n";
  nlohmann::json spec = {{"version", 1},
                         {"name", name_},
                         {"rootfs_path", disk_},
                         {"layer_dir", layer},
                         {"hostname", "supervised"},
                         {"memory_bytes", 256 << 20},
                         {"boot_timeout_seconds", 900}};
  ProcessResult started = RunVk({"supervise"}, spec.dump(), std::chrono::seconds(1200));
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  // Exactly one line, the report.
  ASSERT_EQ(std::count(started.out.begin(), started.out.end(), '\n'), 1) << started.out;
  auto report = nlohmann::json::parse(started.out);
  EXPECT_EQ(report.at("name"), name_);
  EXPECT_EQ(report.at("dir"), VmDirectoryForTest(name_));
  const pid_t pid = report.at("pid").get<pid_t>();
  EXPECT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0) << "the VMM runs on after vk supervise returned";

  ProcessResult hostname = RunVk({"exec", name_, "--", "cat", "/etc/hostname"});
  EXPECT_EQ(hostname.exit_code, 0) << hostname.err;
  EXPECT_EQ(hostname.out, "supervised\n");
  ProcessResult layered = RunVk({"exec", name_, "--", "cat", "/etc/from-the-layer"});
  EXPECT_EQ(layered.out, "staged before boot\n") << layered.err;
  // The base is shared and read-only: the layer's file is not in it.
  ProcessResult base = RunProcess({"debugfs", "-R", "stat /etc/from-the-layer", disk_});
  EXPECT_THAT(base.err + base.out, HasSubstr("not found"));

  ProcessResult removed = RunVk({"rm", "-f", name_});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_FALSE(fs::exists(VmDirectoryForTest(name_)));
  for (int i = 0; i < 50 && ::kill(pid, 0) == 0; ++i) ::usleep(100 * 1000);
  EXPECT_NE(::kill(pid, 0), 0) << "the VMM is gone after vk rm -f";
  name_.clear();
}

}  // namespace
}  // namespace vk::e2e
