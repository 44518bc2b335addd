#include "agent/machine_identity.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/remove_tree.h"

namespace vk::agent {
namespace {

using namespace std::chrono_literals;

// A directory standing in for /sys, with class/block/vda/size.
class DiskCapacityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vk-sysfs.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    root_ = dir;
    std::filesystem::create_directories(root_ + "/class/block/vda");
  }
  void TearDown() override { (void)RemoveTreeWithin("/tmp", root_); }
  void WriteSize(const std::string& text) {
    // Replaced by rename, as a reader must never see a half-written file.
    std::ofstream(root_ + "/size.new") << text;
    std::filesystem::rename(root_ + "/size.new", root_ + "/class/block/vda/size");
  }
  std::string root_;
};

TEST_F(DiskCapacityTest, ReadyAtOnce) {
  WriteSize("2097152\n");
  auto ready = WaitForDiskCapacity(root_, "/dev/vda", 0ms);
  EXPECT_TRUE(ready.ok()) << ready.error().message();
}

TEST_F(DiskCapacityTest, WaitsUntilTheHostAttachesTheFile) {
  WriteSize("0\n");
  std::thread host([&] {
    std::this_thread::sleep_for(100ms);
    WriteSize("2048\n");
  });
  const auto start = std::chrono::steady_clock::now();
  auto ready = WaitForDiskCapacity(root_, "/dev/vda", 5s);
  host.join();
  EXPECT_TRUE(ready.ok()) << ready.error().message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

TEST_F(DiskCapacityTest, StillZeroIsAClearError) {
  WriteSize("0\n");
  auto ready = WaitForDiskCapacity(root_, "/dev/vda", 50ms);
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message().find("disk /dev/vda not ready after 50 ms (capacity 0)"),
            std::string::npos)
      << ready.error().message();
}

TEST_F(DiskCapacityTest, MissingOrGarbledSizeIsAnError) {
  auto missing = WaitForDiskCapacity(root_, "/dev/vdb", 20ms);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/dev/vdb"), std::string::npos);
  WriteSize("lots\n");
  auto garbled = WaitForDiskCapacity(root_, "/dev/vda", 20ms);
  ASSERT_FALSE(garbled.ok());
  EXPECT_NE(garbled.error().message().find("not a number"), std::string::npos)
      << garbled.error().message();
}

TEST_F(DiskCapacityTest, OnlyDevNames) {
  WriteSize("8\n");
  EXPECT_FALSE(WaitForDiskCapacity(root_, "vda", 0ms).ok());
  EXPECT_FALSE(WaitForDiskCapacity(root_, "/dev/../class/block/vda", 0ms).ok());
  EXPECT_FALSE(WaitForDiskCapacity(root_, "/dev/", 0ms).ok());
}

TEST(SetMacAddressTest, NamesWhatFailed) {
  const uint8_t mac[6] = {0x52, 0x54, 0, 1, 2, 3};
  auto missing = SetMacAddress("vknosuch0", mac);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("vknosuch0"), std::string::npos);
  EXPECT_FALSE(SetMacAddress("eth0", std::span(mac).first(5)).ok());
}

}  // namespace
}  // namespace vk::agent
