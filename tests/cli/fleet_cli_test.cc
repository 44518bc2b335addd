// `vk fleet` without booting anything (no KVM needed): the controller's
// life with services that do not autostart: `up -d` starts it, `ps` and
// `stop` reach it, `down` ends it and leaves nothing behind; and the errors
// a user meets when the fleet is not up.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "e2e/vk_process.h"

namespace vk::cli_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class FleetCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR")) saved_runtime_ = runtime;
    ::unsetenv("XDG_RUNTIME_DIR");
    home_ = dir_.path() + "/home";
    ::setenv("VIRTKIT_HOME", home_.c_str(), 1);
    project_ = dir_.path() + "/shop";
    fs::create_directories(project_);
    std::ofstream(project_ + "/compose.yaml")
        << "services:\n"
           "  db:\n    image: postgres:16\n    x-virtkit: {autostart: false}\n"
           "  web:\n    image: nginx\n    ports: [\"127.0.0.1::80\"]\n"
           "    depends_on: [db]\n    x-virtkit: {autostart: false}\n";
  }
  void TearDown() override {
    e2e::RunVk({"fleet", "-f", project_ + "/compose.yaml", "down"});
    ::unsetenv("VIRTKIT_HOME");
    if (!saved_runtime_.empty()) ::setenv("XDG_RUNTIME_DIR", saved_runtime_.c_str(), 1);
  }
  e2e::ProcessResult Fleet(std::vector<std::string> args) {
    args.insert(args.begin(), "fleet");
    args.insert(args.begin() + 1, {"-f", project_ + "/compose.yaml"});
    return e2e::RunVk(args, "", std::chrono::seconds(120));
  }

  e2e::TempDir dir_;
  std::string home_;
  std::string project_;
  std::string saved_runtime_;
};

TEST_F(FleetCli, CommandsSayTheFleetIsNotUp) {
  e2e::ProcessResult ps = Fleet({"ps"});
  EXPECT_NE(ps.exit_code, 0);
  EXPECT_THAT(ps.err, HasSubstr("fleet shop is not up (start it with `vk fleet up`)"));
  e2e::ProcessResult down = Fleet({"down"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(down.err, HasSubstr("fleet shop is not up"));
  e2e::ProcessResult logs = Fleet({"logs", "cache"});
  EXPECT_NE(logs.exit_code, 0);
  EXPECT_THAT(logs.err, HasSubstr("no service \"cache\""));
  e2e::ProcessResult up = Fleet({"up", "-d", "cache"});
  EXPECT_NE(up.exit_code, 0);
  EXPECT_THAT(up.err, HasSubstr("no service \"cache\" in fleet shop"));
}

TEST_F(FleetCli, UpWithEveryServiceInADisabledProfileSaysHowToEnableOne) {
  std::ofstream(project_ + "/compose.yaml")
      << "services:\n  db:\n    image: postgres:16\n    profiles: [debug]\n";
  e2e::ProcessResult up = Fleet({"up", "-d"});
  EXPECT_EQ(up.exit_code, 125) << up.err;
  EXPECT_THAT(up.err, HasSubstr("no service of fleet shop is enabled"));
  EXPECT_THAT(up.err, HasSubstr("--profile NAME"));
  e2e::ProcessResult ps = Fleet({"ps"});
  EXPECT_NE(ps.exit_code, 0);  // nothing was started
  EXPECT_THAT(ps.err, HasSubstr("fleet shop is not up"));
}

TEST_F(FleetCli, ControllerLivesFromUpToDown) {
  e2e::ProcessResult up = Fleet({"up", "-d"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  const std::string fleet_dir = home_ + "/fleets/shop";
  EXPECT_TRUE(fs::exists(fleet_dir + "/controller.sock"));
  EXPECT_TRUE(fs::exists(fleet_dir + "/lan.sock"));

  e2e::ProcessResult ps = Fleet({"ps"});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_THAT(ps.out, HasSubstr("shop-db"));
  EXPECT_THAT(ps.out, HasSubstr("stopped"));
  EXPECT_THAT(ps.out, HasSubstr("192.168.127.10"));  // db, first by name
  EXPECT_THAT(ps.out, HasSubstr("192.168.127.11"));
  EXPECT_THAT(ps.out, HasSubstr("127.0.0.1:"));  // web's picked host port
  EXPECT_THAT(ps.out, HasSubstr("->80/tcp"));

  e2e::ProcessResult stop = Fleet({"stop", "web"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_THAT(stop.out, HasSubstr("web stopped"));
  e2e::ProcessResult bad = Fleet({"stop", "nosuch"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("no service \"nosuch\" in fleet shop"));

  e2e::ProcessResult again = Fleet({"up", "-d"});  // already up: nothing to start
  EXPECT_EQ(again.exit_code, 0) << again.err;

  e2e::ProcessResult down = Fleet({"down"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(down.err, HasSubstr("fleet shop is down"));
  EXPECT_FALSE(fs::exists(fleet_dir));
}

}  // namespace
}  // namespace vk::cli_test
