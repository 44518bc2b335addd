#include "vmm/guest_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "base/remove_tree.h"
#include "vmm/guest_assets.h"

namespace vk {
namespace {

class GuestFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vk-guest-files-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { (void)RemoveTreeWithin("/tmp", dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::string dir_;
};

TEST_F(GuestFilesTest, KernelFileIdentityIsItsDigestAndChangesWithOneByte) {
  GuestFiles a(Write("a", "kernel-bytes"), Write("initrd", "initrd-bytes"));
  GuestFiles b(Write("b", "kernel-bytes!"), dir_ + "/initrd");
  auto id_a = a.Identity();
  auto id_b = b.Identity();
  ASSERT_TRUE(id_a.ok()) << id_a.error().message();
  ASSERT_TRUE(id_b.ok()) << id_b.error().message();
  EXPECT_EQ(id_a->rfind("kernel:", 0), 0u) << *id_a;
  EXPECT_NE(*id_a, *id_b);
  EXPECT_EQ(*id_a, *GuestFiles(dir_ + "/a", "").Identity());
}

TEST_F(GuestFilesTest, LoadReadsBothFilesOnceAndReleaseFreesThem) {
  GuestFiles files(Write("k", "kernel-bytes"), Write("i", "initrd-bytes"));
  auto loaded = files.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(std::string(loaded->kernel.begin(), loaded->kernel.end()), "kernel-bytes");
  EXPECT_EQ(std::string(loaded->initrd.begin(), loaded->initrd.end()), "initrd-bytes");
  auto again = files.Load();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kernel.data(), loaded->kernel.data());  // not read twice
  files.Release();
  auto reloaded = files.Load();  // usable again after a release
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->initrd.size(), 12u);
}

TEST_F(GuestFilesTest, AddingTheAgentNeedsTheEmbeddedOne) {
  GuestFiles files(Write("k", "kernel-bytes"), Write("i", "initrd-bytes"), /*add_agent=*/true);
  auto loaded = files.Load();
  if (EmbeddedAgent().empty()) {  // unit tests link no embedded guest
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message().find("no embedded agent"), std::string::npos);
    return;
  }
  ASSERT_TRUE(loaded.ok());
  // The user's bytes, zero padding to 4 bytes, then the agent's archive.
  EXPECT_EQ(std::string(loaded->initrd.begin(), loaded->initrd.begin() + 12), "initrd-bytes");
  EXPECT_GT(loaded->initrd.size(), 12u);
}

TEST_F(GuestFilesTest, MissingFilesAndAMissingEmbeddedGuestAreClearErrors) {
  GuestFiles missing(dir_ + "/no-kernel", "");
  auto identity = missing.Identity();
  ASSERT_FALSE(identity.ok());
  EXPECT_NE(identity.error().message().find("no-kernel"), std::string::npos)
      << identity.error().message();
  GuestFiles embedded("", "");
  if (EmbeddedKernel().empty()) {
    auto available = embedded.CheckAvailable();
    ASSERT_FALSE(available.ok());
    EXPECT_NE(available.error().message().find("--kernel"), std::string::npos);
  } else {
    EXPECT_TRUE(embedded.CheckAvailable().ok());
    EXPECT_EQ(embedded.Identity()->rfind("embedded:", 0), 0u);
  }
}

}  // namespace
}  // namespace vk
