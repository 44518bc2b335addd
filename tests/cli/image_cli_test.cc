// `vk image ...`, `vk oci-pull`, `vk login/logout` run as a user would, against
// Debian's docker-registry on 127.0.0.1 (no KVM needed), including a pull
// killed with SIGKILL in the middle of a layer and then run again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/seed_image.h"
#include "e2e/vk_process.h"
#include "image/test_support.h"
#include "image/testing/local_registry.h"

namespace vk::cli_test {
namespace {

namespace fs = std::filesystem;
using image::testing::LocalRegistry;
using ::testing::HasSubstr;

class ImageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("VIRTKIT_HOME", (dir_.path() + "/home").c_str(), 1);
    ::setenv("DOCKER_CONFIG", (dir_.path() + "/docker").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("VIRTKIT_HOME");
    ::unsetenv("DOCKER_CONFIG");
  }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  e2e::TempDir dir_;
};

TEST_F(ImageCli, PullListInspectConvertOciPullRemove) {
  REQUIRE_CLI_REGISTRY_TOOLS();
  LocalRegistry registry(path("registry"));
  ASSERT_TRUE(registry.ready());
  SeedImage(registry, path("img"), "team/app:v1", {});
  std::string ref = registry.host() + "/team/app:v1";

  auto pull = e2e::RunVk({"image", "pull", "--insecure", ref});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  auto ls = e2e::RunVk({"image", "ls"});
  EXPECT_THAT(ls.out, HasSubstr(ref));
  EXPECT_THAT(ls.out, HasSubstr("linux/amd64"));
  auto inspect = e2e::RunVk({"image", "inspect", ref});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_THAT(inspect.out, HasSubstr("\"Cmd\""));

  auto convert = e2e::RunVk({"image", "convert", "--pull", "never", ref});
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  std::string base = convert.out.substr(0, convert.out.find('\n'));
  EXPECT_EQ(image::testing::Fsck(base), 0);
  EXPECT_EQ(image::testing::Debugfs(base, "cat /data/hello"), "hello from the image\n");

  auto tar = e2e::RunVk({"oci-pull", ref, "-o", path("rootfs.tar")});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  EXPECT_THAT(image::testing::Run("tar -tf " + path("rootfs.tar")), HasSubstr("data/hello"));

  auto never =
      e2e::RunVk({"image", "convert", "--pull", "never", registry.host() + "/team/other:v1"});
  EXPECT_NE(never.exit_code, 0);
  EXPECT_THAT(never.err, HasSubstr("vk image pull"));

  auto rm = e2e::RunVk({"image", "rm", ref});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_THAT(e2e::RunVk({"image", "ls", "-q"}).out, ::testing::Not(HasSubstr(ref)));
  EXPECT_TRUE(fs::is_empty(path("home/blobs/sha256")));
  EXPECT_TRUE(fs::is_empty(path("home/bases")));
}

// kill -9 in the middle of a layer leaves a partial blob; the next pull
// resumes it with a Range request and the store ends up complete and sound.
TEST_F(ImageCli, KilledPullResumes) {
  REQUIRE_CLI_REGISTRY_TOOLS();
  LocalRegistry registry(path("registry"));
  ASSERT_TRUE(registry.ready());
  SeedImage(registry, path("img"), "big/layer:v1", {.random_bytes = 256 << 20});
  std::string ref = registry.host() + "/big/layer:v1";

  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(VK_BINARY, "vk", "image", "pull", "--insecure", ref.c_str(), nullptr);
    ::_exit(127);
  }
  bool killed_mid_layer = false;
  for (int i = 0; i < 20000 && !killed_mid_layer; ++i) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(path("home/tmp"), error)) {
      if (entry.path().extension() == ".partial" && entry.file_size(error) > (16u << 20)) {
        ::kill(child, SIGKILL);
        killed_mid_layer = true;
      }
    }
    if (!killed_mid_layer) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(killed_mid_layer) << "the pull finished before it could be interrupted";
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(path("home/images")) && !fs::is_empty(path("home/images")));

  auto again = e2e::RunVk({"image", "pull", "--insecure", ref});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(image::testing::ReadFile(registry.log_path()), HasSubstr("\" 206 "));
  for (const auto& entry : fs::directory_iterator(path("home/tmp")))
    ADD_FAILURE() << "left behind: " << entry.path();
  auto convert = e2e::RunVk({"image", "convert", "--pull", "never", ref});
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  std::string base = convert.out.substr(0, convert.out.find('\n'));
  image::testing::Debugfs(base, "dump /data/random " + path("random.out"));
  EXPECT_EQ(image::testing::Run("cmp " + path("random.out") + " " + path("img/root/data/random") +
                                " && echo same"),
            "same\n");
}

TEST_F(ImageCli, LoginThenPullThenLogout) {
  REQUIRE_CLI_REGISTRY_TOOLS();
  if (!image::testing::HaveTool("htpasswd")) GTEST_SKIP() << "needs htpasswd (apache2-utils)";
  LocalRegistry registry(path("registry"), "bob", "hunter2");
  ASSERT_TRUE(registry.ready());
  SeedImage(registry, path("img"), "private/x:v1", {});
  std::string ref = registry.host() + "/private/x:v1";

  auto denied = e2e::RunVk({"image", "pull", "--insecure", ref});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_THAT(denied.err, HasSubstr("vk login " + registry.host()));
  auto bad = e2e::RunVk({"login", "--insecure", "-u", "bob", "--password-stdin", registry.host()},
                        "wrong\n");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(fs::exists(path("docker/config.json")));

  auto login = e2e::RunVk({"login", "--insecure", "-u", "bob", "--password-stdin", registry.host()},
                          "hunter2\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_EQ(fs::status(path("docker/config.json")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto pull = e2e::RunVk({"image", "pull", "--insecure", ref});
  EXPECT_EQ(pull.exit_code, 0) << pull.err;

  auto logout = e2e::RunVk({"logout", registry.host()});
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_THAT(image::testing::ReadFile(path("docker/config.json")),
              ::testing::Not(HasSubstr(registry.host())));
}

}  // namespace
}  // namespace vk::cli_test
