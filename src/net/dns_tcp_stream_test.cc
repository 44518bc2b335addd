// DNS over TCP: the framing decoder (split and coalesced writes, the zero
// length, the buffer bound) and DnsTcpServer over a socketpair (local names,
// the name filter, pipelining, slow upstream answers, half-close, the
// connection bound).
#include "net/dns_tcp_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <functional>

#include "net/frame_test_util.h"

namespace vk::net {
namespace {

using testing::DnsQuery;

std::vector<uint8_t> Framed(const std::vector<uint8_t>& message) {
  return *FrameDnsTcpMessage(message);
}

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

std::optional<std::vector<uint8_t>> NextOk(DnsTcpStream& stream) {
  auto next = stream.Next();
  EXPECT_TRUE(next.ok());
  return next.ok() ? *next : std::nullopt;
}

TEST(NetDnsTcpStream, MessageSplitAcrossWrites) {
  auto query = DnsQuery("web1.lan");
  auto wire = Framed(query);
  DnsTcpStream stream;
  for (size_t i = 0; i + 1 < wire.size(); ++i) {
    ASSERT_EQ(stream.Append(Bytes(wire).subspan(i, 1)), 1u);
    EXPECT_FALSE(stream.HasMessage()) << i;
    EXPECT_FALSE(NextOk(stream).has_value()) << i;
  }
  stream.Append(Bytes(wire).last(1));
  EXPECT_TRUE(stream.HasMessage());
  EXPECT_EQ(NextOk(stream), query);
  EXPECT_FALSE(NextOk(stream).has_value());
  EXPECT_EQ(stream.buffered(), 0u);
}

TEST(NetDnsTcpStream, SeveralMessagesInOneWrite) {
  auto a = DnsQuery("a.lan", kDnsTypeA, 1);
  auto b = DnsQuery("b.example", kDnsTypeAaaa, 2);
  auto c = DnsQuery("c.lan", kDnsTypeA, 3);
  auto wire = Concat({Framed(a), Framed(b), Framed(c)});
  DnsTcpStream stream;
  // The third message arrives in two pieces.
  ASSERT_EQ(stream.Append(Bytes(wire).first(wire.size() - 3)), wire.size() - 3);
  EXPECT_EQ(NextOk(stream), a);
  EXPECT_EQ(NextOk(stream), b);
  EXPECT_FALSE(NextOk(stream).has_value());
  stream.Append(Bytes(wire).last(3));
  EXPECT_EQ(NextOk(stream), c);
}

TEST(NetDnsTcpStream, ZeroLengthFailsTheStream) {
  DnsTcpStream stream;
  std::vector<uint8_t> wire{0, 0, 0, 5, 1, 2, 3, 4, 5};
  stream.Append(wire);
  EXPECT_TRUE(stream.HasMessage());  // Next has something to say: the error
  EXPECT_FALSE(stream.Next().ok());
  EXPECT_TRUE(stream.failed());
  EXPECT_FALSE(stream.Next().ok());  // sticky
  EXPECT_EQ(stream.Room(), 0u);
  EXPECT_EQ(stream.Append(wire), 0u);
}

TEST(NetDnsTcpStream, BuffersAtMostOneLargestMessage) {
  DnsTcpStream stream;
  std::vector<uint8_t> big(65535, 0x5a);
  auto wire = Concat({Framed(big), Framed(DnsQuery("x.lan"))});
  // Only one largest message fits; the rest waits in the socket.
  size_t took = stream.Append(wire);
  EXPECT_EQ(took, DnsTcpStream::kCapacity);
  EXPECT_EQ(stream.Room(), 0u);
  EXPECT_EQ(NextOk(stream), big);
  EXPECT_EQ(stream.Room(), DnsTcpStream::kCapacity);
  EXPECT_EQ(stream.Append(Bytes(wire).subspan(took)), wire.size() - took);
  EXPECT_EQ(NextOk(stream), DnsQuery("x.lan"));
}

TEST(NetDnsTcpStream, FramingPrefixesTheLength) {
  std::vector<uint8_t> message(300, 1);
  auto framed = FrameDnsTcpMessage(message);
  ASSERT_TRUE(framed.has_value());
  ASSERT_EQ(framed->size(), 302u);
  EXPECT_EQ((*framed)[0], 0x01);
  EXPECT_EQ((*framed)[1], 0x2c);
  EXPECT_FALSE(FrameDnsTcpMessage(std::vector<uint8_t>(65536, 0)).has_value());
}

class FakeUpstream : public DnsUpstream {
 public:
  void Query(std::vector<uint8_t> query, Callback done) override {
    queries.push_back(std::move(query));
    pending.push_back(std::move(done));
  }
  std::vector<std::vector<uint8_t>> queries;
  std::deque<Callback> pending;
};

class NetDnsTcpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    DnsServerConfig config;
    config.host_ip = Ipv4(192, 168, 127, 1);
    dns_.emplace(config, &upstream_);
    dns_->RegisterName("web1", Ipv4(192, 168, 127, 5));
    server_.emplace(*loop_, *dns_, DnsTcpServerOptions{.max_connections = 2});
  }
  void TearDown() override { server_.reset(); }

  // A connected client socket served by the server.
  UniqueFd Connect() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    EXPECT_TRUE(server_->Serve(UniqueFd(fds[1])).ok());
    return UniqueFd(fds[0]);
  }
  bool PumpUntil(const std::function<bool()>& done) { return testing::PumpUntil(*loop_, done); }
  // Reads `count` answers (or until the server closes: `closed`).
  std::vector<DnsMessage> Answers(int fd, size_t count, bool* closed = nullptr) {
    DnsTcpStream in;
    std::vector<DnsMessage> out;
    PumpUntil([&] {
      uint8_t buf[4096];
      ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
      if (got == 0 && closed != nullptr) *closed = true;
      if (got > 0) in.Append(Bytes(buf, static_cast<size_t>(got)));
      // Parsed records point into their message: keep it alive.
      while (auto next = NextOk(in)) {
        out.push_back(*ParseDnsMessage(messages_.emplace_back(std::move(*next))));
      }
      return out.size() >= count || got == 0;
    });
    return out;
  }

  std::unique_ptr<EventLoop> loop_;
  FakeUpstream upstream_;
  std::optional<DnsServer> dns_;
  std::optional<DnsTcpServer> server_;
  std::deque<std::vector<uint8_t>> messages_;  // what parsed answers point into
};

uint32_t FirstA(const DnsMessage& message) {
  for (const auto& record : message.answers) {
    if (record.type == kDnsTypeA) return ByteReader(record.rdata).U32();
  }
  return 0;
}

TEST_F(NetDnsTcpServer, AnswersPipelinedQueries) {
  dns_->name_filter = [](std::string_view name) { return name != "blocked.example"; };
  UniqueFd client = Connect();
  auto wire = Concat({Framed(DnsQuery("web1.lan", kDnsTypeA, 7)),
                      Framed(DnsQuery("blocked.example", kDnsTypeA, 8))});
  ASSERT_EQ(::send(client.get(), wire.data(), wire.size(), 0), static_cast<ssize_t>(wire.size()));
  auto answers = Answers(client.get(), 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].header.id, 7);
  EXPECT_EQ(FirstA(answers[0]), Ipv4(192, 168, 127, 5));
  EXPECT_EQ(answers[1].header.id, 8);
  EXPECT_EQ(answers[1].header.rcode(), kDnsNxDomain);
  EXPECT_TRUE(upstream_.queries.empty());
}

TEST_F(NetDnsTcpServer, ForwardedAnswerArrivesLaterAndUntruncated) {
  UniqueFd client = Connect();
  auto wire = Framed(DnsQuery("big.example", kDnsTypeA, 9));
  ::send(client.get(), wire.data(), wire.size(), 0);
  ASSERT_TRUE(PumpUntil([&] { return upstream_.pending.size() == 1; }));
  // 200 A records: far more than one UDP answer may carry.
  auto query = upstream_.queries[0];
  auto parsed = ParseDnsMessage(query);
  std::vector<uint32_t> many(200, Ipv4(1, 1, 1, 1));
  upstream_.pending.front()(BuildDnsResponse(query, *parsed, kDnsNoError, many, 60, false));
  upstream_.pending.pop_front();
  auto answers = Answers(client.get(), 1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].header.id, 9);
  EXPECT_FALSE(answers[0].header.flags & kDnsFlagTc);
  EXPECT_EQ(answers[0].answers.size(), 200u);
}

TEST_F(NetDnsTcpServer, HalfCloseGetsPendingAnswersThenClose) {
  UniqueFd client = Connect();
  auto wire = Concat(
      {Framed(DnsQuery("slow.example", kDnsTypeA, 1)), Framed(DnsQuery("host.lan", kDnsTypeA, 2))});
  ::send(client.get(), wire.data(), wire.size(), 0);
  ::shutdown(client.get(), SHUT_WR);
  ASSERT_TRUE(PumpUntil([&] { return upstream_.pending.size() == 1; }));
  auto query = upstream_.queries[0];
  upstream_.pending.front()(
      BuildDnsResponse(query, *ParseDnsMessage(query), kDnsNoError, {Ipv4(9, 9, 9, 9)}, 60, false));
  upstream_.pending.pop_front();
  bool closed = false;
  auto answers = Answers(client.get(), 3, &closed);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].header.id, 2);  // the local answer did not wait for the slow one
  EXPECT_EQ(answers[1].header.id, 1);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(PumpUntil([&] { return server_->connections() == 0; }));
}

TEST_F(NetDnsTcpServer, GarbageClosesTheConnection) {
  UniqueFd client = Connect();
  uint8_t zero[2] = {0, 0};
  ::send(client.get(), zero, sizeof(zero), 0);
  bool closed = false;
  EXPECT_TRUE(Answers(client.get(), 1, &closed).empty());
  EXPECT_TRUE(closed);
  EXPECT_EQ(server_->connections(), 0u);
}

TEST_F(NetDnsTcpServer, OldestConnectionMakesRoom) {
  UniqueFd first = Connect();
  UniqueFd second = Connect();
  UniqueFd third = Connect();
  EXPECT_EQ(server_->connections(), 2u);
  bool closed = false;
  Answers(first.get(), 1, &closed);
  EXPECT_TRUE(closed);
  auto wire = Framed(DnsQuery("web1.lan"));
  ::send(third.get(), wire.data(), wire.size(), 0);
  EXPECT_EQ(Answers(third.get(), 1).size(), 1u);
}

TEST_F(NetDnsTcpServer, ListensOnAPrivateUnixSocket) {
  auto path = server_->ListenUnix();
  ASSERT_TRUE(path.ok()) << path.error().message();
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path->c_str(), path->size() + 1);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  auto wire = Framed(DnsQuery("web1.lan"));
  ::send(client.get(), wire.data(), wire.size(), 0);
  ::fcntl(client.get(), F_SETFL, O_NONBLOCK);
  auto answers = Answers(client.get(), 1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(FirstA(answers[0]), Ipv4(192, 168, 127, 5));
  std::string dir = path->substr(0, path->rfind('/'));
  server_.reset();  // removes the socket and its directory
  EXPECT_NE(::access(path->c_str(), F_OK), 0);
  EXPECT_NE(::access(dir.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace vk::net
