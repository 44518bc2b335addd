// A RUN step's scratch disk as the guest leaves it: an ext4 (made here with
// the store's own writer) whose /upper holds a new file, an overlay
// whiteout (a 0:0 character device) and an opaque directory. The reader
// must turn them into OCI whiteouts and drop the VM's own files.
#include "build/upper_layer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "image/build.h"
#include "image/test_support.h"

namespace vk::build {
namespace {

using image::testing::TarEntrySpec;
using image::testing::TempDir;

class UpperLayerTest : public ::testing::Test {
 protected:
  // Writes the given upper tree into an ext4 scratch disk.
  std::string MakeDisk(const std::vector<TarEntrySpec>& entries) {
    std::string tar = dir_ / "upper.tar";
    image::testing::WriteTar(tar, entries);
    std::string disk = dir_ / "scratch.ext4";
    auto built = image::BuildExt4FromTars({tar}, image::Whiteouts::kLiteral, disk, {});
    EXPECT_TRUE(built.ok()) << built.error().message();
    std::filesystem::create_directories(dir_ / "extract");
    return disk;
  }

  std::string TarListing(const LayerTar& layer) {
    std::string tar = dir_ / "layer.tar";
    EXPECT_TRUE(layer.WriteTo(tar).ok());
    return image::testing::Run("tar tvf " + tar + " --numeric-owner");
  }

  TempDir dir_;
};

TEST_F(UpperLayerTest, WhiteoutsAndOpaqueDirectoriesBecomeOciWhiteouts) {
  std::string disk = MakeDisk({
      {.path = "upper/", .type = AE_IFDIR, .perm = 0755},
      {.path = "upper/etc/", .type = AE_IFDIR, .perm = 0755},
      {.path = "upper/etc/debian_version", .type = AE_IFCHR, .perm = 0},  // rm'd in the RUN
      {.path = "upper/etc/hosts", .data = "127.0.0.1 vm\n"},              // the VM's own
      {.path = "upper/var/", .type = AE_IFDIR, .perm = 0755},
      {.path = "upper/var/cache/",
       .type = AE_IFDIR,
       .perm = 0700,
       .xattrs = {{"trusted.overlay.opaque", "y"}}},
      {.path = "upper/var/cache/new", .uid = 1000, .gid = 1000, .data = "fresh"},
      {.path = "upper/usr/", .type = AE_IFDIR, .perm = 0755},
      {.path = "upper/usr/link", .type = AE_IFLNK, .link = "/etc/debian_version"},
      {.path = "upper/usr/tool",
       .perm = 0755,
       .data = "#!/bin/sh\n",
       .xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)}}},
      {.path = "work/", .type = AE_IFDIR, .perm = 0},
  });
  LayerTar layer;
  UpperReadOptions options;
  options.skip = {"etc/hosts"};
  auto read = ReadUpperLayer(disk, dir_ / "extract", options, layer);
  ASSERT_TRUE(read.ok()) << read.error().message();

  const auto& entries = layer.entries();
  EXPECT_TRUE(entries.count("etc/.wh.debian_version"));
  EXPECT_FALSE(entries.count("etc/debian_version"));
  EXPECT_FALSE(entries.count("etc/hosts"));
  ASSERT_TRUE(entries.count("var/cache"));
  EXPECT_EQ(entries.at("var/cache").meta.permissions, 0700u);
  EXPECT_TRUE(entries.at("var/cache").meta.xattrs.empty());  // overlay's own xattr dropped
  EXPECT_TRUE(entries.count("var/cache/.wh..wh..opq"));
  EXPECT_EQ(entries.at("var/cache/new").meta.uid, 1000u);
  EXPECT_EQ(image::testing::ReadFile(entries.at("var/cache/new").host_path), "fresh");
  EXPECT_EQ(entries.at("usr/link").meta.symlink_target, "/etc/debian_version");
  EXPECT_EQ(entries.at("usr/tool").meta.xattrs.count("security.capability"), 1u);
  EXPECT_FALSE(entries.count("work"));  // only the upper directory is read

  std::string listing = TarListing(layer);
  EXPECT_NE(listing.find("etc/.wh.debian_version"), std::string::npos) << listing;
  EXPECT_NE(listing.find("var/cache/.wh..wh..opq"), std::string::npos) << listing;
  EXPECT_NE(listing.find("1000/1000"), std::string::npos) << listing;
}

TEST_F(UpperLayerTest, NoUpperDirectoryIsAnEmptyLayer) {
  std::string disk = MakeDisk({{.path = "lost+found/", .type = AE_IFDIR, .perm = 0700}});
  LayerTar layer;
  ASSERT_TRUE(ReadUpperLayer(disk, dir_ / "extract", {}, layer).ok());
  EXPECT_TRUE(layer.empty());
}

TEST_F(UpperLayerTest, LimitsBoundWhatTheGuestWrote) {
  std::string disk = MakeDisk({{.path = "upper/", .type = AE_IFDIR, .perm = 0755},
                               {.path = "upper/a", .data = "1"},
                               {.path = "upper/b", .data = "2"}});
  LayerTar layer;
  UpperReadOptions options;
  options.max_entries = 1;
  auto read = ReadUpperLayer(disk, dir_ / "extract", options, layer);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().kind(), ErrorKind::kDisk);
}

TEST_F(UpperLayerTest, NotAnExt4IsAnError) {
  std::string bogus = dir_ / "bogus";
  std::ofstream(bogus) << "not a filesystem";
  LayerTar layer;
  auto read = ReadUpperLayer(bogus, dir_.path(), {}, layer);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().kind(), ErrorKind::kDisk);
}

}  // namespace
}  // namespace vk::build

namespace vk::build {
namespace {

// Mount points the agent made (the base lacked them) stay out of the layer
// unless the RUN left something there; a path that is no stub is kept even
// when empty.
TEST_F(UpperLayerTest, MountStubsAreDroppedUnlessTheRunWroteThere) {
  std::string disk = MakeDisk({
      {.path = "upper/", .type = AE_IFDIR, .perm = 0755},
      {.path = "upper/scratch/", .type = AE_IFDIR, .perm = 0755},    // tmpfs mount point
      {.path = "upper/cache/", .type = AE_IFDIR, .perm = 0755},      // parent of one
      {.path = "upper/cache/apt/", .type = AE_IFDIR, .perm = 0755},  // share mount point
      {.path = "upper/opt/", .type = AE_IFDIR, .perm = 0755},        // parent of one ...
      {.path = "upper/opt/token", .perm = 0644},                     // bind target (empty)
      {.path = "upper/opt/made-by-run", .data = "kept"},             // ... and the RUN's file
      {.path = "upper/etc/", .type = AE_IFDIR, .perm = 0755},
      {.path = "upper/etc/secret", .perm = 0644, .data = "x"},   // a stub path, written to
      {.path = "upper/empty/", .type = AE_IFDIR, .perm = 0755},  // the RUN's own empty dir
  });
  LayerTar layer;
  UpperReadOptions options;
  options.stubs = {"scratch", "cache", "cache/apt", "opt", "opt/token", "etc/secret"};
  auto read = ReadUpperLayer(disk, dir_ / "extract", options, layer);
  ASSERT_TRUE(read.ok()) << read.error().message();
  const auto& entries = layer.entries();
  EXPECT_FALSE(entries.count("scratch"));
  EXPECT_FALSE(entries.count("cache"));
  EXPECT_FALSE(entries.count("cache/apt"));
  EXPECT_FALSE(entries.count("opt/token"));
  EXPECT_TRUE(entries.count("opt"));
  EXPECT_TRUE(entries.count("opt/made-by-run"));
  EXPECT_TRUE(entries.count("etc/secret"));
  EXPECT_TRUE(entries.count("empty"));
  EXPECT_EQ(entries.size(), 5u) << TarListing(
      layer);  // opt, opt/made-by-run, etc, etc/secret, empty
}

}  // namespace
}  // namespace vk::build
