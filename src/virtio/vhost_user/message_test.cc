#include "virtio/vhost_user/message.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cstring>

namespace vk::virtio::vhost_user {
namespace {

std::vector<uint8_t> HeaderBytes(uint32_t request, uint32_t size, uint32_t flags = kFlagVersion) {
  Header header{request, flags, size};
  std::vector<uint8_t> out(sizeof(header));
  std::memcpy(out.data(), &header, sizeof(header));
  return out;
}

UniqueFd EventFd() { return UniqueFd(::eventfd(0, EFD_CLOEXEC)); }

TEST(VhostUserMessageTest, ParsesTypedPayloads) {
  auto addr = EncodeVringAddress({1, 0, 0x1000, 0x3000, 0x2000, 0});
  auto message = ParseMessage(HeaderBytes(9, addr.size()), addr, {});
  ASSERT_TRUE(message.ok()) << message.error().message();
  EXPECT_TRUE(message->is(Request::kSetVringAddr));
  const auto& parsed = std::get<VringAddress>(message->payload);
  EXPECT_EQ(parsed.index, 1u);
  EXPECT_EQ(parsed.used, 0x3000u);
  EXPECT_EQ(parsed.available, 0x2000u);

  std::vector<UniqueFd> fds;
  fds.push_back(EventFd());
  auto kick = EncodeU64(3);
  message = ParseMessage(HeaderBytes(12, 8, kFlagVersion | kFlagNeedReply), kick, std::move(fds));
  ASSERT_TRUE(message.ok());
  EXPECT_TRUE(message->need_reply());
  EXPECT_EQ(message->fds.size(), 1u);

  ConfigSpace config{4, 0, {1, 2, 3}};
  auto bytes = EncodeConfig(config);
  message = ParseMessage(HeaderBytes(25, bytes.size()), bytes, {});
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(std::get<ConfigSpace>(message->payload).data, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(VhostUserMessageTest, RefusesMalformedMessages) {
  // Short header.
  EXPECT_FALSE(ParseHeader(std::vector<uint8_t>(11)).ok());
  // A payload size the request type does not allow, and a size lie.
  EXPECT_FALSE(ParseHeader(HeaderBytes(2, 9)).ok());
  EXPECT_FALSE(ParseMessage(HeaderBytes(2, 8), std::vector<uint8_t>(7), {}).ok());
  // Config: its own size field must match the payload, and stay <= 256.
  auto config = EncodeConfig({0, 0, std::vector<uint8_t>(4)});
  config[4] = 5;
  EXPECT_FALSE(ParseMessage(HeaderBytes(24, config.size()), config, {}).ok());
  // A memory table with 0 or 9 regions.
  auto empty = EncodeMemoryTable({});
  EXPECT_FALSE(ParseMessage(HeaderBytes(5, empty.size()), empty, {}).ok());
  EXPECT_FALSE(ParseHeader(HeaderBytes(5, 8 + 9 * 32)).ok());
  // Nine fds.
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 9; ++i) fds.push_back(EventFd());
  EXPECT_FALSE(ParseMessage(HeaderBytes(99, 0), {}, std::move(fds)).ok());
}

TEST(VhostUserMessageTest, ReadsAMessageWithItsFds) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  UniqueFd event = EventFd();
  int fd = event.get();
  ASSERT_TRUE(SendMessage(a.get(), {13, kFlagVersion, 8}, EncodeU64(1), {&fd, 1}).ok());
  auto message = ReadMessage(b.get());
  ASSERT_TRUE(message.ok()) << message.error().message();
  ASSERT_TRUE(message->has_value());
  EXPECT_TRUE((*message)->is(Request::kSetVringCall));
  ASSERT_EQ((*message)->fds.size(), 1u);
  EXPECT_NE((*message)->fds[0].get(), fd);
  a.Reset();
  message = ReadMessage(b.get());
  ASSERT_TRUE(message.ok());
  EXPECT_FALSE(message->has_value());  // closed between messages
}

}  // namespace
}  // namespace vk::virtio::vhost_user
