#include "runtime/run_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace vk {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RunSpec FullSpec() {
  RunSpec spec;
  spec.name = "web";
  spec.image = "alpine:3.20";
  spec.layer_dir = "/tmp/layer";
  spec.layer_owners = {{"/home/app", 1000, 1000}, {"/srv/key", 0, 4294967295u}};
  spec.image_store = "/var/cache/images";
  spec.cpus = 0;
  spec.memory_bytes = 2ull << 30;
  spec.command = {"sh", "-c", "echo \"hi\" \\ there"};
  spec.entrypoint = "/bin/ep";
  spec.env = {"A=1", "B=two words"};
  spec.user = "1000:1000";
  spec.workdir = "/srv";
  spec.shares = {{"/home/me/src", "/src", true}, {"/data", "/data", false}};
  spec.tmpfs = {{"/scratch", std::nullopt, std::nullopt}, {"/run/app", 1 << 20, 01777}};
  spec.binds = {{"/run/.vk-secrets/0", "/etc/key", true}, {"/a", "/b", false}};
  spec.hostname = "web1";
  spec.network.mode = NetworkOptions::Mode::kInProcess;
  spec.network.publish = {"127.0.0.1:8080:80", "5353:53/udp"};
  spec.network.egress_allow = "example.com,*.npmjs.org";
  spec.firewall_rules = "allow egress tcp to 10.0.0.0/8 port 443\ndefault deny egress\n";
  spec.cold = true;
  spec.vmm = VmmKind::kQemu;
  spec.boot_timeout = std::chrono::seconds(300);
  spec.timeout = std::chrono::seconds(60);
  spec.detach = true;
  spec.remove_on_exit = false;
  spec.keep_scratch = true;
  spec.pull = image::PullPolicy::kNever;
  spec.platform = "linux/arm64";
  spec.insecure = true;
  spec.tty = true;
  spec.interactive = true;
  return spec;
}

TEST(RunSpecJsonTest, EveryFieldSurvivesARoundTrip) {
  RunSpec in = FullSpec();
  auto out = DecodeRunSpec(EncodeRunSpec(in));
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->name, in.name);
  EXPECT_EQ(out->image, in.image);
  EXPECT_EQ(out->layer_dir, in.layer_dir);
  ASSERT_EQ(out->layer_owners.size(), 2u);
  EXPECT_EQ(out->layer_owners[0].path, "/home/app");
  EXPECT_EQ(out->layer_owners[0].uid, 1000u);
  EXPECT_EQ(out->layer_owners[1].gid, 4294967295u);
  EXPECT_EQ(out->image_store, in.image_store);
  EXPECT_EQ(out->cpus, 0u);
  EXPECT_EQ(out->memory_bytes, in.memory_bytes);
  EXPECT_EQ(out->command, in.command);
  EXPECT_EQ(out->entrypoint, in.entrypoint);
  EXPECT_EQ(out->env, in.env);
  EXPECT_EQ(out->user, in.user);
  EXPECT_EQ(out->workdir, in.workdir);
  ASSERT_EQ(out->shares.size(), 2u);
  EXPECT_EQ(out->shares[0].host_path, "/home/me/src");
  EXPECT_EQ(out->shares[0].guest_path, "/src");
  EXPECT_TRUE(out->shares[0].read_only);
  EXPECT_FALSE(out->shares[1].read_only);
  ASSERT_EQ(out->tmpfs.size(), 2u);
  EXPECT_EQ(out->tmpfs[0].guest_path, "/scratch");
  EXPECT_FALSE(out->tmpfs[0].size_bytes.has_value());
  EXPECT_FALSE(out->tmpfs[0].mode.has_value());
  EXPECT_EQ(out->tmpfs[1].size_bytes, 1u << 20);
  EXPECT_EQ(out->tmpfs[1].mode, 01777u);
  ASSERT_EQ(out->binds.size(), 2u);
  EXPECT_EQ(out->binds[0].source, "/run/.vk-secrets/0");
  EXPECT_EQ(out->binds[0].target, "/etc/key");
  EXPECT_TRUE(out->binds[0].read_only);
  EXPECT_FALSE(out->binds[1].read_only);
  EXPECT_EQ(out->hostname, in.hostname);
  EXPECT_EQ(out->network.mode, NetworkOptions::Mode::kInProcess);
  EXPECT_EQ(out->network.publish, in.network.publish);
  EXPECT_EQ(out->network.egress_allow, in.network.egress_allow);
  EXPECT_EQ(out->firewall_rules, in.firewall_rules);
  EXPECT_TRUE(out->cold);
  EXPECT_EQ(out->vmm, VmmKind::kQemu);
  EXPECT_EQ(out->boot_timeout, std::chrono::seconds(300));
  EXPECT_EQ(out->timeout, std::chrono::seconds(60));
  EXPECT_TRUE(out->detach);
  EXPECT_FALSE(out->remove_on_exit);
  EXPECT_TRUE(out->keep_scratch);
  EXPECT_EQ(out->pull, image::PullPolicy::kNever);
  EXPECT_EQ(out->platform, "linux/arm64");
  EXPECT_TRUE(out->insecure);
  EXPECT_TRUE(out->tty);
  EXPECT_TRUE(out->interactive);
}

TEST(RunSpecJsonTest, OnlyTheVersionIsRequiredAndDefaultsApply) {
  auto spec = DecodeRunSpec(R"({"version":1,"rootfs_path":"/r","network":{"mode":"switch",
      "switch_socket":"/run/sw.sock"}})");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  RunSpec defaults;
  EXPECT_EQ(spec->rootfs_path, "/r");
  EXPECT_EQ(spec->cpus, defaults.cpus);
  EXPECT_EQ(spec->memory_bytes, defaults.memory_bytes);
  EXPECT_EQ(spec->boot_timeout, defaults.boot_timeout);
  EXPECT_FALSE(spec->timeout);
  EXPECT_TRUE(spec->remove_on_exit);
  EXPECT_EQ(spec->pull, image::PullPolicy::kMissing);
  EXPECT_EQ(spec->network.mode, NetworkOptions::Mode::kSwitch);
  EXPECT_EQ(spec->network.switch_socket, "/run/sw.sock");
}

void ExpectUsageError(const std::string& json, const std::string& words) {
  auto spec = DecodeRunSpec(json);
  ASSERT_FALSE(spec.ok()) << json;
  EXPECT_EQ(spec.error().kind(), ErrorKind::kUsage) << json;
  EXPECT_THAT(spec.error().message(), HasSubstr(words)) << json;
}

TEST(RunSpecJsonTest, UnknownFieldsAreNamed) {
  ExpectUsageError(R"({"version":1,"imagee":"alpine"})", "\"imagee\": unknown field");
  ExpectUsageError(R"({"version":1,"network":{"mod":"lan"}})", "\"network.mod\": unknown field");
  ExpectUsageError(R"({"version":1,"shares":[{"host":"/a","guest":"/b","ro":true}]})",
                   "\"shares.ro\": unknown field");
  ExpectUsageError(R"({"version":1,"tmpfs":[{"guest":"/a","size":1}]})",
                   "\"tmpfs.size\": unknown field");
  ExpectUsageError(R"({"version":1,"tmpfs":[{"mode":1}]})", "each entry needs \"guest\"");
  ExpectUsageError(R"({"version":1,"tmpfs":[{"guest":"/a","mode":4096}]})", "at most 4095");
  ExpectUsageError(R"({"version":1,"binds":[{"source":"/a"}]})", "needs \"source\" and \"target\"");
  ExpectUsageError(R"({"version":1,"binds":{}})", "\"binds\": must be an array");
}

TEST(RunSpecJsonTest, VersionIsChecked) {
  ExpectUsageError(R"({"image":"alpine"})", "\"version\": missing");
  ExpectUsageError(R"({"version":2})", "\"version\": unsupported");
  ExpectUsageError(R"({"version":"1"})", "\"version\": unsupported");
}

TEST(RunSpecJsonTest, WrongTypesAndValuesNameTheField) {
  ExpectUsageError(R"({"version":1,"cpus":"2"})", "\"cpus\": must be a non-negative integer");
  ExpectUsageError(R"({"version":1,"cpus":-1})", "\"cpus\"");
  ExpectUsageError(R"({"version":1,"memory_bytes":1.5})", "\"memory_bytes\"");
  ExpectUsageError(R"({"version":1,"command":"ls"})", "\"command\": must be an array");
  ExpectUsageError(R"({"version":1,"env":[1]})", "\"env\"");
  ExpectUsageError(R"({"version":1,"detach":1})", "\"detach\": must be true or false");
  ExpectUsageError(R"({"version":1,"network":{"mode":"bridge"}})", "must be none, lan or switch");
  ExpectUsageError(R"({"version":1,"pull":"sometimes"})", "\"pull\"");
  ExpectUsageError(R"({"version":1,"vmm":"firecracker"})", "virtkit (the default) or qemu");
  ExpectUsageError(R"({"version":1,"shares":[{"host":"/a"}]})", "needs \"host\" and \"guest\"");
  ExpectUsageError(R"({"version":1,"boot_timeout_seconds":99999999999})",
                   "\"boot_timeout_seconds\": must be at most");
  ExpectUsageError(R"({"version":1,"name":"a\u0000b"})", "NUL");
  ExpectUsageError(R"({"version":1,"layer_owners":[{"uid":1}]})", "needs a \"path\"");
  ExpectUsageError(R"({"version":1,"layer_owners":[{"path":"/a","uid":4294967296}]})",
                   "\"layer_owners.uid\": must be at most");
  ExpectUsageError(R"({"version":1,"layer_owners":[{"path":"/a","mode":1}]})",
                   "\"layer_owners.mode\": unknown field");
}

TEST(RunSpecJsonTest, MalformedOrHugeInputIsAnErrorNotACrash) {
  ExpectUsageError("", "not valid JSON");
  ExpectUsageError("{", "not valid JSON");
  ExpectUsageError("[1]", "must be a JSON object");
  ExpectUsageError(std::string(100, '['), "nested too deeply");
  ExpectUsageError(R"({"version":1,"name":")" + std::string(5000, 'a') + "\"}",
                   "\"name\": longer than 4096 bytes");
  ExpectUsageError(std::string(kMaxRunSpecBytes + 1, ' '), "larger than");
  std::string many = R"({"version":1,"env":[)";
  for (int i = 0; i < 5000; ++i) many += std::string(i ? "," : "") + "\"A=1\"";
  ExpectUsageError(many + "]}", "more than 4096 entries");
}

TEST(RunSpecJsonTest, BracketsInsideStringsDoNotCountAsNesting) {
  auto spec = DecodeRunSpec(R"({"version":1,"command":["[[[[[[[[[[[[[[[[[[[[\"{{{{{{{{{{{{"]})");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_THAT(spec->command, ElementsAre("[[[[[[[[[[[[[[[[[[[[\"{{{{{{{{{{{{"));
}

TEST(RunSpecTest, SharesParseLikeDockerVolumes) {
  auto ro = ParseShare("/host/dir:/guest:ro");
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(ro->host_path, "/host/dir");
  EXPECT_EQ(ro->guest_path, "/guest");
  EXPECT_TRUE(ro->read_only);
  EXPECT_FALSE(ParseShare("/a:/b:rw")->read_only);
  EXPECT_EQ(ParseShare("/a").error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(ParseShare("/a:/b:rx").error().kind(), ErrorKind::kUsage);
}

TEST(RunSpecTest, BadSpecsAreUsageErrorsBeforeAnyPull) {
  RunSpec none;
  EXPECT_EQ(PrepareRun(none).error().kind(), ErrorKind::kUsage);
  RunSpec both;
  both.image = "alpine";
  both.rootfs_path = "/";
  EXPECT_EQ(PrepareRun(both).error().kind(), ErrorKind::kUsage);
  RunSpec bad_name;
  bad_name.image = "alpine";
  bad_name.name = "../x";
  EXPECT_EQ(PrepareRun(bad_name).error().kind(), ErrorKind::kUsage);
  RunSpec relative_workdir;
  relative_workdir.image = "alpine";
  relative_workdir.workdir = "work";
  EXPECT_EQ(PrepareRun(relative_workdir).error().kind(), ErrorKind::kUsage);
  RunSpec bad_env;
  bad_env.image = "alpine";
  bad_env.env = {"NOEQUALS"};
  EXPECT_EQ(PrepareRun(bad_env).error().kind(), ErrorKind::kUsage);
  RunSpec bad_share;
  bad_share.image = "alpine";
  bad_share.shares = {{"/", "relative", false}};
  EXPECT_EQ(PrepareRun(bad_share).error().kind(), ErrorKind::kUsage);
  RunSpec bad_tmpfs;
  bad_tmpfs.image = "alpine";
  bad_tmpfs.tmpfs = {{"/with space", std::nullopt, std::nullopt}};
  EXPECT_EQ(PrepareRun(bad_tmpfs).error().kind(), ErrorKind::kUsage);
  RunSpec bad_bind;
  bad_bind.image = "alpine";
  bad_bind.binds = {{"/a", "/b/../c", true}};
  EXPECT_EQ(PrepareRun(bad_bind).error().kind(), ErrorKind::kUsage);
  RunSpec missing_share;
  missing_share.image = "alpine";
  missing_share.shares = {{"/no/such/dir/anywhere", "/x", false}};
  EXPECT_EQ(PrepareRun(missing_share).error().kind(), ErrorKind::kNotFound);
  RunSpec owners_without_layer;
  owners_without_layer.image = "alpine";
  owners_without_layer.layer_owners = {{"/a", 1, 1}};
  EXPECT_EQ(PrepareRun(owners_without_layer).error().kind(), ErrorKind::kUsage);
  RunSpec relative_store;
  relative_store.image = "alpine";
  relative_store.image_store = "images";
  EXPECT_EQ(PrepareRun(relative_store).error().kind(), ErrorKind::kUsage);
  RunSpec too_many_cpus;
  too_many_cpus.image = "alpine";
  too_many_cpus.cpus = 65;
  EXPECT_EQ(PrepareRun(too_many_cpus).error().kind(), ErrorKind::kUsage);
  RunSpec tiny;
  tiny.image = "alpine";
  tiny.memory_bytes = 1 << 20;
  EXPECT_EQ(PrepareRun(tiny).error().kind(), ErrorKind::kUsage);
  RunSpec missing_rootfs;
  missing_rootfs.rootfs_path = "/no/such/rootfs";
  EXPECT_EQ(PrepareRun(missing_rootfs).error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace vk
