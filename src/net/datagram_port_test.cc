#include "net/datagram_port.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "base/testing/temp_dir.h"
#include "net/testing/frame_recorder.h"

namespace vk::net {
namespace {

using Recorder = testing::FrameRecorder;
using testing::PatternFrame;

class NetDatagramPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = std::move(EventLoop::Create().value());
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds), 0);
    far_ = UniqueFd(fds[1]);
    auto port = DatagramPort::Create(*loop_, UniqueFd(fds[0]), &peer_);
    ASSERT_TRUE(port.ok()) << port.error().message();
    port_ = std::move(*port);
  }
  void Pump(int rounds = 4) {
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(loop_->RunOnce(10).ok());
  }
  void SendFar(const std::vector<uint8_t>& frame) {
    ASSERT_EQ(::send(far_.get(), frame.data(), frame.size(), 0), ssize_t(frame.size()));
  }

  std::unique_ptr<EventLoop> loop_;
  UniqueFd far_;
  Recorder peer_;
  std::unique_ptr<DatagramPort> port_;
};

TEST_F(NetDatagramPortTest, EachDatagramIsOneFrameForThePeer) {
  const auto a = PatternFrame(60, 1), b = PatternFrame(1514, 2), c = PatternFrame(kMaxFrame, 3);
  for (const auto& frame : {a, b, c}) SendFar(frame);
  Pump();
  ASSERT_EQ(peer_.frames.size(), 3u);
  EXPECT_EQ(peer_.frames[0], a);
  EXPECT_EQ(peer_.frames[1], b);
  EXPECT_EQ(peer_.frames[2], c);
  EXPECT_EQ(port_->counters().rx_frames, 3u);
}

TEST_F(NetDatagramPortTest, EmptyAndOversizedDatagramsAreDropped) {
  SendFar({});
  SendFar(PatternFrame(kMaxFrame + 1, 4));
  SendFar(PatternFrame(64, 5));
  Pump();
  ASSERT_EQ(peer_.frames.size(), 1u);  // only the good one reached the peer
  EXPECT_EQ(peer_.frames[0], PatternFrame(64, 5));
  EXPECT_EQ(port_->counters().rx_dropped, 2u);
}

TEST_F(NetDatagramPortTest, DeliveredFramesAreWrittenWholeAndBadOnesRefused) {
  EXPECT_TRUE(port_->Deliver(PatternFrame(1514, 6)));
  EXPECT_FALSE(port_->Deliver({}));
  std::vector<uint8_t> too_big = PatternFrame(kMaxFrame + 1, 7);
  EXPECT_FALSE(port_->Deliver(too_big));
  std::vector<uint8_t> buffer(kMaxFrame + 2);
  ASSERT_EQ(::recv(far_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT), 1514);
  EXPECT_EQ(std::vector<uint8_t>(buffer.begin(), buffer.begin() + 1514), PatternFrame(1514, 6));
  EXPECT_LT(::recv(far_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT), 0);
  EXPECT_EQ(port_->counters().tx_frames, 1u);
  EXPECT_EQ(port_->counters().tx_dropped, 2u);
}

TEST_F(NetDatagramPortTest, AFullPeerDropsFramesInsteadOfBlocking) {
  int delivered = 0;
  for (int i = 0; i < 10000 && port_->Deliver(PatternFrame(1514, 8)); ++i) ++delivered;
  EXPECT_GT(delivered, 0);
  EXPECT_GT(port_->counters().tx_dropped, 0u);  // the socket filled up: dropped, not blocked
}

TEST(ConnectUnixDatagramTest, BindsItsOwnNameConnectsAndGreets) {
  vk::testing::TempTree dir;
  const std::string server_path = dir / "gvproxy.sock", local = dir / "vm.sock";
  UniqueFd server(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", server_path.c_str());
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);

  const uint8_t greeting[] = {'V', 'F', 'K', 'T'};
  auto client = ConnectUnixDatagram(server_path, local, greeting);
  ASSERT_TRUE(client.ok()) << client.error().message();
  char buffer[16];
  sockaddr_un from{};
  socklen_t from_size = sizeof(from);
  ssize_t n = ::recvfrom(server.get(), buffer, sizeof(buffer), 0,
                         reinterpret_cast<sockaddr*>(&from), &from_size);
  ASSERT_EQ(n, 4);
  EXPECT_EQ(std::string(buffer, 4), "VFKT");
  EXPECT_EQ(std::string(from.sun_path), local);  // the peer can answer

  EXPECT_FALSE(ConnectUnixDatagram(dir / "nobody.sock", dir / "other.sock").ok());
  EXPECT_NE(::access((dir / "other.sock").c_str(), F_OK), 0);  // no name left behind
  EXPECT_FALSE(ConnectUnixDatagram(std::string(200, 'x'), local).ok());
}

TEST(OpenTapTest, BadNamesAreEinval) {
  auto empty = OpenTap("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().errno_value(), EINVAL);
  auto long_name = OpenTap("a-name-of-sixteen");
  ASSERT_FALSE(long_name.ok());
  EXPECT_EQ(long_name.error().errno_value(), EINVAL);
}

}  // namespace
}  // namespace vk::net
