// BuildKit's COPY destination rules and the metadata of what a COPY writes.
#include "build/copy_plan.h"

#include <gtest/gtest.h>

#include "image/test_support.h"

namespace vk::build {
namespace {

using image::testing::TempDir;

SourceMatch File(std::string name, uint32_t mode = 0644) {
  SourceMatch match;
  match.name = std::move(name);
  image::EntryMeta meta;
  meta.permissions = mode;
  meta.mtime_sec = 1700000000;
  match.files.push_back({"", meta, ""});
  return match;
}

SourceMatch Dir(std::string name, std::vector<std::string> files) {
  SourceMatch match;
  match.name = std::move(name);
  match.directory = true;
  image::EntryMeta dir;
  dir.type = image::FileType::kDirectory;
  dir.permissions = 0700;
  match.files.push_back({"", dir, ""});
  for (std::string& rel : files)
    match.files.push_back({std::move(rel), File("x").files[0].meta, ""});
  return match;
}

class CopyPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The stage: /tmp (1777), /opt/dir, and /lib -> usr/lib.
    image::testing::WriteTar(dir_ / "base.tar",
                             {{.path = "tmp/", .type = AE_IFDIR, .perm = 01777},
                              {.path = "opt/", .type = AE_IFDIR, .perm = 0755},
                              {.path = "opt/dir/", .type = AE_IFDIR, .perm = 0750, .uid = 5},
                              {.path = "usr/", .type = AE_IFDIR, .perm = 0755},
                              {.path = "usr/lib/", .type = AE_IFDIR, .perm = 0755},
                              {.path = "lib", .type = AE_IFLNK, .link = "usr/lib"}});
    stage_ = std::move(StageFiles::Index({dir_ / "base.tar"})).value();
  }

  LayerTar Plan(CopyRequest request) {
    LayerTar layer;
    auto planned = PlanCopy(request, *stage_, layer);
    EXPECT_TRUE(planned.ok()) << planned.error().message();
    return layer;
  }

  TempDir dir_;
  std::unique_ptr<StageFiles> stage_;
};

TEST_F(CopyPlanTest, FileToAPathIsThatPath) {
  LayerTar layer = Plan({{File("a.txt")}, "/srv/b.txt", "/", std::nullopt, std::nullopt, false});
  EXPECT_TRUE(layer.entries().count("srv/b.txt"));
  EXPECT_EQ(layer.entries().at("srv").meta.permissions, 0755u);  // a new parent
}

TEST_F(CopyPlanTest, TrailingSlashOrExistingDirectoryMeansInto) {
  EXPECT_TRUE(Plan({{File("a.txt")}, "/srv/", "/", {}, {}, false}).entries().count("srv/a.txt"));
  LayerTar into = Plan({{File("a.txt")}, "/opt/dir", "/", {}, {}, false});
  EXPECT_TRUE(into.entries().count("opt/dir/a.txt"));
  // The existing directory keeps its owner and mode in the layer.
  EXPECT_EQ(into.entries().at("opt/dir").meta.permissions, 0750u);
  EXPECT_EQ(into.entries().at("opt/dir").meta.uid, 5u);
}

TEST_F(CopyPlanTest, RelativeDestinationJoinsTheWorkdir) {
  EXPECT_TRUE(
      Plan({{File("a.txt")}, "sub/", "/work", {}, {}, false}).entries().count("work/sub/a.txt"));
}

TEST_F(CopyPlanTest, ExistingParentsKeepTheirMetadata) {
  LayerTar layer = Plan({{File("a.txt")}, "/tmp/a.txt", "/", {}, {}, false});
  EXPECT_EQ(layer.entries().at("tmp").meta.permissions, 01777u);
}

TEST_F(CopyPlanTest, SymlinkedParentsAreFollowedInTheStage) {
  EXPECT_TRUE(
      Plan({{File("libx.so")}, "/lib/", "/", {}, {}, false}).entries().count("usr/lib/libx.so"));
}

TEST_F(CopyPlanTest, DirectoryContentsGoToTheDestination) {
  LayerTar layer =
      Plan({{Dir("src", {"a", "sub", "sub/b"})}, "/app", "/", CopyOwner{1000, 1001}, 0640, false});
  EXPECT_TRUE(layer.entries().count("app/a"));
  EXPECT_TRUE(layer.entries().count("app/sub/b"));
  EXPECT_FALSE(layer.entries().count("app/src"));
  EXPECT_EQ(layer.entries().at("app/a").meta.uid, 1000u);
  EXPECT_EQ(layer.entries().at("app/a").meta.permissions, 0640u);
  // The new destination is made like a parent (0755, the --chown owner),
  // not from the 0700 source directory or --chmod, as BuildKit makes it.
  EXPECT_EQ(layer.entries().at("app").meta.permissions, 0755u);
  EXPECT_EQ(layer.entries().at("app").meta.uid, 1000u);
  SourceMatch owned = Dir("home", {"a"});
  owned.files.front().meta.uid = 1000;  // COPY --from a stage's /home/user
  LayerTar from = Plan({{owned}, "/home/user/", "/", {}, {}, false});
  EXPECT_EQ(from.entries().at("home/user").meta.uid, 0u);
  EXPECT_EQ(from.entries().at("home/user").meta.permissions, 0755u);
}

TEST_F(CopyPlanTest, SeveralSourcesNeedADirectoryDestination) {
  LayerTar layer;
  auto planned = PlanCopy({{File("a"), File("b")}, "/dst", "/", {}, {}, true}, *stage_, layer);
  ASSERT_FALSE(planned.ok());
  EXPECT_EQ(planned.error().kind(), ErrorKind::kUsage);
  // A wildcard matching several files copies them into the destination.
  LayerTar wild = Plan({{File("a"), File("b")}, "/dst", "/", {}, {}, false});
  EXPECT_TRUE(wild.entries().count("dst/a"));
  EXPECT_TRUE(wild.entries().count("dst/b"));
}

TEST_F(CopyPlanTest, ChownAndChmodParsing) {
  image::testing::WriteTar(dir_ / "etc.tar",
                           {{.path = "etc/", .type = AE_IFDIR},
                            {.path = "etc/passwd", .data = "app:x:1000:1002::/home/app:/bin/sh\n"},
                            {.path = "etc/group", .data = "staff:x:50:\n"}});
  ASSERT_TRUE(stage_->AddLayer(dir_ / "etc.tar").ok());
  auto owner = ResolveChown("app", *stage_);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->uid, 1000u);
  EXPECT_EQ(owner->gid, 1002u);  // the user's primary group
  owner = ResolveChown("app:staff", *stage_);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->gid, 50u);
  owner = ResolveChown("7", *stage_);
  EXPECT_EQ(owner->gid, 7u);
  EXPECT_FALSE(ResolveChown("nobody", *stage_).ok());
  EXPECT_EQ(*ParseChmod("0755"), 0755u);
  EXPECT_FALSE(ParseChmod("u+x").ok());
}

}  // namespace
}  // namespace vk::build
