#include "net/stream_port.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>

#include "net/testing/frame_recorder.h"

namespace vk::net {
namespace {

using Recorder = testing::FrameRecorder;
using testing::PatternFrame;

std::vector<uint8_t> Framed(const std::vector<uint8_t>& frame) {
  uint32_t n = static_cast<uint32_t>(frame.size());
  std::vector<uint8_t> bytes(4 + frame.size());
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  std::copy(frame.begin(), frame.end(), bytes.begin() + 4);
  return bytes;
}

class NetStreamPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = std::move(EventLoop::Create().value());
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    far_ = UniqueFd(fds[1]);
    auto port = StreamPort::Create(*loop_, UniqueFd(fds[0]), &peer_);
    ASSERT_TRUE(port.ok()) << port.error().message();
    port_ = std::move(*port);
    port_->SetDisconnectCallback([this](const Error& why) { disconnect_ = why.message(); });
  }
  void Pump(int rounds = 4) {
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(loop_->RunOnce(10).ok());
  }
  void WriteFar(const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(::send(far_.get(), bytes.data(), bytes.size(), 0), ssize_t(bytes.size()));
  }
  // Everything readable on the far end right now.
  std::vector<uint8_t> ReadFar() {
    std::vector<uint8_t> bytes;
    uint8_t buffer[65536];
    ssize_t n;
    while ((n = ::recv(far_.get(), buffer, sizeof(buffer), MSG_DONTWAIT)) > 0) {
      bytes.insert(bytes.end(), buffer, buffer + n);
    }
    return bytes;
  }

  std::unique_ptr<EventLoop> loop_;
  UniqueFd far_;
  Recorder peer_;
  std::unique_ptr<StreamPort> port_;
  std::string disconnect_;
};

TEST_F(NetStreamPortTest, IncomingFramesReachThePeer) {
  std::vector<uint8_t> a = PatternFrame(60, 1), b = PatternFrame(1514, 2),
                       c = PatternFrame(kMaxFrame, 3);
  std::vector<uint8_t> stream = Framed(a);
  for (const auto& f : {b, c}) {
    auto bytes = Framed(f);
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  }
  WriteFar(stream);
  Pump();
  ASSERT_EQ(peer_.frames.size(), 3u);
  EXPECT_EQ(peer_.frames[0], a);
  EXPECT_EQ(peer_.frames[1], b);
  EXPECT_EQ(peer_.frames[2], c);
  EXPECT_EQ(port_->counters().rx_frames, 3u);
}

TEST_F(NetStreamPortTest, ReassemblesByteByByte) {
  std::vector<uint8_t> stream = Framed(PatternFrame(100, 7));
  auto second = Framed(PatternFrame(20, 9));
  stream.insert(stream.end(), second.begin(), second.end());
  for (uint8_t byte : stream) {
    WriteFar({byte});
    Pump(1);
  }
  ASSERT_EQ(peer_.frames.size(), 2u);
  EXPECT_EQ(peer_.frames[0], PatternFrame(100, 7));
  EXPECT_EQ(peer_.frames[1], PatternFrame(20, 9));
}

TEST_F(NetStreamPortTest, OutgoingFramesAreLengthPrefixed) {
  EXPECT_TRUE(port_->Deliver(PatternFrame(60, 4)));
  EXPECT_TRUE(port_->Deliver(PatternFrame(300, 5)));
  std::vector<uint8_t> expected = Framed(PatternFrame(60, 4));
  auto second = Framed(PatternFrame(300, 5));
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(ReadFar(), expected);
  EXPECT_FALSE(port_->Deliver({}));  // empty frames are not sent
  EXPECT_EQ(port_->counters().tx_frames, 2u);
}

TEST_F(NetStreamPortTest, OversizedLengthDisconnects) {
  WriteFar(Framed(PatternFrame(10, 1)));
  WriteFar({0x00, 0x01, 0x00, 0x0f});  // 65551 > kMaxFrame
  Pump();
  EXPECT_EQ(peer_.frames.size(), 1u);  // the frame before it still arrived
  EXPECT_FALSE(port_->connected());
  EXPECT_NE(disconnect_.find("65551"), std::string::npos) << disconnect_;
  EXPECT_EQ(::recv(far_.get(), nullptr, 0, 0), 0);  // the far end sees EOF
  EXPECT_FALSE(port_->Deliver(PatternFrame(60, 1)));
}

TEST_F(NetStreamPortTest, ZeroLengthDisconnects) {
  WriteFar({0, 0, 0, 0});
  Pump();
  EXPECT_FALSE(port_->connected());
  EXPECT_FALSE(disconnect_.empty());
}

TEST_F(NetStreamPortTest, PeerCloseDisconnects) {
  far_.Reset();
  Pump();
  EXPECT_FALSE(port_->connected());
  EXPECT_NE(disconnect_.find("closed"), std::string::npos) << disconnect_;
}

TEST_F(NetStreamPortTest, OutgoingBufferIsBoundedAndKeepsFraming) {
  int small = 4096;
  ASSERT_EQ(::setsockopt(far_.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  std::vector<uint8_t> frame = PatternFrame(9000, 1);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 1000 && refused == 0; ++i) (port_->Deliver(frame) ? accepted : refused)++;
  EXPECT_EQ(refused, 1);
  EXPECT_GT(accepted, 10);
  // 1 MiB bound: the socket holds some, the buffer at most 1 MiB more.
  EXPECT_LT(accepted * 9004, (1 << 20) + (4 << 20));
  EXPECT_EQ(port_->counters().tx_dropped, 1u);
  // Drain: every accepted frame arrives whole and in order.
  std::vector<uint8_t> received;
  for (int i = 0; i < 2000 && received.size() < size_t(accepted) * 9004; ++i) {
    Pump(1);
    auto bytes = ReadFar();
    received.insert(received.end(), bytes.begin(), bytes.end());
  }
  StreamFrameReader reader;
  int frames = 0;
  ASSERT_TRUE(reader
                  .Feed(received,
                        [&](std::span<const uint8_t> f) {
                          EXPECT_TRUE(std::equal(f.begin(), f.end(), frame.begin(), frame.end()));
                          ++frames;
                        })
                  .ok());
  EXPECT_EQ(frames, accepted);
  EXPECT_TRUE(port_->Deliver(frame));  // room again
}

TEST(NetStreamFrameReader, SplitsAndJoinsAtAnyBoundary) {
  std::vector<uint8_t> stream;
  for (size_t size : {1, 14, 1500, 3}) {
    auto bytes = Framed(PatternFrame(size, static_cast<uint8_t>(size)));
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  }
  for (size_t chunk : {1, 2, 3, 5, 7, 100, 5000}) {
    StreamFrameReader reader;
    std::vector<size_t> sizes;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      auto piece = std::span(stream).subspan(at, std::min(chunk, stream.size() - at));
      ASSERT_TRUE(
          reader.Feed(piece, [&](std::span<const uint8_t> f) { sizes.push_back(f.size()); }).ok());
    }
    EXPECT_EQ(sizes, (std::vector<size_t>{1, 14, 1500, 3})) << chunk;
  }
  StreamFrameReader broken;
  const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(broken.Feed(bad, [](auto) {}).ok());
  EXPECT_FALSE(broken.Feed(std::span(bad, 0), [](auto) {}).ok());  // stays failed
}

TEST(NetStreamPortSockets, ListenConnectAccept) {
  char dir[] = "/tmp/vk-stream-port.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/port.sock";
  auto listener = ListenUnixStream(path);
  ASSERT_TRUE(listener.ok()) << listener.error().message();
  auto client = ConnectUnixStream(path);
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto server = AcceptUnixStream(listener->get());
  ASSERT_TRUE(server.ok()) << server.error().message();
  EXPECT_EQ(AcceptUnixStream(listener->get()).error().errno_value(), EAGAIN);
  EXPECT_TRUE(ListenUnixStream(path).ok());  // a stale socket is replaced
  std::string file = std::string(dir) + "/file";
  std::ofstream(file) << "keep";
  EXPECT_FALSE(ListenUnixStream(file).ok());  // a regular file is not
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_FALSE(ConnectUnixStream(std::string(dir) + "/missing").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vk::net
