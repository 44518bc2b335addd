// ConnectVsockPort against a stand-in for the VMM's vsock.sock: the
// CONNECT/OK handshake, a refused port, and bytes both ways via RelayBytes.
#include "proto/vsock_stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "base/fd_io.h"

namespace vk::proto {
namespace {

class FakeVsockSocket {
 public:
  explicit FakeVsockSocket(uint32_t open_port) : open_port_(open_port) {
    path_ = std::filesystem::temp_directory_path() / ("vk-vsock-" + std::to_string(::getpid()));
    ::unlink(path_.c_str());
    listener_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof(a.sun_path) - 1);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_.get(), 4), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeVsockSocket() {
    thread_.join();
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  // One connection: answer the handshake, then echo in upper case until EOF.
  void Serve() {
    UniqueFd c(::accept(listener_.get(), nullptr, nullptr));
    std::string line;
    char ch;
    while (::read(c.get(), &ch, 1) == 1 && ch != '\n') line += ch;
    if (line != "CONNECT " + std::to_string(open_port_)) return;  // refused: just close
    ASSERT_TRUE(WriteAll(c.get(), std::string_view("OK 1073741824\n")).ok());
    char buf[256];
    ssize_t n;
    while ((n = ::read(c.get(), buf, sizeof buf)) > 0) {
      for (ssize_t i = 0; i < n; ++i) buf[i] = static_cast<char>(std::toupper(buf[i]));
      ASSERT_TRUE(WriteAll(c.get(), std::string_view(buf, static_cast<size_t>(n))).ok());
    }
  }

  uint32_t open_port_;
  std::string path_;
  UniqueFd listener_;
  std::thread thread_;
};

TEST(VsockStream, HandshakeThenBytesBothWays) {
  FakeVsockSocket vmm(22);
  auto stream = ConnectVsockPort(vmm.path(), 22);
  ASSERT_TRUE(stream.ok()) << stream.error().message();
  int in[2], out[2];
  ASSERT_EQ(::pipe(in), 0);
  ASSERT_EQ(::pipe(out), 0);
  ASSERT_TRUE(WriteAll(in[1], std::string_view("ssh-2.0 hello\n")).ok());
  ::close(in[1]);  // EOF on "stdin" half-closes the stream; the reply still arrives
  std::thread pump([&] { RelayBytes(in[0], out[1], stream->get()); });
  pump.join();  // RelayBytes closed out[1] (a pipe cannot be half-closed)
  char buf[64] = {};
  ASSERT_EQ(::read(out[0], buf, sizeof buf), 14);
  EXPECT_STREQ(buf, "SSH-2.0 HELLO\n");
  ::close(in[0]);
  ::close(out[0]);
}

TEST(VsockStream, RefusedPortIsAClearError) {
  FakeVsockSocket vmm(22);
  auto stream = ConnectVsockPort(vmm.path(), 2222);
  ASSERT_FALSE(stream.ok());
  EXPECT_NE(stream.error().message().find("refused"), std::string::npos);
}

TEST(VsockStream, MissingSocketNamesThePath) {
  auto stream = ConnectVsockPort("/nonexistent/vsock.sock", 22);
  ASSERT_FALSE(stream.ok());
  EXPECT_NE(stream.error().message().find("/nonexistent/vsock.sock"), std::string::npos);
}

}  // namespace
}  // namespace vk::proto
