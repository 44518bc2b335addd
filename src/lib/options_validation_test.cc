#include "lib/options_validation.h"

#include <gtest/gtest.h>

namespace virtkit::internal {
namespace {

Options Valid() {
  Options options;
  options.name = "box";
  return options;
}

void ExpectUsage(const Options& options, std::string_view needle) {
  auto result = ValidateOptions("alpine", options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::kUsage) << result.error().message();
  EXPECT_NE(result.error().message().find(needle), std::string::npos) << result.error().message();
}

TEST(OptionsValidationTest, DefaultsAreValid) { EXPECT_TRUE(ValidateOptions("alpine", Valid())); }

TEST(OptionsValidationTest, NeedsImageOrRootfs) {
  auto result = ValidateOptions("", Valid());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::kUsage);
  Options rootfs = Valid();
  rootfs.rootfs_path = "/tmp";
  EXPECT_TRUE(ValidateOptions("", rootfs));
}

TEST(OptionsValidationTest, BadSizes) {
  Options options = Valid();
  options.memory_bytes = 1 << 20;
  ExpectUsage(options, "memory");
  options.memory_bytes = (512ull << 20) + 1;
  ExpectUsage(options, "whole number of MiB");
  options = Valid();
  options.memory_bytes = 2ull << 40;
  ExpectUsage(options, "memory");
  options = Valid();
  options.cpus = 65;
  ExpectUsage(options, "cpus 65");
  options = Valid();
  options.boot_timeout = std::chrono::seconds(0);
  ExpectUsage(options, "boot_timeout");
}

TEST(OptionsValidationTest, PortClashes) {
  Options options = Valid();
  options.ports = {{.host_port = 8080, .guest_port = 80}, {.host_port = 8080, .guest_port = 81}};
  ExpectUsage(options, "127.0.0.1:8080/tcp is forwarded twice");
  // A wildcard address clashes with a specific one.
  options.ports = {{.host_port = 8080, .guest_port = 80, .host_address = "0.0.0.0"},
                   {.host_port = 8080, .guest_port = 81}};
  ExpectUsage(options, "forwarded twice");
  // tcp and udp of one port, or two addresses, do not clash.
  options.ports = {{.host_port = 53, .guest_port = 53},
                   {.host_port = 53, .guest_port = 53, .protocol = Protocol::kUdp},
                   {.host_port = 53, .guest_port = 53, .host_address = "127.0.0.2"}};
  EXPECT_TRUE(ValidateOptions("alpine", options));
}

TEST(OptionsValidationTest, BadPorts) {
  Options options = Valid();
  options.ports = {{.host_port = 0, .guest_port = 80}};
  ExpectUsage(options, "1-65535");
  options.ports = {{.host_port = 80, .guest_port = 80, .host_address = "localhost"}};
  ExpectUsage(options, "not an IPv4 address");
  options.ports = {{.host_port = 8080, .guest_port = 80}};
  options.network.mode = NetworkMode::kNone;
  ExpectUsage(options, "need the VM's own LAN");
}

TEST(OptionsValidationTest, MountTags) {
  Options options = Valid();
  options.mounts = {{.host_path = "/tmp", .guest_path = "/a", .tag = "data"},
                    {.host_path = "/tmp", .guest_path = "/b", .tag = "data"}};
  ExpectUsage(options, "\"data\" is used twice");
  options.mounts = {{.host_path = "/tmp", .guest_path = "/a", .tag = "bad tag!"}};
  ExpectUsage(options, "mount tag \"bad tag!\"");
  options.mounts = {{.host_path = "/tmp", .guest_path = "/a", .tag = std::string(37, 'x')}};
  ExpectUsage(options, "1-36");
  // An explicit tag equal to a generated one is a duplicate too.
  options.mounts = {{.host_path = "/tmp", .guest_path = "/a"},
                    {.host_path = "/tmp", .guest_path = "/b", .tag = "share0"}};
  ExpectUsage(options, "used twice");
  options.mounts = {{.host_path = "/tmp", .guest_path = "/a"},
                    {.host_path = "/tmp", .guest_path = "/b"}};
  EXPECT_TRUE(ValidateOptions("alpine", options));
}

TEST(OptionsValidationTest, MountPaths) {
  Options options = Valid();
  options.mounts = {{.host_path = "/tmp", .guest_path = "data"}};
  ExpectUsage(options, "must be absolute");
  options.mounts = {{.host_path = "/tmp", .guest_path = "/"}};
  ExpectUsage(options, "must be absolute");
  options.mounts = {{.host_path = "/tmp", .guest_path = "/a/../etc"}};
  ExpectUsage(options, "must be absolute");
  options.mounts = {{.host_path = "/tmp", .guest_path = "/a"},
                    {.host_path = "/", .guest_path = "/a"}};
  ExpectUsage(options, "mounted twice");
  options.mounts = {{.host_path = "/no/such/dir", .guest_path = "/a"}};
  auto result = ValidateOptions("alpine", options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::kNotFound);
}

TEST(OptionsValidationTest, NamesEnvAndNetwork) {
  Options options = Valid();
  options.name = "../etc";
  ExpectUsage(options, "");
  options = Valid();
  options.env = {"NOEQUALS"};
  ExpectUsage(options, "not K=V");
  options = Valid();
  options.network.mode = NetworkMode::kSwitch;
  ExpectUsage(options, "switch_socket");
  options = Valid();
  options.network.firewall = {{.protocol = std::nullopt, .port_first = 80, .port_last = 80}};
  ExpectUsage(options, "needs a protocol");
  options.network.firewall = {{.protocol = Protocol::kTcp, .address = "10.0.0.300"}};
  ExpectUsage(options, "firewall");
  options = Valid();
  options.network.egress_allow = {"a.com,b.com"};
  ExpectUsage(options, "allowlist");
}

}  // namespace
}  // namespace virtkit::internal
