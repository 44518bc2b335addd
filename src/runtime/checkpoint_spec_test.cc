// The checkpoint spec (spec.json): what `vk restore` rebuilds a VM from.
#include "runtime/checkpoint_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace vk {
namespace {

using ::testing::HasSubstr;

CheckpointSpec SampleSpec() {
  CheckpointSpec spec;
  spec.name = "web";
  spec.display_name = "debian:local";
  spec.hostname = "web-host";
  spec.guest = "embedded:0123abcd";
  spec.cpus = 2;
  spec.memory_bytes = 512ull << 20;
  spec.disk = "/var/lib/vk/base.ext4";
  spec.read_only = true;
  spec.scratch = "/run/user/1000/virtkit/vms/web/scratch.ext4";
  spec.console_path = "/tmp/console.txt";
  spec.network.mode = NetworkOptions::Mode::kInProcess;
  spec.network.publish = {"8080:80", "127.0.0.1:5353:53/udp"};
  spec.network.egress_allow = "github.com,10.0.0.0/8";
  spec.network.firewall_file = "/etc/vk/rules";
  return spec;
}

void ExpectSameSpec(const CheckpointSpec& a, const CheckpointSpec& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.display_name, b.display_name);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.guest, b.guest);
  EXPECT_EQ(a.cpus, b.cpus);
  EXPECT_EQ(a.memory_bytes, b.memory_bytes);
  EXPECT_EQ(a.disk, b.disk);
  EXPECT_EQ(a.read_only, b.read_only);
  EXPECT_EQ(a.scratch, b.scratch);
  EXPECT_EQ(a.console_path, b.console_path);
  EXPECT_EQ(a.network.mode, b.network.mode);
  EXPECT_EQ(a.network.switch_socket, b.network.switch_socket);
  EXPECT_EQ(a.network.publish, b.network.publish);
  EXPECT_EQ(a.network.egress_allow, b.network.egress_allow);
  EXPECT_EQ(a.network.firewall_file, b.network.firewall_file);
  EXPECT_EQ(a.command, b.command);
}

TEST(CheckpointSpec, RoundTrips) {
  CheckpointSpec spec = SampleSpec();
  auto decoded = DecodeCheckpointSpec(EncodeCheckpointSpec(spec));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  ExpectSameSpec(*decoded, spec);

  spec.network = {};
  spec.network.mode = NetworkOptions::Mode::kSwitch;
  spec.network.switch_socket = "/run/vk/lan.sock";
  spec.scratch.clear();
  decoded = DecodeCheckpointSpec(EncodeCheckpointSpec(spec));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  ExpectSameSpec(*decoded, spec);

  // A detached command: offsets past 4 GiB survive JSON's numbers.
  spec.command = proto::AttachRequest{312, (uint64_t{9} << 32) + 17, 5};
  decoded = DecodeCheckpointSpec(EncodeCheckpointSpec(spec));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  ExpectSameSpec(*decoded, spec);
}

TEST(CheckpointSpec, AnotherVersionIsRefusedWithWhatToDo) {
  std::string text = EncodeCheckpointSpec(SampleSpec());
  size_t at = text.find("\"version\": 2");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 12, "\"version\": 7");
  auto decoded = DecodeCheckpointSpec(text);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.error().message(), HasSubstr("version 7"));
  EXPECT_THAT(decoded.error().message(), HasSubstr("the vk that made it"));
}

TEST(CheckpointSpec, TruncatedOrIncompleteJsonIsRefused) {
  std::string text = EncodeCheckpointSpec(SampleSpec());
  for (size_t cut : {size_t{0}, size_t{1}, text.size() / 2, text.size() - 3}) {
    auto decoded = DecodeCheckpointSpec(text.substr(0, cut));
    ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
    EXPECT_THAT(decoded.error().message(), HasSubstr("corrupt"));
  }
  auto missing = DecodeCheckpointSpec(R"({"version": 2, "name": "web"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(DecodeCheckpointSpec("[1, 2]").ok());
  EXPECT_FALSE(DecodeCheckpointSpec(R"({"name": "web"})").ok());  // no version at all
}

TEST(CheckpointSpec, BadValuesAreRefused) {
  std::string text = EncodeCheckpointSpec(SampleSpec());
  std::string bad_mode = text;
  bad_mode.replace(bad_mode.find("in-process"), 10, "tunnel");
  EXPECT_FALSE(DecodeCheckpointSpec(bad_mode).ok());
  std::string relative = text;
  relative.replace(relative.find("/var/lib/vk/base.ext4"), 21, "base.ext4");
  auto decoded = DecodeCheckpointSpec(relative);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.error().message(), HasSubstr("relative"));

  CheckpointSpec with_command = SampleSpec();
  with_command.command = proto::AttachRequest{7, 0, 0};
  std::string no_pid = EncodeCheckpointSpec(with_command);
  no_pid.replace(no_pid.find("\"pid\": 7"), 8, "\"pid\": 0");
  EXPECT_FALSE(DecodeCheckpointSpec(no_pid).ok());
  std::string negative = EncodeCheckpointSpec(with_command);
  negative.replace(negative.find("\"stdout_bytes\": 0"), 17, "\"stdout_bytes\": -1");
  EXPECT_FALSE(DecodeCheckpointSpec(negative).ok());
}

TEST(CheckpointSpec, WritableDisksAreTheScratchElseAWritableRoot) {
  CheckpointSpec spec = SampleSpec();
  auto disks = WritableDisks(spec);
  ASSERT_EQ(disks.size(), 1u);
  EXPECT_EQ(disks[0].path, spec.scratch);
  spec.scratch.clear();
  EXPECT_TRUE(WritableDisks(spec).empty());  // read-only root, no scratch: nothing changes
  spec.read_only = false;
  disks = WritableDisks(spec);
  ASSERT_EQ(disks.size(), 1u);
  EXPECT_EQ(disks[0].path, spec.disk);
}

LaunchOptions IdleNamedVm() {
  LaunchOptions options;
  options.name = "web";
  options.disk = "/images/root.ext4";
  options.memory_bytes = 256ull << 20;
  return options;
}

TEST(CheckpointSpec, LaunchOptionsSurviveTheSpec) {
  LaunchOptions options = IdleNamedVm();
  options.read_only = true;
  options.display_name = "alpine";
  options.network.mode = NetworkOptions::Mode::kInProcess;
  options.network.publish = {"8080:80"};
  auto spec = SpecForLaunch(options, 1, "/state/web/scratch.ext4", "embedded:x");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->hostname, "web");  // a VM's hostname defaults to its name
  LaunchOptions back = LaunchOptionsFor(*spec);
  EXPECT_EQ(back.name, "web");
  EXPECT_EQ(back.disk, options.disk);
  EXPECT_TRUE(back.read_only);
  EXPECT_EQ(back.memory_bytes, options.memory_bytes);
  EXPECT_EQ(back.network.publish, options.network.publish);
  EXPECT_TRUE(back.command.empty());
  ASSERT_TRUE(back.make_scratch_disk);
  auto scratch = back.make_scratch_disk(VmDir::At("/elsewhere"));
  ASSERT_TRUE(scratch.ok());
  EXPECT_EQ(*scratch, "/state/web/scratch.ext4");  // the VM's own, put back by the restore
}

TEST(CheckpointSpec, DetachedCommandIsCheckpointedAndReattachedAfterTheRestore) {
  LaunchOptions options = IdleNamedVm();
  options.command = {"sh", "-c", "while :; do date; sleep 1; done"};
  options.detach = true;
  auto spec = SpecForLaunch(options, 1, "", "embedded:x");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_FALSE(spec->command) << "filled in while the machine is paused";
  spec->command = proto::AttachRequest{40, 1000, 20};
  LaunchOptions back = LaunchOptionsFor(*spec);
  EXPECT_TRUE(back.command.empty()) << "a restored VM starts no command";
  ASSERT_TRUE(back.attach_command);
  EXPECT_EQ(*back.attach_command, *spec->command);
  auto again = SpecForLaunch(back, 1, "", "embedded:x");  // a restored VM checkpointed again
  EXPECT_TRUE(again.ok()) << again.error().message();
}

TEST(CheckpointSpec, RelativePathsBecomeAbsolute) {
  LaunchOptions options = IdleNamedVm();
  options.disk = "images/root.ext4";
  auto spec = SpecForLaunch(options, 1, "", "embedded:x");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(spec->disk, std::string(cwd) + "/images/root.ext4");
  EXPECT_EQ(spec->scratch, "");
}

TEST(CheckpointSpec, VmsARestoreCannotRebuildAreRefusedWithTheReason) {
  LaunchOptions unnamed = IdleNamedVm();
  unnamed.name.clear();
  EXPECT_FALSE(SpecForLaunch(unnamed, 1, "", "g").ok());

  LaunchOptions attached = IdleNamedVm();
  attached.command = {"sleep", "100"};
  auto refused = SpecForLaunch(attached, 1, "", "g");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("attached to a terminal"));
  EXPECT_THAT(refused.error().message(), HasSubstr("-d"));

  LaunchOptions shares = IdleNamedVm();
  shares.shares.push_back({"/home/me/src", "/work", false});
  refused = SpecForLaunch(shares, 1, "", "g");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("shared host directories"));

  LaunchOptions kernel = IdleNamedVm();
  kernel.kernel_path = "/boot/vmlinuz";
  refused = SpecForLaunch(kernel, 1, "", "g");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("--kernel"));
}

}  // namespace
}  // namespace vk
