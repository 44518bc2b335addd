// `vk supervise` failures, which need no KVM: a bad spec on stdin is one
// JSON error line on stdout with the error's kind, and the exit code of that
// kind (docs/protocol.md, "vk supervise"); nothing is started.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e/vk_process.h"

namespace vk::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SuperviseCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("VIRTKIT_HOME", (dir_.path() + "/home").c_str(), 1);
    // vk stops reading an oversized spec: our write then fails with EPIPE.
    ::signal(SIGPIPE, SIG_IGN);
  }
  void TearDown() override { ::unsetenv("VIRTKIT_HOME"); }

  // The report line, checked to be the only output on stdout.
  static nlohmann::json ErrorOf(const e2e::ProcessResult& r) {
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
    auto report = nlohmann::json::parse(r.out);
    return report.at("error");
  }

  e2e::TempDir dir_;
};

TEST_F(SuperviseCli, UnknownFieldIsAUsageErrorNamingIt) {
  auto r = e2e::RunVk({"supervise"}, R"({"version":1,"imagee":"alpine"})");
  EXPECT_EQ(r.exit_code, 125);
  auto error = ErrorOf(r);
  EXPECT_EQ(error.at("kind"), "usage");
  EXPECT_THAT(error.at("message").get<std::string>(), HasSubstr("\"imagee\": unknown field"));
  EXPECT_THAT(r.err, HasSubstr("imagee"));
}

TEST_F(SuperviseCli, NotJsonAndOversizedInputAreUsageErrors) {
  EXPECT_EQ(ErrorOf(e2e::RunVk({"supervise"}, "not json")).at("kind"), "usage");
  auto big = e2e::RunVk({"supervise"}, std::string(2 << 20, ' '));
  EXPECT_EQ(big.exit_code, 125);
  EXPECT_THAT(ErrorOf(big).at("message").get<std::string>(), HasSubstr("larger than"));
}

TEST_F(SuperviseCli, MissingRootfsIsNotFoundAndAnImageMissingWithPullNeverToo) {
  auto rootfs = e2e::RunVk({"supervise"}, R"({"version":1,"rootfs_path":"/no/such/root"})");
  EXPECT_EQ(rootfs.exit_code, 125);
  EXPECT_EQ(ErrorOf(rootfs).at("kind"), "not-found");
  auto image = e2e::RunVk({"supervise"}, R"({"version":1,"image":"e2e/absent:v1","pull":"never"})");
  EXPECT_EQ(ErrorOf(image).at("kind"), "not-found");
}

TEST_F(SuperviseCli, AnUnusableRootfsFileIsADiskError) {
  std::string junk = dir_.path() + "/junk.ext4";
  e2e::RunProcess({"sh", "-c", "head -c 65536 /dev/zero > " + junk});
  auto r = e2e::RunVk({"supervise"},
                      R"({"version":1,"rootfs_path":")" + junk + R"(","command":["true"]})");
  EXPECT_EQ(r.exit_code, 123) << r.err;
  EXPECT_EQ(ErrorOf(r).at("kind"), "disk");
}

TEST_F(SuperviseCli, IsHiddenFromHelp) {
  auto help = e2e::RunVk({"--help"});
  EXPECT_THAT(help.out, Not(HasSubstr("supervise")));
  EXPECT_THAT(help.out, HasSubstr("run"));
}

}  // namespace
}  // namespace vk::cli_test
