#include "capi/krun_config_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/testing/temp_dir.h"

namespace vk::capi {
namespace {

using Strings = std::vector<std::string>;

TEST(KrunConfigFileTest, ImageConfigKeysGiveEntrypointThenCmd) {
  auto file = ParseKrunConfigFile(R"({"Entrypoint": ["/bin/tini", "--"], "Cmd": ["redis-server"],
      "Env": ["A=1", "B=2"], "WorkingDir": "/data"})");
  ASSERT_TRUE(file.ok()) << file.error().message();
  EXPECT_EQ(file->argv, (Strings{"/bin/tini", "--", "redis-server"}));
  EXPECT_EQ(file->env, (Strings{"A=1", "B=2"}));
  EXPECT_EQ(file->workdir, "/data");
  EXPECT_FALSE(file->tmpfs_at);
}

TEST(KrunConfigFileTest, LowerCaseAlternativesAreRead) {
  auto file = ParseKrunConfigFile(R"({"args": ["sh"], "env": ["X=y"], "cwd": "/tmp"})");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->argv, Strings{"sh"});
  EXPECT_EQ(file->env, Strings{"X=y"});
  EXPECT_EQ(file->workdir, "/tmp");
}

TEST(KrunConfigFileTest, AnOciRuntimeConfigUsesItsProcessObject) {
  auto file = ParseKrunConfigFile(R"({"Cmd": ["ignored"], "process": {"args": ["/app"],
      "env": ["PATH=/bin"], "cwd": "/srv"},
      "mounts": [{"type": "bind", "source": "/x", "destination": "/x"},
                 {"type": "tmpfs", "source": "tmpfs", "destination": "/tmp"},
                 {"type": "tmpfs", "source": "tmpfs", "destination": "/run"}]})");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->argv, Strings{"/app"});
  EXPECT_EQ(file->env, Strings{"PATH=/bin"});
  EXPECT_EQ(file->workdir, "/srv");
  EXPECT_EQ(file->tmpfs_at, "/tmp");  // only the first
}

TEST(KrunConfigFileTest, WrongTypesAreSkippedAndNonObjectsRefused) {
  auto file = ParseKrunConfigFile(R"({"Cmd": ["a", 1, null, "b"], "Env": "A=1", "WorkingDir": 5})");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->argv, (Strings{"a", "b"}));
  EXPECT_TRUE(file->env.empty());
  EXPECT_FALSE(file->workdir);
  EXPECT_FALSE(ParseKrunConfigFile("[1,2]").ok());
  EXPECT_FALSE(ParseKrunConfigFile("{\"Cmd\": [").ok());
  EXPECT_FALSE(ParseKrunConfigFile("").ok());
}

TEST(KrunConfigFileTest, ReadsInsideTheRootOnly) {
  vk::testing::TempTree root;
  ASSERT_TRUE(root.Write(".krun_config.json", R"({"Cmd": ["/in-root"]})"));
  auto file = ReadKrunConfigFile(root.path(), "/.krun_config.json");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->argv, Strings{"/in-root"});
  // ".." and absolute symlinks resolve as in the guest: inside the root.
  ASSERT_EQ(::symlink("/.krun_config.json", (root.path() + "/link.json").c_str()), 0);
  auto linked = ReadKrunConfigFile(root.path(), "/../../link.json");
  ASSERT_TRUE(linked);
  EXPECT_EQ(linked->argv, Strings{"/in-root"});
  EXPECT_FALSE(ReadKrunConfigFile(root.path(), "/missing.json"));
  ASSERT_EQ(::mkdir((root.path() + "/dir.json").c_str(), 0755), 0);
  EXPECT_FALSE(ReadKrunConfigFile(root.path(), "/dir.json"));
  ASSERT_EQ(::mkfifo((root.path() + "/fifo.json").c_str(), 0644), 0);
  EXPECT_FALSE(ReadKrunConfigFile(root.path(), "/fifo.json"));  // does not hang
}

}  // namespace
}  // namespace vk::capi
