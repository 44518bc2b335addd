#include "base/remove_tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace vk {
namespace {

namespace fs = std::filesystem;

class RemoveTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vk-rm-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    top_ = pattern;
    root_ = top_ + "/vms";
    victim_ = top_ + "/home";
    fs::create_directories(root_);
    fs::create_directories(victim_ + "/docs");
    std::ofstream(victim_ + "/docs/precious") << "keep me";
  }
  void TearDown() override { (void)RemoveTreeWithin(fs::path(top_).parent_path(), top_); }
  bool VictimIntact() const { return fs::exists(victim_ + "/docs/precious"); }

  std::string top_, root_, victim_;
};

TEST_F(RemoveTreeTest, RemovesATreeInsideRoot) {
  fs::create_directories(root_ + "/web/a/b");
  std::ofstream(root_ + "/web/a/b/f") << "x";
  auto removed = RemoveTreeWithin(root_, root_ + "/web");
  ASSERT_TRUE(removed.ok()) << removed.error().message();
  EXPECT_EQ(*removed, RemoveOutcome::kRemoved);
  EXPECT_FALSE(fs::exists(root_ + "/web"));
  EXPECT_TRUE(fs::exists(root_));
}

TEST_F(RemoveTreeTest, AbsentIsReportedNotAnError) {
  auto removed = RemoveTreeWithin(root_, root_ + "/nothing");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, RemoveOutcome::kAbsent);
}

// `vk rm ../../../..` once removed a home directory.
TEST_F(RemoveTreeTest, DotDotAndOutsidePathsAreRefused) {
  for (const std::string& path :
       std::vector<std::string>{root_ + "/..", root_ + "/../home", root_ + "/./x", root_,
                                root_ + "/", root_ + "//x", victim_, top_, std::string("/")}) {
    EXPECT_FALSE(RemoveTreeWithin(root_, path).ok()) << path;
  }
  EXPECT_TRUE(VictimIntact());
}

TEST_F(RemoveTreeTest, SymlinkInsideTheTreeIsUnlinkedNotFollowed) {
  fs::create_directories(root_ + "/web");
  fs::create_directory_symlink(victim_, root_ + "/web/link");
  fs::create_directory_symlink(victim_ + "/docs", root_ + "/web/docs-link");
  ASSERT_TRUE(RemoveTreeWithin(root_, root_ + "/web").ok());
  EXPECT_FALSE(fs::exists(root_ + "/web"));
  EXPECT_TRUE(VictimIntact());
}

TEST_F(RemoveTreeTest, SymlinkAsTheTargetIsRemovedAsALink) {
  fs::create_directory_symlink(victim_, root_ + "/web");
  ASSERT_TRUE(RemoveTreeWithin(root_, root_ + "/web").ok());
  EXPECT_FALSE(fs::is_symlink(root_ + "/web"));
  EXPECT_TRUE(VictimIntact());
}

TEST_F(RemoveTreeTest, SymlinkedIntermediateComponentIsRefused) {
  fs::create_directory_symlink(victim_, root_ + "/web");
  EXPECT_FALSE(RemoveTreeWithin(root_, root_ + "/web/docs").ok());
  EXPECT_TRUE(VictimIntact());
}

}  // namespace
}  // namespace vk
