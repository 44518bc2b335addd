#include "base/fd_io.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "base/unix_socket.h"

namespace vk {
namespace {

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = UniqueFd(fds[0]);
    b = UniqueFd(fds[1]);
  }
  UniqueFd a, b;
};

TEST(FdIoTest, WriteAllThenReadExactlyMovesEveryByte) {
  SocketPair pair;
  std::string big(1 << 20, 'x');  // larger than the socket buffer: many partial writes
  std::thread writer([&] { EXPECT_TRUE(WriteAll(pair.a.get(), big).ok()); });
  std::vector<uint8_t> got(big.size());
  ASSERT_TRUE(ReadExactly(pair.b.get(), got).ok());
  writer.join();
  EXPECT_EQ(std::string(got.begin(), got.end()), big);
}

TEST(FdIoTest, ReadExactlySaysHowMuchArrivedBeforeEof) {
  SocketPair pair;
  ASSERT_TRUE(WriteAll(pair.a.get(), std::string_view("abc")).ok());
  pair.a.Reset();
  std::vector<uint8_t> buffer(8);
  auto read = ReadExactly(pair.b.get(), buffer);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(), "connection closed after 3 of 8 bytes");
}

TEST(FdIoTest, WriteToAClosedSocketIsAnErrorNotSigpipe) {
  SocketPair pair;
  pair.b.Reset();
  auto written = WriteAll(pair.a.get(), std::string_view("x"));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().errno_value(), EPIPE);
}

TEST(FdIoTest, DeadlinePassingIsATimeout) {
  SocketPair pair;
  std::vector<uint8_t> buffer(1);
  auto read = ReadExactlyBefore(pair.b.get(), buffer,
                                std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().kind(), ErrorKind::kTimeout);
}

TEST(FdIoTest, RelayCopiesBothWaysAndHalfClosesAtEof) {
  SocketPair left, right;  // left.a <-> relay <-> right.a
  std::thread relay([&] { RelayBytes(left.b.get(), left.b.get(), right.b.get()); });
  ASSERT_TRUE(WriteAll(left.a.get(), std::string_view("ping")).ok());
  ::shutdown(left.a.get(), SHUT_WR);
  std::vector<uint8_t> got(4);
  ASSERT_TRUE(ReadExactly(right.a.get(), got).ok());
  EXPECT_EQ(std::string(got.begin(), got.end()), "ping");
  char c;
  EXPECT_EQ(::read(right.a.get(), &c, 1), 0);  // the EOF went through
  ASSERT_TRUE(WriteAll(right.a.get(), std::string_view("pong")).ok());
  ::shutdown(right.a.get(), SHUT_WR);
  ASSERT_TRUE(ReadExactly(left.a.get(), got).ok());
  EXPECT_EQ(std::string(got.begin(), got.end()), "pong");
  relay.join();
}

TEST(UnixSocketPathTest, APathLongerThanSunPathIsAnErrorNeverTruncated) {
  std::string path = "/tmp/" + std::string(200, 'p') + ".sock";
  auto connected = ConnectUnix(path);
  ASSERT_FALSE(connected.ok());
  EXPECT_NE(connected.error().message().find("is longer than 107 bytes"), std::string::npos);
  EXPECT_FALSE(ListenUnix(path).ok());
}

}  // namespace
}  // namespace vk
