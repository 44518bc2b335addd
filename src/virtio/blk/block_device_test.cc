#include "virtio/blk/block_device.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio {
namespace {

using testing::FakeDeviceContext;
using testing::FakeGuest;
using testing::FakeVirtqueue;

std::vector<uint8_t> Header(uint32_t type, uint64_t sector) {
  std::vector<uint8_t> bytes(16, 0);
  std::memcpy(bytes.data(), &type, 4);
  std::memcpy(bytes.data() + 8, &sector, 8);
  return bytes;
}

class BlockDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/vk-blk-test.XXXXXX";
    int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    path_ = name;
    std::vector<uint8_t> image(64 * 512);
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i / 512);
    ASSERT_EQ(::write(fd, image.data(), image.size()), static_cast<ssize_t>(image.size()));
    ::close(fd);
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  void Open(bool read_only) {
    auto device = CreateBlockDevice({path_, read_only, "disk-7"});
    ASSERT_TRUE(device.ok()) << device.error().message();
    device_ = std::move(*device);
    vq_ = std::make_unique<FakeVirtqueue>(guest_, queues_[0]);
    context_ = std::make_unique<FakeDeviceContext>(guest_, std::span(queues_));
    ASSERT_TRUE(device_->Activate(context_->context).ok());
  }

  // Submits one request and returns (status byte, data written by the device).
  std::pair<uint8_t, std::vector<uint8_t>> Submit(const std::vector<std::vector<uint8_t>>& out,
                                                  std::vector<uint32_t> in) {
    in.push_back(1);  // status byte
    uint16_t head = vq_->AddChain(out, in);
    device_->ProcessQueue(0);
    auto used = vq_->NextUsed();
    EXPECT_TRUE(used.has_value());
    std::vector<uint8_t> written = vq_->Written(head);
    uint8_t status = written.back();
    written.pop_back();
    return {status, written};
  }

  std::string path_;
  FakeGuest guest_;
  std::vector<Queue> queues_{Queue(256)};
  std::unique_ptr<FakeVirtqueue> vq_;
  std::unique_ptr<FakeDeviceContext> context_;
  std::unique_ptr<VirtioDevice> device_;
};

TEST_F(BlockDeviceTest, ReadsSectors) {
  Open(false);
  auto [status, data] = Submit({Header(0, 3)}, {512, 512});
  EXPECT_EQ(status, 0);
  EXPECT_EQ(data[0], 3);
  EXPECT_EQ(data[512], 4);
  EXPECT_GE(context_->interrupt.count, 1);
}

TEST_F(BlockDeviceTest, WritesSectorsAndFlushes) {
  Open(false);
  std::vector<uint8_t> sector(512, 0xab);
  EXPECT_EQ(Submit({Header(1, 5), sector}, {}).first, 0);
  EXPECT_EQ(Submit({Header(4, 0)}, {}).first, 0);
  auto [status, data] = Submit({Header(0, 5)}, {512});
  EXPECT_EQ(status, 0);
  EXPECT_EQ(data[100], 0xab);
}

TEST_F(BlockDeviceTest, OutOfRangeAndOverflowingSectorsAreIoErrors) {
  Open(false);
  EXPECT_EQ(Submit({Header(0, 64)}, {512}).first, 1);
  EXPECT_EQ(Submit({Header(0, 63)}, {1024}).first, 1);
  EXPECT_EQ(Submit({Header(0, 0xffffffffffffffffull)}, {512}).first, 1);
  EXPECT_EQ(Submit({Header(0, 0x0080000000000000ull)}, {512}).first, 1);  // sector*512 overflows
  EXPECT_EQ(Submit({Header(0, 0)}, {100}).first, 1);                      // not a whole sector
}

TEST_F(BlockDeviceTest, ReadOnlyRefusesWritesAndDiscards) {
  Open(true);
  EXPECT_EQ(Submit({Header(1, 0), std::vector<uint8_t>(512)}, {}).first, 1);
  EXPECT_EQ(Submit({Header(11, 0), std::vector<uint8_t>(16)}, {}).first, 1);
  EXPECT_EQ(Submit({Header(0, 0)}, {512}).first, 0);
  EXPECT_TRUE(device_->features() & (1ull << 5));  // VIRTIO_BLK_F_RO
}

TEST_F(BlockDeviceTest, GetIdAndUnsupportedTypes) {
  Open(false);
  auto [status, data] = Submit({Header(8, 0)}, {20});
  EXPECT_EQ(status, 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(data.data())), "disk-7");
  EXPECT_EQ(Submit({Header(99, 0)}, {}).first, 2);
}

TEST_F(BlockDeviceTest, WriteZeroesClearsSectors) {
  Open(false);
  std::vector<uint8_t> segment(16, 0);
  uint64_t sector = 2;
  uint32_t count = 2;
  std::memcpy(segment.data(), &sector, 8);
  std::memcpy(segment.data() + 8, &count, 4);
  EXPECT_EQ(Submit({Header(13, 0), segment}, {}).first, 0);
  auto [status, data] = Submit({Header(0, 2)}, {1024});
  EXPECT_EQ(data[0], 0);
  EXPECT_EQ(data[1023], 0);
}

TEST_F(BlockDeviceTest, ChainWithoutStatusByteIsReturnedUnanswered) {
  Open(false);
  uint16_t head = vq_->AddChain({Header(0, 0)}, {});
  device_->ProcessQueue(0);
  auto used = vq_->NextUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);
  EXPECT_EQ(used->length, 0u);
}

TEST_F(BlockDeviceTest, ConfigReportsCapacity) {
  Open(false);
  uint64_t capacity = 0;
  device_->ReadConfig(0, std::span(reinterpret_cast<uint8_t*>(&capacity), 8));
  EXPECT_EQ(capacity, 64u);
  uint8_t beyond[4] = {1, 1, 1, 1};
  device_->ReadConfig(4096, beyond);
  EXPECT_EQ(beyond[0], 0);
}

TEST_F(BlockDeviceTest, ExclusiveLockKeepsASecondWriterOut) {
  Open(false);
  auto second = CreateBlockDevice({path_, false, ""});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find(path_), std::string::npos);
  EXPECT_FALSE(CreateBlockDevice({"/nonexistent/disk.img", true, ""}).ok());
}

}  // namespace
}  // namespace vk::virtio
