#include "vmm/initramfs.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

namespace vk {
namespace {

struct ParsedEntry {
  uint32_t mode = 0, nlink = 0, rdev_major = 0, rdev_minor = 0;
  std::string data;
};

uint32_t HexField(const std::vector<uint8_t>& archive, size_t at) {
  return static_cast<uint32_t>(
      std::stoul(std::string(archive.begin() + at, archive.begin() + at + 8), nullptr, 16));
}

// An independent newc reader: checks magic and alignment of every record.
std::vector<std::pair<std::string, ParsedEntry>> Parse(const std::vector<uint8_t>& archive) {
  std::vector<std::pair<std::string, ParsedEntry>> entries;
  size_t at = 0;
  while (at + 110 <= archive.size()) {
    EXPECT_EQ(at % 4, 0u);
    EXPECT_EQ(std::string(archive.begin() + at, archive.begin() + at + 6), "070701");
    ParsedEntry entry;
    entry.mode = HexField(archive, at + 6 + 8 * 1);
    entry.nlink = HexField(archive, at + 6 + 8 * 4);
    const uint32_t size = HexField(archive, at + 6 + 8 * 6);
    entry.rdev_major = HexField(archive, at + 6 + 8 * 9);
    entry.rdev_minor = HexField(archive, at + 6 + 8 * 10);
    const uint32_t name_size = HexField(archive, at + 6 + 8 * 11);
    const size_t name_at = at + 110;
    std::string name(archive.begin() + name_at, archive.begin() + name_at + name_size - 1);
    EXPECT_EQ(archive[name_at + name_size - 1], 0);
    const size_t data_at = (name_at + name_size + 3) & ~size_t{3};
    entry.data.assign(archive.begin() + data_at, archive.begin() + data_at + size);
    at = (data_at + size + 3) & ~size_t{3};
    entries.emplace_back(name, entry);
    if (name == "TRAILER!!!") break;
  }
  EXPECT_EQ(at, archive.size()) << "nothing after the trailer";
  return entries;
}

TEST(InitramfsTest, HoldsTheAgentAndEarlyNodes) {
  const std::vector<uint8_t> agent = {'\x7f', 'E', 'L', 'F', 1, 2, 3};  // odd size: tests padding
  auto archive = BuildInitramfs(agent);
  ASSERT_TRUE(archive.ok()) << archive.error().message();
  auto entries = Parse(*archive);
  std::map<std::string, ParsedEntry> by_name(entries.begin(), entries.end());
  ASSERT_EQ(entries.size(), 7u);
  EXPECT_EQ(entries.back().first, "TRAILER!!!");
  EXPECT_EQ(by_name["init"].mode, S_IFREG | 0755u);
  EXPECT_EQ(by_name["init"].data, std::string(agent.begin(), agent.end()));
  EXPECT_EQ(by_name["dev/console"].mode, S_IFCHR | 0600u);
  EXPECT_EQ(by_name["dev/console"].rdev_major, 5u);
  EXPECT_EQ(by_name["dev/console"].rdev_minor, 1u);
  for (const char* dir : {"dev", "proc", "sys", "newroot"}) {
    EXPECT_EQ(by_name[dir].mode, S_IFDIR | 0755u) << dir;
    EXPECT_EQ(by_name[dir].nlink, 2u) << dir;
  }
  // "dev" must precede "dev/console" for the kernel to create it.
  EXPECT_EQ(entries[0].first, "dev");
}

TEST(InitramfsTest, IsReproducible) {
  const std::vector<uint8_t> agent(1000, 0x90);
  EXPECT_EQ(*BuildInitramfs(agent), *BuildInitramfs(agent));
}

TEST(InitramfsTest, RejectsAnEmptyAgent) { EXPECT_FALSE(BuildInitramfs({}).ok()); }

TEST(InitramfsTest, CpioToolListsIt) {
  if (system("command -v cpio >/dev/null 2>&1") != 0) GTEST_SKIP() << "cpio not installed";
  auto archive = BuildInitramfs(std::vector<uint8_t>(4097, 1));
  ASSERT_TRUE(archive.ok());
  const int fd = memfd_create("initramfs", 0);  // inherited by the shell below
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, archive->data(), archive->size()), ssize_t(archive->size()));
  lseek(fd, 0, SEEK_SET);
  const std::string command = "cpio -itv --quiet <&" + std::to_string(fd) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string listing;
  char buffer[256];
  while (fgets(buffer, sizeof(buffer), pipe)) listing += buffer;
  EXPECT_EQ(pclose(pipe), 0) << listing;
  close(fd);
  EXPECT_NE(listing.find("-rwxr-xr-x"), std::string::npos) << listing;
  EXPECT_NE(listing.find("4097"), std::string::npos) << listing;
  EXPECT_NE(listing.find("crw-------"), std::string::npos) << listing;
  EXPECT_NE(listing.find("5,   1"), std::string::npos) << listing;
  for (const char* name :
       {" init\n", " dev\n", " dev/console\n", " proc\n", " sys\n", " newroot\n"}) {
    EXPECT_NE(listing.find(name), std::string::npos) << name << " in\n" << listing;
  }
}

}  // namespace
}  // namespace vk
