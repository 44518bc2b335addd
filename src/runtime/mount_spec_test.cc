// docker's --tmpfs, the guest-path checks, and the vk.tmpfs / vk.bind words
// the host composes for the agent (agent/mount_params.h parses them).
#include "runtime/mount_spec.h"

#include <gtest/gtest.h>

#include "runtime/guest_cmdline.h"

namespace vk {
namespace {

TEST(MountSpecTest, ParsesDockersTmpfsFlag) {
  auto plain = ParseTmpfsFlag("/run/app");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(plain->guest_path, "/run/app");
  EXPECT_FALSE(plain->size_bytes.has_value());
  EXPECT_FALSE(plain->mode.has_value());
  auto sized = ParseTmpfsFlag("/run:size=64m,mode=1777");
  ASSERT_TRUE(sized.ok()) << sized.error().message();
  EXPECT_EQ(sized->size_bytes, 64ull << 20);
  EXPECT_EQ(sized->mode, 01777u);
  auto noops = ParseTmpfsFlag("/x:rw,nosuid,nodev,size=1g");
  ASSERT_TRUE(noops.ok()) << noops.error().message();
  EXPECT_EQ(noops->size_bytes, 1ull << 30);
  for (const char* bad :
       {"", "/", "relative", "/a b", "/a,b", "/x/../y", "/x:size=", "/x:size=0", "/x:size=lots",
        "/x:mode=9", "/x:mode=17777", "/x:noexec", "/x:ro", "/x:uid=0"}) {
    auto parsed = ParseTmpfsFlag(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kUsage) << bad;
  }
  auto unsupported = ParseTmpfsFlag("/x:noexec");
  EXPECT_NE(unsupported.error().message().find("size=SIZE and mode=OCTAL"), std::string::npos);
}

TEST(MountSpecTest, GuestPathsMustFitTheBootWords) {
  EXPECT_TRUE(CheckGuestMountPath("/run/secrets/greet", "x").ok());
  EXPECT_TRUE(CheckGuestMountPath("/a/.hidden/..x", "x").ok());
  for (const char* bad : {"", "/", "rel", "/a:b", "/a b", "/a\tb", "/a,b", "/a/./b", "/a/.."})
    EXPECT_FALSE(CheckGuestMountPath(bad, "x").ok()) << bad;
  EXPECT_FALSE(CheckGuestMountPath("/" + std::string(kMaxGuestMountPath, 'a'), "x").ok());
  LaunchOptions options;
  options.binds.push_back({"/run/.vk-secrets/0", "/etc/key file", true});
  EXPECT_FALSE(CheckGuestMounts(options).ok());
}

TEST(MountSpecTest, GuestParamsCarryTmpfsAndBindWords) {
  LaunchOptions options;
  options.tmpfs.push_back({"/scratch", std::nullopt, std::nullopt});
  options.tmpfs.push_back({"/run/app", 1048576, 01777});
  options.shares.push_back({"/host/secrets", "/run/.vk-secrets", true});
  options.binds.push_back({"/run/.vk-secrets/0", "/run/secrets/greet", true});
  options.binds.push_back({"/a", "/b", false});
  std::string params = GuestParams(options, /*overlay=*/true);
  EXPECT_NE(params.find(" vk.tmpfs=/scratch "), std::string::npos) << params;
  EXPECT_NE(params.find(" vk.tmpfs=/run/app:size=1048576:mode=1777"), std::string::npos) << params;
  EXPECT_NE(params.find(" vk.fs=vkfs0:/run/.vk-secrets:ro"), std::string::npos) << params;
  EXPECT_NE(params.find(" vk.bind=/run/.vk-secrets/0:/run/secrets/greet:ro"), std::string::npos)
      << params;
  EXPECT_NE(params.find(" vk.bind=/a:/b"), std::string::npos) << params;
  EXPECT_EQ(params.find(" vk.bind=/a:/b:ro"), std::string::npos) << params;
}

}  // namespace
}  // namespace vk
