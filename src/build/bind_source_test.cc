// LayOutBindSource: what a RUN's bind mount shows the guest, from the
// context (after .dockerignore) and from a stage's layers.
#include "build/bind_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/stage_files.h"
#include "image/test_support.h"

namespace vk::build {
namespace {

using image::testing::TempDir;
using image::testing::WriteFile;

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

class BindSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "ctx/src/main.c", "int main() { return 0; }\n");
    WriteFile(dir_ / "ctx/src/run.sh", "#!/bin/sh\n");
    ::chmod((dir_ / "ctx/src/run.sh").c_str(), 0755);
    WriteFile(dir_ / "ctx/src/deploy.key", "secret\n");
    WriteFile(dir_ / "ctx/go.mod", "module x\n");
    WriteFile(dir_ / "outside.txt", "not in the context\n");
    ASSERT_EQ(::symlink("../../outside.txt", (dir_ / "ctx/src/escape").c_str()), 0);
    WriteFile(dir_ / "ctx/.dockerignore", "**/*.key\n");
    auto context = BuildContext::Open(dir_ / "ctx");
    ASSERT_TRUE(context.ok()) << context.error().message();
    context_.emplace(std::move(*context));
  }

  SourceMatch Select(const std::string& source) {
    auto matches = context_->Select(source);
    EXPECT_TRUE(matches.ok() && matches->size() == 1);
    return matches->front();
  }

  TempDir dir_;
  std::optional<BuildContext> context_;
};

TEST_F(BindSourceTest, ADirectoryShowsWhatTheContextSelectsAndNothingElse) {
  std::string out = dir_ / "bind";
  ASSERT_TRUE(LayOutBindSource(Select("src"), out, /*copy=*/false, Sources::kUser).ok());
  EXPECT_EQ(image::testing::ReadFile(out + "/main.c"), "int main() { return 0; }\n");
  EXPECT_EQ(Lstat(out + "/run.sh").st_mode & 07777, 0755u);
  EXPECT_FALSE(Exists(out + "/deploy.key"));  // .dockerignore'd
  // The symlink is made as a link, its target not followed or copied.
  ASSERT_TRUE(S_ISLNK(Lstat(out + "/escape").st_mode));
  char target[64] = {};
  ASSERT_GT(::readlink((out + "/escape").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "../../outside.txt");
  // Read-only: the bytes are the context's own (linked, same file system).
  EXPECT_EQ(Lstat(out + "/main.c").st_ino, Lstat(dir_ / "ctx/src/main.c").st_ino);
}

TEST_F(BindSourceTest, ReadWriteCopiesSoTheGuestNeverWritesTheContext) {
  std::string out = dir_ / "bind";
  ASSERT_TRUE(LayOutBindSource(Select("src"), out, /*copy=*/true, Sources::kUser).ok());
  EXPECT_NE(Lstat(out + "/main.c").st_ino, Lstat(dir_ / "ctx/src/main.c").st_ino);
  EXPECT_EQ(Lstat(out + "/run.sh").st_mode & 07777, 0755u);
  WriteFile(out + "/main.c", "changed\n");
  EXPECT_EQ(image::testing::ReadFile(dir_ / "ctx/src/main.c"), "int main() { return 0; }\n");
}

TEST_F(BindSourceTest, ASingleFileIsLaidOutAsAFile) {
  std::string out = dir_ / "bind";
  ASSERT_TRUE(LayOutBindSource(Select("go.mod"), out, /*copy=*/false, Sources::kUser).ok());
  EXPECT_TRUE(S_ISREG(Lstat(out).st_mode));
  EXPECT_EQ(image::testing::ReadFile(out), "module x\n");
}

TEST_F(BindSourceTest, AStageTreeKeepsItsModes) {
  image::testing::WriteTar(dir_ / "layer.tar",
                           {{.path = "out/", .type = AE_IFDIR, .perm = 0555},
                            {.path = "out/tool", .perm = 0755, .data = "#!/bin/sh\n"},
                            {.path = "out/conf", .perm = 0600, .data = "x=1\n"},
                            {.path = "out/dev", .type = AE_IFCHR, .perm = 0600}});
  auto files = StageFiles::Index({dir_ / "layer.tar"});
  ASSERT_TRUE(files.ok()) << files.error().message();
  ::mkdir((dir_ / "extract").c_str(), 0700);
  auto matches = (*files)->Select("/out", dir_ / "extract");
  ASSERT_TRUE(matches.ok()) << matches.error().message();
  std::string out = dir_ / "bind";
  ASSERT_TRUE(LayOutBindSource(matches->front(), out, /*copy=*/false, Sources::kOurs).ok());
  EXPECT_EQ(Lstat(out).st_mode & 07777, 0555u);
  EXPECT_EQ(Lstat(out + "/tool").st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(out + "/conf").st_mode & 07777, 0600u);
  EXPECT_EQ(image::testing::ReadFile(out + "/tool"), "#!/bin/sh\n");
  EXPECT_FALSE(Exists(out + "/dev"));  // no device nodes
  ::chmod(out.c_str(), 0755);          // so that TempDir can remove it
}

TEST_F(BindSourceTest, PathsThatWouldLeaveTheDirectoryAreRefused) {
  const std::vector<std::string> bad = {"../x", "a/../../x", "missing-parent/x", "a//b"};
  for (size_t i = 0; i < bad.size(); ++i) {
    SourceMatch match;
    match.directory = true;
    match.files.push_back(SourceFile{"", {.type = image::FileType::kDirectory}, ""});
    match.files.push_back(SourceFile{bad[i], {.type = image::FileType::kDirectory}, ""});
    auto laid =
        LayOutBindSource(match, dir_ / ("bad" + std::to_string(i)), /*copy=*/false, Sources::kOurs);
    EXPECT_FALSE(laid.ok()) << bad[i];
  }
  EXPECT_FALSE(Exists(dir_ / "x"));
}

}  // namespace
}  // namespace vk::build
