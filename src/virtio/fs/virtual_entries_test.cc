// AddVirtualEntry and VirtualTree::Build: libkrun's path rules, the tree's
// shape rules and its bound.
#include "virtio/fs/virtual_entries.h"

#include <gtest/gtest.h>

#include "virtio/fs/fs_device.h"

namespace vk::virtio::fs {
namespace {

constexpr std::string_view kMotd = "hello from memory\n";
constexpr std::string_view kHosts = "127.0.0.1 localhost\n";

std::span<const uint8_t> Data(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
VirtualEntry File(std::string name, std::string_view data) {
  return VirtualEntry{std::move(name), S_IFREG | 0444, Data(data), false, {}};
}
VirtualEntry Dir(std::string name) {
  return VirtualEntry{std::move(name), S_IFDIR | 0555, {}, false, {}};
}

TEST(FsVirtualEntries, AddVirtualEntryPlacesByPath) {
  std::vector<VirtualEntry> root;
  ASSERT_TRUE(AddVirtualEntry(root, "/etc", Dir("")).ok());
  ASSERT_TRUE(AddVirtualEntry(root, "etc/ssl", Dir("ssl")).ok());
  ASSERT_TRUE(AddVirtualEntry(root, "/etc/ssl/cert.pem", File("", kHosts)).ok());
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].name, "etc");
  ASSERT_EQ(root[0].children.size(), 1u);
  ASSERT_EQ(root[0].children[0].children.size(), 1u);
  EXPECT_EQ(root[0].children[0].children[0].name, "cert.pem");
  auto tree = VirtualTree::Build(root);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->size(), 4u);
}

TEST(FsVirtualEntries, AddVirtualEntryErrors) {
  std::vector<VirtualEntry> root;
  ASSERT_TRUE(AddVirtualEntry(root, "etc", Dir("")).ok());
  ASSERT_TRUE(AddVirtualEntry(root, "etc/hosts", File("", kHosts)).ok());
  auto error = [&](std::string_view path, VirtualEntry entry) {
    auto result = AddVirtualEntry(root, path, std::move(entry));
    return result.ok() ? 0 : result.error().errno_value();
  };
  EXPECT_EQ(error("missing/x", File("", kMotd)), ENOENT);
  EXPECT_EQ(error("etc/missing/x", File("", kMotd)), ENOENT);
  EXPECT_EQ(error("etc/hosts/x", File("", kMotd)), ENOTDIR);
  for (std::string_view bad :
       {std::string_view(""), std::string_view("/"), std::string_view("etc//x"),
        std::string_view("etc/"), std::string_view("etc/."), std::string_view("etc/.."),
        std::string_view("./x"), std::string_view("../x"), std::string_view("etc/a\0b", 7),
        std::string_view("\0", 1)}) {
    EXPECT_EQ(error(bad, File("", kMotd)), EINVAL) << bad;
  }
  EXPECT_EQ(error("etc/x", File("a/b", kMotd)), EINVAL);  // '/' in the leaf's name
  EXPECT_EQ(error("etc/x", File("y", kMotd)), EINVAL);    // name and path disagree
  EXPECT_EQ(error(std::string(256, 'n'), File("", kMotd)), ENAMETOOLONG);
  EXPECT_EQ(error("etc/hosts", File("", kMotd)), EEXIST);
  EXPECT_EQ(error("link", VirtualEntry{"", S_IFLNK | 0777, {}, false, {}}), EINVAL);
  EXPECT_EQ(error("dev", VirtualEntry{"", S_IFCHR | 0600, {}, false, {}}), EINVAL);
  VirtualEntry file_with_children = File("", kMotd);
  file_with_children.children.push_back(File("c", kMotd));
  EXPECT_EQ(error("f", std::move(file_with_children)), EINVAL);
  VirtualEntry dir_with_data = Dir("");
  dir_with_data.data = Data(kMotd);
  EXPECT_EQ(error("d", std::move(dir_with_data)), EINVAL);
  EXPECT_EQ(error("etc/ok", File("", kMotd)), 0);
  // The same rules when a server is made from a tree built by hand.
  EXPECT_FALSE(VirtualTree::Build(std::vector{File("a/b", kMotd)}).ok());
  EXPECT_FALSE(VirtualTree::Build(std::vector{File("..", kMotd)}).ok());
  EXPECT_FALSE(VirtualTree::Build(std::vector{File("x", kMotd), File("x", kHosts)}).ok());
  FsOptions options{"", "bad"};
  options.virtual_entries = {File("", kMotd)};
  EXPECT_FALSE(CreateFsDevice(options).ok());
}

TEST(FsVirtualEntries, BoundedEntryCount) {
  std::vector<VirtualEntry> root;
  ASSERT_TRUE(AddVirtualEntry(root, "d", Dir("")).ok());
  for (size_t i = 1; i < kMaxVirtualEntries; ++i) {
    ASSERT_TRUE(AddVirtualEntry(root, "d/" + std::to_string(i), File("", kMotd)).ok()) << i;
  }
  auto full = AddVirtualEntry(root, "one-more", File("", kMotd));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().errno_value(), ENOSPC);
  EXPECT_TRUE(VirtualTree::Build(root).ok());
  root.push_back(File("over", kMotd));
  EXPECT_FALSE(VirtualTree::Build(root).ok());
}

}  // namespace
}  // namespace vk::virtio::fs
