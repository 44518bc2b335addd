#include "agent/init_params.h"

#include <gtest/gtest.h>

namespace vk::agent {
namespace {

TEST(InitParamsTest, ParsesAllParameters) {
  auto params = ParseInitParams(
      "console=ttyS0 reboot=t vk.root=/dev/vda vk.rootfstype=ext2 vk.ro=1 vk.port=1024 "
      "vk.hostname=box quiet\n");
  ASSERT_TRUE(params.ok()) << params.error().message();
  EXPECT_EQ(params->root, "/dev/vda");
  EXPECT_EQ(params->root_fstype, "ext2");
  EXPECT_TRUE(params->read_only);
  EXPECT_EQ(params->port, 1024u);
  EXPECT_EQ(params->hostname, "box");
}

TEST(InitParamsTest, DefaultsWhenAbsent) {
  auto params = ParseInitParams("console=ttyS0 root=/dev/sda");
  ASSERT_TRUE(params.ok());
  EXPECT_TRUE(params->root.empty());
  EXPECT_EQ(params->root_fstype, "ext4");
  EXPECT_FALSE(params->read_only);
  EXPECT_FALSE(params->port.has_value());
  EXPECT_TRUE(params->hostname.empty());
}

TEST(InitParamsTest, ServerIdleAndPvmSwitches) {
  auto params = ParseInitParams("vk.serve=4444 vk.idle=1 vk.pvm=1");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->serve_port, 4444u);
  EXPECT_TRUE(params->idle);
  EXPECT_TRUE(params->pvm);
  auto plain = ParseInitParams("vk.root=/dev/vda");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->serve_port.has_value());
  EXPECT_FALSE(plain->idle);
  EXPECT_FALSE(ParseInitParams("vk.serve=0").ok());
  EXPECT_FALSE(ParseInitParams("vk.serve=4294967295").ok());  // PORT+1 must exist
}

TEST(InitParamsTest, RootFileSystemTypeAndMountData) {
  auto params =
      ParseInitParams("vk.root=/dev/vda1 vk.rootfstype=auto vk.rootflags=discard,noatime");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->root, "/dev/vda1");
  EXPECT_EQ(params->root_fstype, "auto");
  EXPECT_EQ(params->root_options, "discard,noatime");
  auto dir = ParseInitParams("vk.root=vkroot vk.rootfstype=virtiofs");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->root_fstype, "virtiofs");
  EXPECT_TRUE(dir->root_options.empty());
}

TEST(InitParamsTest, MalformedValuesAreErrors) {
  EXPECT_FALSE(ParseInitParams("vk.port=abc").ok());
  EXPECT_FALSE(ParseInitParams("vk.port=0").ok());
  EXPECT_FALSE(ParseInitParams("vk.port=99999999999").ok());
  EXPECT_FALSE(ParseInitParams("vk.ro=yes").ok());
  EXPECT_FALSE(ParseInitParams("vk.hostname=").ok());
  EXPECT_FALSE(ParseInitParams("vk.hostname=" + std::string(65, 'a')).ok());
}

}  // namespace
}  // namespace vk::agent

namespace vk::agent {
namespace {

TEST(InitParamsTest, OverlayAndShares) {
  auto params = ParseInitParams(
      "vk.root=/dev/vda vk.ro=1 vk.overlay=/dev/vdb vk.fs=vkfs0:/work vk.fs=vkfs1:/data:ro "
      "vk.etc=1");
  ASSERT_TRUE(params.ok()) << params.error().message();
  EXPECT_EQ(params->overlay, "/dev/vdb");
  ASSERT_EQ(params->fs_mounts.size(), 2u);
  EXPECT_EQ(params->fs_mounts[0].tag, "vkfs0");
  EXPECT_EQ(params->fs_mounts[0].path, "/work");
  EXPECT_FALSE(params->fs_mounts[0].read_only);
  EXPECT_TRUE(params->fs_mounts[1].read_only);
  EXPECT_TRUE(params->write_etc);
}

TEST(InitParamsTest, BadSharesAreErrors) {
  EXPECT_FALSE(ParseInitParams("vk.fs=tag").ok());
  EXPECT_FALSE(ParseInitParams("vk.fs=tag:relative").ok());
  EXPECT_FALSE(ParseInitParams("vk.fs=tag:/x:rw").ok());
  EXPECT_FALSE(ParseInitParams("vk.fs=:/x").ok());
  EXPECT_FALSE(ParseInitParams("vk.overlay=").ok());
}

}  // namespace
}  // namespace vk::agent

namespace vk::agent {
namespace {

TEST(InitParamsTest, TemplatePort) {
  auto params = ParseInitParams("console=ttyS0 vk.pvm=1 vk.template=1023");
  ASSERT_TRUE(params.ok()) << params.error().message();
  EXPECT_EQ(params->template_port, 1023u);
  EXPECT_TRUE(params->pvm);
  EXPECT_FALSE(ParseInitParams("vk.pvm=1").value().template_port.has_value());
  EXPECT_FALSE(ParseInitParams("vk.template=0").ok());
  EXPECT_FALSE(ParseInitParams("vk.template=port").ok());
  EXPECT_FALSE(ParseInitParams("vk.template=4294967296").ok());
}

// An assignment carries exactly the per-VM words of a command line.
TEST(InitParamsTest, AssignmentParams) {
  auto params = ParseInitParams(
      "vk.root=/dev/vda vk.serve=4444 vk.hostname=web vk.ro=1 vk.overlay=/dev/vdb vk.etc=1 "
      "vk.net=dhcp vk.fs=vkfs0:/work vk.port=1024");
  ASSERT_TRUE(params.ok()) << params.error().message();
  EXPECT_EQ(params->root, "/dev/vda");
  EXPECT_EQ(params->serve_port, 4444u);
  EXPECT_EQ(params->hostname, "web");
  EXPECT_TRUE(params->read_only);
  EXPECT_EQ(params->overlay, "/dev/vdb");
  EXPECT_TRUE(params->write_etc);
  ASSERT_TRUE(params->net.has_value());
  EXPECT_FALSE(params->net->static_ipv4.has_value());
  ASSERT_EQ(params->fs_mounts.size(), 1u);
  EXPECT_EQ(params->port, 1024u);
  EXPECT_FALSE(params->template_port.has_value());
}

}  // namespace
}  // namespace vk::agent

namespace vk::agent {
namespace {

TEST(InitParamsTest, TmpfsMounts) {
  auto params = ParseInitParams(
      "vk.tmpfs=/scratch vk.tmpfs=/run/app:size=1048576:mode=1777 vk.tmpfs=/m:mode=700");
  ASSERT_TRUE(params.ok()) << params.error().message();
  ASSERT_EQ(params->tmpfs_mounts.size(), 3u);
  EXPECT_EQ(params->tmpfs_mounts[0].path, "/scratch");
  EXPECT_FALSE(params->tmpfs_mounts[0].size_bytes.has_value());
  EXPECT_FALSE(params->tmpfs_mounts[0].mode.has_value());
  EXPECT_EQ(params->tmpfs_mounts[1].path, "/run/app");
  EXPECT_EQ(params->tmpfs_mounts[1].size_bytes, 1048576u);
  EXPECT_EQ(params->tmpfs_mounts[1].mode, 01777u);
  EXPECT_EQ(params->tmpfs_mounts[2].mode, 0700u);
  EXPECT_FALSE(params->tmpfs_mounts[2].size_bytes.has_value());
}

TEST(InitParamsTest, BadTmpfsMountsAreErrors) {
  for (const char* bad :
       {"vk.tmpfs=", "vk.tmpfs=/", "vk.tmpfs=relative", "vk.tmpfs=/x/../y", "vk.tmpfs=/x/./y",
        "vk.tmpfs=/x:size=", "vk.tmpfs=/x:size=0", "vk.tmpfs=/x:size=12k", "vk.tmpfs=/x:size=-1",
        "vk.tmpfs=/x:size=99999999999999999999", "vk.tmpfs=/x:mode=8", "vk.tmpfs=/x:mode=10000",
        "vk.tmpfs=/x:size=1:size=2", "vk.tmpfs=/x:mode=1:mode=2", "vk.tmpfs=/x:uid=0",
        "vk.tmpfs=/x:size=1:mode=1:ro", "vk.tmpfs=/x:"}) {
    EXPECT_FALSE(ParseInitParams(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseInitParams("vk.tmpfs=/" + std::string(kMaxMountPath, 'a')).ok());
  EXPECT_TRUE(ParseInitParams("vk.tmpfs=/" + std::string(kMaxMountPath - 1, 'a')).ok());
}

TEST(InitParamsTest, BindMounts) {
  auto params = ParseInitParams("vk.bind=/run/.vk-secrets/0:/etc/token:ro vk.bind=/a:/b");
  ASSERT_TRUE(params.ok()) << params.error().message();
  ASSERT_EQ(params->bind_mounts.size(), 2u);
  EXPECT_EQ(params->bind_mounts[0].source, "/run/.vk-secrets/0");
  EXPECT_EQ(params->bind_mounts[0].target, "/etc/token");
  EXPECT_TRUE(params->bind_mounts[0].read_only);
  EXPECT_FALSE(params->bind_mounts[1].read_only);
  for (const char* bad :
       {"vk.bind=", "vk.bind=/a", "vk.bind=/a:b", "vk.bind=a:/b", "vk.bind=/a:/b:rw",
        "vk.bind=/a:/b:ro:x", "vk.bind=/a:/", "vk.bind=/a:/.."}) {
    EXPECT_FALSE(ParseInitParams(bad).ok()) << bad;
  }
}

TEST(InitParamsTest, MountWordsAreBounded) {
  std::string many;
  for (int i = 0; i < 64; ++i) many += " vk.tmpfs=/t" + std::to_string(i);
  EXPECT_TRUE(ParseInitParams(many).ok());
  EXPECT_FALSE(ParseInitParams(many + " vk.tmpfs=/one-more").ok());
  std::string binds;
  for (int i = 0; i < 65; ++i) binds += " vk.bind=/s:/t" + std::to_string(i);
  EXPECT_FALSE(ParseInitParams(binds).ok());
  EXPECT_FALSE(ParseInitParams("vk.fs=tag:/" + std::string(kMaxMountPath, 'a')).ok());
}

}  // namespace
}  // namespace vk::agent
