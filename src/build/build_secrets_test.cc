// Build secrets: the --secret flag, and what a RUN's secret mounts stage for
// its VM (a private directory, binds, env), removed with the staging.
#include "build/build_secrets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/test_support.h"

namespace vk::build {
namespace {

using image::testing::TempDir;

Mount Secret(std::string id) {
  Mount mount;
  mount.type = MountType::kSecret;
  mount.id = std::move(id);
  return mount;
}

TEST(BuildSecretsTest, ParsesBuildKitsFlag) {
  auto file = ParseSecretFlag("id=greet,src=/home/me/greet.txt");
  ASSERT_TRUE(file.ok()) << file.error().message();
  EXPECT_EQ(file->first, "greet");
  EXPECT_EQ(file->second, (SecretSource{"/home/me/greet.txt", ""}));
  auto env = ParseSecretFlag("id=token,env=GH_TOKEN");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->second, (SecretSource{"", "GH_TOKEN"}));
  auto typed = ParseSecretFlag("type=env,id=token,source=GH_TOKEN");
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->second, (SecretSource{"", "GH_TOKEN"}));
  // A bare id: the variable of that name when set, else the file.
  ::setenv("VK_TEST_SECRET_SET", "x", 1);
  ::unsetenv("VK_TEST_SECRET_UNSET");
  EXPECT_EQ(ParseSecretFlag("id=VK_TEST_SECRET_SET")->second,
            (SecretSource{"", "VK_TEST_SECRET_SET"}));
  EXPECT_EQ(ParseSecretFlag("id=VK_TEST_SECRET_UNSET")->second,
            (SecretSource{"VK_TEST_SECRET_UNSET", ""}));
  for (const char* bad : {"", "src=/x", "id=", "id=a,src", "id=a,src=/x,env=Y", "id=a,type=ssh",
                          "id=a,required=true"}) {
    auto parsed = ParseSecretFlag(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kUsage);
  }
}

TEST(BuildSecretsTest, StagesFilesBindsAndEnvThenRemovesThem) {
  TempDir dir;
  std::ofstream(dir / "greet") << "open-sesame";
  ::setenv("VK_TEST_TOKEN", "t0ken", 1);
  SecretMap secrets = {{"greet", {dir / "greet", ""}}, {"token", {"", "VK_TEST_TOKEN"}}};
  Mount greet = Secret("greet");
  Mount elsewhere = Secret("greet");
  elsewhere.target = "/etc/app/key";
  elsewhere.mode = 0440;
  Mount token = Secret("token");
  token.env = "TOKEN";                 // env only: no file
  Mount absent = Secret("not-given");  // not required: skipped
  std::string host_dir;
  {
    auto staged = StageSecrets({greet, elsewhere, token, absent, Mount{}}, secrets);
    ASSERT_TRUE(staged.ok()) << staged.error().message();
    ASSERT_EQ(staged->shares.size(), 1u);
    EXPECT_EQ(staged->shares[0].guest_path, kSecretsGuestDir);
    EXPECT_TRUE(staged->shares[0].read_only);
    host_dir = staged->shares[0].host_path;
    struct stat info {};
    ASSERT_EQ(::stat(host_dir.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0700u);
    ASSERT_EQ(staged->binds.size(), 2u);
    EXPECT_EQ(staged->binds[0].source, std::string(kSecretsGuestDir) + "/0");
    EXPECT_EQ(staged->binds[0].target, "/run/secrets/greet");
    EXPECT_TRUE(staged->binds[0].read_only);
    EXPECT_EQ(staged->binds[1].target, "/etc/app/key");
    EXPECT_EQ(image::testing::ReadFile(host_dir + "/0"), "open-sesame");
    ASSERT_EQ(::stat((host_dir + "/0").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0400u);  // BuildKit's default
    ASSERT_EQ(::stat((host_dir + "/1").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0440u);
    EXPECT_EQ(staged->env, std::vector<std::string>{"TOKEN=t0ken"});
  }
  EXPECT_FALSE(std::filesystem::exists(host_dir));  // gone with the staging
}

TEST(BuildSecretsTest, MissingOrUnreadableSecretsAreClearErrors) {
  Mount required = Secret("greet");
  required.required = true;
  auto missing = StageSecrets({required}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("--secret id=greet,src=FILE"), std::string::npos)
      << missing.error().message();
  auto no_file = StageSecrets({Secret("greet")}, {{"greet", {"/nonexistent/vk-secret", ""}}});
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.error().message().find("secret greet"), std::string::npos);
  ::unsetenv("VK_TEST_UNSET_VAR");
  EXPECT_FALSE(StageSecrets({Secret("t")}, {{"t", {"", "VK_TEST_UNSET_VAR"}}}).ok());
  // A target the guest's boot words cannot carry.
  TempDir dir;
  std::ofstream(dir / "s") << "x";
  Mount spaced = Secret("s");
  spaced.target = "/etc/with space";
  EXPECT_FALSE(StageSecrets({spaced}, {{"s", {dir / "s", ""}}}).ok());
}

TEST(BuildSecretsTest, DefaultTargets) {
  EXPECT_EQ(SecretTarget(Secret("greet")), "/run/secrets/greet");
  Mount by_target;
  by_target.type = MountType::kSecret;
  by_target.target = "/root/.npmrc";
  EXPECT_EQ(SecretTarget(by_target), "/root/.npmrc");
  Mount env_only = Secret("t");
  env_only.env = "T";
  EXPECT_EQ(SecretTarget(env_only), "");
}

}  // namespace
}  // namespace vk::build
