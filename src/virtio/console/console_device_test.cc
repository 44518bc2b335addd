#include "virtio/console/console_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio {
namespace {

using testing::FakeDeviceContext;
using testing::FakeGuest;
using testing::FakeVirtqueue;

class ConsoleDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe2(output_, O_CLOEXEC | O_NONBLOCK), 0);
    ASSERT_EQ(::pipe2(input_, O_CLOEXEC | O_NONBLOCK), 0);
    loop_ = std::move(EventLoop::Create().value());
    device_ = CreateConsoleDevice({output_[1], input_[0]});
    rx_ = std::make_unique<FakeVirtqueue>(guest_, queues_[0]);
    tx_ = std::make_unique<FakeVirtqueue>(guest_, queues_[1]);
    context_ = std::make_unique<FakeDeviceContext>(guest_, std::span(queues_), loop_.get());
    ASSERT_TRUE(device_->Activate(context_->context).ok());
  }
  void TearDown() override {
    device_.reset();
    for (int fd : {output_[0], output_[1], input_[0], input_[1]}) ::close(fd);
  }

  int output_[2], input_[2];
  FakeGuest guest_;
  std::vector<Queue> queues_{Queue(64), Queue(64)};
  std::unique_ptr<FakeVirtqueue> rx_, tx_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeDeviceContext> context_;
  std::unique_ptr<VirtioDevice> device_;
};

TEST_F(ConsoleDeviceTest, GuestOutputReachesTheHostFd) {
  std::string text = "hello hvc0\n";
  tx_->AddChain({std::vector<uint8_t>(text.begin(), text.end())}, {});
  device_->ProcessQueue(1);
  char buffer[64] = {};
  ASSERT_EQ(::read(output_[0], buffer, sizeof(buffer)), static_cast<ssize_t>(text.size()));
  EXPECT_EQ(std::string(buffer), text);
  EXPECT_TRUE(tx_->NextUsed().has_value());
}

TEST_F(ConsoleDeviceTest, HostInputFillsGuestBuffers) {
  uint16_t head = rx_->AddChain({}, {16});
  ASSERT_EQ(::write(input_[1], "typed", 5), 5);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop_->RunOnce(20).ok());
  auto used = rx_->NextUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->length, 5u);
  auto written = rx_->Written(head);
  EXPECT_EQ(std::string(written.begin(), written.begin() + 5), "typed");
}

TEST(ConsoleDeviceLimitTest, GuestOutputToAFileIsCapped) {
  FakeGuest guest;
  std::vector<Queue> queues{Queue(64), Queue(64)};
  FakeVirtqueue rx(guest, queues[0]), tx(guest, queues[1]);
  FakeDeviceContext context(guest, std::span(queues), nullptr);
  UniqueFd file(::memfd_create("console", MFD_CLOEXEC));
  auto device = CreateConsoleDevice({.output_fd = file.get(), .max_output_bytes = 100});
  ASSERT_TRUE(device->Activate(context.context).ok());
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 8; ++i) tx.AddChain({std::vector<uint8_t>(64, 'z')}, {});
    device->ProcessQueue(1);
    while (tx.NextUsed()) {
    }
  }
  const std::string marker = "\n[console output truncated at 100 bytes]\n";
  struct stat st;
  ASSERT_EQ(::fstat(file.get(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), 100 + marker.size());
}

}  // namespace
}  // namespace vk::virtio
