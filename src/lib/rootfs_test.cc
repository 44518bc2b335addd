#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/remove_tree.h"
#include "lib/base_reader.h"
#include "virtkit/virtkit.h"

namespace virtkit {
namespace {

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/virtkit-rootfs-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    top_ = dir;
    std::filesystem::create_directories(top_ + "/stage");
    std::filesystem::create_directories(top_ + "/base/etc");
    std::ofstream(top_ + "/base/etc/os-release") << "ID=base\n";
    std::ofstream(top_ + "/outside") << "host secret\n";
  }
  // Through the guarded remover: only inside the temp directory's parent.
  void TearDown() override {
    (void)vk::RemoveTreeWithin(std::filesystem::path(top_).parent_path().string(), top_);
  }

  Rootfs Make() {
    return Rootfs(top_ + "/stage", internal::MakeBaseReader("", top_ + "/base", ""));
  }
  std::string HostRead(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string top_;
};

TEST_F(RootfsTest, WritesGoToStagingNotBase) {
  Rootfs root = Make();
  ASSERT_TRUE(root.WriteFile("/etc/os-release", "ID=hooked\n", 0600));
  EXPECT_EQ(HostRead(top_ + "/stage/etc/os-release"), "ID=hooked\n");
  EXPECT_EQ(HostRead(top_ + "/base/etc/os-release"), "ID=base\n");
  struct stat st {};
  ASSERT_EQ(::stat((top_ + "/stage/etc/os-release").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(*root.ReadFile("/etc/os-release"), "ID=hooked\n");
}

TEST_F(RootfsTest, ReadFallsBackToBase) {
  Rootfs root = Make();
  auto base = root.ReadFile("/etc/os-release");
  ASSERT_TRUE(base) << base.error().message();
  EXPECT_EQ(*base, "ID=base\n");
  auto missing = root.ReadFile("/etc/nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
}

TEST_F(RootfsTest, SymlinksStayInsideTheRoot) {
  Rootfs root = Make();
  // A hook's symlink to an absolute host-looking path resolves in the
  // staging root, never on the host.
  // (Here the link dangles inside the root, so the write fails as it would
  // in the guest; what matters is that the host file is untouched.)
  ASSERT_TRUE(root.Symlink(top_, "/escape"));
  (void)root.WriteFile("/escape/outside", "guest\n");
  EXPECT_EQ(HostRead(top_ + "/outside"), "host secret\n");
  ASSERT_TRUE(root.Symlink("../../..", "/up"));
  auto read = root.ReadFile("/up/outside");
  EXPECT_FALSE(read && *read == "host secret\n");
  // Writing over a symlink replaces the link, not its target.
  ASSERT_TRUE(root.Symlink("/etc/os-release", "/link"));
  ASSERT_TRUE(root.WriteFile("/link", "mine\n"));
  struct stat st {};
  ASSERT_EQ(::lstat((top_ + "/stage/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(RootfsTest, RelativeAndRootPathsAreRefused) {
  Rootfs root = Make();
  auto relative = root.WriteFile("etc/x", "x");
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().kind(), ErrorKind::kUsage);
  EXPECT_FALSE(root.WriteFile("/", "x"));
}

TEST_F(RootfsTest, AuthorizedKeysAppendToTheBase) {
  std::filesystem::create_directories(top_ + "/base/root/.ssh");
  std::ofstream(top_ + "/base/root/.ssh/authorized_keys") << "ssh-ed25519 AAAA old";
  Rootfs root = Make();
  ASSERT_TRUE(root.AddAuthorizedKey("/root", "ssh-ed25519 BBBB new"));
  EXPECT_EQ(HostRead(top_ + "/stage/root/.ssh/authorized_keys"),
            "ssh-ed25519 AAAA old\nssh-ed25519 BBBB new\n");
  struct stat st {};
  ASSERT_EQ(::stat((top_ + "/stage/root/.ssh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((top_ + "/stage/root/.ssh/authorized_keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_FALSE(root.AddAuthorizedKey("/root", "two\nlines"));
}

TEST_F(RootfsTest, CopyFileKeepsMode) {
  std::ofstream(top_ + "/tool") << "#!/bin/sh\necho hi\n";
  ::chmod((top_ + "/tool").c_str(), 0755);
  Rootfs root = Make();
  ASSERT_TRUE(root.CopyFile(top_ + "/tool", "/usr/local/bin/tool"));
  struct stat st {};
  ASSERT_EQ(::stat((top_ + "/stage/usr/local/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  auto missing = root.CopyFile(top_ + "/none", "/x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
}

TEST_F(RootfsTest, MakeDirectoryMode) {
  Rootfs root = Make();
  ASSERT_TRUE(root.MakeDirectory("/srv/data", 0750));
  struct stat st {};
  ASSERT_EQ(::stat((top_ + "/stage/srv/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

}  // namespace
}  // namespace virtkit

namespace virtkit {
namespace {

// Owners travel to the VM's layer by where the entry really is (a path
// written through a symlinked directory names its target); root's own
// entries need no record, and a later write as root drops an old one.
TEST_F(RootfsTest, OwnersAreRecordedByTheirPlaceInTheLayer) {
  Rootfs root = Make();
  ASSERT_TRUE(root.MakeDirectory("/srv/data", 0750, 1234, 5678));
  ASSERT_TRUE(root.Symlink("/srv/data", "/data"));
  ASSERT_TRUE(root.WriteFile("/data/file", "x", 0600, 1234, 100));
  ASSERT_TRUE(root.WriteFile("/etc/plain", "y"));
  ASSERT_TRUE(root.AddAuthorizedKey("/home/app", "ssh-ed25519 AAAA key", 1000, 1000));
  const auto& owners = root.owners();
  ASSERT_EQ(owners.size(), 4u);
  EXPECT_EQ(owners.at("/srv/data").uid, 1234u);
  EXPECT_EQ(owners.at("/srv/data").gid, 5678u);
  EXPECT_EQ(owners.at("/srv/data/file").gid, 100u);
  EXPECT_EQ(owners.at("/home/app/.ssh").uid, 1000u);
  EXPECT_EQ(owners.at("/home/app/.ssh/authorized_keys").uid, 1000u);
  EXPECT_EQ(owners.count("/etc/plain"), 0u);
  ASSERT_TRUE(root.WriteFile("/srv/data/file", "z"));  // replaced, as root's
  EXPECT_EQ(owners.count("/srv/data/file"), 0u);
}

TEST_F(RootfsTest, ReadsAnExt4BaseWithoutMountingIt) {
  if (::access("/sbin/mke2fs", X_OK) != 0) GTEST_SKIP() << "needs mke2fs";
  ::symlink("/etc/os-release", (top_ + "/base/etc/link").c_str());
  const std::string image = top_ + "/base.ext4";
  std::string command = "/sbin/mke2fs -q -F -t ext4 -d " + top_ + "/base " + image + " 8M";
  ASSERT_EQ(std::system(command.c_str()), 0);
  Rootfs root(top_ + "/stage", internal::MakeBaseReader("", image, ""));
  EXPECT_EQ(*root.ReadFile("/etc/os-release"), "ID=base\n");
  auto linked = root.ReadFile("/etc/link");  // an absolute link, followed inside the image
  ASSERT_TRUE(linked) << linked.error().message();
  EXPECT_EQ(*linked, "ID=base\n");
  auto missing = root.ReadFile("/etc/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound) << missing.error().message();
}

}  // namespace
}  // namespace virtkit
