// Run() against a fake supervisor (a shell script standing in for `vk
// supervise`): the order of validation, preflight, rootfs hooks, the
// supervisor and post-boot hooks, without KVM.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/remove_tree.h"
#include "virtkit/virtkit.h"

namespace virtkit {
namespace {

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/virtkit-run-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    top_ = dir;
    std::filesystem::create_directories(top_ + "/rootfs/etc");
    // Keeps its stdin (the spec) and the staged layer, then answers as
    // `vk supervise` does; the VM dir it names does not exist.
    fake_ = top_ + "/fake-vk";
    std::ofstream(fake_) << "#!/bin/sh\n"
                         << "cat > " << top_ << "/spec.json\n"
                         << "echo \"$1\" > " << top_ << "/argv\n"
                         << "layer=$(sed -n 's/.*\"layer_dir\":\"\\([^\"]*\\)\".*/\\1/p' " << top_
                         << "/spec.json)\n"
                         << "[ -n \"$layer\" ] && cp -a \"$layer\" " << top_ << "/layer-copy\n"
                         << "echo \"VIRTKIT_HOME=$VIRTKIT_HOME\" > " << top_ << "/env\n"
                         << "echo '{\"name\":\"fake\",\"dir\":\"/nonexistent/fake\",\"pid\":1}'\n";
    ::chmod(fake_.c_str(), 0755);
  }
  // Through the guarded remover: only inside the temp directory's parent.
  void TearDown() override {
    (void)vk::RemoveTreeWithin(std::filesystem::path(top_).parent_path().string(), top_);
  }

  Options Base() {
    Options options;
    options.rootfs_path = top_ + "/rootfs";
    options.vk_program = fake_;
    options.data_dir = top_ + "/data";
    options.builtin_preflight = false;
    options.detach = true;
    return options;
  }
  bool SupervisorRan() { return std::filesystem::exists(top_ + "/spec.json"); }
  std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string top_, fake_;
};

TEST_F(RunTest, HooksRunInOrderAroundTheSupervisor) {
  std::vector<std::string> order;
  Options options = Base();
  options.name = "fake";
  options.rootfs_hooks.push_back([&](Rootfs& root) {
    order.push_back("rootfs1");
    EXPECT_FALSE(SupervisorRan());
    return root.WriteFile("/etc/motd", "hello\n");
  });
  options.rootfs_hooks.push_back([&](Rootfs& root) {
    order.push_back("rootfs2");
    auto motd = root.ReadFile("/etc/motd");  // the first hook's file
    EXPECT_TRUE(motd && *motd == "hello\n");
    return Ok();
  });
  options.post_boot_hooks.push_back([&](Vm& vm) {
    order.push_back("post1");
    EXPECT_TRUE(SupervisorRan());
    EXPECT_EQ(vm.Name(), "fake");
    return Ok();
  });
  options.post_boot_hooks.push_back([&](Vm&) {
    order.push_back("post2");
    return Ok();
  });
  auto vm = virtkit::Run("", options);
  ASSERT_TRUE(vm) << vm.error().message();
  EXPECT_EQ(order, (std::vector<std::string>{"rootfs1", "rootfs2", "post1", "post2"}));
  EXPECT_EQ(vm->DataDir(), "/nonexistent/fake");
  EXPECT_EQ(Read(top_ + "/argv"), "supervise\n");
  EXPECT_EQ(Read(top_ + "/env"), "VIRTKIT_HOME=" + top_ + "/data\n");
  // The staged layer reached the supervisor, and is gone once it answered.
  EXPECT_EQ(Read(top_ + "/layer-copy/etc/motd"), "hello\n");
  EXPECT_TRUE(std::filesystem::is_empty(top_ + "/data/staging"));
  std::string spec = Read(top_ + "/spec.json");
  EXPECT_NE(spec.find("\"version\":1"), std::string::npos) << spec;
  EXPECT_NE(spec.find("\"rootfs_path\":\"" + top_ + "/rootfs\""), std::string::npos) << spec;
}

TEST_F(RunTest, FailingRootfsHookStopsBeforeTheSupervisor) {
  bool second_ran = false;
  Options options = Base();
  options.rootfs_hooks.push_back(
      [](Rootfs&) { return Result<void>(Error(ErrorKind::kInternal, "no keys")); });
  options.rootfs_hooks.push_back([&](Rootfs&) {
    second_ran = true;
    return Ok();
  });
  auto vm = virtkit::Run("", options);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind(), ErrorKind::kHook);
  EXPECT_NE(vm.error().message().find("rootfs hook 1: no keys"), std::string::npos)
      << vm.error().message();
  EXPECT_FALSE(second_ran);
  EXPECT_FALSE(SupervisorRan());
}

TEST_F(RunTest, FailingPostBootHookIsAHookError) {
  Options options = Base();
  options.post_boot_hooks.push_back(
      [](Vm&) { return Result<void>(Error(ErrorKind::kTimeout, "not healthy")); });
  auto vm = virtkit::Run("", options);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind(), ErrorKind::kHook);
  EXPECT_NE(vm.error().message().find("post-boot hook 1: not healthy"), std::string::npos);
}

TEST_F(RunTest, BusyPortIsReportedBeforeAnyBoot) {
  // Hold a port, then ask for it: Run() fails in preflight, the supervisor never starts.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const uint16_t port = ntohs(address.sin_port);
  Options options = Base();
  options.builtin_preflight = true;
  options.ports = {{.host_port = port, .guest_port = 80}};
  auto vm = virtkit::Run("", options);
  ::close(fd);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind(), ErrorKind::kPreflight);
  EXPECT_NE(vm.error().message().find("127.0.0.1:" + std::to_string(port) + "/tcp is in use"),
            std::string::npos)
      << vm.error().message();
  EXPECT_FALSE(SupervisorRan());
}

TEST_F(RunTest, InvalidOptionsAreUsageErrorsBeforePreflight) {
  Options options = Base();
  bool checked = false;
  options.preflight.push_back({"mine", [&] {
                                 checked = true;
                                 return Ok();
                               }});
  options.memory_bytes = 3;
  auto vm = virtkit::Run("", options);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind(), ErrorKind::kUsage);
  EXPECT_FALSE(checked);
}

TEST_F(RunTest, SupervisorErrorKeepsItsKind) {
  std::ofstream(fake_) << "#!/bin/sh\ncat >/dev/null\n"
                       << "echo '{\"error\":{\"kind\":\"image\",\"message\":\"pull x: 404\"}}'\n"
                       << "exit 5\n";
  auto vm = virtkit::Run("x", [&] {
    Options options = Base();
    options.rootfs_path.clear();
    return options;
  }());
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind(), ErrorKind::kImage);
  EXPECT_EQ(vm.error().message(), "run x: pull x: 404");
}

TEST_F(RunTest, MissingProgramIsNotFound) {
  Options options = Base();
  options.vk_program = top_ + "/none";
  auto vm = virtkit::Run("", options);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace virtkit
